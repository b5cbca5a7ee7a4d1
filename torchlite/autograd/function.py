"""Function: one differentiable primitive, its graph node, and the hot path ``apply``.

A Function subclass is both the op and, once applied, its node in the autograd graph (the ``ctx``
of forward and backward, and the ``grad_fn`` of its outputs), as in PyTorch's custom Functions.

Internal primitives (``raw = True``) receive raw arrays in ``forward`` and compute through
``ctx.xp``; user subclasses of ``torchlite.autograd.Function`` receive Tensors, like PyTorch.
Only ``apply`` wraps arrays into Tensors, checks devices, promotes dtypes, honours grad mode,
builds the node, stamps versions and tells the op listeners (the graph recorder).
"""
import functools
import itertools
import re
import traceback
import weakref

from operator import is_not

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from .grad_mode import STATE

# Callables ``listener(node_or_cls, inputs, outputs, phase)`` told of every op; the recorder
# adds itself here. With nothing listening the cost is one truth test per op.
OP_LISTENERS = []
# Set while the engine runs backward; read by the recorder to tag backward ops.
ENGINE_STATE = {"phase": "forward"}
_ANOMALY = {"enabled": False, "check_nan": True}


class Node:
    """A node of the autograd graph: ``name()``, ``next_functions``, ``register_hook``."""

    _edges = ()
    num_outputs = 1
    _released = False
    _has_hooks = False  # set by any hook registration: the engine checks this one flag

    @property
    def next_functions(self):
        return ()

    def name(self):
        return type(self).__name__

    def register_hook(self, hook):
        """A hook ``hook(grad_inputs, grad_outputs)`` run after this node's backward."""
        self._has_hooks = True
        hooks = self.__dict__.setdefault("_post_hooks", [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_prehook(self, hook):
        """A hook ``hook(grad_outputs)`` run before this node's backward; may replace them."""
        self._has_hooks = True
        hooks = self.__dict__.setdefault("_node_pre_hooks", [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def __repr__(self):
        name = self.name().rpartition("::")[2]
        return f"<{name} object at {hex(id(self))}>"


class _RemovableHandle:
    def __init__(self, container, item):
        self._container, self._item = container, item

    def remove(self):
        if self._item in self._container:
            self._container.remove(self._item)


class AccumulateGrad(Node):
    """The sink node of a leaf tensor that requires grad: adds incoming gradients to ``.grad``."""

    num_outputs = 1

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"


def grad_accumulator(t):
    """The (cached, weakly held) AccumulateGrad node of a leaf tensor."""
    ref = t._grad_acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._grad_acc = weakref.ref(acc)
    return acc


def _public_edge(e):
    if e is None:
        return (None, 0)
    node = e[0]
    return (grad_accumulator(node), 0) if isinstance(node, Tensor) else (node, e[1])


class _SavedOutput:
    """An output saved for backward, kept as its array so output and node form no cycle."""

    __slots__ = ("index", "data", "vc", "version")

    def __init__(self, index, out):
        self.index, self.data, self.vc, self.version = index, out._data, out._vc, out._vc[0]

    def tensor(self, node):
        """The output again, as a Tensor of ``node`` sharing its version counter."""
        t = _make(self.data, node.device, True, node, self.index)
        t._vc = self.vc
        return t


class Function(Node):
    """Base of every differentiable operation (see the module docstring)."""

    raw = False              # primitives take arrays; user Functions take Tensors
    differentiable = True    # False: outputs never require grad (comparisons, argmax, ...)
    is_view = False          # output shares memory with input 0 (reshape, transpose, ...)
    changes_device = False   # forward sets ctx.out_device (only the device-transfer op)
    wrap_int_scalars = True  # out-of-range Python ints wrap to the integer dtype (not for pow)
    promote = None           # None | "promote" (common dtype) | "float" (promote, then >= float)
    label = None             # short display text, e.g. "a * b"
    backward_rule = ""       # the gradient formula as text, for the debugger and teaching
    # True where backward is written with operations NumPy / CuPy arrays share with Tensors
    # (operators, ``ctx.xp``): a first-order backward (no create_graph, nothing recording)
    # then runs it on raw arrays, skipping the Tensor dispatch of every backward op.
    array_backward = False
    _materialize_grads = True
    # per-node state, unset until an op sets it (class defaults keep ``apply`` to plain reads)
    _to_save = None
    _saved = None
    _non_diff = None
    _needs_input_grad = None
    _on_arrays = False  # the engine runs this node's rule on arrays now: saved_tensors are arrays

    # ---- ctx API used inside forward / backward -------------------------------------------
    def save_for_backward(self, *items):
        self._to_save = items

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            if self._released:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Saved intermediate "
                    "values of the graph are freed when you call .backward() or "
                    "autograd.grad(). Specify retain_graph=True if you need to backward "
                    "through the graph a second time or if you need to access saved tensors "
                    "after calling backward.")
            return ()
        arrays = self._on_arrays  # set by the engine around an array_backward rule
        out = []
        for s in saved:
            if type(s) is tuple:  # (input, its version when saved[, the cast array forward saw])
                t = s[0]
                if t._vc[0] != s[1]:  # named by its grad_fn now, the in-place op's
                    _raise_modified(t._data, t._vc[0], s[1], t._grad_fn, t._output_nr)
                out.append((t._data if len(s) == 2 else s[2]) if arrays else t)
            elif type(s) is _SavedOutput:
                if s.vc[0] != s.version:
                    _raise_modified(s.data, s.vc[0], s.version, self, s.index)
                out.append(s.data if arrays else s.tensor(self))
            else:
                out.append(s)
        return tuple(out)

    def mark_non_differentiable(self, *outputs):
        self._non_diff = tuple(outputs)

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)

    def name(self):
        """PyTorch's node name ("MulBackward0"); an op may set ``ctx.node_name`` per call (the
        overload PyTorch would pick, e.g. "SumBackward1") or ``node_name`` on the class."""
        return self.__dict__.get("node_name") or type(self)._node_name

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls._node_name = cls.__dict__.get("node_name") or (
            cls.__name__ + ("Backward0" if cls.raw else "Backward"))
        # the class settings apply reads, as one tuple: one class-attribute lookup per op
        cls._settings = (cls.raw, cls.differentiable, cls.promote, cls.changes_device,
                         cls.is_view)

    # ---- the hot path ---------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **params):
        raw, differentiable, promote, changes_device, is_view = cls._settings
        if not raw:
            return _apply_tensor_function(cls, args, params)
        grad = differentiable and STATE.enabled
        arrays = []
        edges = []  # built while reading the inputs: one pass over args
        device = npd = None
        requires = False
        uniform = True   # all tensor inputs have one dtype
        others = False   # some input is neither a Tensor nor None (a scalar, a setting)
        for a in args:
            if isinstance(a, Tensor):
                arr = a._data
                if device is None:
                    device = a._device
                    npd = arr.dtype
                else:
                    if a._device is not device:
                        device = _MIXED
                    if arr.dtype is not npd:
                        uniform = False
                arrays.append(arr)
                if a._requires_grad and grad:
                    requires = True
                    if a._base is not None and a._view_version != a._vc[0]:
                        refresh_view(a)
                    fn = a._grad_fn
                    # a leaf is its own sink; next_functions shows its AccumulateGrad
                    edges.append((a, 0, arr.shape, arr.dtype) if fn is None else
                                 (fn, a._output_nr, arr.shape, arr.dtype))
                    continue
            else:
                if a is not None:
                    others = True
                arrays.append(a)
            edges.append(None)
        if device is None or device is _MIXED:
            device = _resolve_devices(cls, args, arrays)
        narrow = None
        if promote is not None and (others or not uniform or not (
                npd.kind in "fcV" or promote == "promote")):
            narrow = _promote(cls, args, arrays, npd if uniform else None)
        ctx = _new(cls)
        xp = ctx.xp = device._xp or device.xp
        ctx.device = device
        ctx._to_save = ctx._non_diff = None  # on the instance: read faster than class defaults
        if requires:
            ctx._edges = edges  # before forward: needs_input_grad reads it
        try:
            out = cls.forward(ctx, *arrays, **params) if params else cls.forward(ctx, *arrays)
        except ValueError as e:
            raise _shape_error(cls, args, e) from None
        if changes_device:
            device = ctx.out_device
            xp = ctx.xp = device.xp
        if narrow is not None:
            out = _narrowed(out, narrow)
        if type(out) is not tuple:
            raw = out
            if out.__class__ is not xp.ndarray:
                out = xp.asarray(out)
            outputs = t = _new(Tensor)  # as _make does, inline
            t._data = out
            t._device = device
            t._vc = [0]
            t._output_nr = 0
            t._base = None
            if requires and out.dtype.kind in "fcV" and ctx._non_diff is None:
                t._requires_grad = True
                t._grad_fn = ctx
                if ctx._to_save is not None or _ANOMALY["enabled"]:
                    _finish_node(ctx, args, arrays, t, raw)
            else:
                t._requires_grad = False
                t._grad_fn = None
                if requires:
                    del ctx._edges
        else:
            outputs = tuple([_wrap(ctx, o, device, requires, i) for i, o in enumerate(out)])
            if requires:
                _finish_node(ctx, args, arrays, outputs, out)
                ctx.num_outputs = len(outputs)
                ctx._out_meta = [(o._data.shape, o._data.dtype) for o in outputs]
        if is_view:
            _link_view(args[0], outputs, cls, args[1:], params)
        if OP_LISTENERS:
            for listener in OP_LISTENERS:
                listener(ctx, args, outputs, params)
        return outputs

    @property
    def next_functions(self):
        return tuple(_public_edge(e) for e in self._edges)

    @property
    def needs_input_grad(self):
        given = self._needs_input_grad  # set by custom Functions; a cache for the others
        if given is not None:
            return given
        edges = self._edges
        if not edges:  # not a node of the graph
            return ()
        given = self._needs_input_grad = tuple(map(is_not, edges, _NONES))
        return given

    # ---- what the engine calls ------------------------------------------------------------
    def _release(self):
        self._released = True
        self._saved = None


def _raise_modified(data, now, expected, producer, output_nr):
    """PyTorch's error for a saved tensor that an in-place op changed before backward."""
    dt = _dtype.from_numpy_dtype(data.dtype)
    what = ""
    if producer is not None:
        name = re.sub(r"Backward[0-9]*$", "", producer.name())
        what = f", which is output {output_nr} of {name},"
    if _ANOMALY["enabled"]:
        hint = ("Hint: the backtrace further above can point to the operation that failed to "
                "compute its gradient. The variable in question was changed in there or "
                "anywhere later. Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute "
                "its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [torch.{dt._short}Tensor {list(data.shape)}]{what} is at version "
        f"{now}; expected version {expected} instead. {hint}")


_new = object.__new__
_NONES = itertools.repeat(None)
_MIXED = object()  # marker: inputs on more than one device
_NO_INPUT = object()  # marker: no input at this position (no saved item is it)


def _wrap(ctx, arr, device, grad, index):
    if arr.__class__ is not ctx.xp.ndarray:
        arr = ctx.xp.asarray(arr)
    if grad and arr.dtype.kind in "fcV":
        non_diff = ctx._non_diff
        if non_diff is None or not any(arr is n for n in non_diff):
            return _make(arr, device, True, ctx, index)
    return _make(arr, device, False, None, 0)


def _edges_of(args):
    """The graph edges of a node's inputs: (input node, output index, shape, dtype) for each
    input that requires grad (a leaf is its own sink), None for the others."""
    edges = []
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            if a._base is not None and a._view_version != a._vc[0]:
                refresh_view(a)
            fn = a._grad_fn
            data = a._data
            edges.append((a, 0, data.shape, data.dtype) if fn is None else
                         (fn, a._output_nr, data.shape, data.dtype))
        else:
            edges.append(None)
    return edges


def _finish_node(ctx, args, arrays, outs, raw):
    """Stamp what forward saved (see _saved_record) and, under anomaly detection, the stack.
    ``outs`` and ``raw``: the output Tensor and forward's array, or tuples of them."""
    to_save = ctx._to_save
    if to_save is not None:
        ctx._to_save = None
        saved = []
        n = len(arrays)
        first = arrays[0] if n else _NO_INPUT
        second = arrays[1] if n > 1 else _NO_INPUT
        for s in to_save:
            if s is first:  # the common case: an input, most often one of the first two
                i = 0
            elif s is second:
                i = 1
            else:
                i = _index_of(arrays, s)
                if i is None:
                    saved.append(_saved_record(s, outs, raw, ctx.xp.ndarray))
                    continue
            a = args[i]
            if isinstance(a, Tensor):  # the array too where forward saw a cast copy
                s = (a, a._vc[0]) if s is a._data or s is a else (a, a._vc[0], s)
            saved.append(s)
        ctx._saved = saved
    if _ANOMALY["enabled"]:
        ctx._forward_stack = traceback.format_stack()


def _index_of(items, x):
    """The index of ``x`` in ``items`` by identity (arrays do not compare with ==), or None."""
    for i, item in enumerate(items):
        if item is x:
            return i
    return None


def _saved_record(s, outs, raw, ndarray):
    """A saved item that is not an input: outputs become _SavedOutput (no reference cycle),
    Tensors are version-stamped, other arrays become constant Tensors, the rest is kept."""
    if s is None:
        return s
    if isinstance(s, Tensor):
        return (s, s._vc[0])
    if type(outs) is not tuple:
        outs, raw = (outs,), (raw,)
    for i, o in enumerate(outs):
        if o._data is s or (i < len(raw) and raw[i] is s):
            return _SavedOutput(i, o)
    if not isinstance(s, ndarray):
        return s
    return (_make(s, outs[0]._device), 0)


def _shape_error(cls, args, err):
    """NumPy's ValueError as PyTorch's RuntimeError, naming the op and the operands' shapes."""
    shapes = [tuple(a._data.shape) for a in args if isinstance(a, Tensor)]
    where = f" (in {cls.__name__.lower()}: shapes " + " and ".join(
        str(list(s)) for s in shapes) + ")"
    if "broadcast" in str(err) and len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of "
                                    f"tensor b ({b[i]}) at non-singleton dimension {i}" + where)
    return RuntimeError(f"{cls.__name__.lower()}: {err}{where}")


def _resolve_devices(cls, args, arrays):
    """Mixed devices: zero-dim CPU tensors act as scalars (as in PyTorch); else an error."""
    if not any(isinstance(a, Tensor) for a in args):
        name = cls._node_name.rpartition("Backward")[0].lower()
        got = type(args[0]).__name__ if args else "nothing"
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {got}")
    devices = [a._device for a in args if isinstance(a, Tensor) and
               not (a._device.type == "cpu" and a._data.ndim == 0)]
    if devices and all(d is devices[0] for d in devices):
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a._device is not devices[0]:
                arrays[i] = devices[0].xp.asarray(a._data)
        return devices[0]
    seen = [a._device for a in args if isinstance(a, Tensor)]
    other = next(d for d in seen if d is not seen[0])
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{other} and {seen[0]}! (when checking argument for {cls.__name__.lower()})")


def _promote(cls, args, arrays, uniform_dtype):
    """Cast tensor inputs to the common dtype (and to float for ``promote = "float"``).

    Python scalars stay Python scalars: NumPy treats them as weak, like PyTorch does, except
    for ml_dtypes' bfloat16 (and other "V" kind floats), which a Python float widens to float32:
    then the narrow dtype is returned, and apply rounds the result back to it (PyTorch computes
    such ops in float32 and rounds too). ``uniform_dtype``: the one NumPy dtype of all tensor
    inputs, or None where they differ."""
    if uniform_dtype is not None and uniform_dtype.kind == "f" and \
            not any(a.__class__ is complex for a in args):
        return  # float tensors of one dtype: real Python scalars do not change it
    target = _dtype.result_type_of(a for a in args if not isinstance(a, (str, tuple, list)))
    if cls.promote == "float" and target.category < _dtype._FLOAT:
        target = _dtype.get_default_dtype()
    npd = target.np
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            if arrays[i].dtype != npd:
                arrays[i] = arrays[i].astype(npd)
        elif type(a) is int and npd.kind in "iu" and cls.wrap_int_scalars:
            info = np.iinfo(npd)
            if not info.min <= a <= info.max:  # wraps around, as PyTorch's C++ cast does
                arrays[i] = npd.type((a - info.min) % (info.max - info.min + 1) + info.min)
    if npd.kind == "V" and any(a.__class__ is float for a in args):
        return npd


def _narrowed(out, narrow):
    """Forward's result(s) with float arrays widened by a Python scalar rounded back to
    ``narrow`` (see ``_promote``)."""
    if type(out) is tuple:
        return tuple(_narrowed(o, narrow) for o in out)
    if getattr(out, "dtype", narrow).kind == "f":
        return out.astype(narrow)
    return out


def _link_view(base, outputs, cls, extra_args, params):
    """Outputs of a view op share memory and the version counter with their base."""
    root = base._base if base._base is not None else base
    outs = outputs if type(outputs) is tuple else (outputs,)
    for i, o in enumerate(outs):
        o._vc = base._vc
        o._view_version = base._vc[0]
        o._base = root
        o._view_fn = (base._view_fn, cls, extra_args, params, i)
        if base._requires_grad and not o._requires_grad and cls.differentiable and \
                o._data.dtype.kind in "fcV":
            o._requires_grad = True  # a view made under no_grad: a leaf that requires grad


def refresh_view(t):
    """A view whose base was modified in place after the view was made takes its autograd
    history anew from the base (as PyTorch regenerates a view's grad_fn)."""
    t._view_version = t._vc[0]
    if not t._base._requires_grad:
        return
    from .grad_mode import enable_grad
    with enable_grad():
        fresh = replay_view(t._view_fn, t._base)
    t._requires_grad = fresh._requires_grad
    t._grad_fn = fresh._grad_fn
    t._output_nr = fresh._output_nr


def replay_view(view_fn, root):
    """Re-derive a view from its root base through the chain of view ops that made it."""
    if view_fn is None:
        return root
    parent, cls, extra_args, params, index = view_fn
    out = cls.apply(replay_view(parent, root), *extra_args, **params)
    return out[index] if type(out) is tuple else out


def _apply_tensor_function(cls, args, params):
    """apply for user ``autograd.Function`` subclasses: forward sees Tensors, under no_grad."""
    from .grad_mode import no_grad
    tensors = [a for a in args if isinstance(a, Tensor)]
    requires = STATE.enabled and any(t._requires_grad for t in tensors)
    ctx = cls.__new__(cls)
    devices = {t._device for t in tensors}
    ctx.device = tensors[0]._device if tensors else None
    ctx.xp = ctx.device.xp if ctx.device is not None else None
    ctx._needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    if len(devices) > 1:
        _resolve_devices(cls, args, list(args))
    with no_grad():
        if "setup_context" in cls.__dict__:
            out = cls.forward(*args, **params)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **params)
    is_tuple = isinstance(out, tuple)
    outs = out if is_tuple else (out,)
    non_diff = ctx._non_diff or ()
    dirty = ctx.__dict__.get("_dirty", ())
    wrapped, diff = [], []
    for o in outs:
        if isinstance(o, Tensor) and any(o is a for a in args) and \
                not any(o is d for d in dirty):
            o = _make(o._data, o._device)  # returning an input: a new tensor sharing its data
        wrapped.append(o)
        diff.append(requires and isinstance(o, Tensor) and o._data.dtype.kind in "fcV"
                    and not any(o is n for n in non_diff))
    for d in dirty:
        d._vc[0] += 1
    if requires:  # edges first: a dirty input's history is the one before this op
        tensor_outs = tuple(o for o in wrapped if isinstance(o, Tensor))
        ctx._edges = _edges_of(args)
        _finish_node(ctx, args, list(args), tensor_outs, tuple(o._data for o in tensor_outs))
        ctx.num_outputs = len(outs)
        ctx._out_meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                         for o in outs]
    for i, (o, d) in enumerate(zip(wrapped, diff)):
        if d:
            o._requires_grad, o._grad_fn, o._output_nr = True, ctx, i
    result = tuple(wrapped) if is_tuple else wrapped[0]
    if OP_LISTENERS:
        for listener in OP_LISTENERS:
            listener(ctx, args, result, params)
    return result


def once_differentiable(fn):
    """Decorator for a backward that is not itself differentiable: it runs without recording,
    so its gradients do not require grad (a double backward through it finds no graph)."""
    from .grad_mode import no_grad

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            return fn(ctx, *grads)
    return wrapper
