"""Indexing: ``t[key]``, ``t[key] = v``, gather/scatter, index_*, masked_* and take.

Keys are normalised once (``_parse_key``) into what NumPy/CuPy index with: ints, slices, None,
Ellipsis, Python bools and int/bool arrays on the tensor's device. Basic keys give views
(``IndexView``); advanced keys copy (``Index``). The gradient of indexing scatters into zeros
(``IndexScatter``, accumulating repeated indices), and the gradient of that is indexing again.
Writes (``IndexPut``) run through ``inplace`` for setitem and the ``*_`` variants.
"""
import operator
import warnings

from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._inplace import Copy, FillTensor, inplace, write
from ._registry import export, method
from ._util import check_tensor

# ---- array helpers (xp: numpy or cupy) ---------------------------------------------------------


_CUPY_AT = {"add": ("scatter_add", "float16 float32 float64 int32 uint32 uint64"),
            "maximum": ("scatter_max", "int32 uint32 uint64"),
            "minimum": ("scatter_min", "int32 uint32 uint64")}
_ORDERED = {"float32": ("uint32", 1 << 31), "float64": ("uint64", 1 << 63)}


def ufunc_at(xp, name, out, key, values):
    """``xp.<name>.at(out, key, values)``: unbuffered in-place ``out[key] op= values``."""
    if xp.__name__ == "numpy":
        getattr(xp, name).at(out, key, values)
        return
    import importlib
    scatter, dtypes = _CUPY_AT.get(name, (None, ""))
    if str(out.dtype) in dtypes.split():
        getattr(importlib.import_module("cupyx"), scatter)(out, key, values)
    elif scatter and str(out.dtype) in _ORDERED and name != "add":
        ordered_at(xp, getattr(importlib.import_module("cupyx"), scatter), out, key, values)
    else:  # no GPU atomics for this op/dtype: reduce on the host (NumPy, through the array)
        host = out.get()
        hkey = tuple(k.get() if isinstance(k, xp.ndarray) else k for k in key)
        hval = values.get() if isinstance(values, xp.ndarray) else values
        getattr(host.__array_namespace__(), name).at(host, hkey, hval)
        out[...] = xp.asarray(host)


def ordered_at(xp, scatter, out, key, values):
    """max/min scatter of floats through unsigned ints of the same order (exact integer
    atomics instead of floating-point ones): ``scatter(uint_out, key, uint_values)``."""
    udt, top = _ORDERED[str(out.dtype)]
    sign = xp.asarray(top, dtype=udt)

    def to_uint(a):
        bits = xp.asarray(a, dtype=out.dtype).view(udt)
        return xp.where(bits & sign, ~bits, bits | sign)

    u = to_uint(out)
    scatter(u, key, to_uint(values))
    out[...] = xp.where(u & sign, u ^ sign, ~u).view(out.dtype)


def along_dim_key(xp, index, dim):
    """The advanced-index key that addresses ``a[..., index[i], ...]`` at each position of
    ``index`` along ``dim`` (the positions gather/scatter read or write)."""
    key = []
    for d, n in enumerate(index.shape):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            key.append(xp.arange(n).reshape(shape))
    return tuple(key)


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _check_bounds(arr, size, dim, exc=IndexError, negative=True):
    """PyTorch's error for an int array with an entry outside ``[-size, size)`` (or, without
    ``negative``, outside ``[0, size)``)."""
    if arr.size == 0:
        return
    bad = (arr >= size) | (arr < (-size if negative else 0))
    if bad.any():
        v = int(arr[bad].ravel()[0])
        raise exc(f"index {v} is out of bounds for dimension {dim} with size {size}")


def _index_shape(xp, shape, key):
    """The shape ``a[key]`` has for an array ``a`` of ``shape``."""
    return xp.broadcast_to(xp.zeros((), dtype=bool), shape)[key].shape


# ---- key parsing -------------------------------------------------------------------------------

_SEQUENCE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
    "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error "
    "or a different result")


