"""Elementwise binary and ternary ops: arithmetic, powers, min/max, comparisons, logical and
bitwise ops, where, lerp, addcmul/addcdiv, isclose; their in-place and Python-operator forms.

One Function per primitive. Function.apply promotes dtypes (class attribute ``promote``), so a
forward sees arrays of the result dtype (Python scalars stay weak scalars). Gradients are
returned in the broadcast output's shape; the engine reduces them to each input.
"""
import math
import numbers
import warnings

from .. import _dtype
from .._creation import zeros_like
from .._tensor import Tensor
from ..autograd.function import Function
from ._inplace import inplace
from ._registry import export, function, method
from ._util import named
from .unary import log

_SCALARS = (int, float, bool, complex)
_FAST = (Tensor, int, float, bool)  # operand types accepted without further checks


# ---- argument checks ----------------------------------------------------------------------
def _operand(op, x, pos, name, scalar_ok=True):
    """``x`` as an operand of ``op``: a Tensor or, where the op takes one, a Python number."""
    cls = x.__class__
    if cls is Tensor or isinstance(x, Tensor):
        return x
    if scalar_ok:
        if cls in _SCALARS:
            return x
        if isinstance(x, numbers.Number):  # NumPy scalars act as Python scalars, as in torch
            return x.item() if hasattr(x, "item") else x
    raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                    f"{type(x).__name__}")


def _operands(op, input, other, input_scalar=True, other_scalar=True, other_name="other"):
    return (_operand(op, input, 1, "input", input_scalar),
            _operand(op, other, 2, other_name, other_scalar))


def _is_operand(x):
    """Whether a Python operator should handle ``x`` (else it returns NotImplemented)."""
    return isinstance(x, (Tensor, numbers.Number))


def _first_array(xp, *xs):
    """The first array operand: after promotion its dtype is the op's computation dtype."""
    return next(x for x in xs if isinstance(x, xp.ndarray))


def _as_arrays(xp, *xs):
    """Operands as arrays of one dtype (scalars become 0-d arrays of the arrays' dtype)."""
    dt = _first_array(xp, *xs).dtype
    return [x if isinstance(x, xp.ndarray) else xp.asarray(x, dtype=dt) for x in xs]


def _not_implemented(kernel, arr):
    """PyTorch's error for a kernel that has no implementation for a dtype."""
    short = _dtype.from_numpy_dtype(arr.dtype)._short
    return NotImplementedError(f"\"{kernel}\" not implemented for '{short}'")


def _reject(ctx, kernel, kinds, *xs):
    """Raise the not-implemented error when the computation dtype's kind is in ``kinds``;
    ``kernel`` names PyTorch's kernel, with ``{dev}`` for the device type."""
    arr = _first_array(ctx.xp, *xs)
    if arr.dtype.kind in kinds:
        raise _not_implemented(kernel.format(dev=ctx.device.type), arr)
    return arr


def _check_int_divisor(ctx, arr, b):
    """Integer division by zero is an error on the CPU (as in PyTorch; CUDA does not check)."""
    if arr.dtype.kind not in "iu" or ctx.device.type != "cpu":
        return
    if (b == 0).any() if isinstance(b, ctx.xp.ndarray) else b == 0:
        raise RuntimeError("ZeroDivisionError")


def _is_bool(x):
    return type(x) is bool or (isinstance(x, Tensor) and x._data.dtype.kind == "b")


def _check_sub(input, other):
    if _is_bool(input) or _is_bool(other):
        if _is_bool(input) and _is_bool(other):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _check_alpha(input, other, alpha):
    """PyTorch's checks of ``alpha`` against the result dtype of add / sub."""
    if type(alpha) is int:
        return
    result = _dtype.result_type_of((input, other))
    if isinstance(alpha, bool):
        if result is not _dtype.bool:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and result.category < _dtype._FLOAT:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


# ---- arithmetic ---------------------------------------------------------------------------
def _scalar_value(arr, value):
    """A Python number as the arrays' dtype takes it (bool or int results truncate it, like
    PyTorch; NumPy would promote instead)."""
    kind = arr.dtype.kind
    if kind == "b":
        return bool(value)
    return int(value) if kind in "iu" else value


def _scaled(ctx, a, b, alpha):
    """``alpha * b`` of add / sub, in the result dtype."""
    if alpha.__class__ is int and alpha == 1:
        return b
    return b * _scalar_value(_first_array(ctx.xp, a, b), alpha)


