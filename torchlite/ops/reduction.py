"""Reductions over dims (int, tuple, list, negative) with keepdim, cumulative ops along a dim,
and value-selecting reductions (max/min/median/mode over a dim) returning (values, indices).

Gradients follow PyTorch: ``amax``/``amin`` and the full ``max()``/``min()``/``median()`` split
the gradient evenly among ties; reductions over a dim send it to the selected index.
"""
import builtins
import functools
import math

from .. import _dtype
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._registry import EXPORTS, export, method
from .indexing import SelectAlongDim
from ._return_types import return_type, values_indices
from ._util import check_tensor, keepdim_shape, normalize_dims

_INT_KINDS = "bui"
# the named tuples these ops return, made at import so that pickles of them load anywhere
for _name in ("max", "min", "median", "nanmedian", "mode", "cummax", "cummin"):
    return_type(_name)
_AMINMAX = return_type("aminmax", ("min", "max"))


# ---- shared helpers ------------------------------------------------------------------------
def _dims(input, dim, empty_means_all=True):
    """``dim`` as a sorted tuple of axes or None (all): ``()``/``[]`` mean all dims (PyTorch's
    rule, unless ``empty_means_all`` is False), and any valid dim of a 0-d input means all."""
    dims = normalize_dims(dim, input.ndim)
    if input.ndim == 0 or (dims == () and empty_means_all):
        return None
    return dims


def _one_dim(name, input, dim):
    """A single int ``dim``, wrapped; PyTorch's TypeError for tuples and lists."""
    if isinstance(dim, (tuple, list)) or isinstance(dim, builtins.bool):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be int, not "
                        f"{type(dim).__name__}")
    return _wrap_dim(int(dim), input.ndim)


def _reduced_shape(shape, dims):
    if dims is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _finish(out, in_shape, dims, keepdim):
    """A keepdims result reshaped to PyTorch's output shape."""
    return out if keepdim else out.reshape(_reduced_shape(in_shape, dims))


def _expand_back(grad, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims of the input."""
    if not keepdim:
        grad = grad.reshape(keepdim_shape(in_shape, dims))
    return grad.expand(in_shape)


def _np_dtype(dtype):
    return None if dtype is None else _dtype.to_dtype(dtype).np


def _int_to_int64(a, dtype):
    """PyTorch's accumulation dtype: bool and integer inputs sum/prod/cumsum to int64."""
    return "int64" if dtype is None and a.dtype.kind in _INT_KINDS else dtype


def _check_nonempty(name, input, dims):
    """PyTorch's errors for reductions without identity (max, amin, argmax, ...) on empties."""
    if dims is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _require_float(name, input, message):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(message.format(name=name, dtype=input.dtype._short))


def _count(in_shape, dims):
    return math.prod(in_shape) if dims is None else math.prod(in_shape[d] for d in dims)


# ---- sum, mean -----------------------------------------------------------------------------
_MATVEC_MAX_ROWS = 4096  # taller arrays: NumPy's pairwise sum is faster here, and more accurate


def _sum_leading_by_matvec(xp, a, dims, keepdim):
    """The sum of a C-contiguous float32/float64 array over its leading ``dims`` as one
    vector-matrix product (``ones @ a``), several times faster than NumPy's strided reduction
    over axis 0 (bias and LayerNorm weight gradients); None where NumPy's sum must serve."""
    if (dims is None or a.dtype.char not in "fd" or not a.flags.c_contiguous
            or dims != tuple(range(len(dims))) or len(dims) >= a.ndim):
        return None
    rows = math.prod(a.shape[:len(dims)])
    if not 0 < rows <= _MATVEC_MAX_ROWS or a.size == 0:
        return None
    out = xp.ones(rows, a.dtype) @ a.reshape(rows, -1)
    kept = (1,) * len(dims) if keepdim else ()
    return out.reshape(kept + a.shape[len(dims):])


class Sum(Function):
    raw = True
    label = "sum(a)"
    backward_rule = "grad_a = expand(grad, a.shape)"

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, dtype=None):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        if dim is not None:
            ctx.node_name = "SumBackward1"  # PyTorch's overload with a dim
            if dtype is None or dtype == a.dtype:
                out = _sum_leading_by_matvec(ctx.xp, a, dim, keepdim)
                if out is not None:
                    return out
        return ctx.xp.sum(a, axis=dim, keepdims=keepdim, dtype=_int_to_int64(a, dtype))

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)


