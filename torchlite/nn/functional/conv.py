"""Convolutions (torch.nn.functional): conv1d/2d/3d and conv_transpose1d/2d/3d.

Three primitives share one geometry ``_Geo`` and are each other's gradients, so double backward
works through any of them:

* ``_Conv(x, w, b)``: ``y = x (*) w + b`` by im2col: a strided view of the padded input copied
  into columns (B, groups, C/g * K, P), then ONE batched matmul with the weight.
* ``_ConvTranspose(y, w, b)``: the adjoint of ``_Conv`` in x (``conv_transpose``): one matmul
  into columns, then col2im, a scatter-add over the kernel offsets.
* ``_ConvWeight(x, y)``: the adjoint of ``_Conv`` in w (its weight gradient): the output
  gradient times the input's columns, one batched matmul summed over the batch.
"""
import math
import operator
from collections import namedtuple

from ... import _creation
from ...autograd.function import Function
from ...ops._util import check_tensor
from . import _scratch

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]

# kernel, stride, padding before (lo) and after (hi) the input, dilation: tuples per spatial dim
_Geo = namedtuple("_Geo", ["kernel", "stride", "lo", "hi", "dilation", "groups"])


# ---- array helpers (xp: numpy or cupy) ---------------------------------------------------------
def out_size(size, geo):
    """The spatial output size of a convolution / pooling window of ``geo`` over ``size``."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, lo, hi, d in
                 zip(size, geo.kernel, geo.stride, geo.lo, geo.hi, geo.dilation))


def pad_array(xp, x, lo, hi, value=0):
    """``x`` padded on its last len(lo) dims by ``lo`` before and ``hi`` after with ``value``
    (a negative ``hi`` crops: those trailing rows lie under no window)."""
    lead = x.ndim - len(lo)
    if any(h < 0 for h in hi):
        x = x[(Ellipsis,) + tuple(slice(0, n + min(h, 0)) for n, h in zip(x.shape[lead:], hi))]
        hi = tuple(max(h, 0) for h in hi)
    if not any(lo) and not any(hi):
        return x
    shape = x.shape[:lead] + tuple(n + a + b for n, a, b in zip(x.shape[lead:], lo, hi))
    out = xp.full(shape, value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, x.shape[lead:]))] = x
    return out


def windows(xp, x, geo, value=0):
    """The sliding windows of ``x`` (B, C, *S) padded with ``value``: a strided view
    (B, C, *K, *Out) with no copy."""
    size = out_size(x.shape[2:], geo)
    x = pad_array(xp, x, geo.lo, geo.hi, value)
    st = x.strides
    strides = st[:2] + tuple(s * d for s, d in zip(st[2:], geo.dilation)) + \
        tuple(s * t for s, t in zip(st[2:], geo.stride))
    return xp.lib.stride_tricks.as_strided(x, x.shape[:2] + geo.kernel + size, strides), size


def col2im(xp, cols, geo, size):
    """The adjoint of ``windows``: add each window of ``cols`` (B, G, *K, C/G, *Out) back at
    its place in zeros (B, C, *size), one strided add per kernel offset, cropping the padding.
    The kernel dims come before the channels so that each add reads one contiguous block."""
    n = len(size)
    out = cols.shape[-n:]
    b, g, cg = cols.shape[0], cols.shape[1], cols.shape[2 + n]
    full = tuple(s + lo + max(hi, 0) for s, lo, hi in zip(size, geo.lo, geo.hi))
    padded = xp.zeros((b, g, cg) + full, dtype=cols.dtype)
    for k in _offsets(geo.kernel):
        region = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, d, s, o in zip(k, geo.dilation, geo.stride, out))
        padded[(Ellipsis,) + region] += cols[(slice(None), slice(None)) + k]
    padded = padded.reshape((b, g * cg) + full)
    if not any(geo.lo) and full == tuple(size):
        return padded
    crop = tuple(slice(lo, lo + s) for lo, s in zip(geo.lo, size))
    return xp.ascontiguousarray(padded[(Ellipsis,) + crop])


def _offsets(kernel):
    """Every kernel offset (a tuple of ints), in C order."""
    offsets = [()]
    for k in kernel:
        offsets = [o + (i,) for o in offsets for i in range(k)]
    return offsets


def _grid(size, geo):
    """(the output shape, the grid the columns are computed on). With stride 1 the columns run
    over the flattened padded plane: the grid is the first output dim times the padded dims
    after it, so that each kernel offset is ONE contiguous run of the plane (long rows for the
    copies and adds); the grid's extra positions are computed and discarded."""
    out = out_size(size, geo)
    if len(size) < 2 or any(s != 1 for s in geo.stride) or any(h < 0 for h in geo.hi):
        return out, out
    return out, out[:1] + tuple(n + lo + hi for n, lo, hi in
                                zip(size[1:], geo.lo[1:], geo.hi[1:]))