class Add(Function):
    raw = True
    promote = "promote"
    array_backward = True
    label = "a + alpha * b"
    backward_rule = "grad_a = grad; grad_b = alpha * grad"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return ctx.xp.add(a, b if alpha.__class__ is int and alpha == 1 else
                          _scaled(ctx, a, b, alpha))

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return grad, None
        return grad, (grad if ctx.alpha == 1 else grad * ctx.alpha)


class Sub(Function):
    raw = True
    promote = "promote"
    array_backward = True
    label = "a - alpha * b"
    backward_rule = "grad_a = grad; grad_b = -alpha * grad"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if a.__class__ in _SCALARS:
            ctx.node_name = "RsubBackward1"  # number - tensor: PyTorch's rsub with a scalar
        return ctx.xp.subtract(a, _scaled(ctx, a, b, alpha))

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return grad, None
        return grad, (-grad if ctx.alpha == 1 else grad * -ctx.alpha)


class Mul(Function):
    raw = True
    promote = "promote"
    array_backward = True
    label = "a * b"
    backward_rule = "grad_a = grad * b; grad_b = grad * a"

    @staticmethod
    def forward(ctx, a, b):
        # each operand is read only by the other's gradient: saved only where that one is
        # needed (as PyTorch does); outside autograd, nothing is saved
        needs = ctx.needs_input_grad
        if needs:
            ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        return ctx.xp.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if _is_complex(grad):  # PyTorch's convention: grad * conj(derivative)
            a, b = _conj(a), _conj(b)
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    raw = True
    promote = "float"
    array_backward = True
    label = "a / b"
    backward_rule = "grad_a = grad / b; grad_b = -grad * a / b**2"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.true_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if _is_complex(grad):  # PyTorch's convention: grad * conj(derivative)
            a, b = _conj(a), _conj(b)
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


def _conj(x):
    """The conjugate of a complex operand: a Tensor, an array (a first-order backward runs on
    arrays) or a Python scalar; real ones unchanged."""
    if isinstance(x, complex):
        return x.conjugate()
    return x.conj() if hasattr(x, "conj") else x


def _is_complex(x):
    """Whether a gradient (a Tensor, or an array in a first-order backward) is complex."""
    return (x._data if isinstance(x, Tensor) else x).dtype.kind == "c"


def _zero_grads(ctx, grad):
    """Zero gradients for the tensor inputs that need one (piecewise-constant ops)."""
    return tuple(zeros_like(grad) if need else None for need in ctx.needs_input_grad)


class DivRounded(Function):
    raw = True
    promote = "promote"
    label = "div(a, b, rounding_mode)"
    backward_rule = "grad_a = 0; grad_b = 0 (piecewise constant)"

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        xp = ctx.xp
        arr = _reject(ctx, f"div_{mode}_{{dev}}", "bc", a, b)
        if arr.dtype.kind in "iu":
            _check_int_divisor(ctx, arr, b)
            q = xp.floor_divide(a, b)
            if mode == "trunc":  # floor rounds down where trunc rounds up: inexact, signs differ
                q = q + ((q * b != a) & ((a < 0) != (b < 0)))
            return q
        if mode == "trunc":
            return xp.trunc(xp.true_divide(a, b))
        return xp.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        return _zero_grads(ctx, grad)


class FloorDivide(DivRounded):
    label = "a // b"
    backward_rule = "not differentiable (PyTorch implements no derivative)"

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Remainder(Function):
    raw = True
    promote = "promote"
    label = "a % b"
    backward_rule = "grad_a = grad; grad_b = -grad * floor(a / b)"
    rounding = "floor"
    kernel = "remainder"

    @staticmethod
    def forward(ctx, a, b):
        arr = _reject(ctx, ctx.kernel + "_{dev}", "bc", a, b)
        _check_int_divisor(ctx, arr, b)
        if isinstance(b, ctx.xp.ndarray):  # PyTorch's overload with a Tensor divisor
            ctx.node_name = ctx.kernel.capitalize() + "Backward1"
        ctx.save_for_backward(a, b)
        return getattr(ctx.xp, ctx.kernel)(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if need_b and not isinstance(a, Tensor):  # PyTorch has no derivative for number % tensor
            raise RuntimeError(f"derivative for aten::{ctx.kernel} is not implemented")
        grad_b = -grad * DivRounded.apply(a, b, mode=ctx.rounding) if need_b else None
        return (grad if need_a else None), grad_b


class Fmod(Remainder):
    label = "fmod(a, b)"
    backward_rule = "grad_a = grad; grad_b = -grad * trunc(a / b)"
    rounding = "trunc"
    kernel = "fmod"


def _int_pow(xp, a, b):
    """Integer power with PyTorch's negative exponents: 1 ** -n = 1, (-1) ** -n = +-1, else 0."""
    if not isinstance(b, xp.ndarray):
        if b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return xp.power(a, b)
    neg = b < 0
    if not neg.any():
        return xp.power(a, b)
    a, b = _as_arrays(xp, a, b)
    out = xp.power(a, xp.where(neg, 0, b))
    small = xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b & 1), 0))
    return xp.where(neg, small, out).astype(out.dtype, copy=False)


