"""``TrainingDashboard``: live loss/metric curves, per-parameter gradient norms and
update/weight ratios, activation statistics and alerts while a model trains.

The logging core is plain Python (works headless, no anywidget needed); the anywidget view is
made on first display. Cheap by design: ``log`` only appends a float on most steps, per-parameter
statistics run every ``every`` calls (computed where the parameters live and copied to the host
with the step's metrics in one transfer per device: no wait for the GPU per layer),
and points travel to the page as float64 binary buffers holding only the points added since the
last send, at most once every ``interval`` seconds (``flush()`` sends the rest now).

With ``record_graph_every=N`` every N-th step is recorded (``torchlite.graph.record`` with value
statistics, from the model's forward to ``log``): ``dash.graph`` is the latest step's graph and
``dash.node_history`` keeps each node's value and gradient statistics over the recorded steps,
shown by ``dash.graph_view()`` in the inspector of the selected node.
"""
import math
import time

from .._device import device
from .._tensor import Tensor
from ..autograd import is_grad_enabled
from ..autograd.function import OP_LISTENERS
from ..graph import record
from ..graph.values import norms
from ._history import MAX_POINTS, NodeHistory
from ._static_repr import add_static_view, display_data, sync_reply

_CPU = device("cpu")
VANISHING = 1e-7   # gradient norms below this are flagged "vanishing"
EXPLODING = 1e3    # and above this "exploding"


