"""safetensors files of torchlite tensors, through the safetensors package (extra
``torchlite[safetensors]``): ``save_file(tensors, path)`` / ``load_file(path)`` as in
``safetensors.torch``, so the files are the ones PyTorch users exchange."""
import numpy as np

from . import _device, _dtype
from ._tensor import Tensor, _make

__all__ = ["save", "save_file", "load", "load_file"]

# safetensors' dtype codes for the dtypes torchlite has (the package's NumPy reader lacks BF16).
_DTYPES = {"BOOL": _dtype.bool, "U8": _dtype.uint8, "I8": _dtype.int8, "I16": _dtype.int16,
           "I32": _dtype.int32, "I64": _dtype.int64, "F16": _dtype.float16,
           "BF16": _dtype.bfloat16, "F32": _dtype.float32, "F64": _dtype.float64,
           "C64": _dtype.complex64}


def _package():
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("safetensors support needs the safetensors package: pip install "
                          "'torchlite[safetensors]'") from e
    return safetensors


def _arrays(tensors):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    arrays = {}
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received "
                             f"{type(t)}")
        host = t._host()  # (not ascontiguousarray: it makes 0-d arrays 1-d)
        arrays[name] = host if host.flags.c_contiguous else host.copy(order="C")
    return arrays


def save(tensors, metadata=None):
    """The safetensors bytes of a ``{name: tensor}`` dict."""
    return _package().numpy.save(_arrays(tensors), metadata=metadata)


def save_file(tensors, filename, metadata=None):
    """Write a ``{name: tensor}`` dict as a safetensors file."""
    _package().numpy.save_file(_arrays(tensors), filename, metadata=metadata)


def load(data, device="cpu"):
    """``{name: tensor}`` from safetensors bytes, on ``device``."""
    dev = _device.resolve(device)
    out = {}
    for name, view in _package().deserialize(data):
        d = _DTYPES.get(view["dtype"])
        if d is None:
            raise TypeError(f"torchlite has no dtype for the safetensors type {view['dtype']} "
                            f"of tensor {name!r}")
        arr = np.frombuffer(view["data"], d.np).reshape(view["shape"])
        if dev.type != "cpu":
            from .ops.conversion import transfer
            arr = transfer(arr, _device.CPU, dev)
        out[name] = _make(arr, dev)
    return out


def load_file(filename, device="cpu"):
    """``{name: tensor}`` from a safetensors file, on ``device``."""
    with open(filename, "rb") as fh:
        return load(fh.read(), device)
