"""Activation functions (torch.nn.functional): pointwise nonlinearities, softmax family, glu.

Hot activations are fused primitives (forward through ``ctx.xp``; backward through a second fused
primitive whose own backward is in torchlite ops, so double backward works): gelu, silu,
softplus, the elu family, leaky_relu, hardtanh, softmax and log_softmax. The rest are composites
whose gradients equal PyTorch's. torch.softmax / torch.log_softmax and their Tensor methods are
registered here too.
"""
import math
import warnings
from functools import partial

from ... import _dtype, _kernels
from ..._creation import zeros_like
from ..._tensor import _wrap_dim
from ...autograd.function import Function
from ...ops import unary as _unary
from ...ops.binary import where as _where
from ...ops._inplace import inplace as _inplace
from ...ops._registry import export
from ...ops._util import check_tensor
from ..._kernels import gelu as _gelu_kernels
from ..._kernels import softmax as _softmax_kernels
from ._blocks import map_blocks
from .normalization import row_sum

__all__ = ["threshold", "threshold_", "relu", "relu_", "relu6", "hardtanh", "hardtanh_",
           "leaky_relu", "leaky_relu_", "prelu", "elu", "elu_", "selu", "selu_", "celu", "celu_",
           "gelu", "silu", "mish", "sigmoid", "tanh", "hardswish", "hardsigmoid", "softplus",
           "softsign", "softmax", "log_softmax", "softmin", "glu", "logsigmoid", "tanhshrink",
           "softshrink", "hardshrink"]

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_only(kernel, input):
    """PyTorch's error for an integer input to a float-only kernel."""
    check_tensor(kernel.split("_{")[0], input)
    if not input.dtype.is_floating_point:
        name = kernel.format(dev=input.device.type)
        raise NotImplementedError(f'"{name}" not implemented for \'{input.dtype._short}\'')


def _maybe_inplace(input, inplace, fn, *args):
    """``fn(input, *args)``, written into ``input`` when ``inplace`` (PyTorch's inplace=True)."""
    if inplace:
        return _inplace(input, fn, *args)
    return fn(input, *args)


# ---- fused pointwise primitives ---------------------------------------------------------------
#
# ``Op.apply(a)`` computes f(a) in one go through xp and keeps what f' needs (the ``cache``: e.g.
# sigmoid(a) for silu); its backward is one fused node, grad * f'(a) (``PointwiseBackward``),
# whose own backward is grad_grad * f'(a) and grad_grad * grad * f''(a) in torchlite ops. So
# first-order backward costs one fused pass, and double backward stays exact. Kernels run block
# by block (``map_blocks``), and branches are blended arithmetically (m * x + ...) on finite
# values: xp.where with an unsorted mask is several times slower.


def _mask(cond, dtype):
    return cond.astype(dtype)


def _sigmoid_parts(xp, z):
    """(sigmoid(z), exp(-|z|)) without overflow and without xp.where: sigmoid is r = 1 / (1 + e)
    for z >= 0 and e * r below, blended as r * (1 + [z < 0] * (e - 1))."""
    e = xp.exp(-xp.abs(z))
    s = e - 1
    s *= _mask(z < 0, s.dtype)
    s += 1
    s /= 1 + e
    return s, e


def _opmath(xp, a):
    """``a`` as the array to compute on: float16 / bfloat16 in float32."""
    return a.astype(xp.float32) if a.dtype.itemsize == 2 else a