def _scalar(value):
    """A logged metric as a (device, value) pair for the step's copy to the host: a tensor's
    one value stays on its device until then; anything else becomes a float now."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return value._device, value._data.reshape(())
    return _CPU, float(value)


class _Series:
    """An append-only (step, value) series; ``sent`` counts the points the page already has."""

    __slots__ = ("rows", "sent")

    def __init__(self):
        self.rows, self.sent = [], 0


class TrainingDashboard:
    """Watch a training run: ``dash = TrainingDashboard(model, optimizer, every=10)`` then
    ``dash.log(step, loss=loss, acc=acc)`` each step after ``backward()`` (before or after
    ``optimizer.step()``, consistently). Display ``dash`` in a notebook for the live view;
    ``dash.history`` has the logged data, ``dash.alerts`` the alerts.

    ``activations=True`` records mean/std/zero fraction of every leaf module's output on the
    statistics steps (forward hooks). Update/weight ratios are ``lr*|grad|/|w|`` for plain SGD
    (no momentum or weight decay), otherwise the change of each parameter since the previous
    ``log`` call (a copy of the parameters is kept only on the call before a statistics call).

    ``record_graph_every=N`` records the graph of every N-th step (the steps whose ``log`` call
    is the 1st, (N+1)-th, ...: from the model's first forward with gradients enabled to the
    optimizer's step or ``log``) and keeps per node the latest ``history_points`` steps'
    statistics (``node_history``); ``dash.graph_view()`` shows them. A recorded step costs what
    ``record(values="stats")`` costs (statistics of every tensor: about 10-15 plain steps of a
    small MLP on CPU), so pick N accordingly.
    """

    def __init__(self, model, optimizer=None, every=10, interval=0.25, activations=False,
                 vanishing=VANISHING, exploding=EXPLODING, max_alerts=500,
                 record_graph_every=None, history_points=MAX_POINTS):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if record_graph_every is not None and record_graph_every < 1:
            raise ValueError(f"record_graph_every must be >= 1 or None, got {record_graph_every}")
        self.model, self.optimizer = model, optimizer
        self.every, self.interval = int(every), float(interval)
        self.vanishing, self.exploding, self.max_alerts = vanishing, exploding, max_alerts
        self.params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.names = [n for n, _ in self.params]
        self.series = {}            # name -> _Series of (step, value)
        self.layers = _Series()     # rows: (step, grad norms..., update ratios...)
        self.acts = _Series()       # rows: (step, mean, std, zero frac per module...)
        self.act_names = []
        self.alerts = []
        self._alerts_sent = 0
        self._active = set()        # alert keys currently raised (reported once per episode)
        self._calls = 0
        self._snapshot = None
        self._last_send = 0.0
        self._widget = None
        self._act_values = {}
        self._hooks = []
        if activations:
            self._watch_activations()
        self.record_graph_every = record_graph_every
        self.graph = None           # the latest recorded step's Graph
        self.node_history = None if record_graph_every is None else NodeHistory(history_points)
        self._recording = self._unlogged = None   # the step being recorded / not logged yet
        if record_graph_every is not None:
            self._hooks.append(model.register_forward_pre_hook(self._start_graph))
            if optimizer is not None:
                self._hooks.append(optimizer.register_step_pre_hook(self._stop_graph))

    # ---- logging ----------------------------------------------------------------------------
    def log(self, step, loss=None, **metrics):
        """Record this step's loss and metrics (floats or 1-element tensors); every ``every``
        calls also the per-parameter statistics. Sends to the page when ``interval`` passed."""
        step = int(step)
        if self.node_history is not None:
            self._finish_graph(step)
        if loss is not None:
            metrics = {"loss": loss, **metrics}
        extra = [_scalar(v) for v in metrics.values()]
        calls, self._calls = self._calls, self._calls + 1
        stats_step = calls % self.every == 0
        arrays = self._param_arrays() if stats_step else []
        if stats_step:
            extra += [item for values in self._act_values.values() for item in values]
        norms_, values = norms([a for _, a in arrays], extra)
        for name, value in zip(metrics, values):
            self.series.setdefault(name, _Series()).rows.append((step, value))
            self._check(not math.isfinite(value), "nonfinite", name, step, value)
        if stats_step:
            self._param_stats(step, arrays, norms_)
            self._activation_row(step, values[len(metrics):])
        if (calls + 1) % self.every == 0 and not self._sgd_lr():
            self._snapshot = [p._data.copy() for _, p in self.params]
        if self._widget is not None and time.monotonic() - self._last_send >= self.interval:
            self.flush()

    def _sgd_lr(self):
        """The learning rate when the update is exactly ``lr * grad`` (plain SGD), else None."""
        opt = self.optimizer
        if opt is None or type(opt).__name__ != "SGD" or len(opt.param_groups) != 1:
            return None
        g = opt.param_groups[0]
        plain = not (g["momentum"] or g["weight_decay"] or g.get("maximize"))
        return float(g["lr"]) if plain else None

    def _param_arrays(self):
        """The arrays whose norms the statistics need, as (what, (device, array)): each
        parameter's gradient (if any), weight, and change since the snapshot (if one is kept
        and the optimizer is not plain SGD)."""
        snap = None if self._sgd_lr() is not None else self._snapshot
        arrays = []
        for i, (_, p) in enumerate(self.params):
            if p._grad is not None:
                arrays.append((("grad", i), (p._device, p._grad._data)))
            arrays.append((("weight", i), (p._device, p._data)))
            if snap is not None:
                arrays.append((("change", i), (p._device, p._data - snap[i])))
        return arrays

    def _param_stats(self, step, arrays, norms_):
        lr = self._sgd_lr()
        self._snapshot = None
        norm = {what: n for (what, _), n in zip(arrays, norms_)}
        grads, ratios = [], []
        for i, (name, p) in enumerate(self.params):
            gn = norm.get(("grad", i), math.nan)
            wn = norm[("weight", i)]
            if lr is not None:
                ratio = lr * gn / wn if wn else math.nan
            elif ("change", i) in norm:
                ratio = norm[("change", i)] / wn if wn else math.nan
            else:
                ratio = math.nan
            grads.append(gn)
            ratios.append(ratio)
            if p._grad is not None:
                self._check(not math.isfinite(gn), "nonfinite_grad", name, step, gn)
                self._check(gn < self.vanishing, "vanishing", name, step, gn)
                self._check(math.isfinite(gn) and gn > self.exploding, "exploding", name, step,
                            gn)
        self.layers.rows.append((step, *grads, *ratios))

    def _check(self, bad, kind, name, step, value):
        """Raise an alert when a condition starts; it is raised again only after it cleared."""
        key = (kind, name)
        if not bad:
            self._active.discard(key)
        elif key not in self._active:
            self._active.add(key)
            if len(self.alerts) < self.max_alerts:
                self.alerts.append({"step": step, "kind": kind, "name": name,
                                    "value": value if math.isfinite(value) else str(value)})

    # ---- graph history ----------------------------------------------------------------------
    def _start_graph(self, module, _args):
        """Forward pre-hook of the model: start recording on a graph step (not under no_grad,
        nor inside another recording such as the user's own ``record()``)."""
        if (self._recording is not None or self._calls % self.record_graph_every
                or not is_grad_enabled() or OP_LISTENERS):
            return
        self._recording = record(values="stats", model=self.model)
        self._recording.__enter__()
        self._recording._rec.on_scope(module, "enter")  # its enter event fired before this hook

    def _stop_graph(self, *_hook_args):
        """Stop a recording in progress (at ``log`` or the optimizer's step, whichever comes
        first: the gradients are there, the parameters not yet updated)."""
        if self._recording is not None:
            rec, self._recording = self._recording, None
            rec.__exit__(None, None, None)
            self._unlogged = rec.graph

    def _finish_graph(self, step):
        self._stop_graph()
        if self._unlogged is not None:
            self.graph, self._unlogged = self._unlogged, None
            self.node_history.add(step, self.graph)

    def graph_view(self, **options):
        """A ``GraphView`` of the latest recorded step whose inspector shows the selected node's
        value and gradient statistics over the recorded steps."""
        if self.graph is None:
            raise RuntimeError("no graph recorded yet: pass record_graph_every=N to "
                               "TrainingDashboard and log at least one step")
        from ._graph_view import GraphView
        return GraphView(self.graph, history=self, **options)

    # ---- activations ------------------------------------------------------------------------
    def _watch_activations(self):
        for name, mod in self.model.named_modules():
            if name and not any(True for _ in mod.children()):
                self.act_names.append(name)
                self._hooks.append(mod.register_forward_hook(self._act_hook(name)))

    def _act_hook(self, name):
        def hook(_mod, _args, out):
            if self._calls % self.every == 0 and hasattr(out, "_data"):
                a, dev = out._data, out._device
                if a.dtype.kind == "f" and a.size:   # kept on the device until the next log
                    self._act_values[name] = [
                        (dev, a.mean(dtype="float64")), (dev, a.std(dtype="float64")),
                        (dev, dev.xp.count_nonzero(a) / a.size)]
        return hook

    def _activation_row(self, step, values):
        """Append the activation statistics: ``values`` holds mean, std and nonzero fraction of
        each module that ran since the last statistics call (``_act_values``' order)."""
        if self._act_values:     # only when a forward ran since the last statistics call
            got = dict(zip(self._act_values, zip(*[iter(values)] * 3)))
            row = []
            for name in self.act_names:
                mean, std, nonzero = got.get(name, (math.nan,) * 3)
                row += [mean, std, 1.0 - nonzero]
            self.acts.rows.append((step, *row))
            self._act_values = {}

    def remove_hooks(self):
        """Stop recording activations and graphs (a recording in progress is dropped)."""
        for h in self._hooks:
            h.remove()
        self._hooks = []
        self._stop_graph()
        self._unlogged = None

    # ---- data for the page ------------------------------------------------------------------
    @property
    def history(self):
        """The logged data: {"series": {name: [(step, value)]}, "params": names,
        "layers": [(step, grad norms..., update ratios...)], "activations": {...},
        "alerts": [...]}."""
        return {"series": {k: list(s.rows) for k, s in self.series.items()},
                "params": list(self.names), "layers": list(self.layers.rows),
                "activations": {"names": list(self.act_names), "rows": list(self.acts.rows)},
                "alerts": list(self.alerts)}

    def _message(self, full):
        """The content and float64 buffers of an update: every point when ``full``, else only
        the points not sent yet. Marks them sent."""
        import numpy as np
        parts, buffers = [], []

        def add(kind, name, s, width):
            start = 0 if full else s.sent
            rows = s.rows[start:]
            s.sent = len(s.rows)
            if rows or full:
                parts.append({"kind": kind, "name": name, "start": start, "width": width})
                buffers.append(np.asarray(rows, np.float64).reshape(-1).tobytes())

        for name, s in self.series.items():
            add("series", name, s, 2)
        add("layers", "", self.layers, 1 + 2 * len(self.names))
        if self.act_names:
            add("acts", "", self.acts, 1 + 3 * len(self.act_names))
        start = 0 if full else self._alerts_sent
        alerts, self._alerts_sent = self.alerts[start:], len(self.alerts)
        content = {"event": "full" if full else "append", "parts": parts,
                   "alerts": {"start": start, "items": alerts}}
        return content, buffers

    def flush(self):
        """Send the points logged since the last send to the page now."""
        self._last_send = time.monotonic()
        if self._widget is not None:
            content, buffers = self._message(full=False)
            if content["parts"] or content["alerts"]["items"]:
                self._widget.send(content, buffers)

    @property
    def widget(self):
        """The anywidget view (made on first use; needs the ``lab`` extra)."""
        if self._widget is None:
            from ._dashboard_widget import DashboardWidget
            self._widget = DashboardWidget(params=self.names, activations=self.act_names,
                                           every=self.every)
            self._widget.on_msg(self._on_front_end_msg)
        return self._widget

    def _on_front_end_msg(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("event") == "sync":
            self._widget.send(*self._message(full=True))

    def _repr_mimebundle_(self, **kwargs):
        w = self.widget  # the static view (docs) replays the history logged so far
        state = {"params": w.params, "activations": w.activations, "every": w.every,
                 "_sync": sync_reply(*self._message(full=True))}
        bundle = w._repr_mimebundle_(**kwargs)
        display_data(bundle)["text/plain"] = repr(self)
        return add_static_view(bundle, "dashboard", state)

    def __repr__(self):
        return (f"TrainingDashboard({len(self.names)} parameters, "
                f"{sum(len(s.rows) for s in self.series.values())} points, "
                f"{len(self.alerts)} alerts)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.flush()
        self.remove_hooks()
