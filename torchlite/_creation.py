"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+_like), ranges, eye."""
import builtins
import math

import numpy as np

from . import _device, _dtype
from ._tensor import Tensor, _make
from .ops._registry import function, method
from .ops._util import shape_arg


def _finish(arr, device, requires_grad):
    t = _make(arr, device)
    if requires_grad:
        if arr.dtype.kind not in "fcV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


def _infer_dtype(data):
    """PyTorch's dtype for Python data: bool < int64 < default float < default complex."""
    kinds = set()
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            kinds.add(x.dtype)
        elif isinstance(x, builtins.bool) or isinstance(x, np.bool_):
            kinds.add(_dtype.bool)
        elif isinstance(x, (builtins.int, np.integer)):
            kinds.add(_dtype.int64)
        elif isinstance(x, (builtins.float, np.floating)):
            kinds.add(_dtype.get_default_dtype())
        elif isinstance(x, (builtins.complex, np.complexfloating)):
            kinds.add(_dtype.default_complex())
        else:
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    result = _dtype.bool if not kinds else None
    for d in kinds:
        result = d if result is None else _dtype._combine_categories(
            *sorted((result, d), key=lambda t: -t.category))
    return result


def _check_ragged(data, dim=0):
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        n = len(data[0])
        for x in data:
            if not isinstance(x, (list, tuple)) or len(x) != n:
                got = len(x) if isinstance(x, (list, tuple)) else type(x).__name__
                raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {got})")
            _check_ragged(x, dim + 1)


def _host(x):
    if isinstance(x, Tensor):
        return np.asarray(x._host())
    if isinstance(x, (list, tuple)):
        return [_host(v) for v in x]
    return x


@function
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor that copies ``data`` (nested lists, scalars, arrays or tensors)."""
    dev = _device.resolve(device)
    if isinstance(data, Tensor):
        src = np.array(data._host())
        dt = _dtype.to_dtype(dtype) if dtype is not None else data.dtype
    elif isinstance(data, np.ndarray) or (hasattr(data, "__array__") and
                                          not isinstance(data, (list, tuple))):
        src = np.array(data)
        dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.from_numpy_dtype(src.dtype)
    else:
        _check_ragged(data)
        dt = _dtype.to_dtype(dtype) if dtype is not None else _infer_dtype(data)
        src = np.array(_host(data))
    arr = src.astype(dt.np, copy=False)
    if dev.type != "cpu":
        arr = dev.xp.asarray(arr)
    elif arr is src and isinstance(data, np.ndarray):
        arr = arr.copy()
    return _finish(arr, dev, requires_grad)


@function
def as_tensor(data, dtype=None, device=None):
    """Like tensor, but shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray) and dtype is None and device in (None, "cpu"):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


@function
def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray, _device.CPU)


@function
def from_dlpack(ext_tensor):
    """A tensor sharing memory with any DLPack exporter (NumPy/CuPy arrays, torch tensors)."""
    if not hasattr(ext_tensor, "__dlpack__"):
        raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor capsules "
                           "can be consumed only once, so you might have already constructed a "
                           "tensor from it once.")
    kind, index = ext_tensor.__dlpack_device__()
    if kind == 1:  # kDLCPU
        arr = np.from_dlpack(ext_tensor)
        _dtype.from_numpy_dtype(arr.dtype)
        return _make(arr, _device.CPU)
    dev = _device.resolve(_device.device("cuda", int(index)))
    return _make(dev.xp.from_dlpack(ext_tensor), dev)


def _factory(size, dtype, device, requires_grad, make):
    dev = _device.resolve(device)
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    shape = shape_arg(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"[{', '.join(map(str, shape))}]")
    return _finish(make(dev.xp, shape, dt.np), dev, requires_grad)


@function
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _factory(size, dtype, device, requires_grad, lambda xp, s, d: xp.zeros(s, d))


@function
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _factory(size, dtype, device, requires_grad, lambda xp, s, d: xp.ones(s, d))


@function
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _factory(size, dtype, device, requires_grad, lambda xp, s, d: xp.empty(s, d))


def _scalar_dtype(value):
    if isinstance(value, Tensor):
        return value.dtype
    return _dtype._scalar_dtype(value) or _dtype.get_default_dtype()


@function
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    dtype = dtype if dtype is not None else _scalar_dtype(fill_value)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _factory((size,) if isinstance(size, int) else (tuple(size),), dtype, device,
                    requires_grad, lambda xp, s, d: xp.full(s, value, d))


def _like(name, make):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None, **kwargs):
        return make(input.shape, *args, dtype=dtype if dtype is not None else input.dtype,
                    device=device if device is not None else input.device,
                    requires_grad=requires_grad, **kwargs)
    like.__name__ = name
    like.__doc__ = f"{make.__name__} with the shape, dtype and device of ``input``."
    return function(like)


zeros_like = _like("zeros_like", zeros)
ones_like = _like("ones_like", ones)
empty_like = _like("empty_like", empty)
full_like = _like("full_like", full)


def _new(name, make):
    def new(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        return make(*args, dtype=dtype if dtype is not None else self.dtype,
                    device=device if device is not None else self.device,
                    requires_grad=requires_grad, **kwargs)
    new.__name__ = name
    return method(new)


new_zeros = _new("new_zeros", zeros)
new_ones = _new("new_ones", ones)
new_empty = _new("new_empty", empty)
new_full = _new("new_full", full)
new_tensor = _new("new_tensor", tensor)


@function
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, builtins.int) for v in vals)
        dtype = _dtype.int64 if is_int else _dtype.get_default_dtype()
    dt = _dtype.to_dtype(dtype)
    dev = _device.resolve(device)
    n = builtins.max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (np.arange(n, dtype=np.float64) * vals[2] + vals[0]) if dt.is_floating_point else \
        np.arange(vals[0], vals[0] + n * vals[2], vals[2])[:n]
    return _finish(dev.xp.asarray(arr.astype(dt.np)), dev, requires_grad)


@function
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    dev = _device.resolve(device)
    arr = np.linspace(float(start), float(end), int(steps), dtype=np.float64)
    return _finish(dev.xp.asarray(arr.astype(dt.np)), dev, requires_grad)


@function
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    dev = _device.resolve(device)
    arr = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    return _finish(dev.xp.asarray(arr.astype(dt.np)), dev, requires_grad)


@function
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    dev = _device.resolve(device)
    return _finish(dev.xp.eye(n, n if m is None else m, dtype=dt.np), dev, requires_grad)
