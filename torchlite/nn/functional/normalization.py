"""Normalization (torch.nn.functional): batch_norm, layer_norm, group_norm, instance_norm,
rms_norm, normalize.

batch, layer, group and instance norm share one fused primitive, ``NormAffine``: standardise
over some axes, then scale and shift. Its mean and 1/std are extra outputs (as in PyTorch's
native_layer_norm), so the backward reuses them and stays differentiable for double backward.
"""
import math

from ... import _dtype, _kernels
from ..._kernels import layer_norm as layer_norm_kernels
from ..._kernels._compile import CTYPE, accumulation_dtype
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ..._creation import zeros
from ...ops._util import check_tensor
from ...ops.shape import cat
from ...ops._util import named

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "normalize",
           "local_response_norm"]


class NormAffine(Function):
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased var), times weight, plus bias.

    Outputs: y, then xhat (only with weight or bias), mean and rstd (keepdims shapes), all in
    x's dtype (a bfloat16 / float16 x computes in float32, with float32 parameters too).
    ``node_name``: PyTorch's name for the op using it (NativeLayerNormBackward0, ...)."""

    raw = True
    label = "(a - mean) / sqrt(var + eps) * w + b"
    backward_rule = ("g = grad * w; grad_a = rstd * (g - mean(g) - xhat * mean(g * xhat)); "
                     "grad_w = sum(grad * xhat); grad_b = sum(grad)")

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, node_name):
        xp = ctx.xp
        if node_name is not None:
            ctx.node_name = node_name
        n = _fused_row_length(xp, x, axes, (weight, bias))
        if n:
            out, xhat, mean, rstd = _fused_forward(x, weight, bias, axes, eps, n)
        else:
            out, xhat, mean, rstd = _composed_forward(xp, x, weight, bias, axes, eps)
        ctx.axes = axes
        ctx.count = x.size // max(mean.size, 1)
        ctx.affine = weight is not None or bias is not None
        ctx.param_shapes = tuple(None if t is None else t.shape for t in (weight, bias))
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(xhat, weight, mean, rstd)
        if out is None:
            return xhat, mean, rstd
        return out, xhat, mean, rstd

    @staticmethod
    def backward(ctx, *grads):
        xhat, weight, mean, rstd = ctx.saved_tensors
        g_out, g_xhat, g_mean, g_rstd = grads if ctx.affine else (grads[0], None) + grads[1:]
        need = ctx.needs_input_grad
        if g_out is None:
            need = (need[0], False, False)
        shapes = ctx.param_shapes
        if g_xhat is None and g_mean is None and g_rstd is None:  # the first-order case
            outs = iter(NormAffineBackward.apply(g_out, xhat, rstd, weight, axes=ctx.axes,
                                                 need=need, shapes=shapes))
            return tuple(next(outs) if n else None for n in need)
        gx, gw, gb = _input_grads(g_out, xhat, rstd, weight, ctx.axes, need, shapes)
        if need[0]:
            n = ctx.count
            if g_xhat is not None:
                extra = _input_grads(g_xhat, xhat, rstd, None, ctx.axes, (True, False, False),
                                     shapes)[0]
                gx = extra if gx is None else gx + extra
            if g_mean is not None:
                term = (g_mean / n).expand_as(xhat)
                gx = term if gx is None else gx + term
            if g_rstd is not None:
                term = g_rstd * (rstd * rstd) * xhat * (-1.0 / n)
                gx = term if gx is None else gx + term
        return gx, gw, gb


def _composed_forward(xp, x, weight, bias, axes, eps):
    """(y, or None without weight and bias; xhat, mean, rstd) through ``xp``, in x's dtype."""
    dtype = x.dtype
    if dtype.itemsize == 2:
        x = x.astype(xp.float32)
    mean = _mean(xp, x, axes)
    xhat = x - mean
    rstd = _mean(xp, xhat, axes, xhat)
    rstd += eps
    xp.sqrt(rstd, out=rstd)
    xp.reciprocal(rstd, out=rstd)
    xhat *= rstd
    out = None
    if weight is not None:
        out = xhat * weight
    if bias is not None:
        out = xhat + bias if out is None else xp.add(out, bias, out=out)
    xhat, mean, rstd = (a.astype(dtype, copy=False) for a in (xhat, mean, rstd))
    return None if out is None else out.astype(dtype, copy=False), xhat, mean, rstd


def _fused_forward(x, weight, bias, axes, eps, n):
    """_composed_forward's results from the layer_norm kernel (rows of ``n`` trailing elements)."""
    acc = accumulation_dtype(x.dtype)
    params = [None if p is None else p.astype(acc, copy=False) for p in (weight, bias)]
    y, xhat, mean, rstd = layer_norm_kernels.forward(x, *params, n, eps)
    keep = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    affine = weight is not None or bias is not None
    return (y if affine else None), xhat, mean.reshape(keep), rstd.reshape(keep)


