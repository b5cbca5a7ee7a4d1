"""Elementwise unary math: one Function per primitive; backward rules in torchlite ops.

Most primitives are ``y = f(a)`` with a gradient ``grad * f'(a)``: they subclass ``_Unary``, which
computes ``compute(xp, a)`` (in float32 for float16 / bfloat16 inputs, as PyTorch does), saves the
input or the output, and calls ``vjp(ctx, grad, saved)``. Every public op also gets its in-place
``op_`` variant through ``inplace``. erf, erfc and erfinv are computed here from NumPy / CuPy
primitives only (W. J. Cody's rational approximations), so no SciPy is needed.
"""
import math

from .._tensor import Tensor
from ..autograd.function import Function
from ._inplace import inplace
from ._registry import export, function, method
from ._util import check_tensor, named

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# ---- helpers ------------------------------------------------------------------------------


def _is_float(a):
    return a.dtype.kind in "fcV"


def _check_dtype(op, kernel, input, kinds):
    """PyTorch's error for a dtype its kernel lacks: '"abs_cpu" not implemented for 'Bool''."""
    check_tensor(op, input)
    if input._data.dtype.kind in kinds:
        raise NotImplementedError(f'"{kernel}_{input.device.type}" not implemented for '
                                  f"'{input.dtype._short}'")


def _inplace_variant(fn, name):
    def op_(self, *args, **kwargs):
        return inplace(self, fn, *args, **kwargs)
    op_.__name__ = op_.__qualname__ = name
    op_.__doc__ = f"In-place ``{fn.__name__}``: writes the result into ``self``."
    return op_


def _unary_op(*aliases, inplace_function=True):
    """Publish ``fn`` (and ``aliases``) as torchlite.X and Tensor.X, with the in-place ``X_``
    as a Tensor method and, where PyTorch has it (``inplace_function``), as torchlite.X_."""
    def register(fn):
        export(fn, aliases=aliases)
        for n in (fn.__name__, *aliases):
            export(_inplace_variant(fn, n + "_"), function=inplace_function)
        return fn
    return register


# ---- erf, erfc, erfinv from xp primitives (W. J. Cody, Math. Comp. 23 (1969) 631-637) -------

_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_ERF_SMALL = 0.46875  # Cody's first interval: erf by x * P(x^2) / Q(x^2)
_ERFC_ZERO = 27.0     # erfc underflows to 0 in float64 beyond this


def _rational(t, num, den):
    """Cody's ratio (num[-1] t^n + ... + num[n-1]) / (t^n + den[0] t^(n-1) + ... + den[n-1]),
    updated in place: these are large temporaries and allocation dominates the cost."""
    xnum = num[-1] * t
    xden = t.copy()
    for p, q in zip(num[:-2], den[:-1]):
        xnum += p
        xnum *= t
        xden += q
        xden *= t
    xnum += num[-2]
    xden += den[-1]
    xnum /= xden
    return xnum


def _erf_terms(xp, x):
    """(erf(x) by Cody's first interval, erfc(|x|) by his second and third): each is exact to
    ~1e-16 relative on its own side of |x| = 0.46875, and callers pick per element."""
    y = xp.abs(x)
    small = _rational(x * x, _ERF_A, _ERF_B)
    small *= x
    mid = _rational(y, _ERF_C, _ERF_D)
    t = 1 / (y * y)
    far = _rational(t, _ERF_P, _ERF_Q)
    far *= t
    far = (1 / math.sqrt(math.pi) - far) / y
    large = xp.where(y <= 4, mid, far)
    # exp(-y^2) split as exp(-ys^2) * exp(-(y - ys)(y + ys)) with ys = y rounded to 1/16
    ys = xp.trunc(y * 16)
    ys /= 16
    large *= xp.exp(-(ys * ys))
    large *= xp.exp(-(y - ys) * (y + ys))
    return y <= _ERF_SMALL, small, xp.where(y > _ERFC_ZERO, 0, large)


# float32 erf: one clamped odd/even rational in x^2 (Eigen's generic_fast_erf_float), max
# absolute error ~4e-7 -- within float32 rounding of Cody's result at a quarter of the cost.
_ERF32_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
            -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
            -1.60960333262415e-02)