class Mean(Function):
    raw = True
    label = "mean(a)"
    backward_rule = "grad_a = expand(grad, a.shape) / n"
    dim_node_name = "MeanBackward1"  # PyTorch's overload with a dim

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, dtype=None):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        if dim is not None:
            ctx.node_name = ctx.dim_node_name
        out = ctx.xp.mean(a, axis=dim, keepdims=keepdim, dtype=dtype)
        ctx.count = _count(a.shape, dim)
        return out.astype(a.dtype if dtype is None else dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad / ctx.count, ctx.in_shape, ctx.dims, ctx.keepdim)


# ---- reductions whose gradient is a constant weight times the expanded grad -----------------
def _const(ctx, arr):
    """A raw array made in backward as a constant (no-grad) tensor on the op's device."""
    return _make(ctx.xp.asarray(arr), ctx.device)


class _WeightedReduction(Function):
    """Base of reductions with ``grad_a = expand(grad) * w``, ``w`` a constant weight (the
    selection mask over its count) made in backward from ``a`` and the result: their second
    derivative is zero. Subclasses give ``reduce(xp, a, dims)`` (keepdims) and ``weight``."""

    raw = True

    @classmethod
    def forward(cls, ctx, a, dim=None, keepdim=False):
        out = ctx.xp.asarray(cls.reduce(ctx.xp, a, dim))
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        out = _finish(out, a.shape, dim, keepdim)
        ctx.save_for_backward(a, out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        a, out = ctx.saved_tensors
        out = out._data.reshape(keepdim_shape(ctx.in_shape, ctx.dims))
        weight = cls.weight(ctx.xp, a._data, out, ctx.dims)
        grad = _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)
        return grad * _const(ctx, weight.astype(a._data.dtype, copy=False))


def _even_weight(xp, a, out, dims, nan_mask):
    """The mask of elements equal to ``out`` (or NaN where ``out`` is NaN and ``nan_mask``)
    over its count: PyTorch's evenly distributed gradient among ties."""
    mask = a == out
    if nan_mask:
        mask |= xp.isnan(a) & xp.isnan(out)
    return mask / mask.sum(axis=dims, keepdims=True)


class _Extremum(_WeightedReduction):
    nan_mask = False  # amax/amin: NaN results give NaN gradients; max()/min(): to the NaNs

    @classmethod
    def reduce(cls, xp, a, dims):
        return getattr(xp, cls.xp_name)(a, axis=dims, keepdims=True)

    @classmethod
    def weight(cls, xp, a, out, dims):
        return _even_weight(xp, a, out, dims, cls.nan_mask)


class Amax(_Extremum):
    label = "amax(a)"
    backward_rule = "grad_a = expand(grad) * (a == amax(a)) / count(a == amax(a))"
    xp_name = "amax"


class Amin(_Extremum):
    label = "amin(a)"
    backward_rule = "grad_a = expand(grad) * (a == amin(a)) / count(a == amin(a))"
    xp_name = "amin"


class Max(Amax):
    node_name = "MaxBackward1"  # PyTorch's overload over all elements (with a dim: 0)
    label = "max(a)"
    backward_rule = "grad_a = (a == max(a)) * grad / count(a == max(a))"
    nan_mask = True


class Min(Amin):
    node_name = "MinBackward1"
    label = "min(a)"
    backward_rule = "grad_a = (a == min(a)) * grad / count(a == min(a))"
    nan_mask = True


# ---- the outputs of PyTorch's two-output reductions: one node there, named for the pair ----
class AminmaxMin(Amin):
    node_name = "AminmaxBackward0"
    label = "aminmax(a).min"


class AminmaxMax(Amax):
    node_name = "AminmaxBackward0"
    label = "aminmax(a).max"


class Nansum(_WeightedReduction):
    label = "nansum(a)"
    backward_rule = "grad_a = expand(grad) * !isnan(a)"

    @staticmethod
    def reduce(xp, a, dims):
        return xp.nansum(a, axis=dims, keepdims=True, dtype=_int_to_int64(a, None))

    @staticmethod
    def weight(xp, a, out, dims):
        return ~xp.isnan(a)


