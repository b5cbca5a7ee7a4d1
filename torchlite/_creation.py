"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+_like), ranges, eye."""
import builtins
import math
import warnings

import numpy as np

from . import _device, _dtype
from ._tensor import Tensor, _make
from .ops._registry import function, method


def _finish(arr, device, requires_grad):
    t = _make(arr, device)
    if requires_grad:
        if arr.dtype.kind not in "fcV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


def dtype_arg(op, dtype, default=None):
    """A ``dtype=`` argument: a torchlite dtype or a Python type (``float`` -> float64)."""
    if dtype is None:
        return default if default is not None else _dtype.get_default_dtype()
    if isinstance(dtype, _dtype.dtype):
        return dtype
    if dtype in (builtins.float, builtins.int, builtins.bool, builtins.complex):
        return _dtype.to_dtype(dtype)
    raise TypeError(f"{op}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")


def _scalar_kind(x):
    """The dtype a Python or NumPy scalar (or one-element tensor) contributes to inference."""
    if isinstance(x, Tensor):
        if x._data.size != 1:
            if x.dtype.category <= _dtype._INT:
                raise TypeError("only integer tensors of a single element can be converted to "
                                "an index")
            raise ValueError("only one element tensors can be converted to Python scalars")
        return x.dtype
    if isinstance(x, np.generic) and not isinstance(x, (np.str_, np.bytes_, np.object_)):
        return _dtype.from_numpy_dtype(x.dtype)  # NumPy scalars keep their dtype, as in torch
    if isinstance(x, (builtins.bool, np.bool_)):
        return _dtype.bool
    if isinstance(x, (builtins.int, np.integer)):
        if isinstance(x, builtins.int) and not -(1 << 63) <= x < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
        return _dtype.int64
    if isinstance(x, np.float64):
        return _dtype.float64
    if isinstance(x, (builtins.float, np.floating)):
        return _dtype.get_default_dtype()
    if isinstance(x, (builtins.complex, np.complexfloating)):
        return _dtype.default_complex()
    if isinstance(x, str):
        raise ValueError(f"too many dimensions '{type(x).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _is_seq(x):
    return isinstance(x, (list, tuple))


def _data_shape(data):
    """The shape PyTorch infers: the lengths along the first element of each level."""
    shape = []
    while _is_seq(data):
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return shape


def _scan(data, shape, depth, kinds):
    """Check nesting against ``shape`` (PyTorch's errors) and collect the element dtypes."""
    if depth == len(shape):
        if _is_seq(data):
            kind = _dtype.get_default_dtype() if any(
                isinstance(k, _dtype.dtype) and k.category >= _dtype._FLOAT for k in kinds) \
                else None
            if kind is None:
                raise TypeError(f"'{type(data).__name__}' object cannot be interpreted as an "
                                "integer")
            raise TypeError(f"must be real number, not {type(data).__name__}")
        kinds.add(_scalar_kind(data))
        return
    if not _is_seq(data):
        raise TypeError("not a sequence")
    if len(data) != shape[depth]:
        raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} "
                         f"(got {len(data)})")
    for x in data:
        _scan(x, shape, depth + 1, kinds)


def _infer_dtype(kinds):
    """PyTorch's dtype for Python data: bool < int64 < default float < default complex."""
    result = None
    for d in kinds:
        result = d if result is None else _dtype.promote_types(result, d)
    return result if result is not None else _dtype.get_default_dtype()


def _host(x):
    if isinstance(x, Tensor):
        return x._host().reshape(())
    if _is_seq(x):
        return [_host(v) for v in x]
    return x


@function
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor that copies ``data`` (nested lists, scalars, arrays or tensors)."""
    dev = _device.resolve(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
        src = data._host()
        dt = dtype_arg("tensor", dtype, data.dtype)
    elif isinstance(data, str):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    elif isinstance(data, (np.ndarray, np.generic)) or (hasattr(data, "__array__")
                                                        and not _is_seq(data)):
        src = np.asarray(data)
        dt = dtype_arg("tensor", dtype, _dtype.from_numpy_dtype(src.dtype))
    else:
        shape = _data_shape(data)
        kinds = set()
        _scan(data, shape, 0, kinds)
        dt = dtype_arg("tensor", dtype, _infer_dtype(kinds))
        src = np.array(_host(data)).reshape(shape) if shape else np.array(_host(data))
    arr = np.array(src, dtype=dt.np)  # always a copy
    if dev.type != "cpu":
        arr = dev.xp.asarray(arr)
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
    return _make(checked_array(ndarray), _device.CPU)


def checked_array(arr):
    """``arr`` (NumPy or CuPy) if a tensor can share its memory: a PyTorch dtype, no negative
    strides (PyTorch has none)."""
    _dtype.from_numpy_dtype(arr.dtype)
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    return arr


def size_arg(op, size):
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(torch.Size(...))`` as a shape tuple."""
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size"')
    items = size
    if len(size) == 1 and not hasattr(size[0], "__index__"):
        if not isinstance(size[0], (tuple, list)):
            raise TypeError(f"{op}(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(size[0]).__name__}")
        items = size[0]
    for i, s in enumerate(items):
        if isinstance(s, builtins.float) or not hasattr(s, "__index__"):
            raise TypeError(f"{op}(): argument 'size' failed to unpack the object at pos "
                            f"{i + 1} with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
    return tuple(s.__index__() for s in items)


def _factory(op, size, dtype, device, requires_grad, make):
    """A new tensor ``make(xp, shape, np_dtype)`` after PyTorch's argument checks."""
    dev = _device.resolve(device)
    dt = dtype_arg(op, dtype)
    shape = size_arg(op, size)
    if any(s < 0 for s in shape):
        if op == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"[{', '.join(map(str, shape))}]")
    return _finish(make(dev.xp, shape, dt.np), dev, requires_grad)


