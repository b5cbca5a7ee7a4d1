"""gelu.cu's launchers on the CPU emulator against GELU and its derivative in float64 NumPy (erf
and tanh forms), odd sizes, the grid-stride loop, every dtype."""
import math

import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import gelu

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
TOL = {np.float32: 2e-6, np.float64: 1e-13, np.float16: 1e-3, ml_dtypes.bfloat16: 8e-3}
_erf = np.vectorize(math.erf, otypes=[np.float64])


def reference(x, tanh_form):
    """(gelu(x), gelu'(x)) in float64."""
    if tanh_form:
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x ** 3))
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        return 0.5 * x * (1 + t), slope
    cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
    return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _close(got, want, dtype):
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("tanh_form", [False, True], ids=["erf", "tanh"])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 333), (0, 4)], ids=str)
def test_gelu_and_derivative(emulated, dtype, tanh_form, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    y, d = reference(x.astype(np.float64), tanh_form)
    out = gelu.gelu(x, tanh_form)
    assert out.shape == x.shape and out.dtype == x.dtype
    _close(out, y, dtype)
    _close(gelu.gelu_derivative(x, tanh_form), d, dtype)
    _close(gelu.gelu_derivative(x, tanh_form, grad), d * grad.astype(np.float64), dtype)


def test_grid_stride_and_non_contiguous_input(emulated, monkeypatch):
    monkeypatch.setattr(gelu, "MAX_BLOCKS", 3)  # 3 blocks of 256 threads stride over 2001 values
    x = np.random.default_rng(1).standard_normal((2001, 2))[:, 0]
    y, d = reference(x, False)
    np.testing.assert_allclose(gelu.gelu(x, False), y, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gelu.gelu_derivative(x, False), d, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_op_on_the_kernels_matches_torch(fused_ops, torch_oracle, dtype, approximate):
    import torchlite

    rng = np.random.default_rng(4)
    x, v = rng.standard_normal((2, 4, 3, 37)) * 3
    results = []
    for lib in (torch_oracle, torchlite):
        t = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        out = lib.nn.functional.gelu(t.transpose(0, 2), approximate=approximate)  # strided
        (out * lib.tensor(v, dtype=getattr(lib, dtype)).transpose(0, 2)).sum().backward()
        results.append((out.detach().numpy(), t.grad.numpy()))
    tol = TOL[np.float64 if dtype == "float64" else np.float32] * 4
    for got, want in zip(*results[::-1]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    kind = "float" if dtype == "float32" else "double"
    assert {f"gelu_forward<{kind}>", f"gelu_backward<{kind}>"} <= set(fused_ops.launches)