class Nanmean(_WeightedReduction):
    label = "nanmean(a)"
    backward_rule = "grad_a = expand(grad) * !isnan(a) / count(!isnan(a))"

    @staticmethod
    def reduce(xp, a, dims):
        count = (~xp.isnan(a)).sum(axis=dims, keepdims=True)
        return (xp.nansum(a, axis=dims, keepdims=True) / count).astype(a.dtype)

    @staticmethod
    def weight(xp, a, out, dims):
        keep = ~xp.isnan(a)
        return keep / keep.sum(axis=dims, keepdims=True)


def _lower_median_flat(xp, a, ignore_nan):
    """The lower median of all elements (NaN if any is NaN, unless ``ignore_nan``)."""
    flat = xp.sort(a.reshape(-1))  # NaNs sort last
    count = int((~xp.isnan(flat)).sum()) if flat.dtype.kind in "fc" else flat.size
    if flat.size == 0:
        return xp.asarray(float("nan"), dtype=a.dtype)
    if count < flat.size and not ignore_nan:
        return flat[count]
    return flat[builtins.max((count - 1) // 2, 0)]


class Median(_WeightedReduction):
    label = "median(a)"
    backward_rule = "grad_a = (a == median(a)) * grad / count(a == median(a))"
    ignore_nan = False

    @classmethod
    def reduce(cls, xp, a, dims):
        return _lower_median_flat(xp, a, cls.ignore_nan).reshape((1,) * a.ndim)

    @staticmethod
    def weight(xp, a, out, dims):
        return _even_weight(xp, a, out, None, True)


class Nanmedian(Median):
    label = "nanmedian(a)"
    backward_rule = "grad_a = (a == nanmedian(a)) * grad / count(a == nanmedian(a))"
    ignore_nan = True


# ---- prod, logsumexp, var, std ------------------------------------------------------------
class Prod(Function):
    raw = True
    label = "prod(a)"
    backward_rule = ("grad_a = expand(grad) * prod(a) / a  (zeros: grad_a at a lone zero = "
                     "grad * prod of the others; else 0)")

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, dtype=None):
        xp = ctx.xp
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        out = xp.prod(a, axis=dim, keepdims=keepdim, dtype=_int_to_int64(a, dtype))
        out = xp.asarray(out)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        grad = _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)
        out = _expand_back(out, ctx.in_shape, ctx.dims, ctx.keepdim)
        zero = a._data == 0
        if not zero.any():
            return grad * out / a
        if STATE.enabled:
            return grad * _product_of_others(ctx, a)
        lone = zero & (zero.sum(axis=ctx.dims, keepdims=True) == 1)
        dtype = a._data.dtype
        zero, lone = _const(ctx, zero.astype(dtype)), _const(ctx, lone.astype(dtype))
        nonzero = 1 - zero
        # product of the others: out / a away from zeros; at a lone zero, the product of the
        # non-zero elements (masked so that it does not depend on that zero itself)
        others = out / (a + zero) * nonzero
        rest = Prod.apply(a * nonzero + zero, dim=ctx.dims, keepdim=True)
        return grad * (others + lone * rest.expand(ctx.in_shape))


class ProdDim(Prod):
    """prod with a dim (PyTorch's overload 1), a 0-d input's included."""
    node_name = "ProdBackward1"


class Logsumexp(Function):
    raw = True
    promote = "float"
    label = "logsumexp(a)"
    backward_rule = "grad_a = expand(grad) * exp(a - logsumexp(a))"

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        xp = ctx.xp
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        shift = xp.amax(a, axis=dim, keepdims=True) if a.size else xp.zeros((), a.dtype)
        shift = xp.where(xp.isfinite(shift), shift, 0)
        out = xp.log(xp.sum(xp.exp(a - shift), axis=dim, keepdims=True)) + shift
        out = _finish(out, a.shape, dim, keepdim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        out = _expand_back(out, ctx.in_shape, ctx.dims, ctx.keepdim)
        return _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim) * (a - out).exp()


def _var_forward(ctx, a, dim, correction, keepdim):
    """The variance with ``correction`` (and its divisor on ctx, for backward)."""
    xp = ctx.xp
    ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
    ctx.dof = _count(a.shape, dim) - correction  # backward divides by it unclamped, as torch
    centered = a - a.mean(axis=dim, keepdims=True)
    squares = (centered * centered.conj()).real if a.dtype.kind == "c" else centered * centered
    return xp.asarray(squares.sum(axis=dim, keepdims=keepdim) / builtins.max(ctx.dof, 0))


