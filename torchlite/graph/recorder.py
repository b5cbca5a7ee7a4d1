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
import linecache
import os
import sys
import time
import weakref
from collections import deque

from .._tensor import Tensor
from ..autograd import engine as E
from ..autograd import function as F
from ..nn.modules import module as M
from .scopes import ScopeTracker
from .values import FULL_LIMIT, array_stats, json_value

DEFAULT_MAX_NODES = 10_000
_SERIAL = itertools.count()
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_APPLY_CODES = (F.Function.apply.__func__.__code__, F._apply_tensor_function.__code__)
_SHAPE_ERRORS = (RuntimeError, ValueError, IndexError)
_ACTIVE = set()  # serials of the recorders running now
_NAMES = {}  # dtype or device -> its display name (dtype.name is slow in NumPy)


def user_frame(frame):
    """The first frame outside the torchlite package, going outwards from ``frame``."""
    while frame is not None and frame.f_code.co_filename.startswith(_PKG_DIR):
        frame = frame.f_back
    return frame


def frame_source(frame):
    """A schema SOURCE dict for a frame (or None)."""
    if frame is None:
        return None
    return _source(frame.f_code, frame.f_lineno)


def _source(code, line):
    text = linecache.getline(code.co_filename, line).strip()
    return {"file": shown_file(code.co_filename), "line": line, "function": code.co_name,
            "code": text or None}


