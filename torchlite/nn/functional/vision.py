"""Vision functions (torch.nn.functional): pad, interpolate / upsample, pixel_shuffle /
pixel_unshuffle, unfold (im2col) and fold (col2im).

``pad`` in constant mode is a primitive whose gradient is the opposite pad (negative pads crop);
reflect / replicate / circular pads gather each padded dim through an index (their gradient
scatter-adds). ``interpolate`` is separable: per spatial dim, an index gather (nearest) or two
gathers and a lerp (linear). unfold / fold are a primitive pair over ``conv.windows`` /
``conv.col2im``.
"""
import math

from ... import _tensor
from ...autograd.function import Function
from ...ops.indexing import Index
from ...ops._util import check_tensor
from .conv import _Geo, col2im, expand_param, out_size, windows
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "unfold", "fold"]


# ---- pad ---------------------------------------------------------------------------------------
class _ConstantPad(Function):
    """``x`` with ``pads`` (before, after) per dim filled with ``value``; negative pads crop."""
    raw = True
    label = "pad"
    node_name = "ConstantPadNdBackward0"
    backward_rule = "grad_x = grad cropped by the pads (the opposite pad)"

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(pads, x.shape))
        x = x[crop]
        shape = tuple(n + max(a, 0) + max(b, 0) for (a, b), n in zip(pads, x.shape))
        out = ctx.xp.full(shape, value, dtype=x.dtype)
        out[tuple(slice(max(a, 0), max(a, 0) + n) for (a, _), n in zip(pads, x.shape))] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return _ConstantPad.apply(grad, pads=tuple((-a, -b) for a, b in ctx.pads), value=0)