_ERF32_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
            -7.37332916720468e-03, -1.42647390514189e-02)


def _erf_float32(xp, x):
    x = xp.clip(x, -4, 4)
    x2 = x * x
    p = x2 * _ERF32_P[0]
    for c in _ERF32_P[1:-1]:
        p += c
        p *= x2
    p += _ERF32_P[-1]
    p *= x
    q = x2 * _ERF32_Q[0]
    for c in _ERF32_Q[1:-1]:
        q += c
        q *= x2
    q += _ERF32_Q[-1]
    p /= q
    return p


def _erf(xp, x):
    if x.dtype.itemsize <= 4:
        return _erf_float32(xp, x)
    near, small, large = _erf_terms(xp, x)
    return xp.where(near, small, xp.copysign((0.5 - large) + 0.5, x))


def _erfc(xp, x):
    near, small, large = _erf_terms(xp, x)
    return xp.where(near, 1 - small, xp.where(x < 0, 2 - large, large))


_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)


def _horner(t, coeffs):
    out = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        out = out * t + c
    return out


def _erfinv(xp, y):
    """erfinv: a rational first guess (~1e-7), then two Newton steps on erf near 0 and on erfc
    in the tails (where 1 - |y| is exact and erfc keeps its relative accuracy)."""
    ay = xp.abs(y)
    z = ay * ay
    central = ay * _horner(z, _ERFINV_A) / (1 + z * _horner(z, _ERFINV_B))
    z = xp.sqrt(-xp.log((1 - ay) / 2))
    tail = _horner(z, _ERFINV_C) / (1 + z * _horner(z, _ERFINV_D))
    x = xp.where(ay <= 0.7, central, tail)
    central = ay <= 0.5
    for _ in range(2):
        near, small, large = _erf_terms(xp, x)  # x >= 0 here
        erf_x = xp.where(near, small, (0.5 - large) + 0.5)
        erfc_x = xp.where(near, 1 - small, large)
        residual = xp.where(central, erf_x - ay, (1 - ay) - erfc_x)
        x = x - residual / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
    x = xp.where(ay == 1, xp.inf, x)
    return xp.copysign(x, y)


# ---- Functions that shape gradients ---------------------------------------------------------

def _between(xp, a, lo, hi):
    if lo is None:
        return a <= hi
    return a >= lo if hi is None else xp.logical_and(a >= lo, a <= hi)


def _below(xp, a, lo, hi):
    return a < lo if hi is None else xp.logical_and(a < lo, lo < hi)


def _above(xp, a, lo, hi):
    return a > hi if lo is None else xp.logical_or(a > hi, hi < lo)


_MASKS = {
    "between": _between,  # clamp passes the input's gradient where lo <= a <= hi
    "below": _below,      # clamp's gradient to min: a < min (and min < max)
    "above": _above,      # clamp's gradient to max: a > max (or max < min)
    # relu passes the gradient where not y <= 0 (so at NaN too, as PyTorch's threshold does)
    "not_at_most_zero": lambda xp, a, lo, hi: xp.logical_not(a <= 0),
    "finite": lambda xp, a, lo, hi: xp.isfinite(a),
    # logit's gradient is NaN outside [0, 1]: a factor 1 inside, NaN outside
    "nan_outside_unit": lambda xp, a, lo, hi: xp.where((a >= 0) & (a <= 1), 1, xp.nan).astype(
        a.dtype),
}


class GradMask(Function):
    """Where a gradient flows (a bool tensor, or a 1 / NaN factor): a constant of backward, so
    not differentiable."""

    raw = True
    differentiable = False
    label = "grad mask"
    backward_rule = "not differentiable"

    @staticmethod
    def forward(ctx, a, lo=None, hi=None, *, rule):
        return _MASKS[rule](ctx.xp, a, lo, hi)


def _grad_mask(ctx, rule, a, *bounds):
    """GradMask of ``a``: a Tensor, or an array where a first-order backward runs on arrays."""
    if isinstance(a, Tensor):
        return GradMask.apply(a, *bounds, rule=rule)
    lo, hi = (bounds + (None, None))[:2]
    return _MASKS[rule](ctx.xp, a, lo, hi)


