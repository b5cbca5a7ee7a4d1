"""Reductions over dims (int, tuple, negative) with keepdim."""
from .. import _dtype
from ..autograd.function import Function
from ._registry import export, method
from ._util import check_tensor, keepdim_shape, normalize_dims


def _expand_back(grad, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims of the input."""
    if not keepdim:
        grad = grad.reshape(keepdim_shape(in_shape, dims))
    return grad.expand(in_shape)


class Sum(Function):
    raw = True
    label = "sum(a)"
    backward_rule = "grad_a = expand(grad, a.shape)"

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, dtype=None):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        if dtype is None and a.dtype.kind in "bui":
            dtype = "int64"
        return ctx.xp.sum(a, axis=dim, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.dims, ctx.keepdim)


class Mean(Function):
    raw = True
    label = "mean(a)"
    backward_rule = "grad_a = expand(grad, a.shape) / n"

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, dtype=None):
        ctx.in_shape, ctx.dims, ctx.keepdim = a.shape, dim, keepdim
        out = ctx.xp.mean(a, axis=dim, keepdims=keepdim, dtype=dtype)
        ctx.count = a.size // max(out.size, 1) if a.size else 0
        return out.astype(a.dtype if dtype is None else dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad / ctx.count, ctx.in_shape, ctx.dims, ctx.keepdim)


def _np_dtype(dtype):
    return None if dtype is None else _dtype.to_dtype(dtype).np


@export
def sum(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("sum", input)
    return Sum.apply(input, dim=normalize_dims(dim, input.ndim), keepdim=keepdim,
                     dtype=_np_dtype(dtype))


@export
def mean(input, dim=None, keepdim=False, *, dtype=None):
    check_tensor("mean", input)
    if dtype is None and not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype._short}")
    return Mean.apply(input, dim=normalize_dims(dim, input.ndim), keepdim=keepdim,
                      dtype=_np_dtype(dtype))


@method
def sum_to_size(self, *size):
    """Sum this tensor down to ``size`` (which it must broadcast to): the engine's reducer."""
    shape = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    shape = tuple(shape)
    lead = self.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != self.shape[lead + i] for i, s in enumerate(shape)):
        raise RuntimeError(f"size {{{', '.join(map(str, shape))}}} is not expandable to size "
                           f"{{{', '.join(map(str, self.shape))}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and self.shape[lead + i] != 1)
    if not dims:
        return self
    out = Sum.apply(self, dim=dims, keepdim=True)
    return out.reshape(shape) if lead else out