_MODES_HELP = ("Supported combinations for non-constant padding:\n"
               "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
               "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
               "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _source_index(xp, mode, n, a, b):
    """The input position read by each output position of a dim of size ``n`` padded by
    ``a`` before and ``b`` after (negative: cropped)."""
    i = xp.arange(-a, n + b)
    if mode == "reflect":
        period = 2 * (n - 1)
        i = xp.abs(i) % period if period else xp.zeros_like(i)
        return xp.where(i >= n, period - i, i)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    start, stop = max(-a, 0), n - max(-b, 0)  # circular: crop first, then wrap
    return (xp.arange(-max(a, 0), stop - start + max(b, 0)) % (stop - start)) + start


def _check_nonconstant(mode, x, pairs):
    k = len(pairs)
    if x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {2 * k} is not supported for {x.ndim}D input "
                                  f"tensor.\n{_MODES_HELP}")
    lead = x.ndim - k
    if any(x.shape[d] == 0 for d in range(x.ndim == k + 2, x.ndim)):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{_fmt(x.shape)}")
    for d, (a, b) in enumerate(pairs):
        n = x.shape[lead + d]
        if mode == "reflect" and (a >= n or b >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({a}, {b}) at "
                               f"dimension {lead + d} of input {_fmt(x.shape)}")
        if mode == "circular" and (a > n or b > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims: ``pad`` = (last_before, last_after, prev_before, ...).
    Modes: constant (``value``, default 0), reflect, replicate, circular; negative pads crop."""
    check_tensor("pad", input)
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]
    if mode == "constant":
        for (a, b), n in zip(pairs, input.shape[input.ndim - len(pairs):]):
            if n + a + b < 0:
                raise RuntimeError(f"The input size {n}, plus negative padding {a} and {b} "
                                   f"resulted in a negative output size, which is invalid. "
                                   f"Check dimension {input.ndim - len(pairs)} of your input.")
        full = [(0, 0)] * (input.ndim - len(pairs)) + pairs
        return _ConstantPad.apply(input, pads=tuple(full), value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_nonconstant(mode, input, pairs)
    xp = input._device.xp
    out = input
    lead = input.ndim - len(pairs)
    for d, (a, b) in enumerate(pairs):
        if a or b:
            index = _source_index(xp, mode, input.shape[lead + d], a, b)
            out = Index.apply(out, key=(slice(None),) * (lead + d) + (index,))
    return out


# ---- interpolate -------------------------------------------------------------------------------
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _output_sizes(input, size, scale_factor, recompute_scale_factor):
    """(output sizes, the scales the coordinate maps use: None means in / out)."""
    dims = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                    f"size in (o1, o2, ...,oK) format.")
            return [int(s) for s in size], [None] * dims
        return [int(size)] * dims, [None] * dims
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {spatial} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                f"and scale_factor in (s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dims
    sizes = [int(math.floor(n * s)) for n, s in zip(spatial, scales)]
    return sizes, ([None] * dims if recompute_scale_factor else scales)


def _coordinate_scale(n, out, scale, align_corners):
    """PyTorch's area_pixel_compute_scale: input step per output step."""
    if align_corners:
        return (n - 1) / (out - 1) if out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n / out


def _gather(x, dim, index):
    return Index.apply(x, key=(slice(None),) * dim + (index,))


def _nearest(x, dim, out, scale, exact):
    xp = x._device.xp
    n = x.shape[dim]
    step = xp.float32(1.0 / scale if scale else n / out)
    pos = xp.arange(out, dtype="float32")
    if exact:
        pos = pos + xp.float32(0.5)
    index = xp.minimum(xp.floor(pos * step).astype("int64"), n - 1)
    return _gather(x, dim, index)


def _source_positions(x, dim, out, scale, align_corners, cubic=False):
    """PyTorch's area_pixel_compute_source_index for each output position along ``dim``, in
    the input's float precision (clamped at 0 except for cubic)."""
    xp = x._device.xp
    ft = x._data.dtype if x._data.dtype.kind == "f" else xp.dtype("float32")
    step = xp.asarray(_coordinate_scale(x.shape[dim], out, scale, align_corners), dtype=ft)
    pos = xp.arange(out).astype(ft)
    if align_corners:
        return pos * step
    half = xp.asarray(0.5, dtype=ft)
    pos = (pos + half) * step - half
    return pos if cubic else xp.maximum(pos, 0)


def _weights(x, dim, w):
    """Per-position weights ``w`` (out,) as a tensor broadcasting along ``dim``."""
    shape = (w.shape[0],) + (1,) * (x.ndim - dim - 1)
    return _tensor._make(w.astype(x._data.dtype).reshape(shape), x._device)


def _linear(x, dim, out, scale, align_corners):
    """Linear interpolation along ``dim``: a lerp of two gathers."""
    xp = x._device.xp
    n = x.shape[dim]
    pos = _source_positions(x, dim, out, scale, align_corners)
    low = xp.minimum(xp.floor(pos).astype("int64"), n - 1)
    high = xp.minimum(low + 1, n - 1)
    a = _gather(x, dim, low)
    return a + (_gather(x, dim, high) - a) * _weights(x, dim, pos - low)


_CUBIC_A = -0.75


def _cubic_weights(t):
    """Keys' cubic convolution weights (A = -0.75) of the 4 taps around fraction ``t``."""
    a = _CUBIC_A

    def near(u):
        return ((a + 2) * u - (a + 3)) * u * u + 1

    def far(u):
        return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic(x, dim, out, scale, align_corners):
    """Bicubic interpolation along ``dim``: 4 gathers (edge-clamped) weighted by Keys' kernel."""
    xp = x._device.xp
    n = x.shape[dim]
    pos = _source_positions(x, dim, out, scale, align_corners, cubic=True)
    base = xp.floor(pos)
    total = None
    for k, w in enumerate(_cubic_weights(pos - base)):
        index = xp.clip(base.astype("int64") - 1 + k, 0, n - 1)
        term = _gather(x, dim, index) * _weights(x, dim, w)
        total = term if total is None else total + term
    return total


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *S) ``input`` to ``size`` or by ``scale_factor``
    (modes nearest, nearest-exact, linear / bilinear / trilinear, bicubic, area)."""
    check_tensor("interpolate", input)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("Anti-alias option is not supported by torchlite")
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if input.ndim != _LINEAR.get(mode, input.ndim) or input.ndim not in (3, 4, 5) or \
            mode not in ("nearest", "nearest-exact", "area", *_LINEAR):
        if mode in _LINEAR and mode != "bicubic" and input.ndim in (3, 4, 5):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{_LINEAR[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: {_MODES} (got {mode})")
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[input.ndim - 3]
        return pool(input, sizes)
    out = input
    for d, (o, s) in enumerate(zip(sizes, scales)):
        if mode in ("nearest", "nearest-exact"):
            out = _nearest(out, 2 + d, o, s, mode == "nearest-exact")
        else:
            resize = _cubic if mode == "bicubic" else _linear
            out = resize(out, 2 + d, o, s, align_corners)
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle -----------------------------------------------------------------------------
def _check_shuffle(op, input, factor):
    check_tensor(op, input)
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if factor <= 0:
        what = "upscale_factor" if op == "pixel_shuffle" else "downscale_factor"
        raise RuntimeError(f"{op} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): sub-pixel rearrangement."""
    r = int(upscale_factor)
    _check_shuffle("pixel_shuffle", input, r)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    _check_shuffle("pixel_unshuffle", input, r)
    *lead, c, h, w = input.shape
    for name, n, d in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({d})={n} is not divisible by "
                               f"{r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