def _centered_over_dof(ctx, a):
    """(a - mean(a)) / (N - correction) as torchlite ops: the var and std gradients' shared
    factor."""
    mean_a = Mean.apply(a, dim=ctx.dims, keepdim=True)
    return (a - mean_a) * (1.0 / ctx.dof if ctx.dof else math.inf)


class Var(Function):
    raw = True
    label = "var(a)"
    backward_rule = "grad_a = expand(grad) * 2 * (a - mean(a)) / (N - correction)"

    @staticmethod
    def forward(ctx, a, dim=None, correction=1, keepdim=False):
        ctx.save_for_backward(a)
        return _var_forward(ctx, a, dim, correction, keepdim)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        grad = _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)
        return grad * _centered_over_dof(ctx, a) * 2


class Std(Function):
    raw = True
    label = "std(a)"
    backward_rule = "grad_a = expand(grad / std(a)) * (a - mean(a)) / (N - correction)"

    @staticmethod
    def forward(ctx, a, dim=None, correction=1, keepdim=False):
        out = ctx.xp.asarray(ctx.xp.sqrt(_var_forward(ctx, a, dim, correction, keepdim)))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        grad = _expand_back(grad / out, ctx.in_shape, ctx.dims, ctx.keepdim)
        return grad * _centered_over_dof(ctx, a)


class VarMeanVar(Var):
    node_name = "VarMeanBackward0"
    label = "var_mean(a).var"


class VarMeanMean(Mean):
    node_name = dim_node_name = "VarMeanBackward0"
    label = "var_mean(a).mean"


class StdMeanStd(Std):
    node_name = "StdMeanBackward0"
    label = "std_mean(a).std"


class StdMeanMean(Mean):
    node_name = dim_node_name = "StdMeanBackward0"
    label = "std_mean(a).mean"


# ---- cumulative ops ------------------------------------------------------------------------
def _cumulative(xp, fn, a, dim, reverse, **kw):
    """``fn`` (a NumPy cumulative op) along ``dim``, optionally from the end; 0-d safe."""
    flat = a.reshape(a.shape or (1,))
    if reverse:
        flat = xp.flip(flat, axis=dim)
    out = fn(flat, axis=dim, **kw)
    if reverse:
        out = xp.flip(out, axis=dim)
    return out.reshape(a.shape)


class Cumsum(Function):
    raw = True
    label = "cumsum(a)"
    backward_rule = "grad_a = reverse_cumsum(grad)"

    @staticmethod
    def forward(ctx, a, dim=0, reverse=False, dtype=None):
        ctx.dim, ctx.reverse = dim, reverse
        return _cumulative(ctx.xp, ctx.xp.cumsum, a, dim, reverse,
                           dtype=_int_to_int64(a, dtype))

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, dim=ctx.dim, reverse=not ctx.reverse)


class Cumprod(Function):
    raw = True
    label = "cumprod(a)"
    backward_rule = ("grad_a = reverse_cumsum(grad * cumprod(a)) / a before the first zero; at "
                     "it: reverse_cumsum(grad * cumprod(a with that zero as 1)); 0 after it")

    @staticmethod
    def forward(ctx, a, dim=0, dtype=None):
        xp = ctx.xp
        ctx.dim = dim
        out = _cumulative(xp, xp.cumprod, a, dim, False, dtype=_int_to_int64(a, dtype))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        dim, xp = ctx.dim, ctx.xp
        zero = a._data == 0
        if a.ndim == 0:
            return grad
        if not zero.any():
            return Cumsum.apply(grad * out, dim=dim, reverse=True) / a
        if STATE.enabled:
            return _cumprod_backward_exact(ctx, a, grad)
        seen = _cumulative(xp, xp.cumsum, zero, dim, False)
        before = _const(ctx, (seen == 0).astype(a._data.dtype))
        first = _const(ctx, (zero & (seen == 1)).astype(a._data.dtype))
        head = Cumsum.apply(grad * out, dim=dim, reverse=True) / (a + 1 - before) * before
        skip_zero = Cumprod.apply(a * (1 - first) + first, dim=dim)
        return head + Cumsum.apply(grad * skip_zero, dim=dim, reverse=True) * first