class ZeroGrad(Function):
    """The zero gradient of piecewise-constant ops (floor, sign, ...): zeros like ``grad``."""

    raw = True
    differentiable = False
    label = "0"
    backward_rule = "not differentiable"

    @staticmethod
    def forward(ctx, grad):
        return ctx.xp.zeros_like(grad)


# ---- the y = f(a) primitives ----------------------------------------------------------------

class _Unary(Function):
    """y = f(a): ``compute(xp, a, **params)`` gives y (float16 / bfloat16 in float32 when
    ``opmath``); backward is ``vjp(ctx, grad, saved)`` with the input (``saves = "input"``),
    the output (``"output"``) or nothing (None)."""

    raw = True
    promote = "float"
    saves = "input"
    opmath = True     # compute float16 / bfloat16 in float32
    ufunc = None      # name of the xp function computing f, unless compute is overridden

    @classmethod
    def compute(cls, xp, a):
        return getattr(xp, cls.ufunc)(a)

    @classmethod
    def forward(cls, ctx, a, **params):
        xp = ctx.xp
        half = cls.opmath and a.dtype.itemsize == 2 and a.dtype.kind in "fV"
        out = cls.compute(xp, a.astype(xp.float32) if half else a, **params)
        if half and out.dtype == xp.float32:  # float16 / bfloat16 computed in float32
            out = out.astype(a.dtype)
        if cls.saves is not None:
            ctx.params = params
            ctx.save_for_backward(a if cls.saves == "input" else out)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        return cls.vjp(ctx, grad, *ctx.saved_tensors)


class _Exact(_Unary):
    """Ops that keep the input's dtype (integers included) and need no float32 detour."""

    promote = None
    opmath = False


class _Constant(_Exact):
    """Piecewise-constant ops (floor, sign, ...): integer inputs come back as copies and the
    gradient is zero (PyTorch gives zeros, not None)."""

    saves = None
    backward_rule = "grad_a = 0"

    @classmethod
    def compute(cls, xp, a):
        return a.copy() if a.dtype.kind in "iub" else getattr(xp, cls.ufunc)(a)

    @staticmethod
    def vjp(ctx, grad):
        return ZeroGrad.apply(grad)


class _Test(_Exact):
    """Elementwise predicates (isnan, signbit, ...): bool results, never differentiable."""

    differentiable = False
    saves = None


class Abs(_Exact):
    label = "|a|"
    backward_rule = "grad_a = grad * sgn(a)  (sign(a) for real a, a / |a| for complex)"
    ufunc = "abs"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * sgn(a)


class Neg(_Exact):
    label = "-a"
    array_backward = True
    backward_rule = "grad_a = -grad"
    saves = None
    ufunc = "negative"

    @staticmethod
    def vjp(ctx, grad):
        return -grad


class Exp(_Unary):
    label = "exp(a)"
    array_backward = True
    backward_rule = "grad_a = grad * exp(a)"
    saves = "output"
    ufunc = "exp"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * y


class Exp2(_Unary):
    label = "2 ** a"
    array_backward = True
    backward_rule = "grad_a = grad * 2**a * ln(2)"
    saves = "output"
    ufunc = "exp2"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (y * _LN2)


class Expm1(_Unary):
    label = "exp(a) - 1"
    array_backward = True
    backward_rule = "grad_a = grad * (expm1(a) + 1)"
    saves = "output"
    ufunc = "expm1"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (y + 1)


class Log(_Unary):
    label = "log(a)"
    array_backward = True
    backward_rule = "grad_a = grad / a"
    ufunc = "log"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / a


class Log2(_Unary):
    label = "log2(a)"
    array_backward = True
    backward_rule = "grad_a = grad / (a * ln(2))"
    ufunc = "log2"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / (a * _LN2)


class Log10(_Unary):
    label = "log10(a)"
    array_backward = True
    backward_rule = "grad_a = grad / (a * ln(10))"
    ufunc = "log10"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / (a * _LN10)


