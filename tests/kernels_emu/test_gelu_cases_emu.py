"""gelu.cu on the CPU emulator: gelu and its derivative (times a gradient or not) against PyTorch
on the same rounded inputs, for both approximations, every dtype, empty and odd sizes, and a grid
smaller than the array (grid-stride loop); Gelu's fused methods against its composed ones."""
import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import gelu as kernels
from torchlite.nn.functional.activation import Gelu, _derivative

DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
          "bfloat16": ml_dtypes.bfloat16}
# dtype -> (rtol, atol): float32 math (CUDA's erff / tanhf / expf; the tanh derivative cancels
# in 0.5 + 0.5 tanh(u) for x << 0) rounded to the dtype
TOL = {"float32": (2e-6, 1e-5), "float64": (1e-13, 1e-13), "float16": (1e-3, 1e-3),
       "bfloat16": (8e-3, 8e-3)}


def _values(size, dtype, seed=0):
    x = np.random.default_rng(seed).uniform(-7, 7, size)
    x[:4] = (0.0, -0.5, 3.0, -6.0)[:size]
    return x.astype(DTYPES[dtype])


def _torch_gelu(torch_oracle, x, g, approximate):
    """(gelu(x), gelu'(x) * g) by PyTorch in float64 on the same (rounded) values."""
    xt = torch_oracle.tensor(x.astype(np.float64), requires_grad=True)
    y = torch_oracle.nn.functional.gelu(xt, approximate=approximate)
    gx, = torch_oracle.autograd.grad(y, xt, torch_oracle.tensor(g.astype(np.float64)))
    return y.detach().numpy(), gx.numpy()


def _close(got, want, dtype, what):
    assert got.dtype == DTYPES[dtype], what
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=TOL[dtype][0],
                               atol=TOL[dtype][1], err_msg=what)


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("size", (0, 1, 7, 33, 4097))
def test_gelu_and_derivative_match_torch(emulated, torch_oracle, size, approximate, dtype):
    x, g = _values(size, dtype), _values(size, dtype, seed=1)
    tanh_form = approximate == "tanh"
    y_ref, gx_ref = _torch_gelu(torch_oracle, x, g, approximate)
    _close(kernels.gelu(x, tanh_form), y_ref, dtype, "gelu")
    _close(kernels.gelu_derivative(x, tanh_form, g), gx_ref, dtype, "gelu' * grad")
    _, d_ref = _torch_gelu(torch_oracle, x, np.ones_like(g), approximate)
    _close(kernels.gelu_derivative(x, tanh_form), d_ref, dtype, "gelu'")


def test_more_elements_than_the_grid(emulated, torch_oracle, monkeypatch):
    monkeypatch.setattr(kernels, "MAX_BLOCKS", 2)
    x, g = _values(kernels.THREADS * 5 + 3, "float64"), _values(kernels.THREADS * 5 + 3,
                                                                 "float64", seed=1)
    y_ref, gx_ref = _torch_gelu(torch_oracle, x, g, "none")
    _close(kernels.gelu(x, False), y_ref, "float64", "gelu")
    _close(kernels.gelu_derivative(x, False, g), gx_ref, "float64", "gelu' * grad")


@pytest.mark.parametrize("tanh_form", [False, True])
def test_zero_dim_keeps_its_shape(emulated, tanh_form):
    x = np.array(0.75, np.float32)
    assert kernels.gelu(x, tanh_form).shape == ()
    assert kernels.gelu_derivative(x, tanh_form, np.array(2.0, np.float32)).shape == ()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_fused_methods_match_the_composed_path(emulated, approximate):
    """What Gelu runs on cuda (fused_forward / fused_derivative on a 2-D transposed input)
    against its composed NumPy forward and derivative: same values, shape and dtype."""
    x = _values(35 * 6, "float32").reshape(35, 6).T
    g = _values(35 * 6, "float32", seed=1).reshape(6, 35)
    params = {"approximate": approximate}
    y = Gelu.fused_forward(x, **params)
    y_ref = Gelu.compute(np, x.reshape(-1).copy(), **params)[0].reshape(x.shape)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_allclose(y, y_ref, rtol=TOL["float32"][0], atol=TOL["float32"][1])
    for grad in (None, g):
        d = Gelu.fused_derivative(x, grad, **params)
        d_ref = _derivative(np, Gelu, x, None, params, grad)
        assert d.shape == x.shape and d.dtype == x.dtype
        np.testing.assert_allclose(d, d_ref, rtol=TOL["float32"][0], atol=TOL["float32"][1])