def _without_self(ctx, a, dim):
    """``a`` repeated along a new axis before ``dim``: in row i, ``a[i]`` (along ``dim``) is
    replaced by a constant 1. Products over the rows are then products of "the others",
    differentiable at zeros, for O(n^2) memory (used under create_graph, as PyTorch does)."""
    xp, shape = ctx.xp, a.shape
    n, trail = shape[dim], (1,) * (a.ndim - dim - 1)
    eye = xp.eye(n, dtype=a._data.dtype).reshape((n, n) + trail)
    spread = tuple(shape[:dim]) + (1,) + tuple(shape[dim:])
    return a.reshape(spread) * _const(ctx, 1 - eye) + _const(ctx, eye)


def _product_of_others(ctx, a):
    """prod over the reduced dims of all elements but each one (Prod's exact gradient)."""
    if ctx.dims is None:
        return _product_of_others_along(ctx, a.reshape(-1), 0).reshape(a.shape)
    return _product_of_others_along(ctx, a, ctx.dims[0])


def _product_of_others_along(ctx, a, dim):
    return Prod.apply(_without_self(ctx, a, dim), dim=(dim + 1,))


def _cumprod_backward_exact(ctx, a, grad):
    """grad_a[i] = sum_{j >= i} grad[j] * prod_{m <= j, m != i} a[m], without dividing."""
    dim, n = ctx.dim, a.shape[ctx.dim]
    upper = ctx.xp.triu(ctx.xp.ones((n, n), dtype=a._data.dtype))
    upper = _const(ctx, upper.reshape((n, n) + (1,) * (a.ndim - dim - 1)))
    spread = tuple(a.shape[:dim]) + (1,) + tuple(a.shape[dim:])
    terms = Cumprod.apply(_without_self(ctx, a, dim), dim=dim + 1) * grad.reshape(spread)
    return Sum.apply(terms * upper, dim=(dim + 1,))


# ---- index pickers for value-selecting ops (xp, array, dim) -> int64 indices, keepdims ------
def _pick_argmax(xp, a, dim):
    return xp.argmax(a, axis=dim, keepdims=True)


def _pick_argmin(xp, a, dim):
    return xp.argmin(a, axis=dim, keepdims=True)


def _accumulate(xp, op, a, axis):
    """``op.accumulate(a, axis)`` (op: maximum or minimum). CuPy has no ``accumulate`` for
    them: there, a log-step scan (op with the array shifted by 1, 2, 4, ... along ``axis``)."""
    if xp.__name__ == "numpy":
        return op.accumulate(a, axis=axis)
    out = xp.moveaxis(a, axis, -1).copy()
    step = 1
    while step < out.shape[-1]:
        out[..., step:] = op(out[..., step:], out[..., :-step])
        step *= 2
    return xp.moveaxis(out, -1, axis)


def _stable_argsort(xp, a, dim):
    """argsort keeping equal elements in index order (CuPy's sort is always stable)."""
    return xp.argsort(a, axis=dim, **({"kind": "stable"} if xp.__name__ == "numpy" else {}))


