"""Elementwise unary math: one Function per primitive; backward rules in torchlite ops."""
from ..autograd.function import Function
from ._registry import export, method


class Neg(Function):
    raw = True
    label = "-a"
    backward_rule = "grad_a = -grad"

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    raw = True
    promote = "float"
    label = "exp(a)"
    backward_rule = "grad_a = grad * exp(a)"

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    raw = True
    promote = "float"
    label = "log(a)"
    backward_rule = "grad_a = grad / a"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


@export(aliases=("negative",))
def neg(input):
    return Neg.apply(input)


@method(name="__neg__")
def _neg(self):
    return Neg.apply(self)


@export
def exp(input):
    return Exp.apply(input)


@export
def log(input):
    return Log.apply(input)