class Log1P(_Unary):
    label = "log(1 + a)"
    array_backward = True
    backward_rule = "grad_a = grad / (1 + a)"
    ufunc = "log1p"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / (a + 1)


class Sqrt(_Unary):
    label = "sqrt(a)"
    array_backward = True
    backward_rule = "grad_a = grad / (2 * sqrt(a))"
    saves = "output"
    ufunc = "sqrt"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad / (y * 2)


class Rsqrt(_Unary):
    label = "1 / sqrt(a)"
    array_backward = True
    backward_rule = "grad_a = -grad * rsqrt(a)**3 / 2"
    saves = "output"

    @staticmethod
    def compute(xp, a):
        return 1 / xp.sqrt(a)

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (y * y * y * -0.5)


def _clamp_node_name(xp, lo, hi):
    """PyTorch's overload: ClampBackward1 with number bounds, ClampBackward0 with Tensors."""
    tensor = isinstance(lo, xp.ndarray) or isinstance(hi, xp.ndarray)
    return "ClampBackward0" if tensor else "ClampBackward1"


def _one_bound(out, name, bound):
    """clamp_min/clamp_max: PyTorch's own node (overload 1 with a Tensor bound)."""
    return named(out, name + ("Backward1" if isinstance(bound, Tensor) else "Backward0"))


class Square(_Exact):
    node_name = "PowBackward0"  # PyTorch's square is pow(a, 2)
    label = "a ** 2"
    array_backward = True
    backward_rule = "grad_a = grad * 2 * a"

    @staticmethod
    def compute(xp, a):
        return xp.square(a.astype(xp.int64) if a.dtype.kind == "b" else a)

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * (a * 2)


class Sin(_Unary):
    label = "sin(a)"
    backward_rule = "grad_a = grad * cos(a)"
    ufunc = "sin"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * cos(a)


class Cos(_Unary):
    label = "cos(a)"
    backward_rule = "grad_a = -grad * sin(a)"
    ufunc = "cos"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * -sin(a)


class Tan(_Unary):
    label = "tan(a)"
    array_backward = True
    backward_rule = "grad_a = grad * (1 + tan(a)**2)"
    saves = "output"
    ufunc = "tan"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (y * y + 1)


class Asin(_Unary):
    label = "asin(a)"
    backward_rule = "grad_a = grad / sqrt(1 - a**2)"
    ufunc = "arcsin"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / sqrt(1 - a * a)


class Acos(_Unary):
    label = "acos(a)"
    backward_rule = "grad_a = -grad / sqrt(1 - a**2)"
    ufunc = "arccos"

    @staticmethod
    def vjp(ctx, grad, a):
        return -grad / sqrt(1 - a * a)


class Atan(_Unary):
    label = "atan(a)"
    array_backward = True
    backward_rule = "grad_a = grad / (1 + a**2)"
    ufunc = "arctan"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / (a * a + 1)


class Sinh(_Unary):
    label = "sinh(a)"
    backward_rule = "grad_a = grad * cosh(a)"
    ufunc = "sinh"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * cosh(a)


class Cosh(_Unary):
    label = "cosh(a)"
    backward_rule = "grad_a = grad * sinh(a)"
    ufunc = "cosh"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * sinh(a)


class Tanh(_Unary):
    label = "tanh(a)"
    array_backward = True
    backward_rule = "grad_a = grad * (1 - tanh(a)**2)"
    saves = "output"
    ufunc = "tanh"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (1 - y * y)


class Asinh(_Unary):
    label = "asinh(a)"
    backward_rule = "grad_a = grad / sqrt(a**2 + 1)"
    ufunc = "arcsinh"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / sqrt(a * a + 1)


class Acosh(_Unary):
    label = "acosh(a)"
    backward_rule = "grad_a = grad / sqrt(a**2 - 1)"
    ufunc = "arccosh"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / sqrt(a * a - 1)


class Atanh(_Unary):
    label = "atanh(a)"
    array_backward = True
    backward_rule = "grad_a = grad / (1 - a**2)"
    ufunc = "arctanh"

    @staticmethod
    def vjp(ctx, grad, a):
        return grad / (1 - a * a)