def _as_tuple(key):
    """PyTorch's reading of a key as a tuple of per-dim indices (lists of slices etc. too)."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, range, slice)) or k is None or k is Ellipsis
            for k in key):
        warnings.warn(_SEQUENCE_WARNING, UserWarning, stacklevel=3)
        return tuple(key)
    return (key,)


def _index_array(t, k):
    """A tensor, list or range used as an index: an int64 or bool array on ``t``'s device."""
    xp = t._device.xp
    if isinstance(k, Tensor):
        arr = k._data if k._device is t._device else xp.asarray(k._host())
    else:
        arr = xp.asarray(k.tolist() if hasattr(k, "tolist") else
                         [int(v) if isinstance(v, Tensor) else v for v in k]
                         if isinstance(k, (list, tuple)) else list(k))
        if arr.size == 0:
            arr = arr.astype("int64")
    kind = arr.dtype.kind
    if arr.dtype == "uint8":
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=4)
        return arr.astype(bool)
    if kind == "b" or arr.dtype in ("int64", "int32"):
        return arr
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _convert(t, k, scalar_ints):
    """One key element as what the array library indexes with; second item: copies.
    ``scalar_ints``: a 0-d integer tensor indexes like an int (Python indexing does)."""
    if k is None or k is Ellipsis or isinstance(k, bool):
        return k, isinstance(k, bool)
    if isinstance(k, slice):
        step = 1 if k.step is None else operator.index(k.step)
        if step <= 0:
            raise ValueError("step must be greater than zero")
        return slice(*(None if v is None else operator.index(v)
                       for v in (k.start, k.stop, k.step))), False
    if scalar_ints and isinstance(k, Tensor) and k.ndim == 0 and k._data.dtype.kind in "iu" \
            and k._data.dtype != "uint8":
        return int(k.item()), True
    if isinstance(k, (Tensor, list, tuple, range)) or hasattr(k, "__array__"):
        return _index_array(t, k), True
    try:
        return operator.index(k), False
    except TypeError:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got "
                         f"{type(k).__name__})") from None


def _consumes(k):
    """How many dims of the tensor an (already converted) key element indexes."""
    if k is None or k is Ellipsis or isinstance(k, bool):
        return 0
    if isinstance(k, (int, slice)):
        return 1
    return k.ndim if k.dtype.kind == "b" else 1


def parse_key(t, key, scalar_ints=True):
    """``key`` checked against ``t`` (PyTorch's errors) and converted: (stages, copies).

    ``stages`` is one key, or two where ints meet advanced indices: PyTorch selects the ints
    first (a basic view), then applies the advanced indices to the rest (NumPy would treat the
    ints as advanced indices too and place the result dims elsewhere)."""
    fast = _plain_key(t._data.shape, key)
    if fast is not None:
        return fast
    items = [_convert(t, k, scalar_ints) for k in _as_tuple(key)]
    elems = tuple(k for k, _ in items)
    copies = any(c for _, c in items)
    ndim, shape = t.ndim, t.shape
    used = sum(_consumes(k) for k in elems)
    if ndim == 0 and any(isinstance(k, (int, slice)) for k in elems):
        if any(isinstance(k, slice) for k in elems):
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    dim = 0
    for k in elems:
        if k is Ellipsis:
            dim += ndim - used
        elif isinstance(k, int) and not isinstance(k, bool):
            if not -shape[dim] <= k < shape[dim]:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        elif not isinstance(k, (slice, bool)) and k is not None:
            _check_array(k, shape, dim)
        dim += _consumes(k)
    if not any(k is Ellipsis for k in elems):
        elems += (Ellipsis,)  # a basic key then always gives an array view, never a scalar
    advanced = any(_is_advanced(k) for k in elems)
    if advanced and any(type(k) is int for k in elems):
        return (_basic_stage(elems), _advanced_stage(t._device.xp, elems)), copies
    return (elems,), copies


def _plain_slice(k):
    return type(k) is slice and (k.start is None or type(k.start) is int) and (
        k.stop is None or type(k.stop) is int) and (
        k.step is None or (type(k.step) is int and k.step > 0))


def _plain_key(shape, key):
    """The parsed form of the common key made of in-range ints and plain slices, or None
    (anything else, errors included, takes the full path)."""
    items = key if type(key) is tuple else (key,)
    if len(items) > len(shape):
        return None
    for n, k in zip(shape, items):
        if type(k) is int:
            if not -n <= k < n:
                return None
        elif not _plain_slice(k):
            return None
    return (items + (Ellipsis,),), False


def _is_advanced(k):
    return isinstance(k, bool) or not (k is None or k is Ellipsis or isinstance(k, (int, slice)))


def _basic_stage(elems):
    """The ints, slices, None and Ellipsis of a key; advanced entries keep their dims."""
    out = []
    for k in elems:
        if isinstance(k, bool):
            out.append(None)
        elif _is_advanced(k):
            out.extend([slice(None)] * _consumes(k))
        else:
            out.append(k)
    return tuple(out)


