"""Activation layers (torch.nn): thin Modules over nn.functional, with PyTorch's constructor
signatures, parameters and ``extra_repr``."""
from ..._creation import empty
from .. import functional as F
from ..parameter import Parameter
from .module import Module

__all__ = ["Threshold", "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU",
           "GELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid", "Softplus",
           "Softsign", "Softmax", "LogSoftmax", "Softmin", "GLU", "LogSigmoid", "Tanhshrink",
           "Softshrink", "Hardshrink"]


def _inplace_suffix(inplace):
    return ", inplace=True" if inplace else ""


class _Stateless(Module):
    """An activation with no settings: ``forward`` is ``fn(input)``."""

    fn = None

    def forward(self, input):
        return type(self).fn(input)


class _Inplace(Module):
    """An activation whose only setting is ``inplace``."""

    fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return (f"threshold={self.threshold}, value={self.value}"
                f"{_inplace_suffix(self.inplace)}")


class ReLU(_Inplace):
    fn = F.relu


class SELU(_Inplace):
    fn = F.selu


class SiLU(_Inplace):
    fn = F.silu


class Mish(_Inplace):
    fn = F.mish


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            min_val = min_value
        if max_value is not None:
            max_val = max_value
        if max_val <= min_val:
            raise AssertionError("max_val must be greater than min_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class PReLU(Module):
    """leaky_relu with learned slopes: one shared, or one per channel (``num_parameters``)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        from .. import init
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class _Alpha(Module):
    """ELU / CELU: ``alpha`` and ``inplace``."""

    fn = None

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return type(self).fn(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class ELU(_Alpha):
    fn = F.elu


class CELU(_Alpha):
    fn = F.celu


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(_Stateless):
    fn = F.sigmoid


class Tanh(_Stateless):
    fn = F.tanh


class Softsign(_Stateless):
    fn = F.softsign


class LogSigmoid(_Stateless):
    fn = F.logsigmoid


class Tanhshrink(_Stateless):
    fn = F.tanhshrink


class Hardswish(_Inplace):
    fn = F.hardswish

    def extra_repr(self):
        return ""


class Hardsigmoid(_Inplace):
    fn = F.hardsigmoid

    def extra_repr(self):
        return ""


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _DimModule(Module):
    """Softmax / LogSoftmax / Softmin / GLU: one ``dim`` setting."""

    fn = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input):
        return type(self).fn(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_DimModule):
    fn = F.softmax


class LogSoftmax(_DimModule):
    fn = F.log_softmax


class Softmin(_DimModule):
    fn = F.softmin


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _Lambda(Module):
    """Softshrink / Hardshrink: one ``lambd`` setting, shown bare."""

    fn = None

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self).fn(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Lambda):
    fn = F.softshrink


class Hardshrink(_Lambda):
    fn = F.hardshrink
