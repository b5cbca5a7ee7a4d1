"""The gelu kernels (torchlite/_kernels/gelu.cu) against the composed path on cuda and against the
CPU: values, gradients and double backward for both approximations and every float dtype, odd
and empty sizes, transposed inputs, and a fused forward whose backward runs composed (and back).
Skips (with the reason) without a GPU, but for one CPU test of the composed derivative that a
fused forward leaves to recompute its cache."""
import numpy as np
import pytest

import torchlite
import torchlite.nn.functional as F
from torchlite import _kernels
from torchlite.nn.functional.activation import Gelu, _derivative

from ._gpu import gpu_reason, host64

REASON = gpu_reason()
needs_gpu = pytest.mark.skipif(REASON is not None, reason=str(REASON))

SIZES = (0, 1, 7, 33, 4097, 70001)
APPROXIMATE = ("none", "tanh")
# dtype -> (rtol, atol) for fused vs composed / CPU (float32 math for the half types: a result
# may round to the neighbouring half value; the float32 tanh derivative cancels in
# 0.5 + 0.5 tanh(u) for x << 0, a few 1e-6 apart between tanh implementations)
TOL = {"float64": (1e-12, 1e-12), "float32": (2e-6, 1e-5), "float16": (2e-3, 2e-3),
       "bfloat16": (1.6e-2, 1.6e-2)}


def _values(shape, seed=0):
    """Samples over gelu's interesting range (both tails, around 0) and a few exact points."""
    x = np.random.default_rng(seed).uniform(-7, 7, shape)
    x.reshape(-1)[:4] = (0.0, -0.5, 3.0, -6.0)[:x.size]
    return x


def _gelu_grads(x, g, approximate, device, dtype, fused=True, transpose=False):
    """(y, grad_x) of gelu on ``device`` as float64 NumPy arrays."""
    xt = torchlite.tensor(x, device=device).to(getattr(torchlite, dtype)).requires_grad_(True)
    gt = torchlite.tensor(g, device=device).to(getattr(torchlite, dtype))
    inp = xt.transpose(0, 1) if transpose else xt
    if fused:
        y = F.gelu(inp, approximate=approximate)
        gx, = torchlite.autograd.grad(y, [xt], gt)
    else:
        with _kernels.disabled():
            y = F.gelu(inp, approximate=approximate)
            gx, = torchlite.autograd.grad(y, [xt], gt)
    return host64(y), host64(gx)


def _compare(got, want, dtype, what):
    rtol, atol = TOL[dtype]
    for name, a, b in zip(("y", "grad_x"), got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}: {name}")


@needs_gpu
@pytest.mark.parametrize("dtype", list(TOL))
@pytest.mark.parametrize("approximate", APPROXIMATE)
@pytest.mark.parametrize("size", SIZES)
def test_gelu_matches_composed_and_cpu(size, approximate, dtype, launched):
    x, g = _values(size), _values(size, seed=1)
    fused = _gelu_grads(x, g, approximate, "cuda", dtype)
    if size:
        assert {"gelu_forward", "gelu_backward"} <= set(launched)
    _compare(fused, _gelu_grads(x, g, approximate, "cuda", dtype, fused=False), dtype,
             "vs composed cuda")
    _compare(fused, _gelu_grads(x, g, approximate, "cpu", dtype), dtype, "vs cpu")


@needs_gpu
@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_transposed_input(approximate):
    x, g = _values((33, 40)), _values((40, 33), seed=1)
    fused = _gelu_grads(x, g, approximate, "cuda", "float32", transpose=True)
    _compare(fused, _gelu_grads(x, g, approximate, "cpu", "float32", transpose=True), "float32",
             "transposed")


@needs_gpu
def test_more_elements_than_one_grid_sweep():
    from torchlite._kernels import gelu as kernels
    size = kernels.THREADS * kernels.MAX_BLOCKS + 1001
    x = torchlite.tensor(_values(size), device="cuda", dtype=torchlite.float32)
    fused = host64(F.gelu(x))
    with _kernels.disabled():
        composed = host64(F.gelu(x))
    np.testing.assert_allclose(fused, composed, rtol=TOL["float32"][0], atol=TOL["float32"][1])


@needs_gpu
@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_double_backward_matches_cpu(approximate):
    x, g, v = _values(257), _values(257, seed=1), _values(257, seed=2)
    results = {}
    for device in ("cpu", "cuda"):
        xt = torchlite.tensor(x, device=device).requires_grad_(True)
        gt = torchlite.tensor(g, device=device).requires_grad_(True)
        gx, = torchlite.autograd.grad(F.gelu(xt, approximate=approximate), [xt], gt,
                                      create_graph=True)
        second = (gx * torchlite.tensor(v, device=device)).sum()
        results[device] = [host64(t) for t in torchlite.autograd.grad(second, [xt, gt])]
    for a, b in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@needs_gpu
@pytest.mark.parametrize("fused_forward", [True, False])
@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_forward_and_backward_on_different_paths(approximate, fused_forward):
    """A fused forward keeps no cache: a composed backward recomputes it (and the other way
    round the fused backward ignores the composed forward's cache)."""
    x, g = _values(4097), _values(4097, seed=1)
    xt = torchlite.tensor(x, device="cuda", dtype=torchlite.float32).requires_grad_(True)
    gt = torchlite.tensor(g, device="cuda", dtype=torchlite.float32)
    if fused_forward:
        y = F.gelu(xt, approximate=approximate)
        with _kernels.disabled():
            gx, = torchlite.autograd.grad(y, [xt], gt)
    else:
        with _kernels.disabled():
            y = F.gelu(xt, approximate=approximate)
        gx, = torchlite.autograd.grad(y, [xt], gt)
    _compare((host64(y), host64(gx)), _gelu_grads(x, g, approximate, "cpu", "float32"),
             "float32", "mixed paths")


@needs_gpu
def test_node_names_as_composed():
    names = []
    for fused in (True, False):
        xt = torchlite.randn(9, device="cuda", requires_grad=True)
        if fused:
            gx, = torchlite.autograd.grad(F.gelu(xt).sum(), [xt], create_graph=True)
        else:
            with _kernels.disabled():
                gx, = torchlite.autograd.grad(F.gelu(xt).sum(), [xt], create_graph=True)
        names.append(gx.grad_fn.name())
    assert names[0] == names[1] == "GeluBackwardBackward0"


@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_derivative_without_cache_recomputes_it(torch_oracle, approximate):
    """What a composed backward after a fused forward computes (no cache), against PyTorch."""
    x, g = _values(5000), _values(5000, seed=1)
    got = _derivative(np, Gelu, x, None, {"approximate": approximate}, g)
    xt = torch_oracle.tensor(x, requires_grad=True)
    want, = torch_oracle.autograd.grad(torch_oracle.nn.functional.gelu(
        xt, approximate=approximate), xt, torch_oracle.tensor(g))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-12)
