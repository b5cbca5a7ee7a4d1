"""dtype casts and device transfers (``Tensor.to`` and friends), clone and contiguous."""
from .. import _device, _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ._registry import export, method


def transfer(arr, src, dst):
    """Copy an array between devices: host<->GPU through CuPy, GPU<->GPU by peer copy."""
    if dst.type == "cpu":
        return arr.get() if src.type != "cpu" else arr
    xp = dst.xp
    with xp.cuda.Device(dst.index):
        return xp.asarray(arr)


class ToCopy(Function):
    raw = True
    changes_device = True
    label = "to"
    backward_rule = "grad_a = grad.to(a.dtype, a.device)"

    @staticmethod
    def forward(ctx, a, dtype=None, device=None, copy=False):
        ctx.in_dtype, ctx.in_device = a.dtype, ctx.device
        ctx.out_device = device or ctx.device
        out = a
        if ctx.out_device is not ctx.device:
            out = transfer(out, ctx.device, ctx.out_device)
        if dtype is not None and out.dtype != dtype:
            out = out.astype(dtype)
        elif copy and out is a:
            out = out.copy()
        return out

    @staticmethod
    def backward(ctx, grad):
        return ToCopy.apply(grad, dtype=ctx.in_dtype, device=ctx.in_device)


class Clone(Function):
    raw = True
    label = "clone"
    backward_rule = "grad_a = grad"

    @staticmethod
    def forward(ctx, a, order="K"):
        return a.copy(order=order)

    @staticmethod
    def backward(ctx, grad):
        return grad


def _parse_to(args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, (str, _device.device, int)) and not isinstance(a, bool):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return device, dtype, copy


@method
def to(self, *args, **kwargs):
    """Cast and/or move: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``."""
    device, dtype, copy = _parse_to(args, dict(kwargs))
    device = _device.resolve(device) if device is not None else self._device
    dtype = _dtype.to_dtype(dtype) if dtype is not None else None
    same_dtype = dtype is None or dtype.np == self._data.dtype
    if device is self._device and same_dtype and not copy:
        return self
    return ToCopy.apply(self, dtype=None if dtype is None else dtype.np,
                        device=device, copy=copy)


@method
def cpu(self, memory_format=None):
    return self.to("cpu")


@method
def cuda(self, device=None, non_blocking=False, memory_format=None):
    return self.to("cuda" if device is None else _device.device("cuda", device)
                   if isinstance(device, int) else device)


def _caster(dt):
    def cast(self, memory_format=None):
        return self.to(dt)
    cast.__name__ = dt.name
    cast.__doc__ = f"``self.to(torch.{dt.name})``"
    return cast


for _name, _dt in (("float", _dtype.float32), ("double", _dtype.float64),
                   ("half", _dtype.float16), ("bfloat16", _dtype.bfloat16),
                   ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16),
                   ("char", _dtype.int8), ("byte", _dtype.uint8), ("bool", _dtype.bool),
                   ("cfloat", _dtype.complex64), ("cdouble", _dtype.complex128)):
    method(_caster(_dt), name=_name)

_TYPE_NAMES = {f"torch.{d._short}Tensor": d for d in _dtype.ALL}
_TYPE_NAMES.update({f"torch.cuda.{d._short}Tensor": d for d in _dtype.ALL})


@method
def type(self, dtype=None, non_blocking=False):
    """With no argument the legacy type name ("torch.FloatTensor"); else a cast."""
    if dtype is None:
        prefix = "torch." if self._device.type == "cpu" else "torch.cuda."
        return f"{prefix}{self.dtype._short}Tensor"
    if isinstance(dtype, str):
        if dtype not in _TYPE_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        out = self.to(_TYPE_NAMES[dtype])
        return out.cuda() if dtype.startswith("torch.cuda.") else out
    return self.to(dtype)


@method
def type_as(self, other):
    return self.to(other.dtype)


@export
def clone(input, *, memory_format=None):
    return Clone.apply(input)


@method
def contiguous(self, memory_format=None):
    data = self._data
    if data.flags.c_contiguous:
        return self
    return Clone.apply(self, order="C")


@method
def is_contiguous(self, memory_format=None):
    return bool(self._data.flags.c_contiguous)
