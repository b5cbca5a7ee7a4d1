"""layer_norm's fused path on the CPU emulator (``fused_ops``: NormAffine and NormAffineBackward
take their kernel branches on NumPy) in the cases test_layer_norm_emu.py leaves out: 16-bit
inputs (with float32 parameters too), weight or bias alone, double backward through the composed
backward, group and instance norm over trailing dims, rows strided beyond the grid, and the
saved tensors; against the composed path (kernels disabled) and PyTorch."""
import contextlib

import numpy as np
import pytest

import torchlite
from torchlite import _kernels
from torchlite._kernels import layer_norm as kernels

# dtype -> (rtol, atol) of values rounded to that dtype (float32 math for the 16-bit types)
TOL = {"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12), "float16": (4e-3, 4e-3),
       "bfloat16": (3e-2, 3e-2)}


def _run(lib, x, shape, params, g, dtype, param_dtype=None):
    """(y, grad_x, grad_w, grad_b) of ``lib``'s layer_norm as float64 arrays (None: no such
    parameter)."""
    def tensor(a, dt):
        return lib.tensor(a).to(getattr(lib, dt)).requires_grad_(True)
    xt = tensor(x, dtype)
    wt, bt = (None if p is None else tensor(p, param_dtype or dtype) for p in params)
    y = lib.nn.functional.layer_norm(xt, shape, wt, bt)
    leaves = [t for t in (xt, wt, bt) if t is not None]
    grads = iter(lib.autograd.grad(y, leaves, lib.tensor(g).to(y.dtype)))
    return [y.detach().double().numpy()] + [
        None if t is None else next(grads).double().numpy() for t in (xt, wt, bt)]


def _compare(got, want, tol, what):
    for name, a, b in zip(("y", "grad_x", "grad_w", "grad_b"), got, want):
        assert (a is None) == (b is None), f"{what}: {name}"
        if a is not None:
            assert a.shape == b.shape, f"{what}: {name}"
            np.testing.assert_allclose(a, b, rtol=tol[0], atol=tol[1], err_msg=f"{what}: {name}")


def _check(torch_oracle, x, shape, params, g, dtype, param_dtype=None):
    """The fused op against the composed one and PyTorch's."""
    fused = _run(torchlite, x, shape, params, g, dtype, param_dtype)
    with _kernels.disabled():
        composed = _run(torchlite, x, shape, params, g, dtype, param_dtype)
    _compare(fused, composed, TOL[dtype], "vs composed")
    _compare(fused, _run(torch_oracle, x, shape, params, g, dtype, param_dtype),
             TOL[dtype], "vs torch")


def _case(rows, n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, n)) * 2 + 0.5, rng.standard_normal(n),
            rng.standard_normal(n), rng.standard_normal((rows, n)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("param_dtype", [None, "float32"])
@pytest.mark.parametrize("n", (7, 1025))
def test_16_bit_inputs(fused_ops, torch_oracle, dtype, param_dtype, n):
    x, w, b, g = _case(5, n)
    _check(torch_oracle, x, (n,), (w, b), g, dtype, param_dtype)
    assert any(k.startswith("layer_norm_backward_params<") for k in fused_ops.launches)


@pytest.mark.parametrize("which", ["weight", "bias"])
@pytest.mark.parametrize("n", (33, 1025))
def test_weight_or_bias_alone(fused_ops, torch_oracle, which, n):
    x, w, b, g = _case(6, n)
    params = (w, None) if which == "weight" else (None, b)
    _check(torch_oracle, x, (n,), params, g, "float32")
    assert "layer_norm_forward<float>" in fused_ops.launches


@pytest.mark.parametrize("n", (33, 1025))
def test_rows_strided_beyond_the_grid(fused_ops, torch_oracle, monkeypatch, n):
    monkeypatch.setattr(kernels, "MAX_GRID", 2)
    x, w, b, g = _case(11, n)
    _check(torch_oracle, x, (n,), (w, b), g, "float64")


@pytest.mark.parametrize("first_for", ["x", "x,w", "w"])
def test_double_backward_through_the_composed_backward(fused_ops, torch_oracle, first_for):
    x, w, b, g = _case(4, 33)
    v = np.random.default_rng(9).standard_normal(x.shape)

    def second_order(lib):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.layer_norm(xt, (33,), wt, bt)
        wrt = {"x": [xt], "x,w": [xt, wt], "w": [wt]}[first_for]
        firsts = lib.autograd.grad(y, wrt, lib.tensor(g), create_graph=True)
        second = sum((f * lib.tensor(v if f.ndim == 2 else v[0])).sum() for f in firsts)
        grads = lib.autograd.grad(second, [xt, wt, bt], allow_unused=True)
        return [None if t is None else t.detach().numpy() for t in grads]
    got = second_order(torchlite)
    assert "layer_norm_backward_input<double>" in fused_ops.launches
    for a, e in zip(got, second_order(torch_oracle)):
        assert (a is None) == (e is None)
        if a is not None:
            np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_group_and_instance_norm(fused_ops, torch_oracle, dtype):
    rng = np.random.default_rng(5)
    x, v = rng.standard_normal((2, 6, 5, 7)), rng.standard_normal((2, 6, 5, 7))
    w, b = rng.standard_normal(6), rng.standard_normal(6)

    def run(lib):
        xt, wt, bt = (lib.tensor(a).to(getattr(lib, dtype)).requires_grad_(True)
                      for a in (x, w, b))
        y = (lib.nn.functional.group_norm(xt, 3, wt, bt)
             + lib.nn.functional.instance_norm(xt, weight=wt, bias=bt))
        grads = lib.autograd.grad((y * lib.tensor(v).to(y.dtype)).sum(), [xt, wt, bt])
        return [t.detach().double().numpy() for t in (y, *grads)]
    got = run(torchlite)
    assert f"layer_norm_forward<{'float' if dtype == 'float32' else '__half'}>" in \
        fused_ops.launches
    rtol, atol = TOL[dtype]
    for a, e in zip(got, run(torch_oracle)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol * 8)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_saved_tensors_and_node_as_composed(fused_ops, dtype):
    """The node's name and saved xhat / weight / mean / rstd (shapes, dtypes, values) are the
    composed path's."""
    x, w, b, _ = _case(3, 33)
    nodes = []
    for fused in (True, False):
        xt, wt, bt = (torchlite.tensor(a).to(getattr(torchlite, dtype)).requires_grad_(True)
                      for a in (x, w, b))
        with contextlib.nullcontext() if fused else _kernels.disabled():
            y = torchlite.nn.functional.layer_norm(xt, (33,), wt, bt)
        nodes.append((y.grad_fn.name(), [t.detach() for t in y.grad_fn.saved_tensors]))
    assert nodes[0][0] == nodes[1][0] == "NativeLayerNormBackward0"
    for a, e in zip(nodes[0][1], nodes[1][1]):
        assert a.shape == e.shape and a.dtype == e.dtype
        np.testing.assert_allclose(a.double().numpy(), e.double().numpy(), rtol=TOL[dtype][0],
                                   atol=TOL[dtype][1])