def _fused_row_length(xp, a, axes, params, param_shapes=()):
    """The row length ``n`` when the layer_norm kernels cover this call, else 0: CuPy with fused
    kernels on, a non-empty float array normalised over its trailing dims, each parameter None or
    one value per row element (``param_shapes`` too) in a's dtype or the kernels' float32 /
    float64."""
    if not _kernels.fused(xp) or not a.size or a.dtype.name not in CTYPE or axes != tuple(
            range(a.ndim - len(axes), a.ndim)):
        return 0
    row = a.shape[a.ndim - len(axes):]
    acc = accumulation_dtype(a.dtype)
    if any(p is not None and p.dtype not in (a.dtype, acc) for p in params):
        return 0
    shapes = [p.shape for p in params if p is not None] + list(param_shapes)
    if not all(_per_row_element(s, row, a.ndim) for s in shapes):
        return 0
    return math.prod(row)


def _per_row_element(shape, row, ndim):
    """True when a parameter of ``shape`` broadcasts to one value per element of ``row`` (the
    trailing dims of an ``ndim``-D input), leading size-1 dims allowed."""
    lead = len(shape) - len(row)
    return 0 <= lead and len(shape) <= ndim and tuple(shape[lead:]) == tuple(row) and all(
        s == 1 for s in shape[:lead])


def _input_grads(g, xhat, rstd, weight, axes, need, shapes):
    """NormAffine's gradients (x, weight, bias; None where not needed) in torchlite ops."""
    gx = gw = gb = None
    if g is None:
        return gx, gw, gb
    if need[0]:
        gh = g if weight is None else g * weight
        gx = rstd * (gh - gh.mean(axes, keepdim=True)
                     - xhat * (gh * xhat).mean(axes, keepdim=True))
    if need[1]:
        gw = (g * xhat).sum_to_size(shapes[0])
    if need[2]:
        gb = g.sum_to_size(shapes[1])
    return gx, gw, gb


def _trailing(a, axes):
    """The number of elements per row when ``axes`` are ``a``'s last dims (BLAS-friendly rows
    of a float32 / float64 array), else 0."""
    if a.dtype.kind != "f" or a.dtype.itemsize < 4 or axes != tuple(
            range(a.ndim - len(axes), a.ndim)):
        return 0
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    return n


def row_sum(xp, a, axes, b=None):
    """sum(a * b) (or sum(a)) over ``axes``, keepdims; trailing axes of float32 / float64 rows
    take one GEMV / einsum pass instead of NumPy's slower axis reduction."""
    n = _trailing(a, axes)
    if not n or not a.size:
        return (a if b is None else a * b).sum(axis=axes, keepdims=True)
    rows = a.reshape(-1, n)
    keep = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
    if b is None:
        out = rows @ xp.ones(n, dtype=a.dtype)
    else:
        out = xp.einsum("ij,ij->i", rows, b.reshape(-1, n))
    return out.reshape(keep)


def _mean(xp, a, axes, b=None):
    """mean(a * b) (or mean(a)) over ``axes``, keepdims."""
    out = row_sum(xp, a, axes, b)
    out /= max(a.size // max(out.size, 1), 1)
    return out


def _reduce_to(xp, a, shape, b=None):
    """Sum ``a`` (times ``b``) down to the broadcastable ``shape`` (leading dims and size-1
    dims); a reduction over leading dims only is one GEMV."""
    if b is not None:
        a = a * b
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and a.shape[lead + i] != 1)
    if not axes:
        return a
    if axes == tuple(range(lead)) and a.size and _trailing(a, tuple(range(lead, a.ndim))):
        rows = a.reshape(-1, math.prod(shape))
        return (xp.ones(rows.shape[0], dtype=a.dtype) @ rows).reshape(shape)
    return a.sum(axis=axes).reshape(shape)


def _fused_backward(g, xhat, rstd, weight, n, need, shapes):
    """NormAffineBackward's outputs from the layer_norm kernels (rows of ``n`` trailing
    elements): grad_x, grad_w, grad_b (those ``need`` asks for) in the accumulation dtype."""
    acc = accumulation_dtype(g.dtype)
    w = None if weight is None else weight.astype(acc, copy=False)
    outs = layer_norm_kernels.backward(g, xhat, rstd, w, n, need)
    shapes = [s for s, needed in zip((g.shape,) + tuple(shapes), need) if needed]
    return tuple(o.reshape(s) for o, s in zip(outs, shapes))


