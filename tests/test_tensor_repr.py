"""repr/str of tensors: the same text as PyTorch for the same values (the oracle is the test)."""
import numpy as np
import pytest

import torchlite

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is missing")


def _arrays():
    """Many value patterns: int-valued floats, decimals, wide ranges, nan/inf, all dtypes."""
    rng = np.random.default_rng(7)
    f32 = np.float32
    out = [
        np.array([1., 2., 3.], f32), np.array([1.5, 2.25], f32), np.array([1e-5, 1.], f32),
        np.array([1e10, 1.], f32), np.array([np.nan, np.inf, -np.inf, 1.], f32),
        np.array([np.nan], f32), np.array([np.inf, -np.inf], f32), np.array([0., -0.], f32),
        np.array(3.5, f32), np.array(-2., f32), np.array(1e-7, f32), np.array(3),
        np.array(True), np.array(False), np.zeros((0,), f32), np.zeros((0, 3), f32),
        np.zeros((2, 0), np.int64), np.zeros((0,), np.int32), np.zeros((1, 0, 2), np.bool_),
        np.array([1e-8, 1e-9], f32), np.array([123456789.0, 1.0]), np.array([1e8, 2e8], f32),
        np.array([0.1, 1000.0], f32), np.array([0.1, 100.1], f32), np.array([-1e-4, 1.], f32),
        np.arange(2000), np.arange(1001, dtype=f32) / 7, rng.random(1100).astype(f32),
        rng.standard_normal((40, 40)).astype(f32), rng.standard_normal((10, 10, 12)),
        rng.integers(-1000, 1000, (5, 30)), rng.random((4, 4)) > 0.5,
        (rng.standard_normal((3, 3)) * 1e6).astype(f32), rng.standard_normal(7),
        rng.standard_normal((2, 3, 4, 5)).astype(f32), rng.standard_normal((12, 100)),
        rng.standard_normal((2, 600)).astype(f32), rng.standard_normal((300, 1, 7)),
        rng.standard_normal(5) + 1j * rng.standard_normal(5),
        (rng.standard_normal((3, 2)) + 1j).astype(np.complex64), np.array(1 + 2j, np.complex64),
        np.array([1 - 0j, -1j, 1e-6 + 1e6j]), rng.standard_normal(50) * 1e-3j,
    ]
    for dt in (np.int8, np.uint8, np.int16, np.int32, np.int64):
        out.append(rng.integers(0, 100, (3, 5)).astype(dt))
    for scale in (1e-3, 1, 1e3, 1e5):
        out.append((rng.standard_normal((6, 7)) * scale).astype(f32))
        out.append(np.round(rng.standard_normal(9) * scale).astype(f32))
    out.append(rng.standard_normal((3, 3)).astype(np.float16))
    out.append(rng.standard_normal((4, 25)).astype(np.float16) * 100)
    return out


ARRAYS = _arrays()
OPTIONS = [{}, {"precision": 2}, {"precision": 6}, {"sci_mode": True}, {"sci_mode": False},
           {"threshold": 5}, {"edgeitems": 1, "threshold": 5}, {"linewidth": 40},
           {"linewidth": 120}, {"profile": "short"}, {"profile": "full"},
           {"edgeitems": 0, "threshold": 5}]


@pytest.fixture
def print_opts():
    """Set the same print options in both libraries; restore the defaults after."""
    def set_both(**kw):
        torch.set_printoptions(**kw)
        torchlite.set_printoptions(**kw)
    yield set_both
    torch.set_printoptions(profile="default")
    torchlite.set_printoptions(profile="default")


def _pair(arr):
    return torch.from_numpy(arr.copy()), torchlite.from_numpy(arr.copy())


@needs_torch
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in
                                                                    o.items()) or "default")
def test_repr_matches_torch(opts, print_opts):
    print_opts(**opts)
    for arr in ARRAYS:
        t, lt = _pair(arr)
        assert repr(lt) == repr(t), arr
        assert str(lt) == str(t)


