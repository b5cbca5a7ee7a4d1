"""dtypes, aliases, promotion (promote_types, result_type, can_cast) and finfo/iinfo vs PyTorch."""
import itertools
import pickle

import numpy as np
import pytest

import torchlite

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is missing")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
ALIASES = {"half": "float16", "float": "float32", "double": "float64", "short": "int16",
           "int": "int32", "long": "int64", "cfloat": "complex64", "cdouble": "complex128"}
PAIRS = list(itertools.product(NAMES, NAMES))
SCALARS = [True, 3, 2.5, 1j]


def _both(name):
    return getattr(torch, name), getattr(torchlite, name)


def _complex32(result):
    """PyTorch's complex32 (float16 with complex) has no NumPy type: torchlite gives complex64."""
    return "torch.complex64" if repr(result) == "torch.complex32" else repr(result)


@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    d = getattr(torchlite, name)
    assert repr(d) == str(d) == f"torch.{name}"
    assert d.is_floating_point == (name.startswith("float") or name == "bfloat16")
    assert d.is_complex == name.startswith("complex")
    assert d.is_signed == (name not in ("bool", "uint8"))
    assert pickle.loads(pickle.dumps(d)) is d
    if torch is not None:
        t = getattr(torch, name)
        assert (d.itemsize, d.is_signed, d.is_floating_point, d.is_complex) == \
            (t.itemsize, t.is_signed, t.is_floating_point, t.is_complex)
        assert repr(d.to_real()) == repr(t.to_real())


@pytest.mark.parametrize("alias,name", ALIASES.items())
def test_aliases(alias, name):
    assert getattr(torchlite, alias) is getattr(torchlite, name)


@needs_torch
@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types_and_can_cast(a, b):
    (ta, la), (tb, lb) = _both(a), _both(b)
    assert repr(torchlite.promote_types(la, lb)) == repr(torch.promote_types(ta, tb))
    assert torchlite.can_cast(la, lb) == torch.can_cast(ta, tb)


@needs_torch
@pytest.mark.parametrize("a,b", PAIRS)
def test_result_type_tensors(a, b):
    """Dimensioned and zero-dim tensors in every combination."""
    (ta, la), (tb, lb) = _both(a), _both(b)
    for sa, sb in (((2,), (2,)), ((2,), ()), ((), (2,)), ((), ())):
        expected = torch.result_type(torch.zeros(sa, dtype=ta), torch.zeros(sb, dtype=tb))
        got = torchlite.result_type(torchlite.zeros(sa, dtype=la), torchlite.zeros(sb, dtype=lb))
        assert repr(got) == _complex32(expected), (sa, sb)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_result_type_with_scalars(name):
    t, lt = _both(name)
    for shape, scalar in itertools.product(((3,), ()), SCALARS):
        x, lx = torch.zeros(shape, dtype=t), torchlite.zeros(shape, dtype=lt)
        assert repr(torchlite.result_type(lx, scalar)) == _complex32(torch.result_type(x, scalar))
        assert repr(torchlite.result_type(scalar, lx)) == _complex32(torch.result_type(scalar, x))


@needs_torch
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_finfo(name):
    t, lt = _both(name)
    got, expected = torchlite.finfo(lt), torch.finfo(t)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(got, attr) == getattr(expected, attr), attr
    assert repr(got) == repr(expected)


@needs_torch
@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    t, lt = _both(name)
    got, expected = torchlite.iinfo(lt), torch.iinfo(t)
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(got, attr) == getattr(expected, attr), attr
    assert repr(got) == repr(expected)


def test_finfo_default_is_default_dtype():
    assert torchlite.finfo().dtype == "float32"
    assert torchlite.finfo(torchlite.float64).eps == np.finfo(np.float64).eps


@needs_torch
@pytest.mark.parametrize("call,match", [
    (lambda m: m.iinfo(m.float32), "requires an integer input type"),
    (lambda m: m.iinfo(m.bool), "not supported by torch.iinfo"),
    (lambda m: m.finfo(m.int32), "requires a floating point input type"),
    (lambda m: m.finfo(3), "must be torch.dtype"),
    (lambda m: m.set_default_dtype(m.int64), "floating"),
])
def test_info_errors(call, match):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type, match=match):
        call(torchlite)


def test_default_dtype_roundtrip():
    assert torchlite.get_default_dtype() is torchlite.float32
    try:
        torchlite.set_default_dtype(torchlite.float64)
        assert torchlite.get_default_dtype() is torchlite.float64
        assert torchlite.tensor([1.5]).dtype is torchlite.float64
        assert torchlite.tensor([1j]).dtype is torchlite.complex128
    finally:
        torchlite.set_default_dtype(torchlite.float32)


def test_tensor_dtype_predicates():
    assert torchlite.is_floating_point(torchlite.zeros(1))
    assert not torchlite.zeros(1, dtype=torchlite.int64).is_floating_point()
    assert torchlite.zeros(1, dtype=torchlite.complex64).is_complex()
    assert torchlite.is_complex(torchlite.zeros(1, dtype=torchlite.complex128))