@function
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _factory("zeros", size, dtype, device, requires_grad,
                    lambda xp, s, d: xp.zeros(s, d))


@function
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _factory("ones", size, dtype, device, requires_grad, lambda xp, s, d: xp.ones(s, d))


@function
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _factory("empty", size, dtype, device, requires_grad,
                    lambda xp, s, d: xp.empty(s, d))


@function
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value's kind."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    default = fill_value.dtype if isinstance(fill_value, Tensor) else _scalar_kind(fill_value)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _factory("full", (tuple(size),), dtype_arg("full", dtype, default), device,
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


def _number(x):
    return x.item() if isinstance(x, Tensor) else x


def _fmt(x):
    return str(x) if isinstance(x, builtins.int) else f"{x:g}"


@function
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; PyTorch's length and dtype."""
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    is_int = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
    dt = dtype_arg("arange", dtype, _dtype.int64 if is_int else None)
    for v in (start, end):
        if not math.isfinite(v):
            raise RuntimeError(f"unsupported range: {_fmt(start)} -> {_fmt(end)}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dt.category <= _dtype._INT:
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = builtins.max(0, math.ceil((end - start) / step))
    dev = _device.resolve(device)
    if isinstance(step, builtins.int) and isinstance(start, builtins.int):
        arr = np.arange(start, start + n * step, step, dtype=np.int64)[:n].astype(dt.np)
    else:
        arr = _cpu_range(n, dt, lambda i: _LD(start) + _LD(step) * i, step)
    return _finish(dev.xp.asarray(arr), dev, requires_grad)


_LD = np.longdouble  # holds ``k * step`` exactly: one rounding, like a fused multiply-add


def _round(values, dt):
    """Long-double values rounded to double (the fused result), then to ``dt`` (integers
    truncate, as C++ casts do)."""
    if dt.category <= _dtype._INT:
        return np.trunc(values.astype(np.float64)).astype(np.int64).astype(dt.np)
    return values.astype(np.float64).astype(dt.np)


def _cpu_range(n, dt, value_at, step, vectors=True):
    """Range values as PyTorch's CPU kernels produce them, rounding included: runs of 256-bit
    vectors each start from a base rounded to ``dt`` and add ``k * step``; the tail that fills
    no pair of vectors takes ``value_at(i)`` directly (so does every value of an integer
    dtype, or with ``vectors=False``: linspace, whose vector rounding is not reproduced)."""
    idx = np.arange(n)
    if dt.category <= _dtype._INT or not vectors:
        return _round(value_at(idx), dt)
    width = builtins.max(1, 32 // dt.itemsize)
    k = idx % width
    n_vec = n // (2 * width) * 2 * width
    base = _round(value_at(idx - k), dt).astype(_LD)
    vec = _round(base + _LD(step) * k, dt)
    return np.where(idx < n_vec, vec, _round(value_at(idx), dt))


def _linspace(start, end, steps, dt):
    """PyTorch's symmetric linspace: from start up to the middle, from end down after it."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if dt.category <= _dtype._INT:
        start, end = builtins.int(start), builtins.int(end)
        step = (end - start) / builtins.max(steps - 1, 1)
    else:
        work = np.float64 if dt is _dtype.float64 or dt.is_complex else np.float32
        start, end = work(start), work(end)
        step = (end - start) / work(builtins.max(steps - 1, 1))
    half = steps // 2 if steps > 1 else 1  # one step gives ``start``

    def value_at(i):
        return np.where(i < half, _LD(start) + _LD(step) * i,
                        _LD(end) - _LD(step) * (steps - i - 1))
    return _cpu_range(steps, dt, value_at, step, vectors=False)


@function
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    dt = dtype_arg("linspace", dtype)
    dev = _device.resolve(device)
    arr = _linspace(_number(start), _number(end), builtins.int(steps), dt)
    return _finish(dev.xp.asarray(arr), dev, requires_grad)


@function
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    dt = dtype_arg("logspace", dtype)
    dev = _device.resolve(device)
    exps = _linspace(_number(start), _number(end), builtins.int(steps), _dtype.float64)
    arr = np.power(builtins.float(base), exps)
    return _finish(dev.xp.asarray(arr.astype(dt.np)), dev, requires_grad)


@function
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The identity matrix, ``n`` x ``m`` (``m`` defaults to ``n``)."""
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    dt = dtype_arg("eye", dtype)
    dev = _device.resolve(device)
    return _finish(dev.xp.eye(n, m, dtype=dt.np), dev, requires_grad)
