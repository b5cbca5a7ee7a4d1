"""array_stats against NumPy float64 references over the dtypes and edge cases a recording meets:
float32 kept as is, float16/bfloat16/bool/ints widened, complex (modulus), NaN/Inf, empty,
constant, huge and tiny spans, and entries exactly on histogram bin edges.

Every case runs twice: on NumPy arrays (the host path) and through the device path on
``device_like`` arrays, which refuse any implicit host read and count the copies: finite data
reaches the host in one copy, data with NaN/Inf in one more round (the mask and a copy)."""
import math

import ml_dtypes
import numpy as np
import pytest

from torchlite.graph import values
from torchlite.graph.values import CHUNK, SORT_LIMIT, array_stats, norms

from . import device_like

FIELDS = {"numel", "nan", "inf", "zeros", "min", "max", "mean", "std", "hist"}


def _reference(arr):
    a = np.abs(arr) if arr.dtype.kind == "c" else arr
    a = np.asarray(a, dtype=np.float64)
    f = a[np.isfinite(a)]
    ref = {"numel": a.size, "nan": int(np.isnan(a).sum()), "inf": int(np.isinf(a).sum()),
           "zeros": int((a == 0).sum())}
    if f.size:
        counts, edges = np.histogram(f, bins=16) if np.isfinite(f.max() - f.min()) else (None, None)
        ref.update(min=f.min(), max=f.max(), mean=f.mean(), std=f.std(),
                   counts=None if counts is None else counts.tolist(), edges=edges)
    return ref


@pytest.fixture(params=["host", "device"])
def stats_of(request, monkeypatch):
    """array_stats on the host, or through the device path (chunked as on the host, so the
    chunk boundaries below are crossed there too), checking the copies to the host."""
    if request.param == "host":
        return lambda arr: array_stats(arr, np)
    monkeypatch.setattr(values, "DEVICE_CHUNK", CHUNK)

    def on_device(arr):
        device_like.DeviceArray.syncs = 0
        stats = array_stats(device_like.device(arr), device_like.xp)
        ref = _reference(arr)
        syncs = 0 if not arr.size else 1 if not (ref["nan"] or ref["inf"]) else 3
        assert device_like.DeviceArray.syncs == syncs
        return stats
    return on_device


def _check(arr, stats_of):
    stats, ref = stats_of(arr), _reference(arr)
    assert set(stats) == FIELDS
    for k in ("numel", "nan", "inf", "zeros"):
        assert stats[k] == ref[k], k
    if "min" not in ref:
        assert all(stats[k] is None for k in ("min", "max", "mean", "std", "hist"))
        return
    assert stats["min"] == ref["min"] and stats["max"] == ref["max"]
    for k in ("mean", "std"):
        if math.isfinite(ref[k]):
            assert stats[k] == pytest.approx(ref[k], rel=1e-6, abs=1e-300), k
        else:
            assert stats[k] is None, k
    if ref["counts"] is None:
        assert stats["hist"] is None
    else:
        assert stats["hist"]["counts"] == ref["counts"]
        np.testing.assert_array_equal(stats["hist"]["edges"], ref["edges"])


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).standard_normal(3 * SORT_LIMIT)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("n", [0, 1, 7, SORT_LIMIT + 1, 3 * SORT_LIMIT])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_float_stats_match_numpy(data, dtype, n, scale, stats_of):
    x = (data[:n] * scale).astype(dtype)
    _check(x, stats_of)
    if n > 3:
        x[::3], x[1], x[2] = np.nan, np.inf, -np.inf
        _check(x, stats_of)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [CHUNK, CHUNK + 1, 2 * CHUNK + 3])
def test_stats_across_chunks_and_layouts(dtype, n, stats_of):
    """Moments go a chunk at a time past CHUNK entries; transposed (F-ordered) and strided
    arrays give the stats of their values, whatever their memory order."""
    x = np.random.default_rng(5).standard_normal(n).astype(dtype) * 3 + 100
    _check(x, stats_of)
    _check(x[: n - n % 7].reshape(-1, 7).T, stats_of)
    _check(x[::3], stats_of)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("arr", [[np.nan] * 5, [np.inf, -np.inf, np.inf], [0.0] * 20000,
                                 [3.5] * 10, [-0.0, 0.0, 1.0], [np.nan, 2.0, np.inf]])
def test_special_values(dtype, arr, stats_of):
    _check(np.array(arr, dtype), stats_of)


@pytest.mark.parametrize("arr", [
    np.full(20000, 1e10, np.float32),           # constant: one bin of the widened range
    np.array([1e-30, 2e-30, 3e-30], np.float32),  # tiny span
    np.array([1e-40, 0, 2e-40], np.float32),      # subnormals
    np.array([-3e38, 3e38, 0], np.float32),       # span beyond float32
    np.array([-1.7e308, 1.7e308]),                # span beyond float64: no histogram
    np.float32(1e4) + np.random.default_rng(1).standard_normal(30000).astype(np.float32),
    np.float32(1000) + np.arange(3, dtype=np.float32) * np.float32(6.1e-5),  # mean >> std
])
def test_extreme_ranges(arr, stats_of):
    _check(arr, stats_of)


