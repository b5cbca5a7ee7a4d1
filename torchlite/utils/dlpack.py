"""DLPack: share a tensor's memory with NumPy, CuPy, PyTorch and any other DLPack library.

``torchlite.from_dlpack(x)`` wraps the memory of any object with ``__dlpack__`` (or a capsule
from a ``to_dlpack`` function) without copying; ``Tensor.__dlpack__`` lets other libraries do the
same with a tensor (``torch.from_dlpack(t)``, ``numpy.from_dlpack(t)``). CPU memory goes through
NumPy's DLPack support and cuda memory through CuPy's, so the tensor and the other library's
array are two views of the same bytes: a write through one is seen by the other.

NumPy has no bfloat16 and neither exports nor imports DLPack's bfloat16 type, so bfloat16
capsules cross NumPy as the same bits labelled uint16, and the label is set back to bfloat16 in
the capsule's own DLTensor (the C struct of the DLPack header, read here through ``ctypes``).
"""
import ctypes
import enum

import numpy as np

from .. import _device, _dtype
from .._creation import checked_array
from .._tensor import Tensor, _make

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """Device types of the DLPack specification (``dlpack.h``), as in ``torch.utils.dlpack``."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


# ---- the C structs of dlpack.h (DLPack 0.8 and 1.x) -------------------------------------------
class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
                ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):  # capsule name "dltensor"
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


class _DLManagedTensorVersioned(ctypes.Structure):  # capsule name "dltensor_versioned"
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32),
                ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
                ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor)]


_LEGACY, _VERSIONED = b"dltensor", b"dltensor_versioned"
_UINT, _BFLOAT = 1, 4  # DLDataTypeCode values

_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype, _capsule_is_valid.argtypes = ctypes.c_int, [ctypes.py_object,
                                                                       ctypes.c_char_p]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype, _capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                                        ctypes.c_char_p]

_INVALID_CAPSULE = ("from_dlpack received an invalid capsule. Note that DLTensor capsules can be "
                    "consumed only once, so you might have already constructed a tensor from it "
                    "once.")


def _dl_tensor(capsule):
    """The DLTensor of an unconsumed DLPack capsule; RuntimeError for anything else (a used
    capsule, another object)."""
    if _capsule_is_valid(capsule, _LEGACY):
        return _DLManagedTensor.from_address(_capsule_pointer(capsule, _LEGACY)).dl_tensor
    if not _capsule_is_valid(capsule, _VERSIONED):
        raise RuntimeError(_INVALID_CAPSULE)
    managed = _DLManagedTensorVersioned.from_address(_capsule_pointer(capsule, _VERSIONED))
    if managed.major != 1:  # the struct layout is only known for 1.x
        raise BufferError(f"from_dlpack: DLPack version {managed.major}.{managed.minor} is not "
                          "supported (only 0.x and 1.x)")
    return managed.dl_tensor


class _CapsuleExporter:
    """A capsule dressed as an exporter: NumPy's and CuPy's ``from_dlpack`` take exporters."""

    def __init__(self, capsule, dl_device):
        self.capsule, self.dl_device = capsule, dl_device

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.dl_device


class _WritableView:
    """The ``__array_interface__`` of ``arr`` without its read-only flag, keeping ``arr`` (and so
    the capsule's memory) alive for as long as the array made from it."""

    def __init__(self, arr):
        self.arr = arr
        self.__array_interface__ = dict(arr.__array_interface__,
                                        data=(arr.__array_interface__["data"][0], False))


def _writable_unless_overlapping(arr):
    """As in PyTorch, memory from DLPack is writable (NumPy makes arrays from unversioned or
    read-only-flagged capsules read-only), except where several elements share one memory
    location (an expanded tensor), which torchlite marks read-only to refuse in-place writes."""
    if arr.size and any(step == 0 and n > 1 for step, n in zip(arr.strides, arr.shape)):
        arr.flags.writeable = False
    elif not arr.flags.writeable:
        arr = np.asarray(_WritableView(arr))
    return arr


def _torchlite_device(dl_device):
    """The torchlite device of a ``(DLDeviceType, index)`` pair (CPU or CUDA only)."""
    kind, index = dl_device
    if kind == DLDeviceType.kDLCPU:
        return _device.CPU
    if kind == DLDeviceType.kDLCUDA:
        return _device.device("cuda", int(index))
    raise BufferError(f"Unsupported device_type: {int(kind)}")


# ---- export -----------------------------------------------------------------------------------
def export(tensor, stream=-1, max_version=None, dl_device=None, copy=None):
    """The capsule behind ``Tensor.__dlpack__`` and ``to_dlpack`` (which skips the grad check),
    made by the array's own ``__dlpack__``: PyTorch's stream, device and copy rules."""
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if dl_device is not None and tuple(dl_device) != tensor.__dlpack_device__():
        target = _torchlite_device(dl_device)
        if copy is False:
            raise ValueError(f"cannot move (i.e. copy=False) tensor from {tensor.device} to "
                             f"{target} without copying.")
        tensor, dl_device, copy = tensor.detach().to(target), None, None
    kwargs = {"max_version": max_version, "dl_device": dl_device, "copy": copy}
    data = tensor._data
    if tensor.device.type == "cuda":
        return data.__dlpack__(stream=stream, **kwargs)
    if stream is not None and stream != -1:
        raise AssertionError("stream should be None on cpu.")
    is_bfloat16 = data.dtype == _dtype.bfloat16.np
    if is_bfloat16:
        data = data.view(np.uint16)
    if not data.flags.writeable and (max_version is None or max_version[0] < 1):
        data = np.asarray(_WritableView(data))  # NumPy refuses, PyTorch exports (expanded views)
    capsule = data.__dlpack__(**kwargs)
    if is_bfloat16:
        _dl_tensor(capsule).dtype.code = _BFLOAT
    return capsule


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory (PyTorch's legacy interface: the capsule can
    only be given to one ``from_dlpack``). Like PyTorch's, it does not refuse tensors that
    require grad; ``tensor.__dlpack__()`` does."""
    if not isinstance(tensor, Tensor):
        raise TypeError("to_dlpack(): argument 'tensor' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    return export(tensor)


# ---- import -----------------------------------------------------------------------------------
def _capsule_of(ext_tensor, kwargs):
    """``ext_tensor.__dlpack__(**kwargs)``, retried without the newer keywords an older exporter
    may not take (as PyTorch does); also whether the exporter was given ``copy``."""
    for dropped in (None, "max_version", "copy", "dl_device"):
        kwargs.pop(dropped, None)
        try:
            return ext_tensor.__dlpack__(**kwargs), "copy" in kwargs
        except TypeError:
            if dropped == "dl_device":
                raise


def _consume(capsule):
    """The NumPy or CuPy array that takes over ``capsule``'s memory, and its torchlite device."""
    dl_tensor = _dl_tensor(capsule)
    dl_device = (dl_tensor.device.device_type, dl_tensor.device.device_id)
    device = _torchlite_device(dl_device)
    if device.type == "cuda":
        return _device._cupy().from_dlpack(_CapsuleExporter(capsule, dl_device)), device
    is_bfloat16 = dl_tensor.dtype.code == _BFLOAT and dl_tensor.dtype.bits == 16
    if is_bfloat16:
        dl_tensor.dtype.code = _UINT
    arr = _writable_unless_overlapping(np.from_dlpack(_CapsuleExporter(capsule, dl_device)))
    return (arr.view(_dtype.bfloat16.np) if is_bfloat16 else arr), device


def _target_dl_device(device):
    """The ``(DLDeviceType, index)`` of a ``device=`` argument."""
    if isinstance(device, str):
        device = _device.device(device)
    if not isinstance(device, _device.device):
        raise AssertionError(f"from_dlpack: unsupported device type: {type(device)}")
    device = _device.resolve(device)
    if device.type == "cpu":
        return DLDeviceType.kDLCPU, 0
    return DLDeviceType.kDLCUDA, device.index


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with ``ext_tensor``: any object with ``__dlpack__`` (a NumPy or
    CuPy array, a PyTorch tensor, ...) or a DLPack capsule. On the same device as
    ``ext_tensor`` unless ``device`` is given; ``copy=True`` asks for a copy, ``copy=False``
    forbids one."""
    requested_copy, move_to = copy, None
    if hasattr(ext_tensor, "__dlpack__"):
        ext_device = tuple(ext_tensor.__dlpack_device__())
        kwargs = {"max_version": (1, 0)}
        if copy is not None:
            kwargs["copy"] = copy
        if device is not None:
            target = _target_dl_device(device)
            if target != ext_device:
                if copy is False:
                    raise ValueError(f"cannot move DLPack tensor from device {ext_device} to "
                                     f"{target} without copying. Set copy=None or copy=True.")
                move_to = _torchlite_device(target)
            else:
                kwargs["dl_device"] = target
        if ext_device[0] == DLDeviceType.kDLCUDA:
            stream = _device._cupy().cuda.get_current_stream(ext_device[1]).ptr
            kwargs["stream"] = stream or 1  # 1: the legacy default stream, as DLPack asks
        capsule, exporter_copied = _capsule_of(ext_tensor, kwargs)
    else:
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is "
                                 "already a DLPack capsule.")
        capsule, exporter_copied = ext_tensor, True
    arr, dev = _consume(capsule)
    tensor = _make(checked_array(arr), dev)
    if move_to is not None:
        return tensor.to(move_to)
    return tensor.clone() if requested_copy and not exporter_copied else tensor