# ---- unfold / fold -----------------------------------------------------------------------------
class _Unfold(Function):
    """im2col: (B, C, *S) -> (B, C * prod(K), L), every sliding block as a column."""
    raw = True
    label = "unfold (im2col)"
    node_name = "Im2ColBackward0"
    backward_rule = "grad_x = fold(grad) (col2im)"

    @staticmethod
    def forward(ctx, x, geo):
        ctx.geo, ctx.size = geo, x.shape[2:]
        view, size = windows(ctx.xp, x, geo)
        return view.reshape(x.shape[0], -1, math.prod(size))

    @staticmethod
    def backward(ctx, grad):
        return _Fold.apply(grad, geo=ctx.geo, size=ctx.size)


class _Fold(Function):
    """col2im: (B, C * prod(K), L) -> (B, C, *size), overlapping blocks summed."""
    raw = True
    label = "fold (col2im)"
    node_name = "Col2ImBackward0"
    backward_rule = "grad_cols = unfold(grad) (im2col)"

    @staticmethod
    def forward(ctx, cols, geo, size):
        ctx.geo = geo
        k = len(geo.kernel)
        blocks = out_size(size, geo)
        b = cols.shape[0]
        c = cols.shape[1] // math.prod(geo.kernel)
        cols = cols.reshape((b, c) + geo.kernel + blocks)
        cols = ctx.xp.moveaxis(cols, 1, 1 + k)[:, None]
        return col2im(ctx.xp, cols, geo, size)

    @staticmethod
    def backward(ctx, grad):
        return _Unfold.apply(grad, geo=ctx.geo)


def _fold_geo(kernel_size, dilation, padding, stride):
    kernel = expand_param("kernel_size", kernel_size, 2)
    dilation = expand_param("dilation", dilation, 2)
    padding = expand_param("padding", padding, 2)
    stride = expand_param("stride", stride, 2)
    for name, v in (("kernel size", kernel), ("stride", stride), ("dilation", dilation)):
        if any(x <= 0 for x in v):
            raise RuntimeError(f"{name} should be greater than zero, but got "
                               f"{name.split()[0]}_height: {v[0]} {name.split()[0]}_width: "
                               f"{v[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    return _Geo(kernel, stride, padding, padding, dilation, 1)


def _blocks(geo, size):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                 zip(size, geo.kernel, geo.stride, geo.lo, geo.dilation))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: (N, C, H, W) -> (N, C * kh * kw, L) (im2col)."""
    check_tensor("unfold", input)
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.ndim}D)")
    geo = _fold_geo(kernel_size, dilation, padding, stride)
    x, added = (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)
    blocks = _blocks(geo, x.shape[2:])
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size="
            f"{geo.kernel}, dilation={geo.dilation}, padding={geo.lo}, calculated shape of the "
            f"array of sliding blocks as {blocks}, but its components must be at least one.")
    out = _Unfold.apply(x, geo=geo)
    return out.squeeze(0) if added else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks into a tensor: (N, C * kh * kw, L) -> (N, C, *output_size),
    summing overlaps (col2im)."""
    check_tensor("fold", input)
    if input.ndim not in (2, 3) or 0 in input.shape[input.ndim - 2:]:
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{_fmt(input.shape)}")
    size = expand_param("output_size", output_size, 2)
    geo = _fold_geo(kernel_size, dilation, padding, stride)
    x, added = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    kn = math.prod(geo.kernel)
    if x.shape[1] % kn:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={geo.kernel}.")
    blocks = _blocks(geo, size)
    if any(b < 1 for b in blocks) or math.prod(blocks) != x.shape[2]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={geo.kernel}, dilation={geo.dilation}, "
            f"padding={geo.lo}, stride={geo.stride}, expected size of input's dimension 2 to "
            f"match the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{math.prod(blocks)}, but got input.size(2)={x.shape[2]}.")
    out = _Fold.apply(x, geo=geo, size=size)
    return out.squeeze(0) if added else out