@pytest.mark.parametrize("tile", [1, 600])
def test_entries_on_and_beside_bin_edges(tile, stats_of):
    rng = np.random.default_rng(2)
    for _ in range(50):
        lo, hi = np.sort(rng.standard_normal(2).astype(np.float32) * 10)
        e = np.linspace(float(lo), float(hi), 17).astype(np.float32)
        x = np.concatenate([e, np.nextafter(e, np.float32(np.inf)),
                            np.nextafter(e, np.float32(-np.inf))])
        _check(np.tile(np.clip(x, lo, hi), tile), stats_of)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("n", [0, 1, 3 * SORT_LIMIT])
def test_integer_and_bool_stats(dtype, n, stats_of):
    high = 2 if dtype is np.bool_ else 100
    _check(np.random.default_rng(3).integers(0, high, n).astype(dtype), stats_of)


def test_int64_extremes(stats_of):
    info = np.iinfo(np.int64)
    _check(np.array([info.max, info.min, 0]), stats_of)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_stats_are_of_the_modulus(dtype, stats_of):
    rng = np.random.default_rng(4)
    z = rng.standard_normal(3 * SORT_LIMIT) + 1j * rng.standard_normal(3 * SORT_LIMIT)
    z = z.astype(dtype)
    z[5] = complex(np.nan, 0)
    _check(z, stats_of)
    _check(np.zeros(3, dtype), stats_of)


def test_full_value_only_up_to_the_limit():
    small = array_stats(np.array([1.0, np.nan, -np.inf], np.float32), np, full=True)
    assert small["value"] == [1.0, "nan", "-inf"]
    assert "value" not in array_stats(np.ones(65, np.float32), np, full=True)
    assert array_stats(np.array([1 + 2j], np.complex64), np, full=True)["value"] == [[1.0, 2.0]]


def test_recorded_stats_follow_in_place_changes():
    """The recorder computes a tensor's stats once per unchanged array: an in-place op's
    output (the same tensor, new values) gets fresh stats."""
    import torchlite
    import torchlite.graph as G

    x = torchlite.tensor([1.0, -2.0, 4.0])
    with G.record(values="stats") as g:
        y = x * 2
        y.add_(1)
    before, after = (op["outputs"][0]["stats"] for op in g.ops)
    assert before["max"] == 8.0 and after["max"] == 9.0
    assert after["mean"] == pytest.approx(np.mean([3.0, -3.0, 9.0]))


def test_gradient_stats_reused_from_the_op_that_made_the_gradient():
    import torchlite
    import torchlite.graph as G

    w = torchlite.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    with G.record(values="stats") as g:
        h = (w * 3).tanh()
        (h * h).sum().backward()
    tanh = g.ops[1]
    hn = np.tanh(3 * np.array([[0.5, -1.0], [2.0, 0.25]]))
    _check_close(tanh["outputs"][0]["grad_stats"], 2 * hn)


def _check_close(stats, ref):
    for k, v in (("min", ref.min()), ("max", ref.max()), ("mean", ref.mean()), ("std", ref.std())):
        assert stats[k] == pytest.approx(v, rel=1e-6), k


def test_full_value_of_a_device_array_is_one_more_copy_of_a_small_array():
    """values="full" copies a small array's value besides the stats; a larger one's never."""
    for n, syncs in ((3, 2), (65, 1)):
        device_like.DeviceArray.syncs = 0
        x = np.arange(n, dtype=np.float32)
        stats = array_stats(device_like.device(x), device_like.xp, full=True)
        assert device_like.DeviceArray.syncs == syncs
        assert stats.get("value") == (x.tolist() if n <= 64 else None)


class _Device:
    """A device whose array module is device_like's (norms group their copies by device)."""

    xp = device_like.xp


def test_norms_and_extra_values_reach_the_host_in_one_copy_per_device():
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (0,), (50,))]
    arrays.append(np.full(10, 3e19, np.float32))   # its float32 square overflows
    gpu0, gpu1 = _Device(), _Device()
    items = [(gpu0 if i % 2 else gpu1, device_like.device(a)) for i, a in enumerate(arrays)]
    extra = [(gpu1, device_like.device(np.float64(2.5)))]
    device_like.DeviceArray.syncs = 0
    got, values = norms(items, extra)
    assert device_like.DeviceArray.syncs == 3   # one per device, one more for the overflow
    assert got == pytest.approx([np.linalg.norm(a.astype(np.float64)) for a in arrays],
                                rel=1e-6)
    assert values == [2.5]
