"""Anomaly detection: NaN checks on backward outputs and the forward traceback of a failing node.

With anomaly mode on, ``Function.apply`` records the Python stack of every op on its node
(``ctx._forward_stack``) and the engine passes each backward's gradients to
``check_backward_output``. As in PyTorch, the mode is one process-wide flag, not thread-local.
"""
import os
import warnings

from .._tensor import Tensor
from .function import _ANOMALY

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_anomaly_enabled():
    return _ANOMALY["enabled"]


def is_anomaly_check_nan_enabled():
    return _ANOMALY["check_nan"]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly mode on or off (``torch.set_anomaly_enabled``)."""
    _ANOMALY["enabled"] = bool(enabled)
    _ANOMALY["check_nan"] = bool(check_nan)


class detect_anomaly:
    """Context manager: anomaly mode on inside the block (``torch.autograd.detect_anomaly``)."""

    def __init__(self, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


class set_detect_anomaly:
    """Set anomaly mode at once; as a context manager, restore the previous mode on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


def check_backward_output(node, grads):
    """Called by the engine after ``node``'s backward: raise on NaN gradients, as PyTorch."""
    if not _ANOMALY["check_nan"]:
        return
    for i, g in enumerate(grads):
        if isinstance(g, Tensor) and bool(g._device.xp.isnan(g._data).any()):
            warn_forward_stack(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")


def warn_forward_stack(node):
    """A UserWarning with the user's forward traceback of the op that made ``node``."""
    stack = node.__dict__.get("_forward_stack")
    if stack is None:
        warnings.warn(f"Error detected in {node.name()}. No forward pass information available. "
                      "Enable detect anomaly during forward pass for more information.",
                      UserWarning, stacklevel=2)
        return
    frames = "".join(f for f in stack if not _in_package(f))
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the "
                  f"error:\n{frames}", UserWarning, stacklevel=2)


def _in_package(frame):
    """Whether a formatted stack entry is a frame inside torchlite itself (not user code)."""
    return frame.startswith(f'  File "{_PACKAGE_DIR}{os.sep}')
