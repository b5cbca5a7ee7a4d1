"""torchlite.cuda: the GPU through CuPy (imported lazily), with PyTorch's torch.cuda API.

Without CuPy, a working driver or a GPU, every function behaves as in a CPU-only PyTorch build:
``is_available()`` is False, ``device_count()`` 0, the memory counters 0, and what needs a device
raises PyTorch's ``AssertionError("Torch not compiled with CUDA enabled")`` (with the reason).
"""
import collections

import importlib

from .._device import _cupy, device as _device_cls, gpu_cupy
from .memory import (empty_cache, max_memory_allocated, max_memory_reserved, mem_get_info,
                     memory_allocated, memory_reserved, memory_stats, memory_summary,
                     reset_peak_memory_stats)
from .streams import Event, Stream, current_stream, default_stream, stream

__all__ = ["is_available", "device_count", "current_device", "set_device", "device",
           "get_device_name", "get_device_properties", "get_device_capability", "synchronize",
           "manual_seed", "manual_seed_all", "is_bf16_supported", "is_initialized", "init",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "empty_cache", "memory_stats", "memory_summary",
           "mem_get_info", "Event", "Stream", "current_stream", "default_stream", "stream"]


def __getattr__(name):
    if name == "amp":  # torch.cuda.amp: loaded on first use (it needs the whole of torchlite)
        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _count():
    cupy, _ = gpu_cupy()
    return 0 if cupy is None else int(cupy.cuda.runtime.getDeviceCount())


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return _count() > 0


def device_count():
    return _count()


def is_initialized():
    """Whether a cuda device has been used (CuPy imported and a device seen)."""
    import sys
    return "cupy" in sys.modules and is_available()


def init():
    _cupy()


def _index(dev=None, optional=True):
    """The device index of ``dev`` (an int, "cuda:N", a device, or None for the current one)."""
    if dev is None:
        return _cupy().cuda.runtime.getDevice()
    if isinstance(dev, int):
        return dev
    dev = _device_cls(dev)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return dev.index if dev.index is not None else _cupy().cuda.runtime.getDevice()


def current_device():
    """The index of the current cuda device."""
    return _cupy().cuda.runtime.getDevice()


def set_device(device):
    """Make ``device`` the current cuda device (a negative index does nothing, as in PyTorch)."""
    idx = _index(device)
    if idx >= 0:
        _cupy().cuda.runtime.setDevice(idx)


class device:
    """Context manager that makes ``device`` current and restores the previous one."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


_Props = collections.namedtuple(
    "_CudaDeviceProperties", "name major minor total_memory multi_processor_count")


class _CudaDeviceProperties(_Props):
    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    """Name, compute capability, total memory and SM count of a cuda device."""
    cupy = _cupy()
    idx = _index(device)
    if not 0 <= idx < device_count():
        raise AssertionError("Invalid device id")
    p = cupy.cuda.runtime.getDeviceProperties(idx)
    name = p["name"].decode() if isinstance(p["name"], bytes) else p["name"]
    return _CudaDeviceProperties(name, p["major"], p["minor"], p["totalGlobalMem"],
                                 p["multiProcessorCount"])


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    p = get_device_properties(device)
    return p.major, p.minor


def synchronize(device=None):
    """Wait for every kernel queued on ``device`` (default: the current one) to finish."""
    cupy = _cupy()
    with cupy.cuda.Device(_index(device)):
        cupy.cuda.Device().synchronize()


def manual_seed(seed):
    """A no-op: torchlite draws every device's samples from the CPU generator, which
    ``torchlite.manual_seed`` seeds."""


def manual_seed_all(seed):
    """A no-op: torchlite draws every device's samples from the CPU generator, which
    ``torchlite.manual_seed`` seeds."""


def is_bf16_supported(including_emulation=True):
    """True on a GPU of compute capability >= 8.0 whose CuPy can hold bfloat16 arrays."""
    if not is_available():
        return False
    if get_device_capability()[0] < 8:
        return False
    try:
        import ml_dtypes
        _cupy().zeros(1, dtype=ml_dtypes.bfloat16)
    except Exception:  # this CuPy has no bfloat16
        return False
    return True