class NormAffineBackward(Function):
    """NormAffine's (grad_x, grad_w, grad_b) in a few fused passes; its own backward
    differentiates the same formula written in torchlite ops (double backward)."""

    raw = True
    label = "norm backward"
    backward_rule = "the gradient of NormAffine's backward formula (recomputed in torchlite ops)"

    @staticmethod
    def forward(ctx, g, xhat, rstd, weight, axes, need, shapes):
        ctx.axes, ctx.need, ctx.shapes = axes, need, shapes
        ctx.save_for_backward(g, xhat, rstd, weight)
        ctx.set_materialize_grads(False)  # an unused output's gradient adds nothing: None
        n = 0
        if g.dtype == xhat.dtype == rstd.dtype and g.shape == xhat.shape:
            wanted = [s for s, needed in zip(shapes, need[1:]) if needed]
            n = _fused_row_length(ctx.xp, g, axes, (weight,), wanted)
        if n:
            return _fused_backward(g, xhat, rstd, weight, n, need, shapes)
        if g.dtype.itemsize == 2:  # bfloat16 / float16 sums accumulate in float32, as PyTorch
            g, xhat, rstd = (a.astype(ctx.xp.float32) for a in (g, xhat, rstd))
        outs = []
        if need[0]:
            gh = g if weight is None else g * weight
            gx = gh - _mean(ctx.xp, gh, axes)
            gx -= xhat * _mean(ctx.xp, gh, axes, xhat)
            gx *= rstd
            outs.append(gx)
        if need[1]:
            outs.append(_reduce_to(ctx.xp, g, shapes[0], xhat))
        if need[2]:
            outs.append(_reduce_to(ctx.xp, g, shapes[1]))
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        from ...autograd import grad as autograd_grad
        from ...autograd.grad_mode import STATE, enable_grad
        saved = ctx.saved_tensors
        create = STATE.enabled
        with enable_grad():
            outs = [o for o in _input_grads(*saved, ctx.axes, ctx.need, ctx.shapes)
                    if o is not None]
            # an output that depends on no input needing grad (grad_b of a constant g) adds 0
            pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
            wrt = [t for t in saved if t is not None and t.requires_grad]
            if not pairs:
                return (None,) * len(saved)
            found = autograd_grad([o for o, _ in pairs], wrt, [g for _, g in pairs],
                                  retain_graph=True, create_graph=create, allow_unused=True)
        by_id = {id(t): g for t, g in zip(wrt, found)}
        return tuple(None if t is None else by_id.get(id(t)) for t in saved)


def _check_param_dtypes(input, *params):
    """PyTorch's CPU rule for the parameters (and running statistics) of layer, group and
    batch norm: the input's dtype, or float32 for all of them on a bfloat16 / float16 input."""
    if input.device.type != "cpu":
        return
    dtypes = [p.dtype for p in params if p is not None]
    if not dtypes or dtypes[0] == input.dtype:
        for d in dtypes:
            if d != input.dtype:
                raise RuntimeError(f"expected scalar type {input.dtype._short} but found "
                                   f"{d._short}")
        return
    if any(d != _dtype.float32 for d in dtypes):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if input.dtype not in (_dtype.bfloat16, _dtype.float16):
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _norm_affine(input, weight, bias, axes, eps, node_name=None):
    """The normalised output and the (mean, rstd) tensors of NormAffine."""
    outs = NormAffine.apply(input, weight, bias, axes=axes, eps=eps, node_name=node_name)
    return outs[0], outs[-2], outs[-1]


def _channel_shape(t, ndim):
    """A per-channel (dim 1) tensor shaped to broadcast over an ``ndim``-D input."""
    if t is None or ndim <= 2:
        return t
    return t.reshape((-1,) + (1,) * (ndim - 2))


def _update_running(running_mean, running_var, mean, rstd, eps, n, momentum):
    """running = (1 - momentum) * running + momentum * batch stat (unbiased variance)."""
    with no_grad():
        var = (rstd * rstd).reciprocal() - eps
        unbiased = var * (n / (n - 1)) if n > 1 else var
        running_mean.mul_(1 - momentum).add_(mean.reshape(running_mean.shape), alpha=momentum)
        running_var.mul_(1 - momentum).add_(unbiased.reshape(running_var.shape),
                                            alpha=momentum)


