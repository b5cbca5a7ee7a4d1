"""Pooling (torch.nn.functional): max / avg / adaptive / power-average pooling in 1-3 dims.

Windows are strided views of the padded input (``conv.windows``), never Python loops over
positions. Max pooling is a primitive that keeps the flat index of each maximum: its gradient
scatters the output gradient to those indices (``_PoolScatter``), whose own gradient gathers them
back. Average pooling is a primitive pair (``_AvgPool`` sums windows, ``_AvgPoolT`` spreads each
output over its window by col2im), each the other's gradient. Adaptive average pooling is a
matmul with an averaging matrix per spatial dim; max unpooling is ``_PoolScatter`` itself.
"""
import math

from ... import _tensor
from ...autograd.function import Function
from ...ops.indexing import Index, ufunc_at
from ...ops._util import check_tensor
from .conv import _Geo, _offsets, col2im, expand_param, out_size, windows

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "max_unpool1d",
           "max_unpool2d", "max_unpool3d"]


# ---- primitives --------------------------------------------------------------------------------
def _lowest(xp, dtype):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


def _argmax_positions(xp, vals, tables, size):
    """Max over the window axes of ``vals`` (B, C, *K, *Out) and the flat spatial index of each
    maximum in the input; ``tables[d]`` (K_d, Out_d) maps a window offset to its position.

    A running maximum over the kernel offsets (a few strided passes, no copy of the windows,
    branch-free updates); as PyTorch's kernel, a later value wins when greater or NaN."""
    n = len(tables)
    kernel, out = vals.shape[2:2 + n], vals.shape[2 + n:]
    offsets = _offsets(kernel)
    code = xp.dtype("uint8") if len(offsets) <= 256 else xp.dtype("int32")
    best = vals[(slice(None), slice(None)) + offsets[0]].copy()
    arg = xp.zeros(best.shape, dtype=code)
    for i, k in enumerate(offsets[1:], 1):
        v = vals[(slice(None), slice(None)) + k]
        better = v > best
        if v.dtype.kind == "f":
            better |= v != v
        arg += (xp.asarray(i, dtype=code) - arg) * better
        xp.maximum(best, v, out=best)
    positions = 0  # (*K, *Out): the flat input position of each window offset of each output
    for d, table in enumerate(tables):
        shape = [1] * (2 * n)
        shape[d], shape[n + d] = table.shape
        positions = positions + table.reshape(shape) * math.prod(size[d + 1:])
    count = math.prod(out)
    key = arg.astype("int64") * count + xp.arange(count).reshape(out)
    return best, positions.reshape(-1).take(key)


class _MaxPool(Function):
    raw = True
    label = "max_pool"
    node_name = "MaxPool2DWithIndicesBackward0"
    backward_rule = "grad_x = zeros(x.shape) with grad added at the argmax of each window"

    @staticmethod
    def forward(ctx, x, geo):
        xp = ctx.xp
        size = x.shape[2:]
        view, out = windows(xp, x, geo, _lowest(xp, x.dtype))
        tables = [xp.arange(k)[:, None] * d + xp.arange(o)[None, :] * s - lo for k, d, s, o, lo
                  in zip(geo.kernel, geo.dilation, geo.stride, out, geo.lo)]
        values, index = _argmax_positions(xp, view, tables, size)
        ctx.index, ctx.shape = index, x.shape
        ctx.overlap = any(s < (k - 1) * d + 1
                          for k, s, d in zip(geo.kernel, geo.stride, geo.dilation))
        ctx.mark_non_differentiable(index)
        return values, index

    @staticmethod
    def backward(ctx, grad, _):
        return _PoolScatter.apply(grad, index=ctx.index, shape=ctx.shape, overlap=ctx.overlap)


