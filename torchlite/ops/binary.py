"""Elementwise binary arithmetic: one Function per primitive, with broadcasting and scalars.

Gradients are returned in the broadcast output's shape; the engine reduces them to each input.
"""
from .._tensor import Tensor
from ..autograd.function import Function
from ._registry import export, method


class Add(Function):
    raw = True
    promote = "promote"
    label = "a + b"
    backward_rule = "grad_a = grad; grad_b = grad"

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    raw = True
    promote = "promote"
    label = "a - b"
    backward_rule = "grad_a = grad; grad_b = -grad"

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    raw = True
    promote = "promote"
    label = "a * b"
    backward_rule = "grad_a = grad * b; grad_b = grad * a"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    raw = True
    promote = "float"
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
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


def _check_tensor(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")


@export
def add(input, other, *, alpha=1):
    """input + alpha * other."""
    _check_tensor("add", input)
    if alpha != 1:
        other = other * alpha
    return Add.apply(input, other)


@export(aliases=("subtract",))
def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    _check_tensor("sub", input)
    if alpha != 1:
        other = other * alpha
    return Sub.apply(input, other)


@export(aliases=("multiply",))
def mul(input, other):
    _check_tensor("mul", input)
    return Mul.apply(input, other)


@export(aliases=("divide",))
def div(input, other, *, rounding_mode=None):
    """True division, or rounded division with ``rounding_mode`` "trunc" / "floor"."""
    _check_tensor("div", input)
    if rounding_mode is None:
        return Div.apply(input, other)
    raise NotImplementedError(f"div(rounding_mode={rounding_mode!r})")


@export
def true_divide(input, other):
    return Div.apply(input, other)


@method(name="__add__")
def _add(self, other):
    return Add.apply(self, other)


@method(name="__sub__")
def _sub(self, other):
    return Sub.apply(self, other)


@method(name="__mul__")
def _mul(self, other):
    return Mul.apply(self, other)


@method(name="__truediv__")
def _truediv(self, other):
    return Div.apply(self, other)


@method(name="__radd__")
def _radd(self, other):
    return Add.apply(self, other)


@method(name="__rsub__")
def _rsub(self, other):
    return Sub.apply(other, self)


@method(name="__rmul__")
def _rmul(self, other):
    return Mul.apply(self, other)


@method(name="__rtruediv__")
def _rtruediv(self, other):
    return Div.apply(other, self)