def _advanced_stage(xp, elems):
    """The advanced entries of a key, applied after ``_basic_stage`` (ints are gone then; a
    Python bool indexes the size-1 dim its stage added, as in PyTorch)."""
    out = []
    for k in elems:
        if isinstance(k, bool):
            out.append(xp.asarray([k]))
        elif k is Ellipsis or _is_advanced(k):
            out.append(k)
        elif type(k) is not int:
            out.append(slice(None))
    return tuple(out)


def _check_array(k, shape, dim):
    if k.dtype.kind != "b":
        _check_bounds(k, shape[dim], dim)
        return
    for j, n in enumerate(k.shape):
        if n != shape[dim + j]:
            raise IndexError(f"The shape of the mask {_fmt(k.shape)} at index {j} does not "
                             f"match the shape of the indexed tensor {_fmt(shape)} at index "
                             f"{dim + j}")


# ---- primitives --------------------------------------------------------------------------------


class Index(Function):
    """``a[key]`` with an advanced key: a copy."""
    raw = True
    label = "a[key]"
    backward_rule = "grad_a = zeros(a.shape) with grad added at [key]"

    @staticmethod
    def forward(ctx, a, key):
        ctx.key, ctx.in_shape = key, a.shape
        out = a[key]
        return out.copy() if ctx.xp.may_share_memory(out, a) else out

    @staticmethod
    def backward(ctx, grad):
        return IndexScatter.apply(grad, shape=ctx.in_shape, key=ctx.key)


class IndexView(Index):
    """``a[key]`` with a basic key (ints, slices, None, Ellipsis): a view."""
    is_view = True

    @staticmethod
    def forward(ctx, a, key):
        ctx.key, ctx.in_shape = key, a.shape
        ctx.node_name = _basic_index_node_name(key, a.shape)
        return a[key]


def _basic_index_node_name(key, shape):
    """PyTorch's node for a basic index: the last select (int), slice or unsqueeze (None) it
    applies; a tuple's slices that span their whole dim are skipped, and nothing left is an
    alias. A lone slice always slices."""
    items = [k for k in key if k is not Ellipsis]
    if len(items) == 1 and isinstance(items[0], slice):
        return "SliceBackward0"
    name, dim = "AliasBackward0", 0
    n_dims = sum(k is not None for k in items)
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - n_dims
        elif k is None:
            name = "UnsqueezeBackward0"
        else:
            if not isinstance(k, slice):
                name = "SelectBackward0"
            elif k.indices(shape[dim]) != (0, shape[dim], 1):
                name = "SliceBackward0"
            dim += 1
    return name


class IndexScatter(Function):
    """``zeros(shape)`` with ``g`` added at ``[key]`` (repeated indices accumulate)."""
    raw = True
    label = "zeros[key] += g"
    backward_rule = "grad_g = grad[key]"

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        ufunc_at(ctx.xp, "add", out, key, g)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, key=ctx.key)


class IndexPut(Function):
    """``a`` with ``a[key] = v`` (or ``+= v`` with ``accumulate``), out of place."""
    raw = True
    label = "a[key] = v"
    backward_rule = "grad_a = grad with [key] zeroed (accumulate: grad); grad_v = grad[key]"

    @staticmethod
    def forward(ctx, a, v, key, accumulate=False):
        ctx.key, ctx.accumulate = key, accumulate
        out = a.copy()
        if accumulate:
            target = _index_shape(ctx.xp, a.shape, key)
            v = ctx.xp.broadcast_to(ctx.xp.asarray(v, dtype=a.dtype), target)
            ufunc_at(ctx.xp, "add", out, key, v)
        else:
            out[key] = v
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad_v = None
        if ctx.needs_input_grad[0]:
            grad_a = grad if ctx.accumulate else IndexPut.apply(grad, 0, key=ctx.key)
        if ctx.needs_input_grad[1]:
            grad_v = Index.apply(grad, key=ctx.key)
        return grad_a, grad_v