class _Pointwise(Function):
    """y = f(a; params) from ``compute(xp, a, **params) -> (y, *cache)`` and
    ``derivative(xp, a, *cache, **params) -> f'(a)`` (both on flat blocks)."""

    raw = True
    backward_node = None  # PyTorch's name of the backward's node, if not "<Op>BackwardBackward0"
    # CUDA kernels (torchlite/_kernels), if the op has them: fused_forward(a, **params) -> f(a),
    # fused_derivative(a, grad, **params) -> f'(a) (times grad unless None), in a's dtype
    fused_forward = fused_derivative = None

    @classmethod
    def forward(cls, ctx, a, **params):
        xp = ctx.xp
        ctx.params = params
        ctx.save_for_backward(a)
        if _fused_pointwise(cls, xp, a):
            ctx.cache = None  # the fused derivative needs none; a composed one recomputes it
            return cls.fused_forward(a, **params)
        out, *cache = map_blocks(xp, lambda x: cls.compute(xp, _opmath(xp, x), **params), a)
        ctx.cache = cache
        return out.astype(a.dtype, copy=False).reshape(a.shape)

    @classmethod
    def backward(cls, ctx, grad):
        a, = ctx.saved_tensors
        return PointwiseBackward.apply(grad, a, op=cls, cache=ctx.cache, params=ctx.params)


def _fused_one_dtype(xp, *arrays):
    """True when fused kernels run here (cuda) and ``arrays`` share one dtype, as they take them."""
    return _kernels.fused(xp) and all(a.dtype == arrays[0].dtype for a in arrays)


def _fused_pointwise(op, xp, *arrays):
    """True when ``op`` has CUDA kernels and they take ``arrays``."""
    return op.fused_forward is not None and _fused_one_dtype(xp, *arrays)


def _derivative(xp, op, a, cache, params, grad=None):
    """f'(a) (times ``grad``) in a's shape and dtype: op's kernel on cuda, else block by block
    (recomputing the forward's cache where a fused forward kept none, ``cache`` None)."""
    inputs = (a,) if grad is None else (a, grad)
    if _fused_pointwise(op, xp, *inputs):
        return op.fused_derivative(a, grad, **params)

    def kernel(x, *rest):
        x = _opmath(xp, x)
        g, cached = (None, rest) if grad is None else (rest[0], rest[1:])
        if cache is None:
            cached = op.compute(xp, x, **params)[1:]
        d = op.derivative(xp, x, *cached, **params)
        return (d if g is None else d * g,)
    d, = map_blocks(xp, kernel, *inputs, *(cache or ()))
    return d.astype(a.dtype, copy=False).reshape(a.shape)


class PointwiseBackward(Function):
    """grad * f'(a) for a _Pointwise op f, in one fused pass over its forward's cache (PyTorch's
    GeluBackward0 ... backward node); backward: grad_grad * f'(a), grad_grad * grad * f''(a)."""

    raw = True
    label = "grad * f'(a)"
    backward_rule = "grad_grad = gg * f'(a); grad_a = gg * grad * f''(a)"

    @staticmethod
    def forward(ctx, grad, a, op, cache, params):
        ctx.op, ctx.cache, ctx.params = op, cache, params
        ctx.node_name = op.backward_node or op.__name__ + "BackwardBackward0"
        ctx.save_for_backward(grad, a)
        return _derivative(ctx.xp, op, a, cache, params, grad)

    @staticmethod
    def backward(ctx, gg):
        grad, a = ctx.saved_tensors
        need_grad, need_a = ctx.needs_input_grad
        grad_grad = grad_a = None
        if need_grad:
            grad_grad = gg * Derivative.apply(a, op=ctx.op, cache=ctx.cache, params=ctx.params)
        if need_a:  # zeros where f'' is 0, as PyTorch's
            second = ctx.op.second(a, **ctx.params)
            grad_a = zeros_like(a) if second is None else gg * grad * second
        return grad_grad, grad_a


class Derivative(Function):
    """f'(a) of a _Pointwise op, from its forward's cache; backward: grad * f''(a)."""

    raw = True
    label = "f'(a)"
    backward_rule = "grad_a = grad * f''(a)"

    @staticmethod
    def forward(ctx, a, op, cache, params):
        ctx.op, ctx.params = op, params
        ctx.save_for_backward(a)
        return _derivative(ctx.xp, op, a, cache, params)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        second = ctx.op.second(a, **ctx.params)
        return None if second is None else grad * second