@functools.lru_cache(maxsize=4096)
def shown_file(filename):
    """The file recorded for a source line: "Cell In[3]" for code run in an IPython or Jupyter
    cell (as IPython's tracebacks name it; its real file is a temporary path), else the path.
    A cell's file is named before the cell runs, and never renamed: the cache is exact."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    name_cell = getattr(getattr(shell, "compile", None), "format_code_name", None)
    cell = name_cell(filename) if name_cell is not None else None
    return f"{cell[0]} {cell[1]}" if cell is not None else filename


def source_location(src):
    """Where a schema SOURCE points, for messages: "Cell In[3], line 5" or "path/file.py:5"."""
    sep = ", line " if src["file"].startswith("Cell In[") else ":"
    return f"{src['file']}{sep}{src['line']}"


def _json_param(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return json_value(v)
    if isinstance(v, (tuple, list)) and all(isinstance(x, (bool, int, float, type(None)))
                                            for x in v):
        return json_value(list(v))
    return repr(v)[:80]


def _saved_bytes(ctx, args):
    """Bytes of what the op saved for backward, and the arrays saved (inputs and outputs
    among them are marked ``saved`` in the node's tensor refs)."""
    saved = ctx.__dict__.get("_saved")
    if not saved:
        return 0, ()
    total, tensors = 0, []
    for s in saved:
        if type(s) is tuple:
            total += s[0]._data.nbytes
            tensors.append(s[0]._data)
        elif isinstance(s, F._SavedOutput):
            total += s.data.nbytes
            tensors.append(s.data)
        else:
            total += getattr(s, "nbytes", 0)
    return total, tensors


def _backward_prehook(rec_ref, node, grads):
    """Pre-hook on a recorded forward node: names the node whose backward runs now (backward
    ops take its scope) and records the gradient arriving at its outputs."""
    rec = rec_ref()
    if rec is None or not rec.active:
        return None
    rec.backward_of = node
    if rec.values:
        for ref, g in zip(node["outputs"], grads):
            if g is not None:
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
        self.producer = {}     # tensor id -> (node id, output index), only for kept nodes
        self.leaf_tensors = {}  # node id -> (weakref of a leaf requiring grad, its output ref)
        self.scopes = ScopeTracker({"model": model} if model is not None else None)
        self.param_names = {}
        self._add_params(params or {})
        if model is not None:
            self._add_params(dict(model.named_parameters()))
        self.active = False
        self.backward_of = None
        self.error = None
        self.last_time = None

    def _add_params(self, named):
        for name, p in named.items():
            self.param_names[id(p)] = (weakref.ref(p), name)

    def param_name(self, t):
        entry = self.param_names.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        return self.scopes.param_name(t)

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
        saved, saved_inputs = _saved_bytes(ctx, args)
        inputs, edges = self.input_refs(args, saved_inputs, phase)
        node = self.op_node(type(ctx), ctx.name(), phase, sys._getframe(1))
        node.update(time_ms=elapsed, saved_bytes=saved, inputs=inputs, _edges=edges)
        outs = outputs if type(outputs) is tuple else (outputs,)
        node["outputs"] = [self.output_ref(o, node["id"], i) for i, o in enumerate(outs)
                           if isinstance(o, Tensor)]
        if saved_inputs:
            for ref, o in zip(node["outputs"], (o for o in outs if isinstance(o, Tensor))):
                if any(s is o._data for s in saved_inputs):
                    ref["saved"] = True
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
        node = {"id": next(self.node_count), "kind": "op", "op": name,
                "label": label or cls.label or cls.__name__.lower(),
                "backward_rule": cls.backward_rule or "", "phase": phase, "scope": scope,
                "status": "ok", "source": frame_source(user_frame(frame))}
        if grad_of is not None:
            node["grad_of"] = grad_of
        return node

    def push(self, node):
        if len(self.nodes) == self.max_nodes:
            old = self.nodes[0]
            self.dropped += 1
            self.leaf_tensors.pop(old["id"], None)
            for i, ref in enumerate(old["outputs"]):
                if self.producer.get(ref["tensor"]) == (old["id"], i):
                    del self.producer[ref["tensor"]]
        self.nodes.append(node)

    def tensor_id(self, t):
        """The recording's id of ``t`` and whether it is new to this recording. The mark on
        the tensor holds one (recorder serial, id) pair per active recorder (nested records),
        pruned of finished recorders whenever it changes, so it never grows."""
        mark = t.__dict__.get("_graph_tid", ())
        for serial, tid in mark:
            if serial == self.serial:
                return tid, False
        tid = f"t{next(self.tensor_count)}"
        t.__dict__["_graph_tid"] = tuple(m for m in mark if m[0] in _ACTIVE) + (
            (self.serial, tid),)
        return tid, True

    def stats(self, t):
        return array_stats(t._data, t._device.xp, self.values == "full", full_limit=self.full_limit)

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
        tid, _ = self.tensor_id(t)
        ref = self.tensor_ref(t, tid)
        if self.values:
            ref["stats"] = self.stats(t)
        self.producer[tid] = (nid, index)
        return ref

    def input_refs(self, args, saved_inputs, phase):
        refs, edges = [], []
        for k, a in enumerate(args):
            if not isinstance(a, Tensor):
                refs.append({"scalar": _json_param(a)})
                continue
            tid, _ = self.tensor_id(a)
            src = self.producer.get(tid)
            if src is None:
                src = (self.leaf(a, tid, phase), 0)
            ref = self.tensor_ref(a, tid)
            if any(s is a._data for s in saved_inputs):
                ref["saved"] = True
            refs.append(ref)
            edges.append((src[0], src[1], k, tid, ref["requires_grad"]))
        return refs, edges

    def leaf(self, t, tid, phase):
        """A leaf node for a tensor with no recorded producer (input, constant, parameter);
        a parameter sits in the scope of the module using it, other leaves at top level."""
        name = self.param_name(t)
        nid = next(self.node_count)
        ref = self.output_ref(t, nid, 0)
        scope = ""
        if name is not None:
            ref["name"] = name
            scope = self.current_scope(phase)[0]
        self.push({"id": nid, "kind": "param" if name is not None else "leaf", "op": "leaf",
                   "label": name or ("input" if t._grad_fn is None else "tensor"),
                   "backward_rule": "", "phase": phase, "scope": scope, "status": "ok",
                   "inputs": [], "outputs": [ref], "saved_bytes": 0})
        if self.values and t._requires_grad and t._grad_fn is None:
            self.leaf_tensors[nid] = (weakref.ref(t), ref)
        return nid

    # ---- errors -------------------------------------------------------------------------
    def on_error(self, exc):
        """Record the failing op (status "error") and, for a shape-like error raised inside
        an op, extend the message with operands' shapes, module scope and source line."""
        source, name, operands, cls, phase = _failing_op(exc.__traceback__)
        message = str(exc)
        nid = None
        if name is not None:
            inputs, edges = self.input_refs(operands, (), phase)
            node = self.op_node(cls or _Named, name, phase, None, label=cls is None and name)
            node["source"] = source
            if self.scopes.error_scope is not None:
                node["scope"] = self.scopes.error_scope
            node.update(status="error", error=message, inputs=inputs, _edges=edges,
                        outputs=[], saved_bytes=0)
            self.push(node)
            nid = node["id"]
            if isinstance(exc, _SHAPE_ERRORS) and not exc.__dict__.get("_torchlite_explained"):
                _extend_message(exc, node)
        self.error = {"type": type(exc).__name__, "message": message, "node": nid}

    # ---- export -------------------------------------------------------------------------
    def to_dict(self):
        nodes, edges = [], []
        kept = {n["id"]: n for n in self.nodes}
        for n in self.nodes:
            nodes.append({k: v for k, v in n.items() if k != "_edges"})
            for src, out, dst_input, tid, rg in n.get("_edges", ()):
                if src in kept:
                    edges.append({"src": src, "src_output": out, "dst": n["id"],
                                  "dst_input": dst_input, "tensor": tid, "requires_grad": rg})
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


def _failing_op(tb):
    """(source, op name, operand tensors, Function class or None, phase) of the op an
    exception came from: the innermost ``Function.apply`` or, failing that, the innermost
    torchlite frame whose arguments include a Tensor (named by the graph node whose backward
    failed, in the backward pass). Source None: the error did not come from torchlite."""
    entries = []
    while tb is not None:
        entries.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    frames = [f for f, _ in entries]
    phase = "backward" if any(f.f_code is E._run.__code__ for f in frames) else "forward"
    found = None
    for k in range(len(frames) - 1, -1, -1):
        f = frames[k]
        if f.f_code in _APPLY_CODES:
            cls = f.f_locals.get("cls")
            found = k, cls._node_name, tuple(f.f_locals.get("args", ())), cls
            break
    if found is None:
        for k in range(len(frames) - 1, -1, -1):
            operands = _tensor_args(frames[k])
            if frames[k].f_code.co_filename.startswith(_PKG_DIR) and operands:
                found = k, _backward_node_name(frames) or frames[k].f_code.co_name, operands, None
                break
    if found is None:
        return None, None, (), None, phase
    k, name, operands, cls = found
    source = next((_entry_source(*entries[j]) for j in range(k, -1, -1)
                   if not frames[j].f_code.co_filename.startswith(_PKG_DIR)), None)
    return source, name, operands, cls, phase


def _backward_node_name(frames):
    """"<node>.backward" for the innermost engine frame running a node's backward, or None."""
    for f in reversed(frames):
        node = f.f_locals.get("node") if f.f_code.co_filename == E.__file__ else None
        if isinstance(node, F.Node):
            return f"{node.name()}.backward"
    return None


def _entry_source(frame, lineno):
    return _source(frame.f_code, lineno)


def _tensor_args(frame):
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04)
    found = []
    for name in code.co_varnames[:n]:
        v = frame.f_locals.get(name)
        for x in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(x, Tensor):
                found.append(x)
    return tuple(found)


def describe_operands(node):
    parts = []
    for ref in node["inputs"]:
        if "tensor" in ref:
            parts.append(f"Tensor{ref['shape']} {ref['dtype']} on {ref['device']}")
        else:
            parts.append(repr(ref["scalar"]))
    return ", ".join(parts) or "none"


def _extend_message(exc, node):
    src = node.get("source")
    where = f"{source_location(src)} in {src['function']}" if src else "unknown"
    code = f"\n    {src['code']}" if src and src.get("code") else ""
    extra = (f"\n\n[torchlite.graph] while running op {node['op']} ({node['label']})"
             f"\n  operands: {describe_operands(node)}"
             f"\n  module scope: {node['scope'] or '(top level)'}"
             f"\n  source: {where}{code}")
    exc.args = (f"{exc.args[0] if exc.args else ''}{extra}",) + tuple(exc.args[1:])
    exc.__dict__["_torchlite_explained"] = True


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