class SelectAlongDim(Index):
    """``a`` at ``index`` along ``dim`` (an ``Index`` with an along-dim key), reshaped to
    ``shape``: gather and the values of every value-selecting op (max, sort, ...), its graph
    node named ``node`` (PyTorch's "GatherBackward0", "MaxBackward0", ...). A 0-d ``a`` acts
    as shape (1,)."""

    label = "take_along_dim(a, index)"
    backward_rule = "grad_a = zeros(a.shape) with grad added at index along dim"

    @staticmethod
    def forward(ctx, a, index=None, dim=0, shape=None, node=None):
        ctx.node_name, ctx.index_shape, ctx.a_shape = node, index.shape, a.shape
        key = along_dim_key(ctx.xp, index, dim)
        return Index.forward(ctx, a.reshape(a.shape or (1,)), key).reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.reshape(ctx.index_shape)
        return IndexScatter.apply(grad, shape=ctx.in_shape, key=ctx.key).reshape(ctx.a_shape)


# ---- ops PyTorch names on their own that torchlite computes as an Index or an IndexPut ------
class IndexSelect(Index):
    label = "index_select"


class MaskedSelect(Index):
    label = "masked_select"


class Take(Index):
    """take: an index into the flattened tensor."""
    label = "take"


class IndexAdd(IndexPut):
    label = "index_add"


class IndexCopy(IndexPut):
    label = "index_copy"


class MaskedScatter(IndexPut):
    label = "masked_scatter"


class Put(IndexPut):
    label = "put"


class ScatterAdd(IndexPut):
    label = "scatter_add"


class ScatterReduceSum(IndexPut):
    """scatter_reduce with "sum": an accumulating IndexPut."""
    node_name = "ScatterReduceBackward0"
    label = "scatter_reduce"


class _FillOverloads(IndexPut):
    """An IndexPut of a value PyTorch takes either as a Python scalar or as a tensor, in two
    overloads: the node is named ``names[0]`` for a scalar, ``names[1]`` for a tensor."""
    names = ()

    @classmethod
    def forward(cls, ctx, a, v, key, accumulate=False):
        ctx.node_name = cls.names[isinstance(v, ctx.xp.ndarray)]
        return IndexPut.forward(ctx, a, v, key, accumulate)


class MaskedFill(_FillOverloads):
    names = ("MaskedFillBackward0", "MaskedFillBackward1")
    label = "masked_fill"


class IndexFill(_FillOverloads):
    names = ("IndexFillBackward0", "IndexFillBackward1")
    label = "index_fill"


class Scatter(_FillOverloads):
    names = ("ScatterBackward1", "ScatterBackward0")
    label = "scatter"


_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
                 "amin": "minimum"}