def _scalar_log(x):
    """log of a Python scalar base with the values tensors give (-inf at 0, nan below)."""
    if isinstance(x, complex):
        import cmath
        return cmath.log(x)
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


class Pow(Function):
    raw = True
    promote = "promote"
    wrap_int_scalars = False  # int ** negative int raises, as in PyTorch
    label = "a ** b"
    backward_rule = ("grad_a = grad * b * a ** (b - 1) (0 where b == 0); "
                     "grad_b = grad * a ** b * log(a) (0 where a == 0 and b >= 0)")

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        arr = _first_array(xp, a, b)
        if arr.dtype.kind == "b":
            if type(b) is not bool:
                raise _not_implemented("pow", arr)
            return a.copy() if b else xp.ones_like(a)  # PyTorch's shortcut for ** 1 and ** 0
        out = _int_pow(xp, a, b) if arr.dtype.kind in "iu" else xp.power(a, b)
        if isinstance(b, xp.ndarray):  # PyTorch's overloads: Tensor ** Tensor, Scalar ** Tensor
            ctx.node_name = "PowBackward1" if isinstance(a, xp.ndarray) else "PowBackward2"
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            if isinstance(b, Tensor):
                grad_a = where(b == 0, 0.0, grad * (b * Pow.apply(a, b - 1)))
            elif b == 0:
                grad_a = zeros_like(grad)
            else:
                grad_a = grad * (b * Pow.apply(a, b - 1))
        if need_b:
            if isinstance(a, Tensor):
                grad_b = where((a == 0) & (b >= 0), 0.0, grad * (out * log(a)))
            elif a == 0:
                grad_b = where(b >= 0, 0.0, grad * (out * -math.inf))
            else:
                grad_b = grad * (out * _scalar_log(a))
        return grad_a, grad_b


class Atan2(Function):
    raw = True
    promote = "float"
    label = "atan2(a, b)"
    backward_rule = "grad_a = grad * b / (a**2 + b**2); grad_b = -grad * a / (a**2 + b**2)"

    @staticmethod
    def forward(ctx, a, b):
        _reject(ctx, "atan2_{dev}", "c", a, b)
        ctx.save_for_backward(a, b)
        return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        denom = a * a + b * b
        scaled = where(denom == 0, 0.0, grad / denom)  # PyTorch: 0 at the origin, not NaN
        return (scaled * b if need_a else None), (scaled * -a if need_b else None)


class Hypot(Function):
    raw = True
    promote = "promote"
    label = "hypot(a, b)"
    backward_rule = "grad_a = grad * a / out; grad_b = grad * b / out"

    @staticmethod
    def forward(ctx, a, b):
        _reject(ctx, "hypot_{dev}", "biuc", a, b)
        out = ctx.xp.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        scaled = grad / out
        return (scaled * a if need_a else None), (scaled * b if need_b else None)


