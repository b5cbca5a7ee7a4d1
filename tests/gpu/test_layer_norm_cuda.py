"""The layer_norm kernels (torchlite/_kernels/layer_norm.cu) against the composed path on cuda
and against the CPU: outputs, saved mean / rstd, input / weight / bias gradients and double
backward, for every float dtype, short and long rows, without parameters, 3-D and transposed
inputs. Skips (with the reason) without a GPU."""
import numpy as np
import pytest

import torchlite
import torchlite.nn.functional as F
from torchlite import _kernels
from torchlite.nn.functional.normalization import _norm_affine

from ._gpu import gpu_reason, host64

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

ROW_LENGTHS = (1, 7, 33, 384, 768, 4097)
# dtype -> (rtol, atol) for fused vs composed / CPU (float32 math for the half types: a result
# may round to the neighbouring half value)
TOL = {"float64": (1e-10, 1e-10), "float32": (1e-4, 1e-4), "float16": (4e-3, 4e-3),
       "bfloat16": (3e-2, 3e-2)}


def _tensor(a, dtype, device):
    return torchlite.tensor(a, device=device).to(getattr(torchlite, dtype)).requires_grad_(True)


def _layer_norm_grads(x, shape, w, b, seed, device, dtype, param_dtype=None, fused=True,
                      transpose=False):
    """(y, grad_x, grad_w, grad_b) of layer_norm on ``device`` as float64 NumPy arrays."""
    xt = _tensor(x, dtype, device)
    wt = None if w is None else _tensor(w, param_dtype or dtype, device)
    bt = None if b is None else _tensor(b, param_dtype or dtype, device)
    inp = xt.transpose(0, 1) if transpose else xt
    g = torchlite.tensor(seed, device=device).to(getattr(torchlite, dtype))
    if fused:
        y = F.layer_norm(inp, shape, wt, bt)
        grads = torchlite.autograd.grad(y, [t for t in (xt, wt, bt) if t is not None], g)
    else:
        with _kernels.disabled():
            y = F.layer_norm(inp, shape, wt, bt)
            grads = torchlite.autograd.grad(y, [t for t in (xt, wt, bt) if t is not None], g)
    grads = iter(grads)
    return [host64(y)] + [host64(next(grads)) if t is not None else None for t in (xt, wt, bt)]


def _compare(got, want, dtype, what):
    rtol, atol = TOL[dtype]
    for name, a, b in zip(("y", "grad_x", "grad_w", "grad_b"), got, want):
        assert (a is None) == (b is None), f"{what}: {name}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}: {name}")


def _case(rows, n, affine=True, seed=0):
    rng = np.random.default_rng(seed + n)
    x = rng.standard_normal((rows, n)) * 2 + 0.5
    w = rng.standard_normal(n) if affine else None
    b = rng.standard_normal(n) if affine else None
    return x, w, b, rng.standard_normal((rows, n))


@pytest.mark.parametrize("dtype", list(TOL))
@pytest.mark.parametrize("n", ROW_LENGTHS)
def test_layer_norm_matches_composed_and_cpu(dtype, n, launched):
    x, w, b, g = _case(5, n)
    fused = _layer_norm_grads(x, (n,), w, b, g, "cuda", dtype)
    assert {"layer_norm_forward", "layer_norm_backward_input",
            "layer_norm_backward_params"} <= set(launched)
    _compare(fused, _layer_norm_grads(x, (n,), w, b, g, "cuda", dtype, fused=False), dtype,
             "vs composed cuda")
    _compare(fused, _layer_norm_grads(x, (n,), w, b, g, "cpu", dtype), dtype, "vs cpu")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_input_with_float32_parameters(dtype):
    x, w, b, g = _case(9, 768)
    fused = _layer_norm_grads(x, (768,), w, b, g, "cuda", dtype, "float32")
    _compare(fused, _layer_norm_grads(x, (768,), w, b, g, "cpu", dtype, "float32"), dtype,
             "vs cpu")


@pytest.mark.parametrize("params", ["none", "weight", "bias"])
@pytest.mark.parametrize("n", (7, 4097))
def test_without_some_parameters(params, n, launched):
    x, w, b, g = _case(6, n)
    w = w if params == "weight" else None
    b = b if params == "bias" else None
    fused = _layer_norm_grads(x, (n,), w, b, g, "cuda", "float32")
    assert "layer_norm_forward" in launched
    _compare(fused, _layer_norm_grads(x, (n,), w, b, g, "cpu", "float32"), "float32", params)