class Gelu(_Pointwise):
    label = "gelu(a)"
    backward_rule = ("grad_a = grad * (Phi(a) + a * phi(a)); tanh form: derivative of "
                     "0.5 a (1 + tanh(k (a + 0.044715 a^3)))")

    @staticmethod
    def fused_forward(a, approximate):
        return _gelu_kernels.gelu(a, approximate == "tanh")

    @staticmethod
    def fused_derivative(a, grad, approximate):
        return _gelu_kernels.gelu_derivative(a, approximate == "tanh", grad)

    @staticmethod
    def compute(xp, a, approximate):
        if approximate == "tanh":
            t = a * a
            t *= _GELU_C
            t += 1
            t *= a
            t *= _SQRT_2_OVER_PI
            xp.tanh(t, out=t)
            out = t + 1
            out *= a
        else:
            t = _unary._erf(xp, a * _SQRT_HALF)
            t += 1
            out = t * a
        out *= 0.5
        return out, t  # cache: tanh(u), or 1 + erf(a / sqrt 2)

    @staticmethod
    def derivative(xp, a, t, approximate):
        if approximate == "tanh":
            inner = a * a
            inner *= 3 * _GELU_C
            inner += 1
            inner *= _SQRT_2_OVER_PI * 0.5
            inner *= a
            inner *= 1 - t * t
            inner += 0.5
            inner += 0.5 * t
            return inner
        pdf = a * a
        pdf *= -0.5
        xp.exp(pdf, out=pdf)
        pdf *= a * _INV_SQRT_2PI
        pdf += 0.5 * t
        return pdf

    @staticmethod
    def second(a, approximate):
        if approximate == "tanh":
            a2 = a * a
            u = (a + a2 * a * _GELU_C) * _SQRT_2_OVER_PI
            t = _unary.tanh(u)
            e = _unary.exp(_unary.abs(u) * -2)
            sech2 = 4 * e / ((1 + e) * (1 + e))  # 1 - t^2 without its cancellation
            du = (1 + a2 * (3 * _GELU_C)) * _SQRT_2_OVER_PI
            ddu = a * (6 * _GELU_C * _SQRT_2_OVER_PI)
            return sech2 * (du + 0.5 * a * (ddu - 2 * t * du * du))
        return _unary.exp(a * a * -0.5) * _INV_SQRT_2PI * (2 - a * a)


class Silu(_Pointwise):
    label = "a * sigmoid(a)"
    backward_rule = "grad_a = grad * s * (1 + a * (1 - s)), s = sigmoid(a)"

    @staticmethod
    def compute(xp, a):
        s = _sigmoid_parts(xp, a)[0]
        return a * s, s

    @staticmethod
    def derivative(xp, a, s):
        d = 1 - s
        d *= a
        d += 1
        d *= s
        return d

    @staticmethod
    def second(a):
        s = _unary.sigmoid(a)
        return s * (1 - s) * (2 + a * (1 - 2 * s))


class Softplus(_Pointwise):
    label = "log(1 + exp(beta a)) / beta"
    backward_rule = "grad_a = grad * sigmoid(beta a) (grad where beta a > threshold)"

    @staticmethod
    def compute(xp, a, beta, threshold):
        z = a * beta
        sig, e = _sigmoid_parts(xp, z)
        out = xp.log1p(e)
        out += xp.maximum(z, 0)
        out /= beta
        above = z > threshold
        out[above] = a[above]
        return out, sig, above

    @staticmethod
    def derivative(xp, a, s, above, beta, threshold):
        d = s.copy()
        d[above] = 1
        return d

    @staticmethod
    def second(a, beta, threshold):
        z = a * beta
        s = _unary.sigmoid(z)
        return (z <= threshold) * (s * (1 - s) * beta)


