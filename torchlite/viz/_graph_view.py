"""``GraphView``: the anywidget that draws a graph document in JupyterLab."""
try:
    import anywidget
    import traitlets
except ImportError as e:  # the `lab` extra
    raise ImportError("torchlite.viz.GraphView needs anywidget: pip install 'torchlite[lab]'"
                      ) from e

from ._data import COLOR_MODES, PHASES, default_collapsed, graph_document
from ._history import NodeHistory, node_keys
from ._static import WIDGET_BUNDLE, bundle
from ._static_repr import StaticView


class GraphView(StaticView, anywidget.AnyWidget):
    """Interactive graph: pan/zoom/fit, colour by op family, device or gradient magnitude,
    hover for shape/dtype/device, click a node to inspect it (synced to ``selected``), click a
    module scope's label to collapse it and the collapsed box to expand it, phase toggle,
    search, NaN origin and failing op marked.

    ``history`` (a ``TrainingDashboard`` made with ``record_graph_every``, or a ``NodeHistory``)
    adds to the inspector the selected node's value and gradient statistics over the recorded
    training steps (sparklines and latest values), fetched from Python when a node is selected.
    """

    graph = traitlets.Dict().tag(sync=True)
    phase = traitlets.Enum(PHASES, default_value="both").tag(sync=True)
    color_by = traitlets.Enum(COLOR_MODES, default_value="family").tag(sync=True)
    collapsed = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    has_history = traitlets.Bool(False).tag(sync=True)
    _esm = traitlets.Unicode().tag(sync=True)  # the built bundle (read when a view is made)
    _static_view = "graph"  # the docs draw the same view from these traits (no widget manager)
    _static_traits = ("graph", "phase", "color_by", "selected", "collapsed")

    @traitlets.default("_esm")
    def _bundle_text(self):
        return bundle(WIDGET_BUNDLE).read_text("utf-8")

    def __init__(self, graph=None, history=None, **kwargs):
        doc = graph_document(graph) if graph is not None else None
        if doc is not None:
            kwargs.setdefault("collapsed", default_collapsed(doc))
            kwargs["graph"] = doc
        history = _node_history(history)
        bundle(WIDGET_BUNDLE)  # fail early, saying how to build the front end
        super().__init__(has_history=history is not None, **kwargs)
        self._history, self._keys = history, None
        self._select_callbacks = []
        self.on_msg(self._on_front_end_msg)  # not `_handle_msg`: that is ipywidgets' own

    def __repr__(self):
        nodes = self.graph.get("nodes", [])
        ops = sum(n["kind"] == "op" for n in nodes)
        return f"GraphView({ops} ops, {len(nodes) - ops} leaves, phase={self.phase!r})"

    def set_graph(self, graph):
        """Show another graph (a Graph, document, JSON text or tensor)."""
        doc = graph_document(graph)
        with self.hold_sync():
            self.selected = ""
            self.collapsed = default_collapsed(doc)
            self.graph = doc

    @property
    def selected_node(self):
        """The node dict the user clicked last, or None."""
        return next((n for n in self.graph.get("nodes", []) if str(n["id"]) == self.selected),
                    None)

    def history_of(self, node_id):
        """The value and gradient statistics of a node over the recorded steps
        (``NodeHistory.series``), or None without a history or for a node that has none."""
        if self._history is None:
            return None
        if self._keys is None or self._keys[0] is not self.graph:
            self._keys = (self.graph, node_keys(self.graph))
        return self._history.of_node(self.graph, _node_id(node_id), self._keys[1])

    def on_select(self, callback):
        """Call ``callback(node_dict)`` each time the user clicks a node."""
        self._select_callbacks.append(callback)

    def _on_front_end_msg(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("event") == "select":
            node = self.selected_node if str(content.get("node")) == self.selected else None
            for callback in self._select_callbacks:
                callback(node)
        elif isinstance(content, dict) and content.get("event") == "history":
            node = str(content.get("node"))
            self.send({"event": "history", "node": node, "history": self.history_of(node)})


def _node_id(node_id):
    """Node ids are ints in the document and strings in the page."""
    try:
        return int(node_id)
    except ValueError:
        return node_id


def _node_history(history):
    """The NodeHistory of a ``history`` argument (a TrainingDashboard or a NodeHistory)."""
    if history is None or isinstance(history, NodeHistory):
        return history
    found = getattr(history, "node_history", False)
    if found is None:
        raise ValueError("this TrainingDashboard keeps no node history: make it with "
                         "record_graph_every=N")
    if not isinstance(found, NodeHistory):
        raise TypeError(f"history must be a TrainingDashboard or a NodeHistory, got "
                        f"{type(history).__name__}")
    return found