class Copysign(Function):
    raw = True
    promote = "float"
    label = "copysign(a, b)"
    backward_rule = "grad_a = grad * out / a (0 where a == 0); grad_b = 0"

    @staticmethod
    def forward(ctx, a, b):
        _reject(ctx, "copysign_{dev}", "c", a, b)
        out = ctx.xp.copysign(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * where(a == 0, 0.0, out / a) if need_a else None
        return grad_a, (zeros_like(grad) if need_b else None)


class Xlogy(Function):
    raw = True
    promote = "float"
    label = "xlogy(a, b)"
    backward_rule = "grad_a = xlogy(grad, b) (0 where a == 0 and b <= 0); grad_b = grad * a / b"

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        _reject(ctx, "xlogy_{dev}", "c", a, b)
        ctx.save_for_backward(a, b)
        x, y = _as_arrays(xp, a, b)
        out = xp.where(x == 0, xp.zeros((), x.dtype), x * xp.log(y))
        return xp.where(xp.isnan(y), y, out)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = where((a == 0) & (b <= 0), 0.0, Xlogy.apply(grad, b)) if need_a else None
        return grad_a, (grad * a / b if need_b else None)


# ---- maximum / minimum --------------------------------------------------------------------
def _split_ties(ctx, grad, a_loses, b_loses, tie):
    """max/min gradient: to the larger (smaller) input; ties share it equally, like PyTorch."""
    shared = where(tie, grad / 2, grad)
    need_a, need_b = ctx.needs_input_grad
    return (where(a_loses, 0.0, shared) if need_a else None,
            where(b_loses, 0.0, shared) if need_b else None)


def _pick(ctx, grad, a_wins):
    """fmax/fmin gradient: all to the chosen input (``a`` on ties and where ``b`` is NaN)."""
    need_a, need_b = ctx.needs_input_grad
    return (where(a_wins, grad, 0.0) if need_a else None,
            where(a_wins, 0.0, grad) if need_b else None)


class _MinMax(Function):
    """Base of maximum, minimum, fmax, fmin: a ufunc; backward rules in the subclasses."""
    raw = True
    promote = "promote"
    ufunc = None

    @staticmethod
    def forward(ctx, a, b):
        if _first_array(ctx.xp, a, b).dtype.kind == "c":
            raise RuntimeError(f"{ctx.ufunc} not implemented for complex tensors.")
        ctx.save_for_backward(a, b)
        return getattr(ctx.xp, ctx.ufunc)(a, b)


class Maximum(_MinMax):
    ufunc = "maximum"
    label = "maximum(a, b)"
    backward_rule = "grad to the larger input, split equally on ties"

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_ties(ctx, grad, a < b, a > b, a == b)


class Minimum(_MinMax):
    ufunc = "minimum"
    label = "minimum(a, b)"
    backward_rule = "grad to the smaller input, split equally on ties"

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_ties(ctx, grad, a > b, a < b, a == b)


class Fmax(_MinMax):
    ufunc = "fmax"
    label = "fmax(a, b)"
    backward_rule = "grad_a = grad where a >= b or b is NaN; grad_b = grad elsewhere"

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _pick(ctx, grad, (a >= b) | (b != b))


class Fmin(_MinMax):
    ufunc = "fmin"
    label = "fmin(a, b)"
    backward_rule = "grad_a = grad where a <= b or b is NaN; grad_b = grad elsewhere"

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _pick(ctx, grad, (a <= b) | (b != b))


# ---- comparisons, logical and bitwise ops (never differentiable) --------------------------
class _Ufunc(Function):
    """Base of the non-differentiable elementwise ops that are one array function; dtypes of a
    kind in ``rejected`` raise PyTorch's not-implemented error for ``kernel``."""
    raw = True
    differentiable = False
    promote = "promote"
    ufunc = None
    kernel = None
    rejected = ""

    @staticmethod
    def forward(ctx, a, b):
        if ctx.rejected:
            _reject(ctx, ctx.kernel + "_{dev}", ctx.rejected, a, b)
        return getattr(ctx.xp, ctx.ufunc)(a, b)


def _ufunc_class(name, ufunc, label, kernel=None, rejected="", **attrs):
    return type(name, (_Ufunc,), {"ufunc": ufunc, "label": label, "kernel": kernel,
                                  "rejected": rejected, "backward_rule": "not differentiable",
                                  "__module__": __name__, **attrs})


Eq = _ufunc_class("Eq", "equal", "a == b")
Ne = _ufunc_class("Ne", "not_equal", "a != b")
Lt = _ufunc_class("Lt", "less", "a < b", "lt", "c")
Le = _ufunc_class("Le", "less_equal", "a <= b", "le", "c")
Gt = _ufunc_class("Gt", "greater", "a > b", "gt", "c")
Ge = _ufunc_class("Ge", "greater_equal", "a >= b", "ge", "c")
LogicalAnd = _ufunc_class("LogicalAnd", "logical_and", "a and b", promote=None)
LogicalOr = _ufunc_class("LogicalOr", "logical_or", "a or b", promote=None)
LogicalXor = _ufunc_class("LogicalXor", "logical_xor", "a xor b", promote=None)
# Bitwise ops take integer and bool dtypes only (shifts: integers only), like PyTorch.
BitwiseAnd = _ufunc_class("BitwiseAnd", "bitwise_and", "a & b", "bitwise_and", "fc")
BitwiseOr = _ufunc_class("BitwiseOr", "bitwise_or", "a | b", "bitwise_or", "fc")
BitwiseXor = _ufunc_class("BitwiseXor", "bitwise_xor", "a ^ b", "bitwise_xor", "fc")
LeftShift = _ufunc_class("LeftShift", "left_shift", "a << b", "lshift", "fcb")
RightShift = _ufunc_class("RightShift", "right_shift", "a >> b", "rshift", "fcb")


class IsClose(Function):
    raw = True
    differentiable = False
    label = "isclose(a, b)"
    backward_rule = "not differentiable"

    @staticmethod
    def forward(ctx, a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
        xp = ctx.xp
        close = a == b
        if equal_nan and a.dtype.kind in "fc":
            close = close | (xp.isnan(a) & xp.isnan(b))
        if rtol == 0 and atol == 0:
            return close
        if a.dtype.kind == "b":
            a, b = a.astype(_dtype.get_default_dtype().np), b.astype(_dtype.get_default_dtype().np)
        allowed = atol + xp.abs(rtol * b)
        actual = xp.abs(a - b)
        return close | (xp.isfinite(actual) & (actual <= allowed))


# ---- ternary ops --------------------------------------------------------------------------
class Where(Function):
    raw = True
    promote = "promote"
    label = "where(cond, a, b)"
    backward_rule = "grad_a = grad where cond else 0; grad_b = grad where not cond else 0"

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = ctx.xp
        target = cond.dtype  # promotion cast every tensor operand to the result dtype
        mask = cond if target.kind == "b" else cond.astype(bool)
        ctx.save_for_backward(mask)
        a = a if isinstance(a, xp.ndarray) else xp.asarray(a, dtype=target)
        b = b if isinstance(b, xp.ndarray) else xp.asarray(b, dtype=target)
        return xp.where(mask, a, b)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        return (None, where(mask, grad, 0.0) if need_a else None,
                where(mask, 0.0, grad) if need_b else None)


class Lerp(Function):
    raw = True
    label = "lerp(a, end, w)"
    backward_rule = "grad_a = grad * (1 - w); grad_end = grad * w; grad_w = grad * (end - a)"

    @staticmethod
    def forward(ctx, a, end, weight):
        xp = ctx.xp
        if isinstance(weight, xp.ndarray):
            ctx.node_name = "LerpBackward1"  # PyTorch's overload with a Tensor weight
        ctx.save_for_backward(a, end, weight)
        diff = end - a
        # PyTorch's two-sided formula: exact at both ends (w = 0 gives a, w = 1 gives end).
        out = xp.where(xp.abs(weight) < 0.5, a + weight * diff, end - diff * (1 - weight))
        return out.astype(a.dtype, copy=False)  # a float weight widens bfloat16 in NumPy

    @staticmethod
    def backward(ctx, grad):
        a, end, w = ctx.saved_tensors
        need_a, need_end, need_w = ctx.needs_input_grad
        return (grad * (1 - w) if need_a else None, grad * w if need_end else None,
                grad * (end - a) if need_w else None)


class Addcmul(Function):
    raw = True
    promote = "promote"
    label = "a + value * t1 * t2"
    backward_rule = "grad_a = grad; grad_t1 = grad * t2 * value; grad_t2 = grad * t1 * value"

    @staticmethod
    def forward(ctx, a, t1, t2, value=1):
        arr = _reject(ctx, "addcmul_{dev}_out", "b", a, t1, t2)
        ctx.value = value = _scalar_value(arr, value)
        ctx.save_for_backward(t1, t2)
        return a + value * t1 * t2

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        need_a, need_1, need_2 = ctx.needs_input_grad
        v = ctx.value
        return (grad if need_a else None, grad * t2 * v if need_1 else None,
                grad * t1 * v if need_2 else None)


class Addcdiv(Function):
    raw = True
    promote = "promote"
    label = "a + value * t1 / t2"
    backward_rule = "grad_a = grad; grad_t1 = grad * value / t2; " \
                    "grad_t2 = -grad * value * t1 / t2**2"

    @staticmethod
    def forward(ctx, a, t1, t2, value=1):
        ctx.value = value
        ctx.save_for_backward(t1, t2)
        return a + value * t1 / t2

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        need_a, need_1, need_2 = ctx.needs_input_grad
        v = ctx.value
        return (grad if need_a else None, grad * v / t2 if need_1 else None,
                -grad * v * t1 / (t2 * t2) if need_2 else None)


# ---- public functions ---------------------------------------------------------------------
@export
def add(input, other, *, alpha=1):
    """input + alpha * other."""
    input, other = _operands("add", input, other)
    if alpha.__class__ is not int or alpha != 1:
        _check_alpha(input, other, alpha)
    return Add.apply(input, other, alpha=alpha)


@export(aliases=("subtract",))
def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    input, other = _operands("sub", input, other)
    _check_sub(input, other)
    if alpha.__class__ is not int or alpha != 1:
        _check_alpha(input, other, alpha)
    return Sub.apply(input, other, alpha=alpha)


@export
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    out = sub(other, input, alpha=alpha)
    # PyTorch's tensor-tensor overload (a number - tensor is RsubBackward1: Sub.forward)
    return named(out, "RsubBackward0") if isinstance(other, Tensor) else out


@export(aliases=("multiply",))
def mul(input, other):
    """input * other."""
    input, other = _operands("mul", input, other)
    return Mul.apply(input, other)


_ROUNDING = (None, "trunc", "floor")


@export(aliases=("divide",))
def div(input, other, *, rounding_mode=None):
    """True division, or rounded division with ``rounding_mode`` "trunc" / "floor"."""
    input, other = _operands("div", input, other)
    if rounding_mode is None:
        return Div.apply(input, other)
    if rounding_mode not in _ROUNDING:
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return DivRounded.apply(input, other, mode=rounding_mode)


@export
def true_divide(input, other):
    """input / other, always in a floating dtype (div without rounding_mode)."""
    input, other = _operands("true_divide", input, other)
    return Div.apply(input, other)


@export
def floor_divide(input, other):
    """Division rounded towards minus infinity (not differentiable, as in PyTorch)."""
    input, other = _operands("floor_divide", input, other)
    return FloorDivide.apply(input, other, mode="floor")


@export
def remainder(input, other):
    """Python's modulus: the result has the sign of the divisor."""
    input, other = _operands("remainder", input, other)
    return Remainder.apply(input, other)


@export
def fmod(input, other):
    """C's fmod: the result has the sign of the dividend."""
    input, other = _operands("fmod", input, other, input_scalar=False)
    return Fmod.apply(input, other)


@export
def pow(input, exponent):
    """input ** exponent; either may be a Python number."""
    input, exponent = _operands("pow", input, exponent, other_name="exponent")
    return Pow.apply(input, exponent)


def _to_dtype(x, dt):
    return x.to(dt) if isinstance(x, Tensor) and x.dtype is not dt else x


@export
def float_power(input, exponent):
    """pow computed in double precision (complex128 when an operand is complex)."""
    input, exponent = _operands("float_power", input, exponent, other_name="exponent")
    cplx = any(isinstance(x, complex) or (isinstance(x, Tensor) and x.dtype.is_complex)
               for x in (input, exponent))
    dt = _dtype.complex128 if cplx else _dtype.float64
    return Pow.apply(_to_dtype(input, dt), _to_dtype(exponent, dt))


@export(aliases=("arctan2",))
def atan2(input, other):
    """The angle of the point (other, input): arctan(input / other) in the right quadrant."""
    input, other = _operands("atan2", input, other, False, False)
    return Atan2.apply(input, other)


@export
def hypot(input, other):
    """sqrt(input**2 + other**2) without overflow in the squares (floating dtypes only)."""
    input, other = _operands("hypot", input, other, False, False)
    return Hypot.apply(input, other)


@export
def copysign(input, other):
    """|input| with the sign of other (the sign bit: -0.0 counts as negative)."""
    input, other = _operands("copysign", input, other, input_scalar=False)
    return Copysign.apply(input, other)


@export
def xlogy(input, other):
    """input * log(other), 0 where input == 0 (unless other is NaN)."""
    input, other = _operands("xlogy", input, other)
    return Xlogy.apply(input, other)


def _binary(name, cls, input_scalar, other_scalar, doc, aliases=()):
    """Publish ``torchlite.<name>(input, other)`` for a Function of two operands."""
    def op(input, other):
        input, other = _operands(name, input, other, input_scalar, other_scalar)
        return cls.apply(input, other)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return export(op, aliases=aliases)


maximum = _binary("maximum", Maximum, False, False, "Elementwise maximum (NaN propagates).")
minimum = _binary("minimum", Minimum, False, False, "Elementwise minimum (NaN propagates).")
fmax = _binary("fmax", Fmax, False, False, "Elementwise maximum ignoring NaN.")
fmin = _binary("fmin", Fmin, False, False, "Elementwise minimum ignoring NaN.")
eq = _binary("eq", Eq, False, True, "input == other, elementwise (bool).")
ne = _binary("ne", Ne, False, True, "input != other, elementwise (bool).", ("not_equal",))
lt = _binary("lt", Lt, False, True, "input < other, elementwise (bool).", ("less",))
le = _binary("le", Le, False, True, "input <= other, elementwise (bool).", ("less_equal",))
gt = _binary("gt", Gt, False, True, "input > other, elementwise (bool).", ("greater",))
ge = _binary("ge", Ge, False, True, "input >= other, elementwise (bool).", ("greater_equal",))
logical_and = _binary("logical_and", LogicalAnd, False, False, "Elementwise logical and.")
logical_or = _binary("logical_or", LogicalOr, False, False, "Elementwise logical or.")
logical_xor = _binary("logical_xor", LogicalXor, False, False, "Elementwise logical xor.")
bitwise_and = _binary("bitwise_and", BitwiseAnd, True, True, "Bitwise and (ints, bools).")
bitwise_or = _binary("bitwise_or", BitwiseOr, True, True, "Bitwise or (ints, bools).")
bitwise_xor = _binary("bitwise_xor", BitwiseXor, True, True, "Bitwise xor (ints, bools).")
bitwise_left_shift = _binary("bitwise_left_shift", LeftShift, True, True,
                             "input << other (integers; shifts past the width give 0).")
bitwise_right_shift = _binary("bitwise_right_shift", RightShift, True, True,
                              "input >> other (integers; arithmetic shift).")


@function
def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other``; ``where(condition)`` is its nonzero indices."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    condition = _operand("where", condition, 1, "condition", False)
    input, other = _operand("where", input, 2, "input"), _operand("where", other, 3, "other")
    if condition._data.dtype.kind != "b":
        if condition.dtype is not _dtype.uint8:
            raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {condition.dtype._short}")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated "
                      "and will be removed in a future version of PyTorch. Use a boolean "
                      "condition instead.", UserWarning, stacklevel=2)
        condition = Ne.apply(condition, 0)
    return Where.apply(condition, input, other)


@method(name="where")
def _where_method(self, condition, other):
    """``self.where(condition, other)`` is ``where(condition, self, other)``."""
    return where(condition, self, other)


_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>"}


def _check_same_dtype(input, x, name):
    if x.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {_CPP_NAMES[input.dtype.name]} for `{name}` but got "
                           f"dtype {_CPP_NAMES[x.dtype.name]}")