def _median_picker(ignore_nan):
    def pick(xp, a, dim):
        order = _stable_argsort(xp, a, dim)  # NaNs last, ties in index order
        n = a.shape[dim]
        count = ((~xp.isnan(a)).sum(axis=dim, keepdims=True) if a.dtype.kind in "fc"
                 else xp.full(keepdim_shape(a.shape, (dim,)), n))
        k = xp.maximum((count - 1) // 2, 0)
        if not ignore_nan:
            k = xp.where(count < n, count, k)  # a NaN in the slice: its first NaN
        return xp.take_along_axis(order, k, axis=dim)
    return pick


def _pick_mode(xp, a, dim):
    """The most frequent value (the smallest among equally frequent), its last index."""
    order = _stable_argsort(xp, a, dim)
    s = xp.moveaxis(xp.take_along_axis(a, order, axis=dim), dim, -1)
    pos = xp.arange(s.shape[-1])
    starts = xp.concatenate([xp.ones(s.shape[:-1] + (1,), dtype=bool),
                             s[..., 1:] != s[..., :-1]], axis=-1)
    run_start = _accumulate(xp, xp.maximum, xp.where(starts, pos, 0), -1)
    best = xp.argmax(pos - run_start, axis=-1)[..., None]  # end of the first longest run
    return xp.take_along_axis(order, xp.moveaxis(best, -1, dim), axis=dim)


def _cumulative_indices(xp, a, values, dim):
    """Indices of cummax/cummin values: a new extremum (ties included) or a NaN takes its own
    index, every other position carries the last one."""
    new = a == values
    if a.dtype.kind in "fc":
        new |= xp.isnan(a)
    pos = xp.arange(a.shape[dim]).reshape([-1 if i == dim else 1 for i in range(a.ndim)])
    return _accumulate(xp, xp.maximum, xp.where(new, pos, 0), dim)


def _value_select(name, input, dim, keepdim, pick, overload=0):
    """``torch.return_types.<name>(values, indices)`` of a reduction over one dim; ``pick``
    gives the indices, the values are taken there (so gradients flow to those indices).
    ``overload``: PyTorch's number for the op's variant with a dim (its node's suffix)."""
    check_tensor(name, input)
    d = _one_dim(name, input, dim)
    data = input._data.reshape(input.shape or (1,))
    if data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    index = pick(input._device.xp, data, d)
    shape = (input.shape if input.ndim == 0 else index.shape if keepdim
             else _reduced_shape(data.shape, (d,)))
    node = f"{name.capitalize()}Backward{overload}"
    index = index.astype("int64", copy=False)
    values = SelectAlongDim.apply(input, index=index, dim=d, shape=shape, node=node)
    return values_indices(name, values, _make(index.reshape(shape), input._device))


def _cumulative_select(name, input, dim, op):
    check_tensor(name, input)
    d = _one_dim(name, input, dim)
    data = input._data.reshape(input.shape or (1,))
    xp = input._device.xp
    index = _cumulative_indices(xp, data, _accumulate(xp, getattr(xp, op), data, d), d)
    values = SelectAlongDim.apply(input, index=index, dim=d, shape=input.shape,
                                node=name.capitalize() + "Backward0")
    return values_indices(name, values, _make(index.reshape(input.shape), input._device))


# ---- non-differentiable reductions ---------------------------------------------------------
class _IndexReduction(Function):
    raw = True
    differentiable = False

    @classmethod
    def forward(cls, ctx, a, dim=None, keepdim=False):
        fn = getattr(ctx.xp, cls.xp_name)
        if dim is None:
            out = fn(a.reshape(-1))
            return out.reshape((1,) * a.ndim) if keepdim else out
        if a.ndim == 0:
            return ctx.xp.zeros((), dtype="int64")
        return fn(a, axis=dim, keepdims=keepdim)


class ArgMax(_IndexReduction):
    label = "argmax(a)"
    xp_name = "argmax"


class ArgMin(_IndexReduction):
    label = "argmin(a)"
    xp_name = "argmin"


class _BoolReduction(Function):
    raw = True
    differentiable = False

    @classmethod
    def forward(cls, ctx, a, dim=None, keepdim=False):
        out = getattr(ctx.xp, cls.xp_name)(a, axis=dim, keepdims=keepdim)
        return ctx.xp.asarray(out, dtype=a.dtype if a.dtype == "uint8" else bool)


class All(_BoolReduction):
    label = "all(a)"
    xp_name = "all"


class Any(_BoolReduction):
    label = "any(a)"
    xp_name = "any"


class CountNonzero(Function):
    raw = True
    differentiable = False
    label = "count_nonzero(a)"

    @staticmethod
    def forward(ctx, a, dim=None):
        return ctx.xp.asarray(ctx.xp.count_nonzero(a, axis=dim), dtype="int64")


# ---- public functions ----------------------------------------------------------------------
def _numpy_names(fn):
    """Accept NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as PyTorch's
    argument parser does."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    return call


@export
@_numpy_names
def sum(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("sum", input)
    return Sum.apply(input, dim=_dims(input, dim), keepdim=keepdim, dtype=_np_dtype(dtype))


@export
@_numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("nansum", input)
    if dtype is not None:
        input = input.to(dtype)
    return Nansum.apply(input, dim=_dims(input, dim), keepdim=keepdim)


def _check_mean_dtype(name, input, dtype):
    if dtype is not None:
        dt = _dtype.to_dtype(dtype)
        if not (dt.is_floating_point or dt.is_complex):
            raise RuntimeError(f"{name}(): could not infer output dtype. Optional dtype must be "
                               f"either a floating point or complex dtype. Got: {dt._short}")
    elif not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {input.dtype._short}")


@export
@_numpy_names
def mean(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("mean", input)
    _check_mean_dtype("mean", input, dtype)
    return Mean.apply(input, dim=_dims(input, dim), keepdim=keepdim, dtype=_np_dtype(dtype))


@export
@_numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("nanmean", input)
    if dtype is not None:
        input = input.to(dtype)
    _require_float("nanmean", input, "{name}(): expected input to have floating point or "
                   "complex dtype but got {dtype}")
    return Nanmean.apply(input, dim=_dims(input, dim), keepdim=keepdim)


@export
@_numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("prod", input)
    dims = None if dim is None else (_one_dim("prod", input, dim),)
    cls = Prod if dims is None else ProdDim
    if input.ndim == 0:
        dims = None
    return cls.apply(input, dim=dims, keepdim=keepdim, dtype=_np_dtype(dtype))


@export
@_numpy_names
def amax(input, dim=(), keepdim=False):
    check_tensor("amax", input)
    dims = _dims(input, dim)
    _check_nonempty("amax", input, dims)
    return Amax.apply(input, dim=dims, keepdim=keepdim)


@export
@_numpy_names
def amin(input, dim=(), keepdim=False):
    check_tensor("amin", input)
    dims = _dims(input, dim)
    _check_nonempty("amin", input, dims)
    return Amin.apply(input, dim=dims, keepdim=keepdim)


def _extremum(name, full, pick, binary, input, dim, keepdim):
    """max/min: over all elements (dim None), over one dim (values, indices), or binary."""
    check_tensor(name, input)
    if isinstance(dim, Tensor):
        return EXPORTS[binary](input, dim)
    if dim is None:
        _check_nonempty(name, input, None)
        return full.apply(input)
    return _value_select(name, input, dim, keepdim, pick)


@export
@_numpy_names
def max(input, dim=None, keepdim=False):
    """max(input) | max(input, dim, keepdim) -> (values, indices) | max(input, other)."""
    return _extremum("max", Max, _pick_argmax, "maximum", input, dim, keepdim)


@export
@_numpy_names
def min(input, dim=None, keepdim=False):
    """min(input) | min(input, dim, keepdim) -> (values, indices) | min(input, other)."""
    return _extremum("min", Min, _pick_argmin, "minimum", input, dim, keepdim)


@export
@_numpy_names
def aminmax(input, *, dim=None, keepdim=False):
    check_tensor("aminmax", input)
    dims = None if dim is None else (_one_dim("aminmax", input, dim),)
    if input.ndim == 0:
        dims = None
    if input.numel() == 0 and (dims is None or input.shape[dims[0]] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    return _AMINMAX(AminmaxMin.apply(input, dim=dims, keepdim=keepdim),
                    AminmaxMax.apply(input, dim=dims, keepdim=keepdim))


def _arg_extremum(name, cls, input, dim, keepdim):
    check_tensor(name, input)
    if input.dtype is _dtype.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    dims = None if dim is None else (_one_dim(name, input, dim),)
    if dims is None and input.numel() == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                         "input.numel() == 0.")
    if dims is not None and input.ndim and input.shape[dims[0]] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dims[0]} to have non-zero size.")
    return cls.apply(input, dim=None if dims is None else dims[0], keepdim=keepdim)


@export
@_numpy_names
def argmax(input, dim=None, keepdim=False):
    return _arg_extremum("argmax", ArgMax, input, dim, keepdim)


@export
@_numpy_names
def argmin(input, dim=None, keepdim=False):
    return _arg_extremum("argmin", ArgMin, input, dim, keepdim)


def _correction(name, dim, unbiased, correction):
    """PyTorch's overloads: ``(input, unbiased)``, ``(input, dim, unbiased)`` and
    ``(input, dim, *, correction)``; returns (dim, correction)."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: 'unbiased' "
                        "and 'correction' cannot both be given")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _moment(name, cls, input, dim, unbiased, keepdim, correction):
    check_tensor(name, input)
    dim, correction = _correction(name, dim, unbiased, correction)
    _require_float(name, input, "std and var only support floating point and complex dtypes")
    return cls.apply(input, dim=_dims(input, dim), correction=correction, keepdim=keepdim)