class _AdaptiveMaxPool(_MaxPool):
    node_name = "AdaptiveMaxPool2DBackward0"
    label = "adaptive_max_pool"

    @staticmethod
    def forward(ctx, x, out):
        xp = ctx.xp
        size = x.shape[2:]
        n = len(size)
        tables, key = [], [slice(None), slice(None)]
        for d, (s, o) in enumerate(zip(size, out)):
            start = (xp.arange(o) * s) // o
            end = -((-(xp.arange(o) + 1) * s) // o)
            k = int((end - start).max()) if o else 1
            table = xp.minimum(start[None, :] + xp.arange(k)[:, None], end[None, :] - 1)
            tables.append(table)
            shape = [1] * (2 * n)
            shape[d], shape[n + d] = k, o
            key.append(table.reshape(shape))
        values, index = _argmax_positions(xp, x[tuple(key)], tables, size)
        ctx.index, ctx.shape, ctx.overlap = index, x.shape, True
        ctx.mark_non_differentiable(index)
        return values, index


def _flat_key(xp, index, shape):
    """The 1-D positions in an array of ``shape`` (B, C, *S) of per-(b, c) spatial ``index``."""
    rows = xp.arange(shape[0] * shape[1]).reshape(shape[:2] + (1,) * (index.ndim - 2))
    return ((index + rows * math.prod(shape[2:])).reshape(-1),)


class _PoolScatter(Function):
    """zeros(shape) with ``g`` added at per-plane flat ``index``: the gradient of max pooling."""
    raw = True
    label = "zeros.flatten(2)[index] += g"
    backward_rule = "grad_g = grad.flatten(2)[index]"

    @staticmethod
    def forward(ctx, g, index, shape, overlap):
        xp = ctx.xp
        key = _flat_key(xp, index, shape)
        ctx.key, ctx.out_shape = key, g.shape
        out = xp.zeros(math.prod(shape), dtype=g.dtype)
        if overlap:
            ufunc_at(xp, "add", out, key, g.reshape(-1))
        else:  # windows that do not overlap never share a maximum
            out[key] = g.reshape(-1)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad.reshape(-1), key=ctx.key).reshape(ctx.out_shape)


class _AvgPool(Function):
    """Window sums of ``x`` (zero-padded) divided by ``divisor`` (an array over Out)."""
    raw = True
    label = "avg_pool"
    node_name = "AvgPool2DBackward0"
    backward_rule = "grad_x = each grad / divisor spread over its window (col2im)"

    @staticmethod
    def forward(ctx, x, geo, divisor):
        ctx.geo, ctx.divisor, ctx.size = geo, divisor, x.shape[2:]
        view, _ = windows(ctx.xp, x, geo)
        n = len(geo.kernel)
        out = view.sum(axis=tuple(range(2, 2 + n)))
        if out.dtype.kind != "f":  # integer pooling truncates toward zero, as PyTorch's
            return ctx.xp.trunc(out / divisor).astype(x.dtype)
        out /= divisor
        return out

    @staticmethod
    def backward(ctx, grad):
        return _AvgPoolT.apply(grad, geo=ctx.geo, divisor=ctx.divisor, size=ctx.size)


class _AvgPoolT(Function):
    """The adjoint of ``_AvgPool``: each value / divisor added over its window."""
    raw = True
    label = "avg_pool backward"
    backward_rule = "grad_g = avg_pool(grad)"

    @staticmethod
    def forward(ctx, g, geo, divisor, size):
        ctx.geo, ctx.divisor = geo, divisor
        n = len(geo.kernel)
        b, c = g.shape[:2]
        cols = (g / divisor).reshape((b, 1) + (1,) * n + (c,) + g.shape[2:])
        cols = ctx.xp.broadcast_to(cols, (b, 1) + geo.kernel + (c,) + g.shape[2:])
        return col2im(ctx.xp, cols, geo, size)

    @staticmethod
    def backward(ctx, grad):
        return _AvgPool.apply(grad, geo=ctx.geo, divisor=ctx.divisor)


# ---- arguments ---------------------------------------------------------------------------------
def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _pool_param(op, name, value, n):
    """kernel_size / stride / padding / dilation as an n-tuple, with pooling's message."""
    if isinstance(value, (list, tuple)):
        if len(value) not in (1, n):
            what = "a single int" if n == 1 else \
                f"a single int, or a tuple of {('two', 'three')[n - 2]} ints"
            raise RuntimeError(f"{op}: {name} must either be {what}")
        return expand_param(name, value, n)
    return (int(value),) * n


