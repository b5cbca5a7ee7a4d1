"""The CUDA emulator itself, on the small kernels of selftest.cu against NumPy: reductions, warp
ops, shared memory, atomics, 16-bit rounding, 3-D indexing, the faults it must report and the
argument checks CuPy does not make."""
import pathlib

import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import _compile

from ..gpu import test_kernels_compile as nvrtc_test
from ..gpu._gpu import nvrtc_reason
from . import emulator

SELFTEST = pathlib.Path(__file__).with_name("selftest.cu")
EXPRESSIONS = (
    "row_sums<float>", "row_sums<double>", "row_sums<__half>", "row_sums<__nv_bfloat16>",
    "warp_reductions<float>", "warp_reductions<double>", "warp_ops", "reverse_segments<float>",
    "reverse_segments_racy<float>", "histogram", "round_trip<__half>",
    "round_trip<__nv_bfloat16>", "global_index", "write_past_end", "write_before_start",
    "barrier_after_return", "divergent_shuffle", "affine", "assert_positive")
CTYPES = {np.float32: "float", np.float64: "double", np.float16: "__half",
          ml_dtypes.bfloat16: "__nv_bfloat16"}
# relative tolerance of a sum of n terms in each dtype (its rounding to the dtype dominates)
RTOL = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3, ml_dtypes.bfloat16: 1.6e-2}

pytestmark = pytest.mark.skipif(emulator.compiler_reason() is not None,
                                reason=str(emulator.compiler_reason()))


@pytest.fixture(scope="module")
def kernels():
    return emulator.library(SELFTEST, EXPRESSIONS)