@export
@_numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moment("var", Var, input, dim, unbiased, keepdim, correction)


@export
@_numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moment("std", Std, input, dim, unbiased, keepdim, correction)


def _moment_mean(name, spread_cls, mean_cls, input, dim, unbiased, keepdim, correction):
    spread = _moment(name, spread_cls, input, dim, unbiased, keepdim, correction)
    dim = None if isinstance(dim, builtins.bool) else dim
    return spread, mean_cls.apply(input, dim=_dims(input, dim), keepdim=keepdim)


@export(method=False)
@_numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) in one call, as a plain tuple."""
    return _moment_mean("var_mean", VarMeanVar, VarMeanMean, input, dim, unbiased, keepdim,
                        correction)


@export(method=False)
@_numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) in one call, as a plain tuple."""
    return _moment_mean("std_mean", StdMeanStd, StdMeanMean, input, dim, unbiased, keepdim,
                        correction)


@export
@_numpy_names
def logsumexp(input, dim, keepdim=False):
    check_tensor("logsumexp", input)
    return Logsumexp.apply(input, dim=_dims(input, dim), keepdim=keepdim)


@export
@_numpy_names
def cumsum(input, dim, *, dtype=None):
    check_tensor("cumsum", input)
    return Cumsum.apply(input, dim=_one_dim("cumsum", input, dim), dtype=_np_dtype(dtype))