def _batched(op, input, n, message=None):
    """``input`` with a batch dim (added for unbatched input) and whether one was added."""
    check_tensor(op, input)
    if input.ndim not in (n + 1, n + 2) or (input.ndim == n + 1 and 0 in input.shape):
        raise RuntimeError(message or f"{op}(): Expected {n + 1}D or {n + 2}D tensor, but got "
                           f"{_fmt(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == n + 1 else (input, False)


def _dims_message(op, n, input):
    return (f"Expected {n + 1} to {n + 2} dimensions, but got {input.ndim}-dimensional tensor "
            f"for argument #1 'self' (while checking arguments for {op})")


def _out_len(size, k, pad, stride, dilation, ceil_mode):
    """PyTorch's pooling_output_shape."""
    top = size + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = top // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool_geo(op, x, kernel_size, stride, padding, dilation, ceil_mode, n):
    """The window geometry of a pooling op (the right padding grown for ceil_mode)."""
    kernel = _pool_param(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _pool_param(op, "stride", stride, n)
    padding = _pool_param(op, "padding", padding, n)
    dilation = _pool_param(op, "dilation", dilation, n)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"kH: {kernel[0]} kW: {kernel[-1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"dilationH: {dilation[0]} dilationW: {dilation[-1]}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    size = tuple(x.shape[2:])
    out = tuple(_out_len(s, k, p, st, d, ceil_mode)
                for s, k, p, st, d in zip(size, kernel, padding, stride, dilation))
    if any(o < 1 for o in out):
        planes = x.shape[1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (planes,) + size))}). "
                           f"Calculated output size: ({'x'.join(map(str, (planes,) + out))}). "
                           f"Output size is too small")
    hi = tuple((o - 1) * st + d * (k - 1) + 1 - s - p for o, st, d, k, s, p
               in zip(out, stride, dilation, kernel, size, padding))
    return _Geo(kernel, stride, padding, tuple(max(h, 0) for h in hi), dilation, 1)


def _squeeze(out, added):
    return out.squeeze(0) if added else out


# ---- max pooling -------------------------------------------------------------------------------
def _max_pool(n, op, input, kernel_size, stride, padding, dilation, ceil_mode):
    x, added = _batched(op, input, n, "non-empty 3D or 4D (batch mode) tensor expected for "
                        "input" if n == 2 else None)
    geo = _pool_geo(op, x, kernel_size, stride, padding, dilation, ceil_mode, n)
    out, index = _MaxPool.apply(x, geo=geo)
    return _squeeze(out, added), _squeeze(index, added)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """1-D max pooling returning (values, flat indices)."""
    check_tensor("max_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{_fmt(input.shape)}")
    _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode)


def _check_max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode):
    """max_pool1d's own checks (its messages differ from the 2-D ones)."""
    k = _pool_param("max_pool1d", "kernel_size", kernel_size, 1)[0]
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _pool_param("max_pool1d", "stride", stride, 1)[0]
    p = _pool_param("max_pool1d", "padding", padding, 1)[0]
    d = _pool_param("max_pool1d", "dilation", dilation, 1)[0]
    for name, v in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if v <= 0:
            raise RuntimeError(f"max_pool1d() {name} must be greater than zero, but got {v}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but "
                           f"got padding={p} and kernel_size={k}")
    out = _out_len(input.shape[-1], k, p, s, d, ceil_mode)
    if out < 0 or (out == 0 and input.shape[-1]):
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """2-D max pooling returning (values, flat indices into each H*W plane)."""
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """3-D max pooling returning (values, flat indices into each D*H*W volume)."""
    return _max_pool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode)


def _values_or_both(fn):
    def pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
             return_indices=False):
        out = fn(input, kernel_size, stride, padding, dilation, ceil_mode)
        return out if return_indices else out[0]
    pool.__name__ = pool.__qualname__ = fn.__name__.replace("_with_indices", "")
    pool.__doc__ = fn.__doc__.replace(" returning (values, ", " (with return_indices, also ")
    return pool