class Sigmoid(_Unary):
    label = "sigmoid(a)"
    array_backward = True
    backward_rule = "grad_a = grad * s * (1 - s), s = sigmoid(a)"
    saves = "output"

    @staticmethod
    def compute(xp, a):
        e = xp.exp(-xp.abs(a))  # never overflows: stable for large |a|
        r = 1 / (1 + e)
        return xp.where(a >= 0, r, e * r)

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (y * (1 - y))


class Logit(_Unary):
    label = "log(a / (1 - a))"
    backward_rule = ("grad_a = grad / (a * (1 - a)); NaN outside [0, 1], or 0 outside "
                     "[eps, 1 - eps] when eps is given")

    @staticmethod
    def compute(xp, a, eps=None):
        if eps is not None:
            a = xp.clip(a, eps, 1 - eps)
        return xp.log(a / (1 - a))

    @staticmethod
    def vjp(ctx, grad, a):
        eps = ctx.params.get("eps")
        if eps is None:
            return grad * GradMask.apply(a, rule="nan_outside_unit") / (a * (1 - a))
        inside = GradMask.apply(a, eps, 1 - eps, rule="between")
        a = clamp(a, eps, 1 - eps)
        return grad * inside / (a * (1 - a))


class Relu(_Exact):
    label = "max(a, 0)"
    array_backward = True
    backward_rule = "grad_a = grad * (a > 0), grad at NaN"
    saves = "output"

    @staticmethod
    def compute(xp, a):
        return xp.maximum(a, 0)

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * _grad_mask(ctx, "not_at_most_zero", y)


class Erf(_Unary):
    label = "erf(a)"
    backward_rule = "grad_a = grad * 2 / sqrt(pi) * exp(-a**2)"

    @staticmethod
    def compute(xp, a):
        return _erf(xp, a)

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * (exp(-a * a) * _TWO_OVER_SQRT_PI)


class Erfc(_Unary):
    label = "erfc(a)"
    backward_rule = "grad_a = -grad * 2 / sqrt(pi) * exp(-a**2)"

    @staticmethod
    def compute(xp, a):
        return _erfc(xp, a)

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * (exp(-a * a) * -_TWO_OVER_SQRT_PI)


class Erfinv(_Unary):
    label = "erfinv(a)"
    backward_rule = "grad_a = grad * sqrt(pi) / 2 * exp(erfinv(a)**2)"
    saves = "output"

    @staticmethod
    def compute(xp, a):
        return _erfinv(xp, a)

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * (exp(y * y) / _TWO_OVER_SQRT_PI)


class Floor(_Constant):
    label = "floor(a)"
    ufunc = "floor"


class Ceil(_Constant):
    label = "ceil(a)"
    ufunc = "ceil"


class Trunc(_Constant):
    label = "trunc(a)"
    ufunc = "trunc"


class Round(_Constant):
    label = "round(a)"
    opmath = True

    @staticmethod
    def compute(xp, a, decimals=0):
        """Half to even, at ``decimals`` digits (negative: to tens, hundreds, ...)."""
        if a.dtype.kind in "iub":
            return a.copy()
        if decimals == 0:
            return xp.rint(a)
        if decimals > 0:
            scale = 10.0 ** decimals
            return xp.rint(a * scale) / scale
        scale = 10.0 ** -decimals
        return xp.rint(a / scale) * scale


class Sign(_Constant):
    label = "sign(a)"

    @staticmethod
    def compute(xp, a):
        """-1, 0 or 1; 0 for NaN as in PyTorch; bool stays bool; z / |z| for complex (sgn)."""
        if a.dtype.kind == "b":
            return a.copy()
        if a.dtype.kind == "c":
            magnitude = xp.abs(a)
            return xp.where(magnitude == 0, 0, a / xp.where(magnitude == 0, 1, magnitude))
        return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Sgn(Sign):
    label = "sgn(a)"


class Frac(_Exact):
    label = "a - trunc(a)"
    array_backward = True
    backward_rule = "grad_a = grad"
    saves = None

    @staticmethod
    def compute(xp, a):
        return a - xp.trunc(a)

    @staticmethod
    def vjp(ctx, grad):
        return grad