@export
@_numpy_names
def cumprod(input, dim, *, dtype=None):
    check_tensor("cumprod", input)
    return Cumprod.apply(input, dim=_one_dim("cumprod", input, dim), dtype=_np_dtype(dtype))


@export
@_numpy_names
def cummax(input, dim):
    return _cumulative_select("cummax", input, dim, "maximum")


@export
@_numpy_names
def cummin(input, dim):
    return _cumulative_select("cummin", input, dim, "minimum")


def _logical(name, cls, input, dim, keepdim):
    check_tensor(name, input)
    dims = _dims(input, dim, empty_means_all=False)
    return cls.apply(input, dim=dims, keepdim=keepdim)


@export
@_numpy_names
def all(input, dim=None, keepdim=False):
    return _logical("all", All, input, dim, keepdim)


@export
@_numpy_names
def any(input, dim=None, keepdim=False):
    return _logical("any", Any, input, dim, keepdim)


@export
@_numpy_names
def count_nonzero(input, dim=None):
    check_tensor("count_nonzero", input)
    return CountNonzero.apply(input, dim=_dims(input, dim))


@export
@_numpy_names
def median(input, dim=None, keepdim=False):
    """The lower median: of all elements (a 0-d tensor), or (values, indices) over ``dim``."""
    if dim is None:
        check_tensor("median", input)
        return Median.apply(input)
    return _value_select("median", input, dim, keepdim, _median_picker(False), 1)


@export
@_numpy_names
def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaNs (NaN only where a slice is all NaN)."""
    if dim is None:
        check_tensor("nanmedian", input)
        return Nanmedian.apply(input)
    return _value_select("nanmedian", input, dim, keepdim, _median_picker(True), 1)


@export
@_numpy_names
def mode(input, dim=-1, keepdim=False):
    """The most frequent value over ``dim`` (smallest among ties) and its last index."""
    return _value_select("mode", input, dim, keepdim, _pick_mode)


@method
def sum_to_size(self, *size):
    """Sum this tensor down to ``size`` (which it must broadcast to): the engine's reducer."""
    shape = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    shape = tuple(shape)
    lead = self.ndim - len(shape)
    if lead < 0 or builtins.any(s != 1 and s != self.shape[lead + i]
                                for i, s in enumerate(shape)):
        raise RuntimeError(f"size {{{', '.join(map(str, shape))}}} is not expandable to size "
                           f"{{{', '.join(map(str, self.shape))}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and self.shape[lead + i] != 1)
    if not dims:
        return self
    out = Sum.apply(self, dim=dims, keepdim=True)
    return out.reshape(shape) if lead else out
