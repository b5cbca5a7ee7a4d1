"""The op recorder behind ``torchlite.graph.record()`` and ``explain()``.

``Function.apply`` tells every callable in ``OP_LISTENERS`` about each op it ran;
``Module.__call__`` tells ``SCOPE_LISTENERS`` which module is running. The recorder adds
itself to both only inside ``record()``, so outside it the core pays one truth test per op.
Each op becomes a plain dict node (schema.NODE) in a ring buffer of ``max_nodes``: the
recorder holds numbers and strings, never arrays, so memory stays bounded however long it
runs. Tensors are identified by a mark set on the Tensor object (no table of live tensors).
"""
import functools
import itertools
import sys
import time
import weakref
from collections import deque

from .._tensor import Tensor
from ..autograd import function as F
from ..autograd.grad_mode import STATE
from ..nn.modules import module as M
from .errors import extend_message, failing_op
from .scopes import ScopeTracker
from .sources import frame_source, user_frame
from .values import FULL_LIMIT, array_stats, json_value

DEFAULT_MAX_NODES = 10_000
_SERIAL = itertools.count()
_CUSTOM_APPLY = F._apply_tensor_function.__code__
_SHAPE_ERRORS = (RuntimeError, ValueError, IndexError)
_ACTIVE = set()  # serials of the recorders running now
_NAMES = {}  # dtype or device -> its display name (dtype.name is slow in NumPy)