class Elu(_Pointwise):
    label = "scale * (a > 0 ? a : alpha * (exp(a * input_scale) - 1))"
    backward_rule = ("grad_a = grad * scale where a > 0, else grad * scale * alpha * "
                     "input_scale * exp(a * input_scale)")

    @staticmethod
    def compute(xp, a, alpha, scale, input_scale):
        em1 = xp.expm1(xp.minimum(a, 0) * input_scale)  # 0 where a > 0
        out = em1 * (alpha * scale)
        out += xp.maximum(a, 0) * scale
        return out, em1

    @staticmethod
    def derivative(xp, a, em1, alpha, scale, input_scale):
        neg = em1 + 1
        neg *= alpha * scale * input_scale
        pos = _mask(a > 0, a.dtype)
        neg *= 1 - pos
        neg += pos * scale
        return neg

    @staticmethod
    def second(a, alpha, scale, input_scale):
        neg = _unary.exp(_unary.clamp_max(a, 0) * input_scale)
        return (a <= 0) * neg * (alpha * scale * input_scale * input_scale)


class Celu(Elu):
    node_name = "CeluBackward0"
    backward_node = "EluBackwardBackward0"


class LeakyRelu(_Pointwise):
    label = "a > 0 ? a : slope * a"
    backward_rule = "grad_a = grad where a > 0, else grad * slope"

    @staticmethod
    def compute(xp, a, slope):
        factor = _mask(a > 0, a.dtype)
        factor *= 1 - slope
        factor += slope
        return a * factor, factor

    @staticmethod
    def derivative(xp, a, factor, slope):
        return factor

    @staticmethod
    def second(a, slope):
        return None


class Hardtanh(_Pointwise):
    label = "clamp(a, min_val, max_val)"
    backward_rule = "grad_a = grad where min_val < a < max_val, else 0"

    @staticmethod
    def compute(xp, a, lo, hi):
        return (xp.clip(a, lo, hi),)

    @staticmethod
    def derivative(xp, a, lo, hi):
        return _mask((a > lo) & (a < hi), a.dtype)

    @staticmethod
    def second(a, lo, hi):
        return None


# ---- softmax family ---------------------------------------------------------------------------
#
# On cuda each primitive's forward is one row kernel (torchlite/_kernels/softmax.cu) over ``dim``;
# a ``dim`` that is not the last is moved last with one contiguous copy, and the result moved
# back (contiguous, as PyTorch's): still fewer passes than the composed max / exp / sum / divide.

def _rows_last(xp, kernel, dim, *arrays):
    """``kernel`` of contiguous arrays with ``dim`` last, on ``arrays``; the result in their
    layout, contiguous."""
    if dim == arrays[0].ndim - 1:
        return kernel(*(xp.ascontiguousarray(a) for a in arrays))
    out = kernel(*(xp.ascontiguousarray(xp.moveaxis(a, dim, -1)) for a in arrays))
    return xp.ascontiguousarray(xp.moveaxis(out, -1, dim))


def _fused_rows(xp, *arrays):
    """True when the softmax kernels take ``arrays``: non-empty, on cuda, one dtype."""
    return arrays[0].size > 0 and _fused_one_dtype(xp, *arrays)


class Softmax(Function):
    raw = True
    label = "softmax(a, dim)"
    backward_rule = "grad_a = y * (grad - sum(grad * y, dim)), y = softmax(a)"

    @staticmethod
    def forward(ctx, a, dim):
        xp = ctx.xp
        ctx.dim = dim
        if _fused_rows(xp, a):
            e = _rows_last(xp, _softmax_kernels.softmax, dim, a)
        else:
            e = a - a.max(axis=dim, keepdims=True)
            xp.exp(e, out=e)
            e /= row_sum(xp, e, (dim,))
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return SoftmaxBackward.apply(grad, y, dim=ctx.dim)