class ScatterReduce(Function):
    """``a`` with ``src`` reduced in at ``key`` (the positions of an index along ``dim``) by
    "mean", "prod", "amax" or "amin"; ``include_self`` keeps a's values in the reduction."""
    raw = True
    label = "scatter_reduce(a, src)"
    backward_rule = ("mean: grad_a = grad / n, grad_src = (grad / n)[key]; prod: grad * "
                     "(product of the others); amax/amin: grad shared among the extremes")

    @staticmethod
    def forward(ctx, a, src, key, reduce, include_self=True):
        xp = ctx.xp
        ctx.key, ctx.reduce, ctx.include_self = key, reduce, include_self
        out = a.copy()
        if not include_self:
            out[key] = {"mean": 0, "prod": 1}.get(reduce, src)
        ufunc_at(xp, _REDUCE_UFUNC[reduce], out, key, src)
        if reduce == "mean":
            count = xp.full(a.shape, 1 if include_self else 0, dtype=a.dtype)
            ufunc_at(xp, "add", count, key, xp.ones(src.shape, dtype=a.dtype))
            count[count == 0] = 1
            ctx.count = count
            out = (out / count if out.dtype.kind in "fc" else out // count).astype(a.dtype)
        ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, src, out = ctx.saved_tensors
        key = ctx.key
        if ctx.reduce == "mean":
            grad_a = grad / _const(grad, ctx.count)
            grad_src = Index.apply(grad_a, key=key)
        elif ctx.reduce == "prod":
            grad_a, grad_src = _prod_backward(ctx, grad, a, src, out)
        else:
            a_is = _const(grad, (a._data == out._data).astype(grad._data.dtype))
            src_is = _const(grad, (src._data == out._data[key]).astype(grad._data.dtype))
            share = grad / IndexPut.apply(a_is, src_is, key=key, accumulate=True)
            grad_a = a_is * share
            grad_src = src_is * Index.apply(share, key=key)
        if not ctx.include_self:
            grad_a = IndexPut.apply(grad_a, 0, key=key)
        return grad_a, grad_src


def _prod_backward(ctx, grad, a, src, out):
    """PyTorch's gradient of a scatter product, exact where a factor is zero."""
    key, include_self = ctx.key, ctx.include_self
    a_zero = _const(grad, a._data == 0)
    masked_a = a.masked_fill(a_zero, 1)
    grad_a = grad * ScatterReduce.apply(masked_a, src, key=key, reduce="prod",
                                        include_self=include_self) / masked_a
    zeros = ctx.xp.zeros(a.shape, dtype=grad._data.dtype)
    src_zero_arr = src._data == 0
    ufunc_at(ctx.xp, "add", zeros, key, src_zero_arr.astype(zeros.dtype))
    single_arr = src_zero_arr & (zeros[key] == 1)
    single, src_zero = _const(grad, single_arr), _const(grad, src_zero_arr)
    masked_src_result = ScatterReduce.apply(a, src.masked_fill(single, 1), key=key,
                                            reduce="prod", include_self=include_self)
    with_zero = Index.apply(grad * masked_src_result, key=key)
    without = Index.apply(grad * out, key=key) / src.masked_fill(src_zero, 1)
    grad_src = with_zero.masked_fill(_const(grad, ~single_arr), 0) + \
        without.masked_fill(single, 0)
    return grad_a, grad_src


def _const(ref, arr):
    """A constant (non-differentiable) tensor on ``ref``'s device."""
    return _make(arr, ref._device)


# ---- getitem / setitem -------------------------------------------------------------------------


def index(t, key):
    """``t[key]`` from a parsed key: a view for basic keys, a copy otherwise."""
    stages, copies = key
    if len(stages) == 2:
        t = IndexView.apply(t, key=stages[0])
    return (Index if copies else IndexView).apply(t, key=stages[-1])


@method(name="__getitem__")
def _getitem(self, key):
    return index(self, parse_key(self, key))


def _broadcast_error(target, value, copies):
    vshape = tuple(value.shape)
    if copies:
        return RuntimeError(f"shape mismatch: value tensor of shape {_fmt(vshape)} cannot be "
                            f"broadcast to indexing result of shape {_fmt(target)}")
    for i in range(1, min(len(target), len(vshape)) + 1):
        if vshape[-i] not in (1, target[-i]):
            return RuntimeError(
                f"The expanded size of the tensor ({target[-i]}) must match the existing size "
                f"({vshape[-i]}) at non-singleton dimension {len(target) - i}.  Target sizes: "
                f"{_fmt(target)}.  Tensor sizes: {_fmt(vshape)}")
    return RuntimeError(f"expand(torch.{value.dtype._short}Tensor{{{_fmt(vshape)}}}, size="
                        f"{_fmt(target)}): the "
                        f"number of sizes provided ({len(target)}) must be greater or equal to "
                        f"the number of dimensions in the tensor ({len(vshape)})")


def fit_value(self, key, value):
    """``value`` as an operand of ``self[key] = value``: a Python scalar, or a tensor on
    self's device broadcastable to the indexed shape (leading 1-dims dropped, as PyTorch)."""
    if isinstance(value, (bool, int, float, complex)):
        return value
    if not isinstance(value, Tensor):
        from .._creation import tensor
        value = tensor(value, dtype=self.dtype, device=self.device)
    stages, copies = key
    target = tuple(self.shape)
    for stage in stages:
        target = _index_shape(self._device.xp, target, stage)
    vshape = tuple(value.shape)
    lead = len(vshape) - len(target)
    if lead > 0 and all(s == 1 for s in vshape[:lead]):
        value, vshape = value.reshape(vshape[lead:]), vshape[lead:]
    if len(vshape) > len(target) or any(
            v not in (1, t) for v, t in zip(vshape[::-1], target[::-1])):
        raise _broadcast_error(target, value, copies)
    return value


@method(name="__setitem__")
def _setitem(self, key, value):
    if key is False:  # PyTorch writes nothing and does not look at the value
        return
    key = parse_key(self, key)
    value = fit_value(self, key, value)
    stages, copies = key
    if not (STATE.enabled and (self._requires_grad or getattr(value, "_requires_grad", False))):
        _write_region(self, stages, value)
        return
    if copies:  # index_put_, into the view that a key's ints select first
        target = IndexView.apply(self, key=stages[0]) if len(stages) == 2 else self
        inplace(target, lambda old, v: IndexPut.apply(old, v, key=stages[-1]), value)
        return
    # a basic key: as PyTorch, fill (a scalar, a 0-d tensor) or copy into the view it selects
    # (the tensor's node is then CopySlices), or into the tensor itself for ``...`` and ``:``
    whole = all(k is Ellipsis or k == slice(None) for k in stages[0])
    target = self if whole else IndexView.apply(self, key=stages[0])
    fill = not isinstance(value, Tensor) or value.ndim == 0
    inplace(target, FillTensor.apply if fill else Copy.apply, value)


def _write_region(self, stages, value):
    """``self[key] = value`` outside autograd: written in place (what ``inplace`` does with
    no graph to record, without computing the whole new tensor first), version bumped."""
    region = self._data
    if not getattr(region.flags, "writeable", True):
        write(self, region)  # raises PyTorch's error for expanded (overlapping) memory
    for stage in stages[:-1]:
        region = region[stage]
    if isinstance(value, Tensor):
        value = value._data if value._device is self._device else \
            self._device.xp.asarray(value._host())
    region[stages[-1]] = value
    self._vc[0] += 1


# ---- index_* -----------------------------------------------------------------------------------


def _index_vector(op, t, dim, index, dtypes=("int64", "int32")):
    """Check an index vector for ``op`` along ``dim`` of ``t``; return (dim, array)."""
    check_tensor(op, index, 3, "index")
    dim = _wrap_dim(dim, t.ndim)
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    if str(index._data.dtype) not in dtypes:
        raise RuntimeError(f"{op}(): Expected dtype int32 or int64 for index")
    arr = index._data.reshape(-1)
    size = t.shape[dim] if t.ndim else 1
    if arr.size and (int(arr.max()) >= size or int(arr.min()) < -size):
        if op == "index_select":
            raise IndexError("index out of range in self")
        _check_bounds(arr, size, dim)
    return dim, arr


def _dim_key(dim, arr):
    return (slice(None),) * dim + (arr, Ellipsis)


@export
def index_select(input, dim, index):
    check_tensor("index_select", input)
    dim, arr = _index_vector("index_select", input, dim, index)
    if input.ndim == 0:
        return IndexSelect.apply(input.reshape(1), key=(arr,)).reshape(())
    return IndexSelect.apply(input, key=_dim_key(dim, arr))


def _check_source(op, t, dim, arr, source):
    check_tensor(op, source, 4, "source")
    if source.dtype is not t.dtype:
        raise RuntimeError(f"{op}_(): self ({t.dtype._short}) and source "
                           f"({source.dtype._short}) must have the same scalar type")
    n = source.shape[dim] if source.ndim else 1
    if n != arr.size:
        if op == "index_add":
            raise RuntimeError(f"index_add_(): Number of indices ({arr.size}) should be equal "
                               f"to source.size(dim): ({n}), for dim: {dim}")
        raise IndexError(f"index_copy_(): Number of indices ({arr.size}) should be equal to "
                         f"source.size(dim) ({n})")


@export
def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    dim, arr = _index_vector("index_add", input, dim, index)
    _check_source("index_add", input, dim, arr, source)
    if alpha != 1:
        source = source * alpha
    return IndexAdd.apply(input, source, key=_dim_key(dim, arr), accumulate=True)


@export
def index_copy(input, dim, index, source):
    dim, arr = _index_vector("index_copy", input, dim, index)
    _check_source("index_copy", input, dim, arr, source)
    return IndexCopy.apply(input, source, key=_dim_key(dim, arr))


@export
def index_fill(input, dim, index, value):
    dim, arr = _index_vector("index_fill", input, dim, index)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    return IndexFill.apply(input, value, key=_dim_key(dim, arr))


@export
def index_put(input, indices, values, accumulate=False):
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``)."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    key = parse_key(input, tuple(indices), scalar_ints=False)
    if isinstance(values, Tensor) and values.dtype is not input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype._short} for the destination and "
                           f"{values.dtype._short} for the source.")
    values = fit_value(input, key, values)
    return IndexPut.apply(input, values, key=key[0][0], accumulate=accumulate)


