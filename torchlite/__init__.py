"""torchlite: a PyTorch-compatible define-by-run tensor library on NumPy and CuPy that records
every op into an inspectable graph. ``import torchlite as torch``."""
import numpy as _np

from . import _dtype
from ._device import device
from ._dtype import (bfloat16, bool, can_cast, complex64, complex128, dtype, float16, float32,
                     float64, finfo, get_default_dtype, iinfo, int8, int16, int32, int64,
                     promote_types, set_default_dtype, uint8)
from ._tensor import Size, Tensor, typename
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from ._threads import get_num_threads, init_default as _init_threads, set_num_threads
from . import ops as _ops  # registers every op on Tensor and in _ops.EXPORTS
from . import _creation  # noqa: F401  (registers creation functions)
from . import _random
from ._random import Generator, default_generator
from . import cuda
from . import autograd
from .ops import _return_types as return_types
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.anomaly import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                               set_anomaly_enabled)
from .autograd.grad_mode import is_inference_mode_enabled
# Namespaces; nn registers ops too (softmax, log_softmax), so they load before the export below.
from . import linalg, nn, optim, utils  # noqa: E402
from .utils.dlpack import from_dlpack  # noqa: E402
from . import graph, viz  # noqa: E402  (the recorder and the widgets: torchlite's reason to exist)
from .serialization import load, save

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

globals().update(_ops.EXPORTS)  # every op published with @export / @function

from . import accelerator, amp, backends  # noqa: E402
from .amp.autocast_mode import (autocast, clear_autocast_cache, get_autocast_dtype,  # noqa: E402
                                is_autocast_cache_enabled, is_autocast_enabled,
                                set_autocast_cache_enabled, set_autocast_dtype,
                                set_autocast_enabled)
amp.autocast_mode.install()  # autocast's wrappers over the ops of its lists (after every op)

__version__ = "0.1.0"

_init_threads()
# PyTorch computes inf/nan silently (1 / 0 -> inf); NumPy would warn on every such op.
_np.seterr(divide="ignore", invalid="ignore", over="ignore", under="ignore")


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_complex(input):
    return input.dtype.is_complex


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives ``tensor1 op tensor2``."""
    return _dtype.result_type_of((tensor1, tensor2))