def _size_repr(t):
    return f"torch.Size({list(t.shape)})"


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise each channel (dim 1) by batch statistics (training; running stats updated
    with ``momentum``) or by the running statistics (evaluation)."""
    check_tensor("batch_norm", input)
    _check_param_dtypes(input, weight, bias, running_mean, running_var)
    ndim = input.ndim
    if training:
        count = input.numel() // input.shape[1]
        if count == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {_size_repr(input)}")
        axes = (0,) + tuple(range(2, ndim))
        out, mean, rstd = _norm_affine(input, _channel_shape(weight, ndim),
                                       _channel_shape(bias, ndim), axes, eps,
                                       "NativeBatchNormBackward0")
        if running_mean is not None and running_var is not None:
            _update_running(running_mean, running_var, mean, rstd, eps, count, momentum)
        return out
    if running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if running_var is None:
        raise RuntimeError("running_var must be defined in evaluation mode")
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    out = input * _channel_shape(scale, ndim) + _channel_shape(shift, ndim)
    return named(out.to(input.dtype), "NativeBatchNormBackward0")


def _check_normalized_shape(input, normalized_shape, star):
    shape = tuple(normalized_shape)
    if len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        dims = ", ".join(str(s) for s in shape)
        raise RuntimeError(f"Given normalized_shape=[{dims}], expected input with shape "
                           f"[{star}{dims}], but got input of size{list(input.shape)}")
    return tuple(range(input.ndim - len(shape), input.ndim))


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing ``normalized_shape`` dims (one fused primitive)."""
    check_tensor("layer_norm", input)
    shape = _normalized_shape(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    axes = _check_normalized_shape(input, shape, "*, ")
    if not input.dtype.is_floating_point:
        raise NotImplementedError('"LayerNormKernelImpl" not implemented for '
                                  f"'{input.dtype._short}'")
    _check_param_dtypes(input, weight, bias)
    return _norm_affine(input, weight, bias, axes, eps, "NativeLayerNormBackward0")[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of ``C / num_groups`` channels (with their spatial dims)."""
    check_tensor("group_norm", input)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _check_param_dtypes(input, weight, bias)
    grouped = input.reshape(n, num_groups, -1)
    out = _norm_affine(grouped, None, None, (2,), eps)[0].reshape(input.shape)
    return named(_affine(out, weight, bias), "NativeGroupNormBackward0")


def _affine(out, weight, bias):
    """out * weight + bias per channel (dim 1), in out's dtype: float32 parameters on a
    bfloat16 / float16 ``out`` compute in float32 and round once, as PyTorch."""
    ndim, dtype = out.ndim, out.dtype
    if weight is not None:
        out = out * _channel_shape(weight, ndim)
    if bias is not None:
        out = out + _channel_shape(bias, ndim)
    return out.to(dtype)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalise each (sample, channel) over its spatial dims."""
    check_tensor("instance_norm", input)
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = math.prod(input.shape[2:])
    if spatial == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{_size_repr(input)}")
    axes = tuple(range(2, input.ndim))
    out, mean, rstd = _norm_affine(input, None, None, axes, eps)
    if running_mean is not None and running_var is not None:
        _update_running(running_mean, running_var, mean.mean(0), _mean_rstd(rstd, eps),
                        eps, spatial, momentum)
    return _affine(out, weight, bias)


def _mean_rstd(rstd, eps):
    """The rstd whose variance is the mean (over the batch) of the per-instance variances;
    with the unbiasing of _update_running this gives PyTorch's instance_norm running_var."""
    with no_grad():
        var = ((rstd * rstd).reciprocal() - eps).mean(0)
        return (var + eps).rsqrt()


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times weight; eps None: the finfo eps
    of the compute dtype. A bfloat16 / float16 input computes in float32 and is rounded back
    before and after the weight, as PyTorch."""
    check_tensor("rms_norm", input)
    shape = _normalized_shape(normalized_shape)
    axes = _check_normalized_shape(input, shape, "*")
    dtype = input.dtype
    x = input.float() if dtype in (_dtype.bfloat16, _dtype.float16) else input
    if eps is None:
        eps = _dtype.finfo(x.dtype).eps
    out = (x * ((x * x).mean(axes, keepdim=True) + eps).rsqrt()).to(dtype)
    return out if weight is None else (out * weight).to(dtype)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    with no_grad():
        return out.copy_(input / denom)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * mean of squares over ``size`` neighbouring channels) ** beta.

    The zero-padded channel-window sums are differences of one cumulative sum (no pooling)."""
    if input.dim() < 3:
        gap = " " * 26  # PyTorch's message carries a line continuation's indentation
        raise ValueError(f"Expected 3D or higher dimensionality{gap}input (got {input.dim()} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    shape = list(sq.shape)

    def zero_channels(n):
        return zeros(shape[:1] + [n] + shape[2:], dtype=sq.dtype, device=sq.device)
    # S[j] = sum of the first j zero-padded channels; window c = S[c + size] - S[c]
    csum = cat([zero_channels(size // 2 + 1), sq, zero_channels((size - 1) // 2)], 1).cumsum(1)
    channels = shape[1]
    window = csum.narrow(1, size, channels) - csum.narrow(1, 0, channels)
    return input / (window * (alpha / size) + k) ** beta