@pytest.mark.parametrize("dtype", list(CTYPES), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n, block", [(1, 32), (7, 64), (33, 32), (1000, 256), (4097, 1024)])
def test_block_sum_rows(kernels, dtype, n, block):
    x = np.random.default_rng(n).standard_normal((3, n)).astype(dtype)
    y = np.zeros(3, dtype)
    kernels[f"row_sums<{CTYPES[dtype]}>"](3, block, (x, y, np.int32(n)))
    expected = x.astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(y.astype(np.float64), expected,
                               rtol=RTOL[dtype], atol=RTOL[dtype] * np.sqrt(n))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_warp_sum_and_max(kernels, dtype):
    x = np.random.default_rng(1).standard_normal(3 * 96).astype(dtype)
    x[40] = np.nan  # CUDA's max is fmax: a NaN lane yields the other operand
    y = np.zeros(2 * 9, dtype)
    kernels[f"warp_reductions<{CTYPES[dtype]}>"](3, 96, (x, y))
    warps = x.reshape(9, 32).astype(np.float64)
    np.testing.assert_allclose(y[1::2], np.nanmax(warps, axis=1))
    sums = warps.sum(axis=1)
    np.testing.assert_allclose(y[0::2][~np.isnan(sums)], sums[~np.isnan(sums)], rtol=RTOL[dtype])
    assert np.isnan(y[2])


def test_shuffles_and_votes(kernels):
    threads = 64
    x = np.random.default_rng(2).integers(-100, 100, threads).astype(np.int32)
    x[32:] = np.abs(x[32:]) + 1  # the second warp all positive
    out = np.zeros((8, threads), np.int32)
    kernels["warp_ops"](1, threads, (x, out))
    lane = np.arange(threads) % 32
    warp_base = np.arange(threads) - lane

    def read(source_lane):
        return x[warp_base + source_lane]

    def within(width, offset_lane):  # CUDA: a source outside the lane's segment reads its own
        segment = lane - lane % width
        return np.where((offset_lane >= segment) & (offset_lane < segment + width), offset_lane,
                        lane)

    positive = [sum(1 << i for i in range(32) if x[w * 32 + i] > 0) for w in range(2)]
    ballot = np.array(positive, np.uint32)[np.arange(threads) // 32]
    warp = np.arange(threads) // 32
    big = np.array([np.any(x[w * 32:(w + 1) * 32] > 90) for w in range(2)])[warp]
    all_positive = np.array([np.all(x[w * 32:(w + 1) * 32] > 0) for w in range(2)])[warp]
    expected = [read(np.full(threads, 5)),
                read(lane - lane % 8 + (lane + 3) % 8),
                read(within(32, lane - 3)),
                read(within(16, lane + 2)),
                read(lane ^ 6),
                ballot.view(np.int32),
                2 + all_positive,
                2 * big]
    for row, (got, want) in enumerate(zip(out, expected)):
        np.testing.assert_array_equal(got, want, err_msg=f"row {row}")


@pytest.mark.parametrize("n, block", [(100, 32), (5, 64), (1000, 96), (64, 64)])
def test_dynamic_shared_memory(kernels, n, block):
    x = np.arange(n, dtype=np.float32)
    y = np.full(n, -1, np.float32)
    kernels["reverse_segments<float>"]((n + block - 1) // block, block,
                                       (x, y, np.int32(n)), shared_mem=4 * block)
    expected = np.concatenate([s[::-1] for s in np.split(x, range(block, n, block))])
    np.testing.assert_array_equal(y, expected)


def test_missing_barrier_is_a_wrong_result(kernels):
    """Threads run in a random order between barriers: without the barrier, threads read
    segment slots their partner has not written yet (poisoned with NaN bytes)."""
    n, block = 256, 128
    x = np.arange(n, dtype=np.float32)
    y = np.zeros(n, np.float32)
    kernels["reverse_segments_racy<float>"](2, block, (x, y, np.int32(n)), shared_mem=4 * block)
    expected = np.concatenate([x[:block][::-1], x[block:][::-1]])
    assert np.isnan(y).any() and not np.array_equal(y, expected)


def test_atomics(kernels):
    x = np.random.default_rng(3).integers(0, 17, 5001).astype(np.int32)
    counts = np.zeros(17, np.int32)
    total = np.zeros(1, np.float32)
    largest = np.full(1, -1, np.int32)
    kernels["histogram"](7, 96, (x, np.int64(x.size), counts, total, largest))
    np.testing.assert_array_equal(counts, np.bincount(x, minlength=17))
    assert total[0] == x.sum()  # integers below 2**24: exact in float32 in any order
    assert largest[0] == x.max()


def _conversion_inputs():
    """float32 values around every rounding case of float16 and bfloat16: ties to even, the
    smallest subnormals, the largest finite values and the overflow threshold, signed zeros."""
    f = np.float32
    specials = [0.0, -0.0, np.inf, -np.inf, 1.0, -1.0, 65504.0, 65519.996, 65520.0, 1e5,
                2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 3 * 2.0 ** -25, 2.0 ** -14,
                2.0 ** -14 - 2.0 ** -25, 3.3895314e38, 3.4028235e38, 2.0 ** -133, 2.0 ** -134,
                1.0e-40, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8]
    rng = np.random.default_rng(4)
    mantissas = rng.uniform(1, 2, 4000) * rng.choice([-1, 1], 4000)
    spread = np.ldexp(mantissas, rng.integers(-140, 128, 4000))
    # exact ties (odd multiples of half a quantum), normal and subnormal, of both formats
    half_ties = np.arange(2049, 4096, 2) * 2.0 ** -11
    bf16_ties = np.arange(257, 512, 2) * 2.0 ** -8
    ties = [half_ties, half_ties * 2.0 ** 10, np.arange(1, 2048, 2) * 2.0 ** -25, bf16_ties,
            bf16_ties * 2.0 ** 100, bf16_ties * 2.0 ** -100, np.arange(1, 256, 2) * 2.0 ** -134]
    values = np.concatenate([specials, spread, *ties]).astype(f)
    return np.concatenate([values, -values])


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16], ids=["float16", "bfloat16"])
def test_16_bit_conversions_round_like_numpy(kernels, dtype):
    x = _conversion_inputs()
    x = np.append(x, np.float32(np.nan))
    y = np.zeros(x.size, dtype)
    back = np.zeros(x.size, np.float32)
    kernels[f"round_trip<{CTYPES[dtype]}>"]((x.size + 127) // 128, 128,
                                            (x, y, back, np.int64(x.size)))
    expected = x.astype(dtype)
    finite = ~np.isnan(x)
    np.testing.assert_array_equal(y.view(np.uint16)[finite], expected.view(np.uint16)[finite])
    np.testing.assert_array_equal(back[finite], expected[finite].astype(np.float32))
    assert y.view(np.uint16)[-1] == 0x7FFF and np.isnan(back[-1])  # CUDA's canonical NaN