@needs_torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64", "int32", "uint8"])
def test_dtype_suffix(dtype):
    values = [[0.5, -1.25, 3.0], [100.0, 2.0, -0.0078125]]
    t = torch.tensor(values).to(getattr(torch, dtype))
    lt = torchlite.tensor(values).to(getattr(torchlite, dtype))
    assert repr(lt) == repr(t)


@needs_torch
def test_autograd_suffixes():
    x = torch.tensor([1.5, 2.0], requires_grad=True)
    lx = torchlite.tensor([1.5, 2.0], requires_grad=True)
    assert repr(lx) == repr(x)
    assert repr(lx * 2) == repr(x * 2)
    assert repr((lx * 2).sum()) == repr((x * 2).sum())
    assert repr(lx.detach()) == repr(x.detach())
    big = torch.arange(30.).reshape(3, 10).requires_grad_()
    lbig = torchlite.arange(30.).reshape(3, 10).requires_grad_()
    assert repr(lbig) == repr(big)
    assert repr(lbig * 1.5) == repr(big * 1.5)


@needs_torch
def test_suffix_wraps_to_next_line():
    a = np.arange(14, dtype=np.float64) * 1.123456
    t, lt = _pair(a)
    assert repr(lt) == repr(t)
    assert repr(lt.requires_grad_()) == repr(t.requires_grad_())


@needs_torch
def test_default_dtype_changes_suffixes():
    try:
        torch.set_default_dtype(torch.float64)
        torchlite.set_default_dtype(torchlite.float64)
        for values in ([1.5, 2.0], [], [1j]):
            assert repr(torchlite.tensor(values)) == repr(torch.tensor(values))
        assert repr(torchlite.zeros(2, dtype=torchlite.float32)) == \
            repr(torch.zeros(2, dtype=torch.float32))
    finally:
        torch.set_default_dtype(torch.float32)
        torchlite.set_default_dtype(torchlite.float32)


def test_known_layouts():
    assert repr(torchlite.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(torchlite.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(torchlite.tensor(3)) == "tensor(3)"
    assert repr(torchlite.zeros(0, 2)) == "tensor([], size=(0, 2))"
    assert repr(torchlite.tensor([], dtype=torchlite.int64)) == "tensor([], dtype=torch.int64)"
    assert repr(torchlite.arange(2000)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    assert str(torchlite.tensor([True])) == "tensor([True])"


def test_printoptions_roundtrip():
    before = torchlite.get_printoptions()
    with torchlite.printoptions(precision=2):
        assert repr(torchlite.tensor([1.12345])) == "tensor([1.12])"
    assert torchlite.get_printoptions() == before
    assert repr(torchlite.tensor([1.12345])) == "tensor([1.1235])"


@pytest.mark.parametrize("shape", [(2000,), (40, 40), (2, 600), (300, 1, 7), (7, 7, 7, 7)])
@pytest.mark.parametrize("edgeitems", [0, 1, 3])
def test_summarized_print_copies_only_the_corners(shape, edgeitems):
    """A summarised print cuts the values it shows out where the tensor lives: no host read,
    and only (2 * edgeitems) entries of every long dim are left to copy."""
    from tests.graph import device_like
    from torchlite._tensor_str import _corners

    arr = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    keep = [np.r_[:edgeitems, n - edgeitems:n] if n > 2 * edgeitems else np.arange(n)
            for n in shape]
    device_like.DeviceArray.syncs = 0
    with torchlite.printoptions(edgeitems=edgeitems):
        corners, cut = _corners(device_like.device(arr), device_like.xp)
    assert device_like.DeviceArray.syncs == 0
    assert cut == tuple(n > 2 * edgeitems for n in shape)
    np.testing.assert_array_equal(corners.get(), arr[np.ix_(*keep)])