@export
def lerp(input, end, weight):
    """input + weight * (end - input); ``weight`` a number or a tensor."""
    input = _operand("lerp", input, 1, "input", False)
    end = _operand("lerp", end, 2, "end", False)
    weight = _operand("lerp", weight, 3, "weight")
    _check_same_dtype(input, end, "end")
    if isinstance(weight, Tensor):
        if weight.ndim:
            _check_same_dtype(input, weight, "weight")
        weight = _to_dtype(weight, input.dtype)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        kind = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise _not_implemented(f"lerp_kernel_{kind}", input._data)
    return Lerp.apply(input, end, weight)


def _ternary_operands(name, input, tensor1, tensor2):
    return (_operand(name, input, 1, "input", False), _operand(name, tensor1, 2, "tensor1", False),
            _operand(name, tensor2, 3, "tensor2", False))


@export
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    input, tensor1, tensor2 = _ternary_operands("addcmul", input, tensor1, tensor2)
    return Addcmul.apply(input, tensor1, tensor2, value=value)


@export
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (true division; integer tensor1 / tensor2 refused)."""
    input, tensor1, tensor2 = _ternary_operands("addcdiv", input, tensor1, tensor2)
    if tensor1.dtype.category < _dtype._FLOAT and tensor2.dtype.category < _dtype._FLOAT:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
            "for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    return Addcdiv.apply(input, tensor1, tensor2, value=value)


@export
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (equal infinities are close)."""
    input, other = _operands("isclose", input, other, False, False)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype._short} did not match {other.dtype._short}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tol:g}")
    return IsClose.apply(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


@export
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element is close (see isclose), as a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@export
def equal(input, other):
    """True when both tensors have the same shape and the same values."""
    input, other = _operands("equal", input, other, False, False)
    if input.shape != other.shape:
        return False
    return bool(Eq.apply(input, other)._data.all())


# ---- in-place variants and Python operators -----------------------------------------------
def _inplace_variant(fn, name):
    def op_(self, *args, **kwargs):
        return inplace(self, fn, *args, **kwargs)
    op_.__name__ = op_.__qualname__ = name
    op_.__doc__ = f"In-place {name[:-1]}: writes the result into ``self``."
    return op_


@method
def float_power_(self, exponent):
    """In-place float_power: ``self`` must already be double (or complex double)."""
    want = "ComplexDouble" if isinstance(exponent, complex) or self.dtype.is_complex or (
        isinstance(exponent, Tensor) and exponent.dtype.is_complex) else "Double"
    if self.dtype._short != want:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype._short} but "
                           f"the operation's result requires dtype {want}")
    return inplace(self, float_power, exponent)