class SoftmaxBackward(Function):
    """h(g, y) = y * (g - sum(g * y)): Softmax's input gradient in one fused pass."""

    raw = True
    label = "y * (g - sum(g * y, dim))"
    backward_rule = ("grad_g = y * (v - sum(v * y)); grad_y = v * (g - sum(g * y)) - "
                     "g * sum(v * y)")

    @staticmethod
    def forward(ctx, g, y, dim):
        xp = ctx.xp
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        if _fused_rows(xp, g, y):
            return _rows_last(xp, _softmax_kernels.softmax_backward, dim, g, y)
        out = g - row_sum(xp, g, (dim,), y)
        out *= y
        return out

    @staticmethod
    def backward(ctx, v):
        g, y = ctx.saved_tensors
        dim = ctx.dim
        vy = (v * y).sum(dim, keepdim=True)
        grad_g = y * (v - vy) if ctx.needs_input_grad[0] else None
        grad_y = None
        if ctx.needs_input_grad[1]:
            grad_y = v * (g - (g * y).sum(dim, keepdim=True)) - g * vy
        return grad_g, grad_y


class LogSoftmax(Function):
    raw = True
    label = "log_softmax(a, dim)"
    backward_rule = "grad_a = grad - exp(y) * sum(grad, dim), y = log_softmax(a)"

    @staticmethod
    def forward(ctx, a, dim):
        xp = ctx.xp
        ctx.dim = dim
        if _fused_rows(xp, a):
            shifted = _rows_last(xp, partial(_softmax_kernels.softmax, log=True), dim, a)
        else:
            shifted = a - a.max(axis=dim, keepdims=True)
            shifted -= xp.log(row_sum(xp, xp.exp(shifted), (dim,)))
        ctx.save_for_backward(shifted)
        return shifted

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return LogSoftmaxBackward.apply(grad, y, dim=ctx.dim)


class LogSoftmaxBackward(Function):
    """h(g, y) = g - exp(y) * sum(g): LogSoftmax's input gradient in one fused pass."""

    raw = True
    label = "g - exp(y) * sum(g, dim)"
    backward_rule = "grad_g = v - sum(v * exp(y)); grad_y = -v * exp(y) * sum(g)"

    @staticmethod
    def forward(ctx, g, y, dim):
        xp = ctx.xp
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        if _fused_rows(xp, g, y):
            return _rows_last(xp, partial(_softmax_kernels.softmax_backward, log=True), dim,
                              g, y)
        out = xp.exp(y)
        out *= row_sum(xp, g, (dim,))
        xp.subtract(g, out, out=out)
        return out

    @staticmethod
    def backward(ctx, v):
        g, y = ctx.saved_tensors
        dim = ctx.dim
        p = _unary.exp(y)
        grad_g = v - (v * p).sum(dim, keepdim=True) if ctx.needs_input_grad[0] else None
        grad_y = -v * p * g.sum(dim, keepdim=True) if ctx.needs_input_grad[1] else None
        return grad_g, grad_y


def _softmax_dim(name, ndim, dim, stacklevel):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _apply_softmax(fn, kernel, input, dim, dtype):
    """Run Softmax / LogSoftmax over ``dim`` (after a cast to ``dtype``); 0-d as 1-element."""
    check_tensor(kernel, input)
    if dtype is not None:
        input = input.to(dtype)
    ndim = input.ndim
    d = _wrap_dim(int(dim), max(ndim, 1))
    if not input.dtype.is_floating_point:
        which = "_lastdim" if d == max(ndim - 1, 0) else ""
        raise NotImplementedError(f'"{kernel}{which}_kernel_impl" not implemented for '
                                  f"'{input.dtype._short}'")
    if ndim == 0:
        return fn.apply(input.reshape(1), dim=0).reshape(())
    return fn.apply(input, dim=d)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (one fused, max-shifted primitive)."""
    dim = _softmax_dim("softmax", input.dim(), dim, _stacklevel)
    return _apply_softmax(Softmax, "softmax", input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    dim = _softmax_dim("softmin", input.dim(), dim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _apply_softmax(Softmax, "softmax", -input, dim, None)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``: one stable primitive (x - max - log(sum(exp(x - max))))."""
    dim = _softmax_dim("log_softmax", input.dim(), dim, _stacklevel)
    return _apply_softmax(LogSoftmax, "log_softmax", input, dim, dtype)


