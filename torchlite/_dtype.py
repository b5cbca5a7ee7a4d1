"""dtype objects, the default dtype, and PyTorch's type-promotion rules.

A torchlite ``dtype`` wraps a NumPy dtype (bfloat16 comes from ml_dtypes). Promotion follows
PyTorch, not NumPy: categories bool < integer < floating < complex; Python scalars do not upcast
tensors of their own category; zero-dim tensors only win when they are of a higher category.
"""
import builtins

import ml_dtypes
import numpy as np

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, printed as PyTorch prints it (``torch.float32``)."""

    __slots__ = ("name", "np", "itemsize", "category", "is_floating_point", "is_complex",
                 "is_signed", "_short")

    def __init__(self, name, np_dtype, category, short):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = name not in ("uint8", "bool")
        self._short = short

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128}.get(self.name, complex64)


bool = dtype("bool", np.bool_, _BOOL, "Bool")  # noqa: A001  (PyTorch's public name)
uint8 = dtype("uint8", np.uint8, _INT, "Byte")
int8 = dtype("int8", np.int8, _INT, "Char")
int16 = dtype("int16", np.int16, _INT, "Short")
int32 = dtype("int32", np.int32, _INT, "Int")
int64 = dtype("int64", np.int64, _INT, "Long")
float16 = dtype("float16", np.float16, _FLOAT, "Half")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT, "BFloat16")
float32 = dtype("float32", np.float32, _FLOAT, "Float")
float64 = dtype("float64", np.float64, _FLOAT, "Double")
complex64 = dtype("complex64", np.complex64, _COMPLEX, "ComplexFloat")
complex128 = dtype("complex128", np.complex128, _COMPLEX, "ComplexDouble")

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
       complex64, complex128)
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
           "long": int64, "cfloat": complex64, "cdouble": complex128}

_BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL}


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The torchlite dtype of a NumPy dtype; TypeError for types PyTorch does not have."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        d = np.dtype(np_dtype)
        if d in _BY_NP:
            return _BY_NP[d]
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{d.type.__name__}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint8, and bool.") from None


def to_dtype(obj):
    """A torchlite dtype, a NumPy dtype or a Python type (``float`` -> float64, as in torch)."""
    if isinstance(obj, dtype):
        return obj
    if obj is builtins.float:
        return float64
    if obj is builtins.int:
        return int64
    if obj is builtins.bool:
        return bool
    if obj is builtins.complex:
        return complex128
    return from_numpy_dtype(np.dtype(obj))


_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(d):
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


def default_complex():
    return complex128 if _default[0] is float64 else complex64


def promote_types(a, b):
    """PyTorch's torch.promote_types for two dtypes."""
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.is_complex and lo.category == _FLOAT and lo is float64:
            return complex128
        return hi
    if {a, b} == {float16, bfloat16}:
        return float32
    if a.category == _INT:
        return _BY_NP[np.promote_types(a.np, b.np)]
    return a if a.itemsize > b.itemsize else b


def _scalar_dtype(x):
    t = type(x)
    if t is builtins.bool:
        return bool
    if t is builtins.int:
        return int64
    if t is builtins.float:
        return get_default_dtype()
    if t is builtins.complex:
        return default_complex()
    return None


def _combine_categories(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type_of(operands):
    """PyTorch's result_type over tensors (anything with ``.dtype`` and ``.ndim``) and scalars."""
    dim_res = zero_res = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim == 0:
                zero_res = d if zero_res is None else promote_types(zero_res, d)
            else:
                dim_res = d if dim_res is None else promote_types(dim_res, d)
            continue
        d = _scalar_dtype(x)
        if d is None:
            continue
        wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine_categories(dim_res, _combine_categories(zero_res, wrapped))


def can_cast(from_, to):
    """torch.can_cast: casting must not lower the category (float -> int, complex -> float...)."""
    if from_.category > to.category:
        return False
    return not (from_.category > _BOOL and to is bool)


def _dtype_arg(fn, value):
    if not isinstance(value, dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not "
                        f"{builtins.type(value).__name__}")
    return value


class finfo:
    """torch.finfo: machine limits of a floating (or complex: its real part) dtype."""

    def __init__(self, type=None):  # noqa: A002  (PyTorch's argument name)
        d = _dtype_arg("finfo", get_default_dtype() if type is None else type)
        if d.category < _FLOAT:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        d = d.to_real()
        info = ml_dtypes.finfo(d.np)
        self.bits = d.itemsize * 8
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the range of an integer dtype."""

    def __init__(self, type):  # noqa: A002  (PyTorch's argument name)
        d = _dtype_arg("iinfo", type)
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.category != _INT:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = d.itemsize * 8
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