class Reciprocal(_Unary):
    label = "1 / a"
    array_backward = True
    backward_rule = "grad_a = -grad / a**2"
    saves = "output"
    ufunc = "reciprocal"

    @staticmethod
    def vjp(ctx, grad, y):
        return grad * -(y * y)


class _Scale(_Unary):
    """a * factor (angle conversions): ``factor`` is the derivative."""

    array_backward = True
    saves = None
    factor = 1.0

    @classmethod
    def compute(cls, xp, a):
        return a * cls.factor

    @classmethod
    def vjp(cls, ctx, grad):
        return grad * cls.factor


class Deg2Rad(_Scale):
    label = "a * pi / 180"
    backward_rule = "grad_a = grad * pi / 180"
    factor = math.pi / 180


class Rad2Deg(_Scale):
    label = "a * 180 / pi"
    backward_rule = "grad_a = grad * 180 / pi"
    factor = 180 / math.pi


class NanToNum(_Exact):
    label = "nan_to_num(a)"
    backward_rule = "grad_a = grad * isfinite(a)"

    @staticmethod
    def compute(xp, a, nan=0.0, posinf=None, neginf=None):
        """NaN, +inf, -inf replaced; infinities default to the dtype's largest finite values."""
        out = a.copy()
        if a.dtype.kind not in "fV":
            return out
        big = xp.nextafter(xp.asarray(xp.inf, a.dtype), xp.asarray(0, a.dtype))
        out[xp.isnan(a)] = nan
        out[a == xp.inf] = big if posinf is None else posinf
        out[a == -xp.inf] = -big if neginf is None else neginf
        return out

    @staticmethod
    def vjp(ctx, grad, a):
        return grad * GradMask.apply(a, rule="finite")


class Clamp(Function):
    raw = True
    promote = "promote"
    label = "clamp(a, min, max)"
    backward_rule = ("grad_a = grad * (min <= a <= max); grad_min = grad * (a < min < max); "
                     "grad_max = grad * (a > max or max < min)")

    @staticmethod
    def forward(ctx, a, lo, hi):
        """min(max(a, lo), hi): where lo > hi every element is hi, as in PyTorch."""
        ctx.node_name = _clamp_node_name(ctx.xp, lo, hi)
        ctx.save_for_backward(a, lo, hi)
        out = a if lo is None else ctx.xp.maximum(a, lo)
        return out if hi is None else ctx.xp.minimum(out, hi)

    @staticmethod
    def backward(ctx, grad):
        a, lo, hi = ctx.saved_tensors
        return tuple(grad * GradMask.apply(a, lo, hi, rule=rule) if need else None
                     for rule, need in zip(("between", "below", "above"), ctx.needs_input_grad))


def _float_test(xp, a, test, otherwise):
    """``test(a)`` on floating arrays; integers and bools are all ``otherwise``."""
    if _is_float(a):
        return test(a)
    return xp.full(a.shape, otherwise, dtype=bool)


class IsNan(_Test):
    label = "isnan(a)"

    @staticmethod
    def compute(xp, a):
        return _float_test(xp, a, xp.isnan, False)


class IsInf(_Test):
    label = "isinf(a)"

    @staticmethod
    def compute(xp, a):
        return _float_test(xp, a, xp.isinf, False)


class IsFinite(_Test):
    label = "isfinite(a)"

    @staticmethod
    def compute(xp, a):
        return _float_test(xp, a, xp.isfinite, True)


class IsPosInf(_Test):
    label = "a == inf"

    @staticmethod
    def compute(xp, a):
        return _float_test(xp, a, lambda v: v == xp.inf, False)


class IsNegInf(_Test):
    label = "a == -inf"

    @staticmethod
    def compute(xp, a):
        return _float_test(xp, a, lambda v: v == -xp.inf, False)


class IsReal(_Test):
    label = "imag(a) == 0"

    @staticmethod
    def compute(xp, a):
        if a.dtype.kind == "c":
            return xp.imag(a) == 0
        return xp.ones(a.shape, dtype=bool)


