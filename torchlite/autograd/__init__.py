"""torchlite.autograd: backward, grad, Function, grad modes, functional, anomaly detection."""
from . import functional
from .anomaly import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                      set_anomaly_enabled, set_detect_anomaly)
from .engine import backward, grad
from .function import Function as _BaseFunction
from .function import once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, no_grad, set_grad_enabled)


class Function(_BaseFunction):
    """Base class for custom autograd operations, as ``torch.autograd.Function``.

    Subclasses define ``forward(ctx, *args)`` on Tensors and ``backward(ctx, *grads)``, and
    are called through ``MyFunction.apply(*args)``.
    """

    raw = False


__all__ = ["backward", "grad", "Function", "gradcheck", "gradgradcheck", "GradcheckError",
           "once_differentiable", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "functional", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_anomaly_enabled"]
