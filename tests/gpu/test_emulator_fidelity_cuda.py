"""The CPU kernel emulator (tests/kernels_emu) against the GPU it stands in for: the emulator's
self-test kernels run on both with the same inputs, and give the same bits (shuffles and votes,
16-bit conversions and their NaN, fmax-style max, reduction orders), except where NVRTC contracts
a * b + c into an FMA. A mismatch here means the emulator's CPU verdicts cannot be trusted."""
import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import _compile

from ..kernels_emu import emulator
from ..kernels_emu.test_emulator import AFFINE, EXPRESSIONS, SELFTEST, _conversion_inputs
from ._gpu import gpu_reason

REASON = gpu_reason() or emulator.compiler_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))


@pytest.fixture(scope="module")
def both():
    """run(expression, grid, block, args, shared_mem=0) -> (emulated args, GPU args), NumPy."""
    import cupy

    module = cupy.RawModule(code=SELFTEST.read_text(), options=_compile.options(),
                            name_expressions=EXPRESSIONS)
    emulated = emulator.library(SELFTEST, EXPRESSIONS)

    def run(expression, grid, block, args, shared_mem=0):
        cpu = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        emulated[expression](grid, block, cpu, shared_mem=shared_mem)
        gpu = [cupy.asarray(a) if isinstance(a, np.ndarray) and not a.dtype.names else a
               for a in args]
        module.get_function(expression)(grid, block, tuple(gpu), shared_mem=shared_mem)
        return cpu, [cupy.asnumpy(a) if isinstance(a, cupy.ndarray) else a for a in gpu]

    return run


def test_shuffles_and_votes(both):
    x = np.random.default_rng(0).integers(-100, 100, 96).astype(np.int32)
    cpu, gpu = both("warp_ops", 1, 96, (x, np.zeros((8, 96), np.int32)))
    np.testing.assert_array_equal(cpu[1], gpu[1])


@pytest.mark.parametrize("ctype, dtype", [("__half", np.float16),
                                          ("__nv_bfloat16", ml_dtypes.bfloat16)])
def test_16_bit_conversions(both, ctype, dtype):
    x = np.append(_conversion_inputs(), np.float32(np.nan))
    args = (x, np.zeros(x.size, dtype), np.zeros(x.size, np.float32), np.int64(x.size))
    cpu, gpu = both(f"round_trip<{ctype}>", -(-x.size // 128), 128, args)
    np.testing.assert_array_equal(cpu[1].view(np.uint16), gpu[1].view(np.uint16))
    np.testing.assert_array_equal(cpu[2].view(np.uint32), gpu[2].view(np.uint32))


@pytest.mark.parametrize("ctype, dtype", [("float", np.float32), ("double", np.float64)])
def test_warp_reductions_with_nan(both, ctype, dtype):
    x = np.random.default_rng(1).standard_normal(192).astype(dtype)
    x[40] = np.nan
    cpu, gpu = both(f"warp_reductions<{ctype}>", 2, 96, (x, np.zeros(12, dtype)))
    np.testing.assert_array_equal(cpu[1], gpu[1])


@pytest.mark.parametrize("ctype, dtype", [("float", np.float32), ("double", np.float64),
                                          ("__half", np.float16),
                                          ("__nv_bfloat16", ml_dtypes.bfloat16)])
@pytest.mark.parametrize("n, block", [(7, 64), (1000, 256), (4097, 1024)])
def test_block_sums(both, ctype, dtype, n, block):
    x = np.random.default_rng(n).standard_normal((3, n)).astype(dtype)
    cpu, gpu = both(f"row_sums<{ctype}>", 3, block, (x, np.zeros(3, dtype), np.int32(n)))
    np.testing.assert_array_equal(cpu[1].view(np.uint8), gpu[1].view(np.uint8))


def test_shared_memory_atomics_and_indexing(both):
    x = np.arange(100, dtype=np.float32)
    cpu, gpu = both("reverse_segments<float>", 4, 32, (x, np.zeros(100, np.float32),
                                                       np.int32(100)), shared_mem=128)
    np.testing.assert_array_equal(cpu[1], gpu[1])
    values = np.random.default_rng(2).integers(0, 17, 5001).astype(np.int32)
    cpu, gpu = both("histogram", 7, 96, (values, np.int64(values.size), np.zeros(17, np.int32),
                                         np.zeros(1, np.float32), np.full(1, -1, np.int32)))
    for a, b in zip(cpu[2:], gpu[2:]):
        np.testing.assert_array_equal(a, b)
    cpu, gpu = both("global_index", (3, 2, 2), (16, 4, 2),
                    (np.full((3, 5, 37), -1, np.int32), np.int32(37), np.int32(5), np.int32(3)))
    np.testing.assert_array_equal(cpu[0], gpu[0])


def test_struct_argument_and_null_pointer(both):
    x = np.linspace(-3, 3, 40, dtype=np.float32)
    params = np.array([(1.7, 0.3, 37)], AFFINE)
    cpu, gpu = both("affine", 2, 32, (params, x, np.zeros(40, np.float32), None))
    # NVRTC contracts x * scale + shift into one FMA, g++ rounds twice: equal up to an ulp
    np.testing.assert_allclose(cpu[2], gpu[2], rtol=3e-7, atol=1e-7)