class Signbit(_Test):
    label = "signbit(a)"

    @staticmethod
    def compute(xp, a):
        if a.dtype.kind in "fV":
            return xp.signbit(a)
        return a < 0 if a.dtype.kind in "iu" else xp.zeros(a.shape, dtype=bool)


class LogicalNot(_Test):
    label = "not a"
    ufunc = "logical_not"


class BitwiseNot(_Test):
    label = "~a"
    ufunc = "invert"


# ---- public functions ------------------------------------------------------------------------

@_unary_op()
def abs(input):
    _check_dtype("abs", "abs", input, "b")
    return Abs.apply(input)


@_unary_op(inplace_function=False)
def absolute(input):
    return abs(input)


@_unary_op("negative")
def neg(input):
    check_tensor("neg", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return Neg.apply(input)


@_unary_op()
def exp(input):
    return Exp.apply(input)


@_unary_op()
def exp2(input):
    return Exp2.apply(input)


@_unary_op()
def expm1(input):
    return Expm1.apply(input)


@_unary_op()
def log(input):
    return Log.apply(input)


@_unary_op()
def log2(input):
    return Log2.apply(input)


@_unary_op()
def log10(input):
    return Log10.apply(input)


@_unary_op()
def log1p(input):
    return Log1P.apply(input)


@_unary_op()
def sqrt(input):
    return Sqrt.apply(input)


@_unary_op()
def rsqrt(input):
    return Rsqrt.apply(input)


@_unary_op()
def square(input):
    """input ** 2; bool inputs give int64, as in PyTorch."""
    return Square.apply(input)


@_unary_op()
def sin(input):
    return Sin.apply(input)


@_unary_op()
def cos(input):
    return Cos.apply(input)


@_unary_op()
def tan(input):
    return Tan.apply(input)


@_unary_op("arcsin")
def asin(input):
    return Asin.apply(input)


@_unary_op("arccos")
def acos(input):
    return Acos.apply(input)


@_unary_op("arctan")
def atan(input):
    return Atan.apply(input)


@_unary_op()
def sinh(input):
    return Sinh.apply(input)


@_unary_op()
def cosh(input):
    return Cosh.apply(input)


@_unary_op()
def tanh(input):
    return Tanh.apply(input)


@_unary_op("arcsinh")
def asinh(input):
    return Asinh.apply(input)


@_unary_op("arccosh")
def acosh(input):
    return Acosh.apply(input)


@_unary_op("arctanh")
def atanh(input):
    return Atanh.apply(input)


@_unary_op()
def sigmoid(input):
    """1 / (1 + exp(-input)), computed without overflow for large |input|."""
    return Sigmoid.apply(input)


@_unary_op()
def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when ``eps`` is given."""
    return Logit.apply(input, eps=eps)


@_unary_op()
def relu(input):
    check_tensor("relu", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


@_unary_op()
def erf(input):
    return Erf.apply(input)


@_unary_op()
def erfc(input):
    return Erfc.apply(input)


@_unary_op(inplace_function=False)
def erfinv(input):
    return Erfinv.apply(input)


@_unary_op()
def floor(input):
    _check_dtype("floor", "floor_vml", input, "b")
    return Floor.apply(input)


@_unary_op()
def ceil(input):
    _check_dtype("ceil", "ceil_vml", input, "b")
    return Ceil.apply(input)


@_unary_op("fix")
def trunc(input):
    _check_dtype("trunc", "trunc_vml", input, "b")
    return Trunc.apply(input)


@_unary_op()
def round(input, *, decimals=0):
    """Round half to even, to ``decimals`` decimal digits (negative: left of the point)."""
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round() received an invalid combination of arguments - got (Tensor, "
                        f"decimals={type(decimals).__name__}), but expected one of: (Tensor "
                        f"input, *, int decimals)")
    _check_dtype("round", "round_vml" if decimals == 0 else "round", input,
                 "b" if decimals == 0 else "biu")
    return Round.apply(input, decimals=decimals)


@_unary_op()
def frac(input):
    _check_dtype("frac", "frac", input, "biu")
    return Frac.apply(input)


@_unary_op(inplace_function=False)
def sign(input):
    check_tensor("sign", input)
    if input._data.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                  "numbers. Please use torch.sgn instead.")
    return Sign.apply(input)


@_unary_op(inplace_function=False)
def sgn(input):
    """sign for real inputs; z / |z| for complex ones."""
    return Sgn.apply(input)


@_unary_op()
def reciprocal(input):
    return Reciprocal.apply(input)


def _tensor_with_number(a, b):
    """One bound a tensor of 1+ dims, the other a number: PyTorch accepts no such mix."""
    if a is None or b is None or isinstance(a, Tensor) == isinstance(b, Tensor):
        return False
    return (a if isinstance(a, Tensor) else b).ndim > 0


@_unary_op("clip")
def clamp(input, min=None, max=None):
    """Limit ``input`` to [min, max]; each bound a number, a tensor or None (not both None)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if _tensor_with_number(min, max):
        raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, "
                        f"{type(min).__name__}, {type(max).__name__}): min and max must be both "
                        "Tensors or both numbers")
    return Clamp.apply(input, min, max)