def _flat_plane(xp, shape, size, geo, dtype):
    """Zeros for (B, C, padded plane) flattened per plane, with a tail for the last window's
    overrun; returns (buffer (B, C, plane + tail), plane shape, the offset of each kernel offset
    in the flat plane). The buffer is scratch: ``_scratch.give`` it back after use."""
    plane = tuple(n + lo + hi for n, lo, hi in zip(size, geo.lo, geo.hi))
    steps = [math.prod(plane[d + 1:]) for d in range(len(plane))]
    offsets = [sum(i * d * st for i, d, st in zip(k, geo.dilation, steps))
               for k in _offsets(geo.kernel)]
    buf = _scratch.take(xp, shape + (math.prod(plane) + offsets[-1],), dtype)
    buf.fill(0)
    return buf, plane, offsets


def _interior(buf, plane, size, lo):
    """The (B, C, *size) interior of a flat-plane buffer."""
    view = buf[..., :math.prod(plane)].reshape(buf.shape[:-1] + plane)
    return view[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, size))]


def _im2col(xp, x, geo):
    """The columns of ``x`` for a matmul: contiguous (B, groups, C/g * prod(K), prod(grid)),
    with the output shape, the grid (see ``_grid``) and whether the columns are a scratch copy
    (``_scratch.give`` them back after use) rather than a view of ``x``."""
    b, c = x.shape[:2]
    size = x.shape[2:]
    out, grid = _grid(size, geo)
    buf = None
    if grid == out:
        view, _ = windows(xp, x, geo)
    else:
        buf, plane, offsets = _flat_plane(xp, (b, c), size, geo, x.dtype)
        _interior(buf, plane, size, geo.lo)[...] = x
        it = buf.itemsize
        steps = [math.prod(plane[d + 1:]) * it for d in range(len(plane))]
        view = xp.lib.stride_tricks.as_strided(
            buf, (b, c) + geo.kernel + (math.prod(grid),),
            buf.strides[:2] + tuple(d * st for d, st in zip(geo.dilation, steps)) + (it,))
    shape = (b, geo.groups, (c // geo.groups) * math.prod(geo.kernel), math.prod(grid))
    if view.flags.c_contiguous and buf is None:  # e.g. a 1x1 kernel: x itself, no copy
        return view.reshape(shape), out, grid, False
    cols = _scratch.take(xp, shape, x.dtype)
    cols.reshape(view.shape)[...] = view
    if buf is not None:
        _scratch.give(buf)
    return cols, out, grid, True


def _from_grid(xp, y, out):
    """``y`` (B, O, *grid) cropped to the output shape, contiguous."""
    if y.shape[2:] == tuple(out):
        return y
    return xp.ascontiguousarray(y[(Ellipsis,) + tuple(slice(0, o) for o in out)])


def _to_grid(xp, y, grid):
    """``y`` (B, O, *out) zero-extended to the grid (so the extra columns contribute nothing)."""
    if y.shape[2:] == tuple(grid):
        return y
    ext = xp.zeros(y.shape[:2] + tuple(grid), dtype=y.dtype)
    ext[(Ellipsis,) + tuple(slice(0, o) for o in y.shape[2:])] = y
    return ext


def _conv_array(xp, x, w, geo):
    """conv of arrays: im2col, then one matmul broadcast over the batch and the groups; also
    returns the columns (the weight gradient reuses them) and whether they are scratch."""
    cols, out, grid, owned = _im2col(xp, x, geo)
    o = w.shape[0]
    wg = w.reshape(geo.groups, o // geo.groups, -1)
    if grid != out and _blas_float(x):  # the product is cropped: computed in scratch
        y = _scratch.take(xp, cols.shape[:2] + (o // geo.groups, cols.shape[-1]), x.dtype)
        xp.matmul(wg, cols, out=y)
        res = _from_grid(xp, y.reshape((x.shape[0], o) + grid), out)
        if not xp.may_share_memory(res, y):
            _scratch.give(y)
        return res, cols, owned
    y = xp.matmul(wg, cols).astype(x.dtype, copy=False)
    return _from_grid(xp, y.reshape((x.shape[0], o) + grid), out), cols, owned


def _blas_float(a):
    """float32 / float64: a matmul of these writes into an ``out`` array of the same dtype."""
    return a.dtype.kind == "f" and a.dtype.itemsize >= 4


def _conv_transpose_array(xp, y, w, geo, size):
    """conv_transpose of arrays: one matmul into columns, then col2im. With stride 1 and fewer
    channels in ``y`` than in the result, a conv of ``y`` with the flipped kernel is cheaper
    (its columns are smaller)."""
    g = geo.groups
    n, o = y.shape[:2]
    cg = w.shape[1]
    span = [d * (k - 1) for k, d in zip(geo.kernel, geo.dilation)]
    if o < g * cg and all(s == 1 for s in geo.stride) and \
            all(p <= t for p, t in zip(geo.lo + geo.hi, span * 2)):
        k = len(geo.kernel)
        flipped = w.reshape((g, o // g) + w.shape[1:]).swapaxes(1, 2)
        flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * k]
        flipped = flipped.reshape((g * w.shape[1], o // g) + geo.kernel)
        lo = tuple(t - p for t, p in zip(span, geo.lo))
        hi = tuple(s + t - p - m for s, t, p, m in zip(size, span, lo, y.shape[2:]))
        res, cols, owned = _conv_array(xp, y, flipped, geo._replace(lo=lo, hi=hi))
        if owned:
            _scratch.give(cols)
        return res
    kn = math.prod(geo.kernel)
    wm = w.reshape(g, o // g, cg, kn).transpose(0, 3, 2, 1).reshape(g, kn * cg, o // g)
    out, grid = _grid(size, geo)
    rows = _to_grid(xp, y, grid).reshape(n, g, o // g, -1)
    if _blas_float(y):
        cols = xp.matmul(wm, rows, out=_scratch.take(xp, (n, g, kn * cg, rows.shape[-1]),
                                                     y.dtype))
    else:
        cols = xp.matmul(wm, rows).astype(y.dtype, copy=False)
    if grid == out:
        res = col2im(xp, cols.reshape((n, g) + geo.kernel + (cg,) + out), geo, size)
    else:
        buf, plane, offsets = _flat_plane(xp, (n, g, cg), size, geo, cols.dtype)
        run = cols.shape[-1]
        parts = cols.reshape(n, g, kn, cg, -1)
        for i, off in enumerate(offsets):
            buf[..., off:off + run] += parts[:, :, i]
        inner = _interior(buf, plane, size, geo.lo)
        res = xp.ascontiguousarray(inner)
        if res is not inner:
            _scratch.give(buf)
        res = res.reshape((n, g * cg) + tuple(size))
    if _blas_float(y):
        _scratch.give(cols)
    return res


# Columns up to this size are kept from forward for the weight gradient (saves one im2col);
# larger ones are rebuilt in backward rather than held (they are prod(kernel) times the input).
_CACHE_BYTES = 32 << 20


def _bias_grad(grad):
    """``grad`` (B, C, *S) summed over batch and space, in torchlite ops: the spatial sum as a
    GEMV (several times faster than a sum over those axes), then the small batch sum."""
    b, c = grad.shape[:2]
    plane = math.prod(grad.shape[2:])
    ones = _creation.ones(plane, dtype=grad.dtype, device=grad.device)
    return grad.reshape(b * c, plane).matmul(ones).reshape(b, c).sum(0)


# ---- primitives --------------------------------------------------------------------------------
class _Conv(Function):
    raw = True
    label = "conv"
    node_name = "ConvolutionBackward0"
    backward_rule = ("grad_x = conv_transpose(grad, w); grad_w = grad (*) x (weight gradient); "
                     "grad_b = grad summed over batch and space")

    @staticmethod
    def forward(ctx, x, w, b, geo):
        ctx.geo = geo
        ctx.save_for_backward(x, w)
        out, cols, owned = _conv_array(ctx.xp, x, w, geo)
        if True in ctx.needs_input_grad[1:2] and cols.nbytes <= _CACHE_BYTES:
            ctx.cols = (cols, owned)  # used once by the weight gradient, then dropped
        elif owned:
            _scratch.give(cols)
        if b is not None:
            out += b.reshape((-1,) + (1,) * len(geo.kernel))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = _ConvTranspose.apply(grad, w, None, geo=ctx.geo, size=tuple(x.shape[2:]))
        if need[1]:
            gw = _ConvWeight.apply(x, grad, geo=ctx.geo, cols=ctx.__dict__.pop("cols", None))
        if need[2]:
            gb = _bias_grad(grad)
        return gx, gw, gb


class _ConvTranspose(Function):
    raw = True
    label = "conv_transpose"
    node_name = "ConvolutionBackward0"
    backward_rule = ("grad_y = conv(grad, w); grad_w = y (*) grad (weight gradient); "
                     "grad_b = grad summed over batch and space")

    @staticmethod
    def forward(ctx, y, w, b, geo, size):
        ctx.geo = geo
        ctx.save_for_backward(y, w)
        out = _conv_transpose_array(ctx.xp, y, w, geo, size)
        if b is not None:
            out += b.reshape((-1,) + (1,) * len(size))
        return out

    @staticmethod
    def backward(ctx, grad):
        y, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gy = gw = gb = None
        if need[0]:
            gy = _Conv.apply(grad, w, None, geo=ctx.geo)
        if need[1]:
            gw = _ConvWeight.apply(grad, y, geo=ctx.geo)
        if need[2]:
            gb = _bias_grad(grad)
        return gy, gw, gb


class _ConvWeight(Function):
    """The weight gradient of ``_Conv``: sum over batch and positions of ``y`` times the
    columns of ``x`` (bilinear in both, so its own gradients are a conv and a conv_transpose)."""
    raw = True
    label = "conv weight gradient"
    backward_rule = "grad_x = conv_transpose(y, grad); grad_y = conv(x, grad)"

    @staticmethod
    def forward(ctx, x, y, geo, cols=None):  # cols: (columns of x, whether scratch)
        ctx.geo = geo
        ctx.save_for_backward(x, y)
        xp = ctx.xp
        if cols is None:
            cols, _, _, owned = _im2col(xp, x, geo)
        else:
            cols, owned = cols
        g = geo.groups
        n, o = y.shape[:2]
        y = _to_grid(xp, y, _grid(x.shape[2:], geo)[1])
        gw = xp.matmul(y.reshape(n, g, o // g, -1), cols.swapaxes(2, 3)).sum(0).astype(
            y.dtype, copy=False)
        if owned:
            _scratch.give(cols)
        return gw.reshape((o, x.shape[1] // g) + geo.kernel)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gy = None
        if need[0]:
            gx = _ConvTranspose.apply(y, grad, None, geo=ctx.geo, size=tuple(x.shape[2:]))
        if need[1]:
            gy = _Conv.apply(x, grad, None, geo=ctx.geo)
        return gx, gy


# ---- argument checks (PyTorch's messages) ------------------------------------------------------
def expand_param(name, value, n):
    """An int or a sequence of 1 or ``n`` ints as an n-tuple (PyTorch's expand_param_if_needed)."""
    if isinstance(value, (list, tuple)):
        value = tuple(operator.index(v) for v in value)
        if len(value) == 1:
            return value * n
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(value)}")
        return value
    return (operator.index(value),) * n


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _batchify(op, input, n):
    """``input`` with a batch dim (added for unbatched input) and whether one was added."""
    check_tensor(op, input)
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {op}, "
                           f"but got input of size: {_fmt(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == n + 1 else (input, False)


def _check_dtypes(input, weight, bias):
    if weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype._short} but found "
                           f"{weight.dtype._short}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({input.dtype._short.lower()}) and bias type "
                           f"({bias.dtype._short.lower()}) should be the same")


def _check_shapes(input, weight, bias, geo, transposed):
    """PyTorch's check_shape_forward: weight rank, groups, channels, bias, kernel vs input."""
    ws, xs, g = tuple(weight.shape), tuple(input.shape), geo.groups
    if weight.ndim != input.ndim:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {_fmt(ws)}, but got {input.ndim}-dimensional "
                           f"input of size {_fmt(xs)} instead")
    if ws[0] < g:
        raise RuntimeError(f"Given groups={g}, expected weight to be at least {g} at dimension "
                           f"0, but got weight of size {_fmt(ws)} instead")
    if ws[0] % g:
        raise RuntimeError(f"Given groups={g}, expected weight to be divisible by {g} at "
                           f"dimension 0, but got weight of size [{_fmt(ws)}] instead")
    channels, out_channels = (ws[0], ws[1] * g) if transposed else (ws[1] * g, ws[0])
    if xs[1] != channels:
        head = "Given transposed=1, weight" if transposed else f"Given groups={g}, weight"
        raise RuntimeError(f"{head} of size {_fmt(ws)}, expected input{_fmt(xs)} to have "
                           f"{channels} channels, but got {xs[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        head = "Given transposed=1, weight" if transposed else "Given weight"
        raise RuntimeError(f"{head} of size {_fmt(ws)}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size "
                           f"{_fmt(bias.shape)} instead")
    if not transposed:
        padded = [n + lo + hi for n, lo, hi in zip(xs[2:], geo.lo, geo.hi)]
        span = [d * (k - 1) + 1 for k, d in zip(geo.kernel, geo.dilation)]
        if any(p < s for p, s in zip(padded, span)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                f"Kernel size: ({' x '.join(map(str, span))}). Kernel size can't be greater "
                f"than actual input size")


def _check_params(stride, padding, dilation, groups):
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _padding(padding, kernel, stride, dilation, n):
    """(lo, hi) from an int / tuple / 'valid' / 'same' padding (same: the extra on the right)."""
    if not isinstance(padding, str):
        return padding, padding
    if padding == "valid":
        return (0,) * n, (0,) * n
    if padding != "same":
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    lo = tuple(t // 2 for t in total)
    return lo, tuple(t - a for t, a in zip(total, lo))


# ---- public functions --------------------------------------------------------------------------
def _convnd(n, op, input, weight, bias, stride, padding, dilation, groups):
    x, added = _batchify(op, input, n)
    check_tensor(op, weight, 2, "weight")
    k = weight.ndim - 2
    stride = expand_param("stride", _ints(stride, n), k)
    if not isinstance(padding, str):
        padding = expand_param("padding", _ints(padding, n), k)
    dilation = expand_param("dilation", _ints(dilation, n), k)
    lo, hi = _padding(padding, tuple(weight.shape[2:]), stride, dilation, k)
    _check_params(stride, lo, dilation, groups)
    geo = _Geo(tuple(weight.shape[2:]), stride, lo, hi, dilation, groups)
    _check_shapes(x, weight, bias, geo, transposed=False)
    _check_dtypes(x, weight, bias)
    out = _Conv.apply(x, weight, bias, geo=geo)
    return out.squeeze(0) if added else out


def _ints(value, n):
    """An int argument as the n ints PyTorch's argument parser makes of it; lists stay."""
    return value if isinstance(value, (list, tuple)) else (value,) * n


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or unbatched (C, L) input."""
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) or unbatched (C, H, W) input."""
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) over (N, C, D, H, W) or unbatched input."""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(n, op, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x, added = _batchify(op, input, n)
    check_tensor(op, weight, 2, "weight")
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    k = weight.ndim - 2
    stride = expand_param("stride", _ints(stride, n), k)
    padding = expand_param("padding", _ints(padding, n), k)
    output_padding = expand_param("output_padding", _ints(output_padding, n), k)
    dilation = expand_param("dilation", _ints(dilation, n), k)
    _check_params(stride, padding, dilation, groups)
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    # the conv whose adjoint this is: its windows end where the output padding starts
    geo = _Geo(tuple(weight.shape[2:]), stride, padding,
               tuple(p - op_ for p, op_ in zip(padding, output_padding)), dilation, groups)
    _check_shapes(x, weight, bias, geo, transposed=True)
    if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation)):
        names = ("depth", "height", "width")[-k:] if k <= 3 else [str(i) for i in range(k)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(
                               [f"output_padding_{a}: {p}" for a, p in zip(names, output_padding)]
                               + [f"stride_{a}: {s}" for a, s in zip(names, stride)]
                               + [f"dilation_{a}: {d}" for a, d in zip(names, dilation)]))
    _check_dtypes(x, weight, bias)
    size = tuple((i - 1) * s - 2 * p + d * (kk - 1) + op_ + 1 for i, s, p, d, kk, op_ in
                 zip(x.shape[2:], stride, padding, dilation, geo.kernel, output_padding))
    if any(s <= 0 for s in size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, size))}). Output size is too small")
    out = _ConvTranspose.apply(x, weight, bias, geo=geo, size=size)
    return out.squeeze(0) if added else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution (the gradient of conv1d w.r.t. its input)."""
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (the gradient of conv2d w.r.t. its input)."""
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution (the gradient of conv3d w.r.t. its input)."""
    return _conv_transposend(3, "conv_transpose3d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)