def _inplace_variant(fn, name):
    def op_(self, *args, **kwargs):
        return inplace(self, lambda old, *a: fn(old, *a, **kwargs), *args)
    op_.__name__ = name
    op_.__doc__ = f"In-place ``{fn.__name__}``."
    return op_


# ---- gather / scatter --------------------------------------------------------------------------


def _along_dim_index(op, t, dim, index, src=None):
    """Check ``index`` for gather/scatter along ``dim`` of ``t``: (dim, the index array, at
    least 1-D)."""
    check_tensor(op, index, 3, "index")
    dim = _wrap_dim(dim, t.ndim)
    if str(index._data.dtype) not in ("int64", "int32"):
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if index.ndim != t.ndim and index.numel() and not (t.ndim <= 1 and index.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    ishape, tshape = tuple(index.shape) or (1,), tuple(t.shape) or (1,)
    for d, n in enumerate(ishape):
        if d != dim and n > tshape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{_fmt(ishape)} to be no larger than self {_fmt(tshape)} apart "
                               f"from dimension {dim}")
        if src is not None and n > (tuple(src.shape) or (1,))[d]:
            raise RuntimeError(f"Expected index {_fmt(ishape)} to be no larger than self "
                               f"{_fmt(tshape)} apart from dimension {dim} and to be no larger "
                               f"size than src {_fmt(tuple(src.shape))}")
    arr = index._data.reshape(ishape)
    _check_bounds(arr, tshape[dim], dim, RuntimeError, negative=False)
    return dim, arr