max_pool1d = _values_or_both(max_pool1d_with_indices)
max_pool2d = _values_or_both(max_pool2d_with_indices)
max_pool3d = _values_or_both(max_pool3d_with_indices)


# ---- average pooling ---------------------------------------------------------------------------
def _divisor(xp, size, geo, out, count_include_pad, divisor_override, dtype):
    """Per-output window sizes as PyTorch counts them (an array over Out)."""
    if divisor_override is not None:
        return xp.asarray(divisor_override, dtype=dtype)
    total = xp.ones((), dtype=dtype)
    for d, (s, k, st, p, o) in enumerate(zip(size, geo.kernel, geo.stride, geo.lo, out)):
        start = xp.arange(o) * st - p
        end = xp.minimum(start + k, s + p)
        if count_include_pad:
            count = end - start
        else:
            count = xp.minimum(end, s) - xp.maximum(start, 0)
        total = total[..., None] * count.astype(dtype)
    return total


def _avg_pool(n, op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, added = _batched(op, input, n, _dims_message(op, n, input))
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geo = _pool_geo(op, x, kernel_size, stride, padding, 1, ceil_mode, n)
    size = tuple(x.shape[2:])
    out = out_size(size, geo)
    divisor = _divisor(x._device.xp, size, geo, out, count_include_pad, divisor_override,
                       x._data.dtype)
    return _squeeze(_AvgPool.apply(x, geo=geo, divisor=divisor), added)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling: as in PyTorch, a 2-D pooling of ``input.unsqueeze(-2)``."""
    check_tensor("avg_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(_dims_message("avg_pool1d", 1, input))
    kernel = _pool_param("avg_pool1d", "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _pool_param("avg_pool1d", "stride", stride, 1)
    padding = _pool_param("avg_pool1d", "padding", padding, 1)
    out = avg_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + padding,
                     ceil_mode, count_include_pad)
    return out.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling."""
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling."""
    return _avg_pool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ---- adaptive pooling --------------------------------------------------------------------------
def _adaptive_size(op, output_size, size, n):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != n:
            raise RuntimeError(f"{op}: output_size must be {n}")
        return tuple(s if o is None else int(o) for o, s in zip(output_size, size))
    return (int(output_size),) * n


def _check_nonempty(op, x, added):
    for d in range(1, x.ndim):
        if x.shape[d] == 0:
            shape = x.shape[1:] if added else x.shape
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {_fmt(shape)} with dimension "
                               f"{d - added} being empty")


def _average_matrix(xp, size, out, dtype):
    """(out, size) matrix averaging each adaptive window [floor(i*S/O), ceil((i+1)*S/O))."""
    i = xp.arange(out)[:, None]
    j = xp.arange(size)[None, :]
    inside = ((j >= (i * size) // out) & (j < -((-(i + 1) * size) // out))).astype(dtype)
    return inside / inside.sum(axis=1, keepdims=True)


def _adaptive_avg_pool(n, op, input, output_size, message):
    x, added = _batched(op, input, n, message)
    _check_nonempty(op, x, added)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {x.dtype._short}")
    xp = x._device.xp
    out = _adaptive_size(op, output_size, x.shape[2:], n)
    y = x
    for d in range(n):
        a = _tensor._make(_average_matrix(xp, x.shape[2 + d], out[d], x._data.dtype),
                          x._device)
        y = y.movedim(2 + d, -1).matmul(a.t()).movedim(-1, 2 + d)
    return _squeeze(y, added)


def adaptive_avg_pool1d(input, output_size):
    """1-D average pooling to ``output_size`` with windows [floor(iS/O), ceil((i+1)S/O))."""
    check_tensor("adaptive_avg_pool1d", input)
    return _adaptive_avg_pool(1, "adaptive_avg_pool1d", input, output_size,
                              _dims_message("adaptive_avg_pool1d", 1, input))


def adaptive_avg_pool2d(input, output_size):
    """2-D average pooling to ``output_size`` (an int, or a pair with None keeping a size)."""
    return _adaptive_avg_pool(2, "adaptive_avg_pool2d", input, output_size, None)


def adaptive_avg_pool3d(input, output_size):
    """3-D average pooling to ``output_size``."""
    return _adaptive_avg_pool(3, "adaptive_avg_pool3d", input, output_size, None)


def _adaptive_max_pool(n, op, input, output_size, message):
    x, added = _batched(op, input, n, message)
    _check_nonempty(op, x, added)
    out = _adaptive_size(op, output_size, x.shape[2:], n)
    values, index = _AdaptiveMaxPool.apply(x, out=out)
    return _squeeze(values, added), _squeeze(index, added)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """1-D adaptive max pooling returning (values, indices)."""
    check_tensor("adaptive_max_pool1d", input)
    return _adaptive_max_pool(1, "adaptive_max_pool1d", input, output_size,
                              _dims_message("adaptive_max_pool1d", 1, input))


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """2-D adaptive max pooling returning (values, indices)."""
    check_tensor("adaptive_max_pool2d", input)
    return _adaptive_max_pool(2, "adaptive_max_pool2d", input, output_size,
                              f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                              f"{_fmt(input.shape)}")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """3-D adaptive max pooling returning (values, indices)."""
    check_tensor("adaptive_max_pool3d", input)
    return _adaptive_max_pool(3, "adaptive_max_pool3d", input, output_size,
                              f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: "
                              f"{_fmt(input.shape)}")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D adaptive max pooling (with return_indices, also the indices)."""
    out = adaptive_max_pool1d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D adaptive max pooling (with return_indices, also the indices)."""
    out = adaptive_max_pool2d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D adaptive max pooling (with return_indices, also the indices)."""
    out = adaptive_max_pool3d_with_indices(input, output_size)
    return out if return_indices else out[0]


# ---- unpooling ---------------------------------------------------------------------------------
def _max_unpool(n, op, input, indices, kernel_size, stride, padding, output_size):
    """Values placed at their max-pooling ``indices`` in zeros: max pooling's partial inverse."""
    x, added = _batched(op, input, n)
    index = indices.unsqueeze(0) if added else indices
    if tuple(index.shape) != tuple(x.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({_fmt(x.shape)}) but got indices tensor with shape: "
                           f"{_fmt(index.shape)}")
    kernel = _pool_param(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None else _pool_param(op, "stride", stride, n)
    padding = _pool_param(op, "padding", padding, n)
    size = tuple((i - 1) * s - 2 * p + k for i, s, p, k in
                 zip(x.shape[2:], stride, padding, kernel))
    if output_size is not None:
        size = tuple(int(s) for s in tuple(output_size)[-n:])
    arr = index._data
    bad = arr[(arr < 0) | (arr >= math.prod(size))]
    if bad.size:
        raise RuntimeError(f"Found an invalid max index: {int(bad.reshape(-1)[0])} (output "
                           f"volumes are of size {'x'.join(map(str, size))})")
    out = _PoolScatter.apply(x, index=arr, shape=tuple(x.shape[:2]) + size,
                             overlap=False)
    return _squeeze(out, added)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: values at their indices, zeros elsewhere."""
    return _max_unpool(1, "max_unpool1d", input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: values at their indices, zeros elsewhere."""
    return _max_unpool(2, "max_unpool2d", input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: values at their indices, zeros elsewhere."""
    return _max_unpool(3, "max_unpool3d", input, indices, kernel_size, stride, padding,
                       output_size)


# ---- power-average pooling ---------------------------------------------------------------------
def _lp_pool(n, input, norm_type, kernel_size, stride, ceil_mode):
    max_pool, avg_pool = (max_pool1d, avg_pool1d) if n == 1 else (max_pool2d, avg_pool2d)
    if norm_type == math.inf:
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    count = math.prod(_pool_param("lp_pool", "kernel_size", kernel_size, n))
    return (out.sign() * out.abs().relu()).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling: (sum over the window of x^p)^(1/p)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: (sum over the window of x^p)^(1/p)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)