def test_three_dimensional_grid_with_odd_extents(kernels):
    nx, ny, nz = 37, 5, 3
    out = np.full((nz, ny, nx), -1, np.int32)
    kernels["global_index"]((3, 2, 2), (16, 4, 2), (out, np.int32(nx), np.int32(ny), np.int32(nz)))
    z, y, x = np.indices((nz, ny, nx))
    np.testing.assert_array_equal(out, x + 1000 * y + 1000000 * z)


def test_write_past_the_end_names_the_argument(kernels):
    y = np.zeros(37, np.float32)
    message = r"element 37 of argument 0 'y' \(float32\*\) of write_past_end, 37 elements \(past"
    with pytest.raises(emulator.KernelError, match=message):
        kernels["write_past_end"](2, 32, (y, np.int32(37)))


def test_write_before_the_start_names_the_argument(kernels):
    with pytest.raises(emulator.KernelError, match=r"write_before_start wrote before the start "
                                                   r"of argument 0 'y'"):
        kernels["write_before_start"](2, 32, (np.zeros(37, np.float32), np.int32(37)))


def test_barrier_in_divergent_code(kernels):
    y = np.zeros(64, np.float32)
    with pytest.raises(emulator.KernelError, match="__syncthreads reached by 40 of 64 threads"):
        kernels["barrier_after_return"](1, 64, (y, np.int32(40)))


def test_warp_op_not_reached_by_every_lane(kernels):
    y = np.zeros(32, np.float32)
    with pytest.raises(emulator.KernelError, match="__shfl_xor_sync reached by 16 of 32 lanes"):
        kernels["divergent_shuffle"](1, 32, (y,))


AFFINE = np.dtype([("scale", np.float32), ("shift", np.float64), ("count", np.int32)],
                  align=True)


@pytest.mark.parametrize("with_bias", [True, False])
def test_struct_by_value_and_null_pointer(kernels, with_bias):
    x = np.arange(1, 41, dtype=np.float32)
    bias = np.linspace(-1, 1, 40, dtype=np.float32) if with_bias else None
    y = np.zeros(40, np.float32)
    params = np.array([(2.0, 0.5, 37)], AFFINE)
    kernels["affine"](2, 32, (params, x, y, bias))
    want = x * 2 + 0.5 + (bias if with_bias else 0)
    np.testing.assert_array_equal(y[:37], want[:37])
    assert not y[37:].any()


def test_struct_of_the_wrong_size(kernels):
    params = np.array([(2.0, 0.5, 37)], [("scale", np.float32), ("shift", np.float64),
                                          ("count", np.int32)])  # packed: 16 bytes, not 24
    with pytest.raises(TypeError, match="the struct has 24 bytes, the array's dtype 16"):
        kernels["affine"](1, 32, (params, np.zeros(1, np.float32), np.zeros(1, np.float32), None))


def test_device_side_assert(kernels):
    x = np.ones(50, np.float32)
    kernels["assert_positive"](2, 32, (x, np.int32(50)))
    x[41] = 0
    with pytest.raises(emulator.KernelError, match=r"device-side assert triggered: x\[i\] > 0 "
                                                   r".*thread \(9, 0, 0\) of block \(1, 0, 0\)"):
        kernels["assert_positive"](2, 32, (x, np.int32(50)))