@export(name="softmax")
def _softmax_op(input, dim, dtype=None):
    """torch.softmax / Tensor.softmax (``dim`` required)."""
    return _apply_softmax(Softmax, "softmax", input, dim, dtype)


@export(name="log_softmax")
def _log_softmax_op(input, dim, dtype=None):
    """torch.log_softmax / Tensor.log_softmax (``dim`` required)."""
    return _apply_softmax(LogSoftmax, "log_softmax", input, dim, dtype)


# ---- the public functions ---------------------------------------------------------------------

def _threshold(input, threshold, value):
    return _where(input > threshold, input, value)


def threshold(input, threshold, value, inplace=False):
    """``value`` where input <= threshold, else input."""
    return _maybe_inplace(input, inplace, _threshold, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(input, _threshold, threshold, value)


def relu(input, inplace=False):
    """max(x, 0)."""
    return input.relu_() if inplace else _unary.relu(input)


def relu_(input):
    return input.relu_()


def _hardtanh(input, min_val, max_val):
    return Hardtanh.apply(input, lo=min_val, hi=max_val)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val) with zero gradient at and beyond the bounds."""
    check_tensor("hardtanh", input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, inplace, _hardtanh, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_relu(input, negative_slope):
    return LeakyRelu.apply(input, slope=negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    _float_only("leaky_relu_{dev}", input)
    return _maybe_inplace(input, inplace, _leaky_relu, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """leaky_relu with a learned slope per channel (dim 1) or one shared slope."""
    _float_only("prelu_{dev}", input)
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return _where(input > 0, input, weight * input)


def _elu(input, alpha, scale, input_scale):
    return Elu.apply(input, alpha=alpha, scale=scale, input_scale=input_scale)


def _celu(input, alpha):
    return Celu.apply(input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    _float_only("elu_{dev}", input)
    return _maybe_inplace(input, inplace, _elu, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    _float_only("elu_{dev}", input)
    return _maybe_inplace(input, inplace, _elu, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _float_only("elu_{dev}", input)
    return _maybe_inplace(input, inplace, _celu, alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    """x * Phi(x) (erf form) or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _float_only("GeluKernelImpl", input)
    return Gelu.apply(input, approximate=approximate)


def _silu(input):
    return Silu.apply(input)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    _float_only("silu_{dev}", input)
    return _maybe_inplace(input, inplace, _silu)


def _softplus(input, beta, threshold):
    return Softplus.apply(input, beta=beta, threshold=threshold)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    _float_only("softplus_{dev}", input)
    return _softplus(input, beta, threshold)


def _mish(input):
    return input * _unary.tanh(_softplus(input, 1.0, 20.0))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _float_only("mish_{dev}", input)
    return _maybe_inplace(input, inplace, _mish)


def sigmoid(input):
    return _unary.sigmoid(input)


def tanh(input):
    return _unary.tanh(input)


def _hardsigmoid(input):
    return _hardtanh(input + 3, 0.0, 6.0) / 6


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    _float_only("hardsigmoid_{dev}", input)
    return _maybe_inplace(input, inplace, _hardsigmoid)


def _hardswish(input):
    return input * _hardsigmoid(input)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    _float_only("hardswish_{dev}", input)
    return _maybe_inplace(input, inplace, _hardswish)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (_unary.abs(input) + 1)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    _float_only("log_sigmoid_{dev}", input)
    return -_softplus(-input, 1.0, math.inf)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - _unary.tanh(input)


def _check_lambda(input, lambd):
    if lambd < 0:
        info = _dtype.finfo(input.dtype)
        raise RuntimeError(f"lambda must be in range [0, {info.max:g}] for input dtype "
                           f"{input.dtype._short}, but found {lambd:g}")


def softshrink(input, lambd=0.5):
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0."""
    _check_lambda(input, lambd)
    return input - _unary.clamp(input, -lambd, lambd)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return _where(_unary.abs(input) > lambd, input, 0.0)


def glu(input, dim=-1):
    """a * sigmoid(b) where a, b are the halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * _unary.sigmoid(b)