def _flat(t):
    """``t`` as 1-D when 0-d (gather/scatter treat a 0-d tensor as one element)."""
    return t.reshape(1) if t.ndim == 0 else t


@export
def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0), PyTorch's gather."""
    check_tensor("gather", input)
    dim, arr = _along_dim_index("gather", input, dim, index)
    return SelectAlongDim.apply(input, index=arr, dim=dim, shape=tuple(index.shape),
                                node="GatherBackward0")


def _shaped(t, shape):
    """``t`` reshaped to ``shape`` where it differs (a 0-d operand taken as 1-D)."""
    return t if t.shape == shape else t.reshape(shape)


def _src_operand(op, self, src, key):
    if not isinstance(src, Tensor):
        return src
    if src.dtype is not self.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
    shape = key[0].shape if len(key) == 1 else tuple(
        max(k.shape[d] for k in key) for d in range(len(key)))
    src = _flat(src)
    if tuple(src.shape) != shape:
        src = src[tuple(slice(0, n) for n in shape)]
    return src


_LEGACY_REDUCE = {"add": "sum", "multiply": "prod"}


@export
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (a tensor or a scalar ``value``) written at ``index`` along
    ``dim``; ``reduce`` "add" / "multiply" combines instead of overwriting."""
    check_tensor("scatter", input)
    src = value if src is None else src
    if reduce is not None:
        if reduce not in _LEGACY_REDUCE:
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        return _scatter(input, dim, index, src, _LEGACY_REDUCE[reduce], True)
    return _scatter(input, dim, index, src, None, True)


def _scatter(input, dim, index, src, reduce, include_self, op="scatter_reduce"):
    dim, arr = _along_dim_index("scatter", input, dim, index,
                                src if isinstance(src, Tensor) else None)
    key = along_dim_key(input._device.xp, arr, dim)
    src = _src_operand("scatter", input, src, key)
    a = _flat(input)
    if reduce is None:
        out = Scatter.apply(a, src, key=key)
    elif reduce == "sum":
        if not include_self:
            a = IndexPut.apply(a, 0, key=key)
        out = (ScatterAdd if op == "scatter_add" else ScatterReduceSum).apply(
            a, src, key=key, accumulate=True)
    else:
        if not isinstance(src, Tensor):
            src = _const(a, a._device.xp.full(key[0].shape, src, dtype=a._data.dtype))
        out = ScatterReduce.apply(a, src, key=key, reduce=reduce, include_self=include_self)
    return _shaped(out, input.shape)


@export
def scatter_add(input, dim, index, src):
    check_tensor("scatter_add", input)
    return _scatter(input, dim, index, src, "sum", True, "scatter_add")


@export
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with ``src`` reduced in at ``index`` along ``dim`` ("sum", "prod", "mean",
    "amax", "amin")."""
    check_tensor("scatter_reduce", input)
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    return _scatter(input, dim, index, src, reduce, include_self)


# ---- masked_* / take ---------------------------------------------------------------------------


def _mask_array(op, t, mask, shape=None):
    """``mask`` (a bool tensor) broadcast to ``shape`` (default: t's shape) as an array."""
    check_tensor(op, mask, 2, "mask")
    if mask._data.dtype != bool:
        if op == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        raise RuntimeError(f"{op}_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype._short.lower()}")
    xp = t._device.xp
    arr = mask._data if mask._device is t._device else xp.asarray(mask._host())
    return xp.broadcast_to(arr, t.shape if shape is None else shape)