@_unary_op()
def clamp_min(input, min):
    return _one_bound(clamp(input, min, None), "ClampMin", min)


@_unary_op()
def clamp_max(input, max):
    return _one_bound(clamp(input, None, max), "ClampMax", max)


@_unary_op()
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +-inf -> ``posinf`` / ``neginf`` (default: the dtype's finite extremes)."""
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


@_unary_op()
def deg2rad(input):
    return Deg2Rad.apply(input)


@_unary_op()
def rad2deg(input):
    return Rad2Deg.apply(input)


@export
def positive(input):
    """``input`` itself (the unary ``+``); an error for bool tensors, as in PyTorch."""
    check_tensor("positive", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@export
def isnan(input):
    return IsNan.apply(input)


@export
def isinf(input):
    return IsInf.apply(input)


@export
def isfinite(input):
    return IsFinite.apply(input)


@export
def isposinf(input):
    return IsPosInf.apply(input)


@export
def isneginf(input):
    return IsNegInf.apply(input)


@export
def isreal(input):
    return IsReal.apply(input)


@export
def signbit(input):
    check_tensor("signbit", input)
    if input._data.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    return Signbit.apply(input)


@_unary_op(inplace_function=False)
def logical_not(input):
    return LogicalNot.apply(input)


@_unary_op(inplace_function=False)
def bitwise_not(input):
    _check_dtype("bitwise_not", "bitwise_not", input, "fcV")
    return BitwiseNot.apply(input)


@method(name="__abs__")
def _abs(self):
    return abs(self)


@method(name="__neg__")
def _neg(self):
    return neg(self)


@method(name="__pos__")
def _pos(self):
    return positive(self)


@method(name="__invert__")
def _invert(self):
    if _is_float(self._data):
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return BitwiseNot.apply(self)


# ---- complex parts ----------------------------------------------------------------------------
class Conj(Function):
    raw = True
    label = "conj(a)"
    backward_rule = "grad_a = conj(grad)"

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.conj(a)

    @staticmethod
    def backward(ctx, grad):
        return Conj.apply(grad)


class RealPart(Function):
    raw = True
    is_view = True
    node_name = "RealBackward0"
    label = "real(a)"
    backward_rule = "grad_a = grad + 0j"

    @staticmethod
    def forward(ctx, a):
        return a.real

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine casts it to the complex input's dtype


class ImagPart(Function):
    raw = True
    is_view = True
    node_name = "ImagBackward0"
    label = "imag(a)"
    backward_rule = "grad_a = grad * 1j"

    @staticmethod
    def forward(ctx, a):
        return a.imag

    @staticmethod
    def backward(ctx, grad):
        return grad * 1j


@export(aliases=("conj_physical",))
def conj(input):
    """The complex conjugate (a copy; the input itself for real tensors, as in PyTorch)."""
    return Conj.apply(input) if input.dtype.is_complex else input


@function
def real(input):
    """The real part of a complex tensor as a view (the tensor itself when it is real)."""
    return RealPart.apply(input) if input.dtype.is_complex else input


@function
def imag(input):
    """The imaginary part of a complex tensor as a view."""
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return ImagPart.apply(input)


Tensor.real = property(real)
Tensor.imag = property(imag)