@pytest.mark.parametrize("rows, n", [(3000, 384), (1000, 1), (257, 4097), (70000, 33)])
def test_many_rows_take_several_chunks_of_the_column_sums(rows, n):
    x, w, b, g = _case(rows, n)
    fused = _layer_norm_grads(x, (n,), w, b, g, "cuda", "float64")
    _compare(fused, _layer_norm_grads(x, (n,), w, b, g, "cpu", "float64"), "float64", "rows")


def test_3d_input_over_two_trailing_dims():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 33))
    w, b = rng.standard_normal((4, 33)), rng.standard_normal((4, 33))
    g = rng.standard_normal(x.shape)
    for shape, ww, bb in (((4, 33), w, b), ((33,), w[0], b[0])):
        fused = _layer_norm_grads(x, shape, ww, bb, g, "cuda", "float32")
        _compare(fused, _layer_norm_grads(x, shape, ww, bb, g, "cpu", "float32"), "float32",
                 str(shape))


def test_transposed_input():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((33, 6, 40))
    w, b = rng.standard_normal(40), rng.standard_normal(40)
    g = rng.standard_normal((6, 33, 40))
    fused = _layer_norm_grads(x, (40,), w, b, g, "cuda", "float32", transpose=True)
    _compare(fused, _layer_norm_grads(x, (40,), w, b, g, "cpu", "float32", transpose=True),
             "float32", "transposed")


@pytest.mark.parametrize("dtype", list(TOL))
def test_saved_mean_and_rstd(dtype):
    x, w, b, _ = _case(4, 33)
    outs = {}
    for device in ("cpu", "cuda"):
        xt = torchlite.tensor(x, device=device).to(getattr(torchlite, dtype))
        wt, bt = (torchlite.tensor(p, device=device).to(getattr(torchlite, dtype))
                  for p in (w, b))
        out, mean, rstd = _norm_affine(xt, wt, bt, (1,), 1e-5)
        assert mean.dtype == rstd.dtype == xt.dtype and mean.shape == rstd.shape == (4, 1)
        outs[device] = [host64(t) for t in (out, mean, rstd)]
    rtol, atol = TOL[dtype]
    for a, b in zip(outs["cuda"], outs["cpu"]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("n", (7, 768))
def test_double_backward_through_the_composed_backward(n):
    x, w, b, g = _case(4, n)
    v = np.random.default_rng(9).standard_normal(x.shape)
    results = {}
    for device in ("cpu", "cuda"):
        xt, wt, bt = (_tensor(a, "float64", device) for a in (x, w, b))
        y = F.layer_norm(xt, (n,), wt, bt)
        gx, gw = torchlite.autograd.grad(y, [xt, wt], torchlite.tensor(g, device=device),
                                         create_graph=True)
        second = (gx * torchlite.tensor(v, device=device)).sum() + (gw * gw).sum()
        results[device] = [host64(t) for t in torchlite.autograd.grad(second, [xt, wt, bt],
                                                                     allow_unused=True)]
    for a, b in zip(results["cuda"], results["cpu"]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_node_names_and_saved_tensors_as_composed():
    x, w, b, _ = _case(3, 33)
    nodes = []
    for fused in (True, False):
        xt, wt, bt = (_tensor(a, "float32", "cuda") for a in (x, w, b))
        if fused:
            y = F.layer_norm(xt, (33,), wt, bt)
        else:
            with _kernels.disabled():
                y = F.layer_norm(xt, (33,), wt, bt)
        nodes.append((y.grad_fn.name(), [(tuple(t.shape), t.dtype)
                                         for t in y.grad_fn.saved_tensors if t is not None]))
    assert nodes[0] == nodes[1]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_group_and_instance_norm_on_the_kernel_path(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 5, 7))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    outs = {}
    for device in ("cpu", "cuda"):
        xt = _tensor(x, dtype, device)
        wt, bt = (_tensor(p, dtype, device) for p in (w, b))
        y = F.group_norm(xt, 3, wt, bt) + F.instance_norm(xt, weight=wt, bias=bt)
        grads = torchlite.autograd.grad(y.sum(), [xt, wt, bt])
        outs[device] = [host64(t) for t in (y, *grads)]
    rtol, atol = TOL[dtype]
    for a, b in zip(outs["cuda"], outs["cpu"]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * 4)


def test_empty_batch_falls_back():
    xt = torchlite.zeros((0, 8), device="cuda", requires_grad=True)
    wt = torchlite.ones(8, device="cuda", requires_grad=True)
    y = F.layer_norm(xt, (8,), wt)
    gx, gw = torchlite.autograd.grad(y.sum(), [xt, wt])
    assert y.shape == (0, 8) and gx.shape == (0, 8)
    np.testing.assert_array_equal(host64(gw), np.zeros(8))