def _broadcast_pair(t, mask):
    """``t`` expanded to its broadcast shape with ``mask`` (an out-of-place masked op)."""
    shape = _broadcast_shape(t.shape, mask.shape)
    return t if tuple(t.shape) == shape else t.expand(shape)


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
        out.append(max(x, y) if x and y else 0)
    return tuple(out)


@export
def masked_fill(input, mask, value):
    """``input`` with ``value`` (a scalar or a 0-d tensor) where ``mask`` is True."""
    check_tensor("masked_fill", input)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    input = _broadcast_pair(input, mask) if isinstance(mask, Tensor) else input
    return MaskedFill.apply(input, value, key=(_mask_array("masked_fill", input, mask),))


@export
def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast)."""
    check_tensor("masked_select", input)
    input = _broadcast_pair(input, mask) if isinstance(mask, Tensor) else input
    return MaskedSelect.apply(input, key=(_mask_array("masked_select", input, mask),))


@export
def masked_scatter(input, mask, source):
    """``input`` with the leading elements of ``source`` written where ``mask`` is True."""
    check_tensor("masked_scatter", input)
    input = _broadcast_pair(input, mask) if isinstance(mask, Tensor) else input
    arr = _mask_array("masked_scatter", input, mask)
    n = int(arr.sum())
    if source.numel() < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, source.reshape(-1)[:n], key=(arr,))


def _inplace_masked(fn):
    def op_(self, mask, *args):
        if isinstance(mask, Tensor):
            shape = _broadcast_shape(self.shape, mask.shape)
            if shape != tuple(self.shape):
                raise RuntimeError(f"output with shape {_fmt(self.shape)} doesn't match the "
                                   f"broadcast shape {_fmt(shape)}")
        return inplace(self, lambda old, *a: fn(old, mask, *a), *args)
    op_.__name__ = fn.__name__ + "_"
    op_.__doc__ = f"In-place ``{fn.__name__}``."
    return op_


@export
def take(input, index):
    """``input.flatten()[index]``, shaped like ``index``."""
    check_tensor("take", input)
    check_tensor("take", index, 2, "index")
    if str(index._data.dtype) != "int64":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{index.dtype._short}")
    n = input.numel()
    arr = index._data
    if arr.size:
        bad = (arr >= n) | (arr < -n)
        if bad.any():
            raise IndexError(f"out of range: tried to access index {int(arr[bad].ravel()[0])} "
                             f"on a tensor of {n} elements.")
    return Take.apply(input.reshape(-1), key=(arr,))


@export
def take_along_dim(input, indices, dim=None):
    """``gather`` along ``dim`` after broadcasting input and indices in the other dims; with
    ``dim=None`` on the flattened input."""
    check_tensor("take_along_dim", input)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    dim = _wrap_dim(dim, input.ndim)
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    ishape, xshape = list(indices.shape), list(input.shape)
    ishape[dim] = xshape[dim] = 1
    shape = list(_broadcast_shape(ishape, xshape))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[dim], i_shape[dim] = input.shape[dim], indices.shape[dim]
    return gather(input.expand(x_shape), dim, indices.expand(i_shape))


@export
def put(input, index, source, accumulate=False):
    """``input`` with ``source`` written (or added) at flat positions ``index``."""
    check_tensor("put", input)
    check_tensor("put", index, 2, "index")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {input.dtype._short} and source.dtype = "
                           f"{source.dtype._short}")
    if source.numel() != index.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    flat_key = parse_key(input.reshape(-1), (index,), scalar_ints=False)[0][0]
    source = source.reshape(index.shape)
    if input.ndim == 0 or not input.numel():  # no dims to spread the positions over
        return Put.apply(input.reshape(-1), source, key=flat_key,
                         accumulate=accumulate).reshape(input.shape)
    # the flat positions as one index array per dim: the result keeps the input's shape
    key = input._device.xp.unravel_index(flat_key[0] % input.numel(), input.shape)
    return Put.apply(input, source, key=tuple(key), accumulate=accumulate)


for _fn in (index_add, index_copy, index_fill, index_put, scatter, scatter_add, scatter_reduce,
            put):
    method(_inplace_variant(_fn, _fn.__name__ + "_"))
for _fn in (masked_fill, masked_scatter):
    method(_inplace_masked(_fn))
