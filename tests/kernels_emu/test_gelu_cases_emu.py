"""gelu's fused path on the CPU emulator (``fused_ops``: Gelu, its backward and its derivative
take their kernel branches on NumPy) in the cases test_gelu_emu.py leaves out: 16-bit inputs,
0-d inputs, a fused forward whose backward runs composed (no cache: recomputed) and the other way
round, double backward, and node names; against the composed path and PyTorch."""
import contextlib

import numpy as np
import pytest

import torchlite
from torchlite import _kernels

# dtype -> (rtol, atol): float32 math (the tanh derivative cancels in 0.5 + 0.5 tanh(u) for
# x << 0, a few 1e-6 apart between tanh implementations) rounded to the dtype
TOL = {"float32": (2e-6, 1e-5), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3),
       "bfloat16": (1.6e-2, 1.6e-2)}
APPROXIMATE = ("none", "tanh")


def _values(shape, seed=0):
    return np.random.default_rng(seed).uniform(-7, 7, shape)


def _run(lib, x, g, approximate, dtype, fused_forward=True, fused_backward=True):
    """(gelu(x), grad_x) of ``lib`` as float64 arrays; for torchlite, each pass fused or
    composed."""
    def mode(fused):
        return contextlib.nullcontext() if fused or lib is not torchlite else _kernels.disabled()
    xt = lib.tensor(x).to(getattr(lib, dtype)).requires_grad_(True)
    with mode(fused_forward):
        y = lib.nn.functional.gelu(xt, approximate=approximate)
    with mode(fused_backward):
        gx, = lib.autograd.grad(y, [xt], lib.tensor(g).to(y.dtype))
    return y.detach().double().numpy(), gx.double().numpy()


def _compare(got, want, dtype, what):
    for name, a, b in zip(("y", "grad_x"), got, want):
        assert a.shape == b.shape, f"{what}: {name}"
        np.testing.assert_allclose(a, b, rtol=TOL[dtype][0], atol=TOL[dtype][1],
                                   err_msg=f"{what}: {name}")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_16_bit_inputs(fused_ops, torch_oracle, dtype, approximate):
    x, g = _values((3, 333)), _values((3, 333), seed=1)
    fused = _run(torchlite, x, g, approximate, dtype)
    assert any(k.startswith("gelu_backward<") for k in fused_ops.launches)
    _compare(fused, _run(torchlite, x, g, approximate, dtype, False, False), dtype,
             "vs composed")
    _compare(fused, _run(torch_oracle, x, g, approximate, dtype), dtype, "vs torch")


@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_zero_dim_input(fused_ops, torch_oracle, approximate):
    x, g = np.array(0.75), np.array(2.0)
    fused = _run(torchlite, x, g, approximate, "float32")
    assert "gelu_forward<float>" in fused_ops.launches
    _compare(fused, _run(torch_oracle, x, g, approximate, "float32"), "float32", "vs torch")


@pytest.mark.parametrize("fused_forward", [True, False])
@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_forward_and_backward_on_different_paths(fused_ops, torch_oracle, approximate,
                                                 fused_forward):
    """A fused forward keeps no cache, so a composed backward recomputes it; a fused backward
    ignores a composed forward's cache."""
    x, g = _values(4097), _values(4097, seed=1)
    got = _run(torchlite, x, g, approximate, "float32", fused_forward, not fused_forward)
    assert ("gelu_forward<float>" in fused_ops.launches) == fused_forward
    assert ("gelu_backward<float>" in fused_ops.launches) != fused_forward
    _compare(got, _run(torch_oracle, x, g, approximate, "float32"), "float32", "vs torch")


@pytest.mark.parametrize("approximate", APPROXIMATE)
def test_double_backward(fused_ops, torch_oracle, approximate):
    x, g, v = _values(257), _values(257, seed=1), _values(257, seed=2)

    def second_order(lib):
        xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
        gx, = lib.autograd.grad(lib.nn.functional.gelu(xt, approximate=approximate), [xt], gt,
                                create_graph=True)
        grads = lib.autograd.grad((gx * lib.tensor(v)).sum(), [xt, gt])
        return [t.detach().numpy() for t in grads], gx.grad_fn.name()
    (got, name), (want, want_name) = second_order(torchlite), second_order(torch_oracle)
    assert "gelu_backward<double>" in fused_ops.launches
    assert name == want_name
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10)