class AsDtypeOf(Function):
    """A comparison's result written into a float tensor in place: the tensor keeps a graph node
    that passes it zero gradient (as PyTorch's ``lt_``), rather than its stale history."""
    raw = True
    label = "cast(cmp(a, b), a.dtype)"
    backward_rule = "grad_a = 0"

    @staticmethod
    def forward(ctx, a, value):
        return value.astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad), None


def _compare_inplace_variant(fn, name):
    return _inplace_variant(lambda s, *args: AsDtypeOf.apply(s, fn(s, *args)), name)


_INPLACE = [
    (add, "add_"), (sub, "sub_", "subtract_"), (mul, "mul_", "multiply_"),
    (div, "div_", "divide_"), (true_divide, "true_divide_"), (floor_divide, "floor_divide_"),
    (remainder, "remainder_"), (fmod, "fmod_"), (pow, "pow_"), (atan2, "atan2_", "arctan2_"),
    (hypot, "hypot_"), (copysign, "copysign_"), (xlogy, "xlogy_"), (bitwise_and, "bitwise_and_"),
    (bitwise_or, "bitwise_or_"), (bitwise_xor, "bitwise_xor_"),
    (bitwise_left_shift, "bitwise_left_shift_"), (bitwise_right_shift, "bitwise_right_shift_"),
    (lerp, "lerp_"), (addcmul, "addcmul_"), (addcdiv, "addcdiv_"),
    # PyTorch's in-place logical ops leave the tensor's history as it was; so do these.
    (logical_and, "logical_and_"), (logical_or, "logical_or_"), (logical_xor, "logical_xor_"),
]
_COMPARE_INPLACE = [
    (eq, "eq_"), (ne, "ne_", "not_equal_"), (lt, "lt_", "less_"), (le, "le_", "less_equal_"),
    (gt, "gt_", "greater_"), (ge, "ge_", "greater_equal_"),
]
for _table, _variant in ((_INPLACE, _inplace_variant),
                         (_COMPARE_INPLACE, _compare_inplace_variant)):
    for _fn, _name, *_aliases in _table:
        method(_variant(_fn, _name), aliases=tuple(_aliases))


