"""``BackpropStepper``: an anywidget that walks through a backward pass one node at a time."""
try:
    import anywidget
    import traitlets
except ImportError as e:  # the `lab` extra
    raise ImportError("torchlite.viz.BackpropStepper needs anywidget: "
                      "pip install 'torchlite[lab]'") from e

from ._backprop import backprop_steps
from ._static import STEPPER_BUNDLE, bundle
from ._static_repr import StaticView


class BackpropStepper(StaticView, anywidget.AnyWidget):
    """Teaching backpropagation: the graph of ``output`` with the current node highlighted and
    the edges already traversed labelled with their gradients; a panel shows the incoming
    gradient, the node's backward rule, the outgoing gradients and the leaves' gradients
    accumulated so far. ``step`` is the number of nodes processed (0 = before the first);
    ``next()``, ``prev()``, ``reset()`` or the prev/next/play/reset buttons move it.
    Build it before calling ``output.backward()``. ``names`` ({name: tensor}) labels leaves."""

    graph = traitlets.Dict().tag(sync=True)
    steps = traitlets.List().tag(sync=True)
    leaves = traitlets.List().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    _esm = traitlets.Unicode().tag(sync=True)
    _static_view = "stepper"  # the docs step through the same view (no widget manager)
    _static_traits = ("graph", "steps", "leaves", "step")

    @traitlets.default("_esm")
    def _bundle_text(self):
        return bundle(STEPPER_BUNDLE).read_text("utf-8")

    def __init__(self, output, names=None, grad_output=None, **kwargs):
        doc, steps, leaves = backprop_steps(output, names=names, grad_output=grad_output)
        bundle(STEPPER_BUNDLE)  # fail early, saying how to build the front end
        super().__init__(graph=doc, steps=steps, leaves=leaves, **kwargs)

    def __repr__(self):
        return f"BackpropStepper(step {self.step} of {len(self.steps)})"

    @traitlets.validate("step")
    def _clamp(self, proposal):
        return max(0, min(len(self.steps), proposal["value"]))

    @property
    def current(self):
        """The step dict last executed (None before the first step)."""
        return self.steps[self.step - 1] if self.step else None

    @property
    def leaf_grads(self):
        """{leaf name: gradient text} accumulated up to the current step."""
        got = self.current["leaf_grads"] if self.current else {}
        return {leaf["name"]: got[leaf["id"]]["text"] for leaf in self.leaves if leaf["id"] in got}

    def next(self):
        """Run the next node's backward rule."""
        self.step += 1
        return self.current

    def prev(self):
        """Go back one node."""
        self.step -= 1
        return self.current

    def reset(self):
        """Back to before the first node."""
        self.step = 0