@pytest.mark.parametrize("args, error, message", [
    ((np.zeros(4, np.float32), 4), TypeError, r"argument 1 'n' \(int32\).*got int 4.*np\.int32"),
    ((np.zeros(4, np.float32), np.int64(4)), TypeError, r"'n' \(int32\).*got np\.int64"),
    ((np.zeros(4, np.float64), np.int32(4)), TypeError, r"'y' \(float32\*\).*array of float64"),
    ((np.zeros((4, 2), np.float32).T, np.int32(4)), ValueError, "not C-contiguous"),
    (([0.0] * 4, np.int32(4)), TypeError, "got builtins.list; the emulator takes NumPy arrays"),
    ((np.zeros(4, np.float32),), TypeError, r"takes 2 arguments \(y, n\), got 1"),
])
def test_arguments_are_checked_against_the_signature(kernels, args, error, message):
    with pytest.raises(error, match=message):
        kernels["write_past_end"](1, 32, args)


@pytest.mark.parametrize("grid, block, shared, message", [
    (0, 32, 0, "invalid grid 0"), ((1, 65536), 32, 0, "invalid grid"),
    (1, 1025, 0, "invalid block 1025"), (1, (64, 32), 0, "more than 1024 threads"),
    (1, 32, 49153, "dynamic shared memory"),
])
def test_invalid_launch_configuration(kernels, grid, block, shared, message):
    with pytest.raises(emulator.KernelError, match=message):
        kernels["write_past_end"](grid, block, (np.zeros(4, np.float32), np.int32(3)),
                                  shared_mem=shared)


def test_compile_launch_runs_on_the_emulator(emulated, monkeypatch):
    """``_compile.launch`` of a registered family goes to the emulator under the fixture."""
    monkeypatch.setattr(_compile, "KERNEL_DIR", SELFTEST.parent)
    monkeypatch.setitem(_compile.SOURCES, "selftest", EXPRESSIONS)
    x = np.arange(70, dtype=np.float64).reshape(2, 35)
    y = np.zeros(2)
    _compile.launch("selftest", "row_sums", x.dtype, 2, 64, (x, y, np.int32(35)))
    np.testing.assert_array_equal(y, x.sum(axis=1))


def test_registered_launches_take_what_cupy_takes(emulated, monkeypatch):
    """Tuples only; a grid dimension of 0 launches one block, as CuPy's RawKernel call does."""
    monkeypatch.setattr(_compile, "KERNEL_DIR", SELFTEST.parent)
    monkeypatch.setitem(_compile.SOURCES, "selftest", EXPRESSIONS)
    out = np.full((1, 1, 20), -1, np.int32)
    args = (out, np.int32(20), np.int32(1), np.int32(1))
    _compile.LAUNCHER("selftest", "global_index", (0,), (16,), args, 0)
    np.testing.assert_array_equal(out.ravel(), list(range(16)) + [-1] * 4)
    for grid, block, arguments, name in (([1], (16,), args, "grid"), ((1,), 16, args, "block"),
                                         ((1,), (16,), list(args), "args")):
        with pytest.raises(TypeError, match=f"{name} must be a tuple"):
            _compile.LAUNCHER("selftest", "global_index", grid, block, arguments, 0)


@pytest.mark.skipif(nvrtc_reason() is not None, reason=str(nvrtc_reason()))
def test_selftest_kernels_are_valid_cuda(monkeypatch):
    monkeypatch.setattr(_compile, "source", lambda name: SELFTEST.read_text())
    monkeypatch.setitem(_compile.SOURCES, "selftest", EXPRESSIONS)
    nvrtc_test.test_kernel_compiles_without_warnings("selftest", "compute_80")