def _operator(fn, name, reflected=False, in_place=False, direct=None):
    """A Python operator method: NotImplemented for operands that are not tensors or numbers.

    ``direct`` is the op's Function: for Tensor and Python-number operands the operator calls
    its ``apply`` straight away (the hot path of ``a + b``); other operands go through ``fn``."""
    apply = direct.apply if direct is not None and not in_place else None

    def op(self, other):
        if other.__class__ in _FAST:
            if apply is not None:
                return apply(other, self) if reflected else apply(self, other)
        elif not _is_operand(other):
            return NotImplemented
        if in_place:
            return inplace(self, fn, other)
        return fn(other, self) if reflected else fn(self, other)
    op.__name__ = op.__qualname__ = name
    return method(op, name=name)


for _fn, _stem, _direct in ((add, "add", Add), (sub, "sub", None), (mul, "mul", Mul),
                            (div, "truediv", Div), (floor_divide, "floordiv", None),
                            (remainder, "mod", None), (pow, "pow", None),
                            (bitwise_and, "and", None), (bitwise_or, "or", None),
                            (bitwise_xor, "xor", None), (bitwise_left_shift, "lshift", None),
                            (bitwise_right_shift, "rshift", None)):
    _operator(_fn, f"__{_stem}__", direct=_direct)
    _operator(_fn, f"__r{_stem}__", reflected=True, direct=_direct)
    _operator(_fn, f"__i{_stem}__", in_place=True)
for _fn, _stem in ((eq, "eq"), (ne, "ne"), (lt, "lt"), (le, "le"), (gt, "gt"), (ge, "ge")):
    _operator(_fn, f"__{_stem}__")