def _json_param(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return json_value(v)
    if isinstance(v, (tuple, list)) and all(isinstance(x, (bool, int, float, type(None)))
                                            for x in v):
        return json_value(list(v))
    return repr(v)[:80]


def _saved_bytes(ctx, args):
    """Bytes of what the op saved for backward, the arrays saved (inputs and outputs among
    them are marked ``saved`` in the node's tensor refs) and the saved tensors that are not
    inputs (intermediate results, such as cross_entropy's exponentials, or outputs)."""
    saved = ctx.__dict__.get("_saved")
    if not saved:
        return 0, (), ()
    total, arrays, others = 0, [], []
    for s in saved:
        if type(s) is tuple:
            total += s[0]._data.nbytes
            arrays.append(s[0]._data)
            if not any(s[0] is a for a in args):
                others.append(s[0])
        elif isinstance(s, F._SavedOutput):
            total += s.data.nbytes
            arrays.append(s.data)
        else:
            total += getattr(s, "nbytes", 0)
    return total, arrays, others


def _backward_prehook(rec_ref, node, grads):
    """Pre-hook on a recorded forward node: names the node whose backward runs now (backward
    ops take its scope), records the gradient arriving at its outputs, and makes a "grad"
    leaf of a gradient no recorded op produced (the one backward() starts from, or a sum
    the engine made of several)."""
    rec = rec_ref()
    if rec is None or not rec.active:
        return None
    rec.backward_of = node
    for ref, g in zip(node["outputs"], grads):
        if g is None:
            continue
        if rec.find_tid(g) is None:
            rec.grad_leaf(g, node)
        if rec.values:
            ref["grad_stats"] = rec.stats(g)
    return None


class Recorder:
    """Records ops into a ring buffer of node dicts; see ``record()`` for the options."""

    def __init__(self, values=False, backward=True, max_nodes=DEFAULT_MAX_NODES, timing=False,
                 model=None, params=None, full_limit=FULL_LIMIT):
        if values not in (False, None, "stats", "full"):
            raise ValueError(f"record(): values must be False, 'stats' or 'full', got {values!r}")
        if max_nodes is not None and max_nodes < 1:
            raise ValueError(f"record(): max_nodes must be a positive int or None, "
                             f"got {max_nodes!r}")
        self.values = values or False
        self.backward, self.timing, self.max_nodes = backward, timing, max_nodes
        self.full_limit = full_limit
        self.nodes = deque(maxlen=max_nodes)
        self.dropped = 0
        self.serial = next(_SERIAL)
        self.tensor_count = itertools.count()
        self.node_count = itertools.count()
        # tensor id -> (node id, slot), only for kept nodes; slot i >= 0 is output i, a
        # negative slot ~k is entry k of the node's "saved" list (an intermediate it saved)
        self.producer = {}
        self.leaf_tensors = {}  # node id -> (weakref of a leaf requiring grad, its output ref)
        self.scopes = ScopeTracker({"model": model} if model is not None else None, params)
        self.active = False
        self.backward_of = None
        self.error = None
        self.last_time = None

    # ---- start / stop -------------------------------------------------------------------
    def start(self):
        self.active = True
        _ACTIVE.add(self.serial)
        self.last_time = time.perf_counter()
        F.OP_LISTENERS.append(self.on_op)
        M.SCOPE_LISTENERS.append(self.on_scope)

    def stop(self):
        self.active = False
        _ACTIVE.discard(self.serial)
        _remove(F.OP_LISTENERS, self.on_op)
        _remove(M.SCOPE_LISTENERS, self.on_scope)
        for tensor_ref, out_ref in self.leaf_tensors.values():
            t = tensor_ref()
            if t is not None and t._grad is not None:
                out_ref["grad_stats"] = self.stats(t._grad)
        self.leaf_tensors.clear()

    # ---- listeners ----------------------------------------------------------------------
    def on_scope(self, module, event):
        self.scopes.listener(module, event)
        if self.timing:
            self.last_time = time.perf_counter()

    def on_op(self, ctx, args, outputs, params):
        elapsed = None
        if self.timing:
            _synchronize(ctx)
            elapsed = (time.perf_counter() - self.last_time) * 1000.0
        phase = F.ENGINE_STATE["phase"]
        if phase == "backward" and not self.backward:
            return
        saved, saved_arrays, saved_others = _saved_bytes(ctx, args)
        inputs, edges = self.input_refs(args, saved_arrays, phase)
        node = self.op_node(type(ctx), ctx.name(), phase, sys._getframe(1))
        node.update(time_ms=elapsed, saved_bytes=saved, inputs=inputs, _edges=edges)
        outs = outputs if type(outputs) is tuple else (outputs,)
        node["outputs"] = [self.output_ref(o, node["id"], i) for i, o in enumerate(outs)
                           if isinstance(o, Tensor)]
        if saved_arrays:
            for ref, o in zip(node["outputs"], (o for o in outs if isinstance(o, Tensor))):
                if any(s is o._data for s in saved_arrays):
                    ref["saved"] = True
            self.saved_intermediates(node, saved_others)
            if len(saved_others) < len(saved_arrays):
                self.mark_outputs(ctx, node)
        if params:
            node["params"] = {k: _json_param(v) for k, v in params.items()}
        self.push(node)
        if phase == "forward" and self.backward and "_edges" in ctx.__dict__:
            ctx.register_prehook(functools.partial(_backward_prehook, weakref.ref(self), node))
        if self.timing:
            self.last_time = time.perf_counter()

    # ---- node building ------------------------------------------------------------------
    def current_scope(self, phase):
        """(scope, forward node id) for an op run now: in the backward phase, the scope of
        the forward node whose backward is running."""
        if phase == "backward":
            fwd = self.backward_of
            return (fwd["scope"], fwd["id"]) if fwd is not None else ("", None)
        self.backward_of = None
        return self.scopes.current, None

    def op_node(self, cls, name, phase, frame, label=None):
        scope, grad_of = self.current_scope(phase)
        if phase == "forward" and frame is not None and (not cls.raw or not STATE.enabled):
            scope = self.function_scope(scope, frame)
        node = {"id": next(self.node_count), "kind": "op", "op": name,
                "label": label or cls.label or cls.__name__.lower(),
                "backward_rule": cls.backward_rule or "", "phase": phase, "scope": scope,
                "status": "ok", "source": frame_source(user_frame(frame))}
        if grad_of is not None:
            node["grad_of"] = grad_of
        return node

    def function_scope(self, scope, frame):
        """``scope`` extended by the custom ``autograd.Function`` classes whose forward runs
        now, outermost first ("model.fc.MySoftplus"): the ops of a custom forward (run under
        no_grad) and the Function's own node fold into one box."""
        names = []
        while frame is not None:
            if frame.f_code is _CUSTOM_APPLY:
                names.append(frame.f_locals["cls"].__name__)
            frame = frame.f_back
        for name in reversed(names):
            scope = f"{scope}.{name}" if scope else name
            self.scopes.types.setdefault(scope, name)
        return scope

    def push(self, node):
        if len(self.nodes) == self.max_nodes:
            old = self.nodes[0]
            self.dropped += 1
            self.leaf_tensors.pop(old["id"], None)
            slots = itertools.chain(enumerate(old["outputs"]),
                                    ((~k, r) for k, r in enumerate(old.get("saved", ()))))
            for slot, ref in slots:
                if self.producer.get(ref["tensor"]) == (old["id"], slot):
                    del self.producer[ref["tensor"]]
        self.nodes.append(node)

    def find_tid(self, t):
        """The recording's id of ``t``, or None when this recording has not seen it. The mark
        on the tensor holds one (recorder serial, id) pair per active recorder (nested
        records), pruned of finished recorders whenever it changes, so it never grows."""
        for serial, tid in t.__dict__.get("_graph_tid", ()):
            if serial == self.serial:
                return tid
        return None

    def set_tid(self, t, tid):
        mark = t.__dict__.get("_graph_tid", ())
        t.__dict__["_graph_tid"] = tuple(m for m in mark if m[0] in _ACTIVE) + (
            (self.serial, tid),)
        return tid

    def tensor_id(self, t):
        """The recording's id of ``t``, given on first sight: a saved output that backward
        made a new Tensor of keeps the id of the output it stands for."""
        tid = self.find_tid(t)
        if tid is None:
            tid = self.set_tid(t, self.output_alias(t) or f"t{next(self.tensor_count)}")
        return tid

    def mark_outputs(self, ctx, node):
        """Mark a node that saved some of its outputs with their ids: backward reads a saved
        output as a new Tensor of the node (``_SavedOutput.tensor``), which takes the id of
        the output it stands for (``output_alias``). Pruned of finished recorders."""
        mark = ctx.__dict__.get("_graph_outputs", ())
        ctx.__dict__["_graph_outputs"] = tuple(m for m in mark if m[0] in _ACTIVE) + (
            (self.serial, [r["tensor"] for r in node["outputs"]]),)

    def output_alias(self, t):
        """The id of the recorded output that ``t`` re-materializes (a saved output), or None."""
        fn = t._grad_fn
        if fn is None:
            return None
        for serial, tids in fn.__dict__.get("_graph_outputs", ()):
            if serial == self.serial and t._output_nr < len(tids):
                return tids[t._output_nr]
        return None

    def stats(self, t):
        """``t``'s value stats, computed once per recording for the same unchanged array: a
        gradient a recorded backward op made is seen again as the gradient reaching a node
        (a copy of the dict, so each ref owns its own)."""
        d, version = t._data, t._version
        seen = t.__dict__.get("_graph_stats")
        if seen is not None and seen[0] == self.serial and seen[1] is d and seen[2] == version:
            return dict(seen[3])
        stats = array_stats(d, t._device.xp, self.values == "full", full_limit=self.full_limit)
        t.__dict__["_graph_stats"] = (self.serial, d, version, stats)
        return stats

    def tensor_ref(self, t, tid):
        d = t._data
        dtype = _NAMES.get(d.dtype)
        if dtype is None:
            dtype = _NAMES[d.dtype] = d.dtype.name
        device = _NAMES.get(t._device)
        if device is None:
            device = _NAMES[t._device] = str(t._device)
        return {"tensor": tid, "shape": list(d.shape), "dtype": dtype, "device": device,
                "requires_grad": bool(t._requires_grad)}

    def output_ref(self, t, nid, index):
        ref = self.tensor_ref(t, self.tensor_id(t))
        if self.values:
            ref["stats"] = self.stats(t)
        self.producer[ref["tensor"]] = (nid, index)
        return ref

    def saved_intermediates(self, node, tensors):
        """The node's ``saved`` list: tensors it saved for backward that no recorded op made
        (its intermediate results); backward ops reading them link back to this node."""
        refs = []
        for t in tensors:
            if self.find_tid(t) is None:
                refs.append(self.output_ref(t, node["id"], ~len(refs)))
        if refs:
            node["saved"] = refs

    def input_refs(self, args, saved_arrays, phase):
        refs, edges = [], []
        for k, a in enumerate(args):
            if not isinstance(a, Tensor):
                refs.append({"scalar": _json_param(a)})
                continue
            tid = self.tensor_id(a)
            src = self.producer.get(tid)
            if src is None:
                src = (self.leaf(a, tid, phase), 0)
            ref = self.tensor_ref(a, tid)
            if any(s is a._data for s in saved_arrays):
                ref["saved"] = True
            refs.append(ref)
            edges.append((src[0], src[1], k, tid, ref["requires_grad"]))
        return refs, edges

    def leaf(self, t, tid, phase):
        """A leaf node for a tensor with no recorded producer: a parameter or buffer (named,
        in the scope of the module using it), a constant (a tensor with no history first
        used by the backward of a recorded node: made inside its backward rule), or an input
        (a tensor made before recording, or outside any recorded op)."""
        named = self.scopes.tensor_name(t)
        scope, grad_of = self.current_scope(phase)
        ref = self.tensor_ref(t, tid)
        if named is not None:
            ref["name"], kind = named
            label = named[0]
        elif grad_of is not None and t._grad_fn is None:
            kind = label = "constant"
        else:
            kind, scope, grad_of = "leaf", "", None
            label = "input" if t._grad_fn is None else "tensor"
        return self.push_leaf(t, ref, kind, label, phase, scope, grad_of)

    def grad_leaf(self, g, node):
        """A "grad" leaf: a gradient reaching ``node``'s outputs that no recorded op made."""
        ref = self.tensor_ref(g, self.tensor_id(g))
        return self.push_leaf(g, ref, "leaf", "grad", "backward", node["scope"], node["id"])

    def push_leaf(self, t, ref, kind, label, phase, scope, grad_of):
        nid = next(self.node_count)
        if self.values:
            ref["stats"] = self.stats(t)
        self.producer[ref["tensor"]] = (nid, 0)
        node = {"id": nid, "kind": kind, "op": "leaf", "label": label, "backward_rule": "",
                "phase": phase, "scope": scope, "status": "ok", "inputs": [], "outputs": [ref],
                "saved_bytes": 0}
        if grad_of is not None:
            node["grad_of"] = grad_of
        self.push(node)
        if self.values and t._requires_grad and t._grad_fn is None:
            self.leaf_tensors[nid] = (weakref.ref(t), ref)
        return nid

    # ---- errors -------------------------------------------------------------------------
    def on_error(self, exc):
        """Record the failing op (status "error") and, for a shape-like error raised inside
        an op, extend the message with operands' shapes, module scope and source line."""
        op = failing_op(exc.__traceback__)
        message = str(exc)
        nid = None
        if op is not None:
            inputs, edges = self.input_refs(op.operands, (), op.phase)
            if op.name is None:  # the engine refused what the running backward rule returned
                name, cls = op.backward_of.name(), type(op.backward_of)
            else:
                name, cls = op.name, op.cls or _Named
            node = self.op_node(cls, name, op.phase, None, label=op.label or name)
            node["source"] = op.source
            if self.scopes.error_scope is not None:
                node["scope"] = self.scopes.error_scope
            node.update(status="error", error=message, inputs=inputs, _edges=edges,
                        outputs=[], saved_bytes=0)
            self.push(node)
            nid = node["id"]
            if isinstance(exc, _SHAPE_ERRORS) and not exc.__dict__.get("_torchlite_explained"):
                extend_message(exc, op, node)
        self.error = {"type": type(exc).__name__, "message": message, "node": nid}

    # ---- export -------------------------------------------------------------------------
    def to_dict(self):
        nodes, edges = [], []
        kept = {n["id"]: n for n in self.nodes}
        for n in self.nodes:
            nodes.append({k: v for k, v in n.items() if k != "_edges"})
            for src, slot, dst_input, tid, rg in n.get("_edges", ()):
                producer = kept.get(src)
                if producer is None:
                    continue
                edge = {"src": src, "src_output": slot, "dst": n["id"], "dst_input": dst_input,
                        "tensor": tid, "requires_grad": rg, "kind": "data"}
                if slot < 0:
                    del edge["src_output"]
                    edge["src_saved"] = ~slot
                if n["phase"] == "backward" and producer["phase"] == "forward":
                    edge["kind"] = "saved"
                edges.append(edge)
        meta = {"values": self.values, "backward": self.backward, "max_nodes": self.max_nodes,
                "dropped": self.dropped, "timing": self.timing,
                "status": "error" if self.error else "ok", "error": self.error}
        return make_document("record", meta, nodes, edges, self.scopes.types)


class _Named:
    """Stands in for an op class when the failing op is a plain function (no Function)."""

    label = None
    backward_rule = ""


def make_document(kind, meta, nodes, edges, scope_types):
    """A schema document from its parts; scopes sum saved bytes and node counts over nested
    scopes."""
    from .schema import SCHEMA_NAME, VERSION
    scopes = {}
    for path, type_name in scope_types.items():
        scopes[path] = {"type": type_name, "saved_bytes": 0, "nodes": 0}
    for n in nodes:
        path = n["scope"]
        while path:
            s = scopes.setdefault(path, {"type": "", "saved_bytes": 0, "nodes": 0})
            s["saved_bytes"] += n.get("saved_bytes", 0)
            s["nodes"] += 1
            path = path.rpartition(".")[0]
    return {"schema": SCHEMA_NAME, "version": VERSION, "kind": kind, "meta": meta,
            "nodes": nodes, "edges": edges, "scopes": scopes}


def _remove(listeners, fn):
    for i, f in enumerate(listeners):
        if f == fn:
            del listeners[i]
            return


def _synchronize(ctx):
    xp = getattr(ctx, "xp", None)
    cuda = getattr(xp, "cuda", None)
    if cuda is not None and hasattr(cuda, "get_current_stream"):
        cuda.get_current_stream().synchronize()


class record:
    """``with torchlite.graph.record() as g:`` records every op run inside into the Graph
    ``g``: forward ops, and the backward pass's ops (``phase="backward"``) when ``backward``.

    values: False (shapes only), "stats" (min/max/mean/std, NaN/Inf counts, a histogram for
        every output and for the gradients reaching forward outputs and leaves) or "full"
        (stats plus the value of tensors with at most ``full_limit`` entries).
    max_nodes: the ring buffer's size: the latest ``max_nodes`` nodes are kept (None: all).
    timing: ``time_ms`` per op, the wall time since the previous op or module entry
        (synchronized on GPU), an upper bound of the op's own time.
    model / params: names parameters ("fc.weight") and roots the scopes at "model".

    An exception raised by an op inside is re-raised with its message extended by the
    operands' shapes, module scope and source line; the graph keeps the failing op (status
    "error") and is also attached to the exception as ``exc.torchlite_graph``.
    """

    def __init__(self, values=False, backward=True, max_nodes=DEFAULT_MAX_NODES, timing=False,
                 model=None, params=None, full_limit=FULL_LIMIT):
        from .graph import Graph
        self._rec = Recorder(values, backward, max_nodes, timing, model, params, full_limit)
        self.graph = Graph(recorder=self._rec)

    def __enter__(self):
        self._rec.start()
        return self.graph

    def __exit__(self, exc_type, exc, tb):
        try:
            if isinstance(exc, Exception):
                try:
                    self._rec.on_error(exc)
                except Exception as bug:  # noqa: BLE001 - never hide the user's error
                    self._rec.error = {"type": type(exc).__name__, "message": str(exc),
                                       "node": None}
                    self._rec.error["message"] += f" (not recorded: {bug!r})"
        finally:
            self._rec.stop()
        if exc is not None:
            try:
                exc.torchlite_graph = self.graph
            except AttributeError:
                pass
        return False


def explain(values=False, max_nodes=1000, **kw):
    """``with torchlite.graph.explain():`` a light ``record()`` kept for its errors: an op's
    shape error inside is re-raised with the operands' shapes, the module scope and the
    source line; ``as g`` gives the partial graph with the failing op marked."""
    return record(values=values, max_nodes=max_nodes, **kw)
