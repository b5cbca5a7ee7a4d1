"""The fused softmax-family kernels (torchlite/_kernels/softmax.cu) on cuda: softmax, log_softmax
and cross_entropy against the composed path on cuda (``_kernels.disabled()``) and the CPU, for
every float dtype, short / long / odd rows (1 to 50257), dims that are not last, non-contiguous
inputs, -inf / inf / nan, ignored targets (all of a batch too), class weights, label smoothing,
gradients and double backward, node names, autocast, and no host sync.

Skips (with the reason) on machines without CuPy or a GPU; the lent GPU machine runs it.
"""
import numpy as np
import pytest

import torchlite
import torchlite.nn.functional as F
from torchlite import _kernels

from ..kernels_emu.cases import softmax_special_rows
from ._gpu import gpu_reason, host64
from .test_no_host_sync_cuda import no_host_sync

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

DTYPES = ["float32", "float64", "float16", "bfloat16"]
# relative tolerance per dtype (a few units in the last place; float32 rows sum up to 50257 terms)
TOL = {"float64": 1e-12, "float32": 3e-5, "float16": 4e-3, "bfloat16": 3e-2}
SOFTMAXES = {"softmax": F.softmax, "log_softmax": F.log_softmax}
# (shape, dim): one warp per row up to 1024, one block above; dims that are not last
CASES = [((3, 1), -1), ((5, 7), -1), ((4, 33), 1), ((2, 1000), -1), ((3, 1024), -1),
         ((2, 1025), -1), ((3, 4097), -1), ((2, 50257), -1), ((67, 65), -1), ((2, 65, 3), 1),
         ((4, 5, 6), 0), ((), 0)]


def _skip_unsupported(dtype):
    if dtype == "bfloat16" and not torchlite.cuda.is_bf16_supported():
        pytest.skip("this GPU / CuPy has no bfloat16")


def _close(actual, expected, dtype, scale=None, what=""):
    """|actual - expected| <= TOL * (|expected| + scale), scale defaulting to max |expected|."""
    a, e = host64(actual), host64(expected)
    finite = np.isfinite(e)
    if scale is None:
        scale = np.abs(e[finite]).max(initial=0.0)
    np.testing.assert_allclose(a, e, rtol=TOL[dtype], atol=TOL[dtype] * max(scale, 1e-30),
                               equal_nan=True, err_msg=what)


def _tensor(values, dtype, device, grad=False):
    t = torchlite.tensor(values, device=device).to(getattr(torchlite, dtype))
    return t.requires_grad_(True) if grad else t


def _softmax_run(fn, x, g, dim):
    """(output, input gradient for the output gradient g)."""
    y = fn(x, dim)
    gx, = torchlite.autograd.grad(y, x, g)
    return y, gx


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", CASES, ids=[f"{s}-{d}" for s, d in CASES])
@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax_matches_composed_and_cpu(name, shape, dim, dtype):
    _skip_unsupported(dtype)
    fn = SOFTMAXES[name]
    rng = np.random.default_rng(0)
    x_np, g_np = rng.standard_normal(shape) * 4, rng.standard_normal(shape)
    x, g = _tensor(x_np, dtype, "cuda", grad=True), _tensor(g_np, dtype, "cuda")
    y, gx = _softmax_run(fn, x, g, dim)
    assert y.dtype == x.dtype and gx.dtype == x.dtype and y.is_contiguous()
    # references from the same values in the kernels' accumulation type (float32 for 16-bit
    # dtypes, whose composed path computes in 16 bits): composed on cuda, and the CPU
    ref_dtype = "float64" if dtype == "float64" else "float32"
    refs = {}
    for device in ("cuda", "cpu"):
        x_ref = _tensor(host64(x), ref_dtype, device, grad=True)
        with _kernels.disabled():
            refs[device] = _softmax_run(fn, x_ref, _tensor(host64(g), ref_dtype, device), dim)
    # a gradient's error follows |g| |y| (softmax) or |g| (log_softmax), not |gradient|
    y_ref = host64(refs["cpu"][0])
    g_scale = np.abs(g_np).max() * (np.abs(y_ref).max() if name == "softmax" else 1.0)
    for where, (y_ref, gx_ref) in refs.items():
        _close(y, y_ref, dtype, what=f"forward vs {where}")
        _close(gx, gx_ref, dtype, scale=g_scale, what=f"gradient vs {where}")


@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax_of_non_contiguous_input(name):
    rng = np.random.default_rng(1)
    base = _tensor(rng.standard_normal((1100, 6)), "float32", "cuda")
    x = base.t().requires_grad_(True)  # (6, 1100): rows of 1100 strided by 6
    g = _tensor(rng.standard_normal((6, 1100)), "float32", "cuda")
    for dim in (1, 0):
        y, gx = _softmax_run(SOFTMAXES[name], x, g, dim)
        x_cpu = _tensor(host64(x), "float32", "cpu", grad=True)
        y_cpu, gx_cpu = _softmax_run(SOFTMAXES[name], x_cpu, g.cpu(), dim)
        _close(y, y_cpu, "float32")
        _close(gx, gx_cpu, "float32", scale=np.abs(host64(g)).max())


@pytest.mark.parametrize("n", [3, 40, 2000])
@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax_special_values_match_torch(torch_oracle, name, n):
    """-inf (masked attention), all -inf (nan), +inf (nan), nan: as PyTorch on the CPU, for a
    warp's rows and a block's."""
    rows = softmax_special_rows(n)
    y = getattr(torchlite, name)(_tensor(rows, "float32", "cuda"), -1)
    expected = getattr(torch_oracle, name)(torch_oracle.tensor(rows, dtype=torch_oracle.float32),
                                           -1)
    np.testing.assert_allclose(host64(y), expected.double().numpy(), rtol=3e-6, atol=1e-7,
                               equal_nan=True)


@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax_double_backward_matches_cpu(name):
    rng = np.random.default_rng(2)
    x_np, g_np, v_np = (rng.standard_normal((3, 1500)) for _ in range(3))
    results = []
    for device in ("cuda", "cpu"):
        x = _tensor(x_np, "float64", device, grad=True)
        g = _tensor(g_np, "float64", device, grad=True)
        y = SOFTMAXES[name](x, -1)
        gx, = torchlite.autograd.grad(y, x, g, create_graph=True)
        results.append(torchlite.autograd.grad((gx * _tensor(v_np, "float64", device)).sum(),
                                               (x, g)))
    for a, b in zip(*results):
        _close(a, b, "float64")


# ---- cross entropy ----------------------------------------------------------------------------

def _ce_case(rng, rows, classes, ignored=0.25, ignore_index=-100):
    x = rng.standard_normal((rows, classes)) * 3
    target = rng.integers(0, classes, rows)
    target[rng.random(rows) < ignored] = ignore_index
    return x, target, rng.random(classes) + 0.5


def _ce_run(x, target, weight, grad_out=None, create_graph=False, **kw):
    """(loss, d loss / d x for the loss gradient grad_out, the loss's node name)."""
    loss = F.cross_entropy(x, target, weight, **kw)
    g = torchlite.ones_like(loss) if grad_out is None else grad_out
    gx, = torchlite.autograd.grad(loss, x, g, create_graph=create_graph)
    return loss, gx, loss.grad_fn.name()


def _ce_on(device, x, target, weight, dtype, **kw):
    xt = _tensor(x, dtype, device, grad=True)
    wt = None if weight is None else _tensor(weight, dtype, device)
    tt = torchlite.tensor(target, device=device)
    return _ce_run(xt, tt, wt, **kw)


def _ce_compare(x, target, weight, dtype, **kw):
    """The fused cuda cross entropy vs the composed one on cuda and the CPU one."""
    loss, gx, name = _ce_on("cuda", x, target, weight, dtype, **kw)
    assert loss.dtype == gx.dtype == getattr(torchlite, dtype)
    with _kernels.disabled():
        loss_composed, gx_composed, name_composed = _ce_on("cuda", x, target, weight, dtype, **kw)
    loss_cpu, gx_cpu, name_cpu = _ce_on("cpu", x, target, weight, dtype, **kw)
    assert name == name_composed == name_cpu
    for other, where in ((loss_composed, "composed"), (loss_cpu, "cpu")):
        _close(loss, other, dtype, what=f"loss vs {where}")
    for other, where in ((gx_composed, "composed"), (gx_cpu, "cpu")):
        _close(gx, other, dtype, what=f"gradient vs {where}")


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_composed_and_cpu(dtype, reduction, weighted, smoothing):
    _skip_unsupported(dtype)
    x, target, weight = _ce_case(np.random.default_rng(3), 37, 65)
    _ce_compare(x, target, weight if weighted else None, dtype, reduction=reduction,
                label_smoothing=smoothing)


@pytest.mark.parametrize("rows,classes", [(3, 50257), (4, 1), (6, 1025), (2, 4097), (9, 7),
                                          (1, 65)])
def test_cross_entropy_row_lengths(rows, classes):
    x, target, weight = _ce_case(np.random.default_rng(4), rows, classes, ignored=0.2)
    _ce_compare(x, target, weight, "float32", label_smoothing=0.1)
    _ce_compare(x, target, None, "float32")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_one_sample(reduction):
    rng = np.random.default_rng(5)
    _ce_compare(rng.standard_normal(65), np.array(7), None, "float32", reduction=reduction)
    _ce_compare(rng.standard_normal(65), np.array(7), None, "float32", reduction=reduction,
                label_smoothing=0.2)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_all_ignored(reduction, smoothing):
    """PyTorch: mean is nan (0 / 0), sum 0, none zeros; the gradient is zero."""
    x, _, weight = _ce_case(np.random.default_rng(6), 5, 65)
    target = np.full(5, -100)
    _ce_compare(x, target, weight, "float32", reduction=reduction, label_smoothing=smoothing)
    loss, gx, _ = _ce_on("cuda", x, target, None, "float32", reduction=reduction,
                         label_smoothing=smoothing)
    assert np.isnan(host64(loss)).all() if reduction == "mean" else not host64(loss).any()
    assert not host64(gx).any()


def test_cross_entropy_ignore_index_that_is_a_class():
    x, target, weight = _ce_case(np.random.default_rng(7), 20, 65, ignored=0.0)
    target[:5] = 3
    _ce_compare(x, target, weight, "float32", ignore_index=3, label_smoothing=0.1)


def test_cross_entropy_non_contiguous_logits_and_byte_target():
    rng = np.random.default_rng(8)
    base = _tensor(rng.standard_normal((65, 12)), "float32", "cuda")
    target = rng.integers(0, 65, 12).astype(np.uint8)
    results = []
    for x in (base.t().requires_grad_(True), base.cpu().t().requires_grad_(True)):
        loss, gx, _ = _ce_run(x, torchlite.tensor(target, device=x.device), None,
                              label_smoothing=0.1)
        results.append((loss, gx))
    for a, b in zip(*results):
        _close(a, b, "float32")


def test_cross_entropy_k_dim_and_probability_targets_keep_the_composed_path():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 5, 3))
    _ce_compare(x, rng.integers(0, 5, (2, 3)), None, "float32", label_smoothing=0.1)
    logits, probs = rng.standard_normal((4, 5)), rng.random((4, 5))
    probs /= probs.sum(1, keepdims=True)
    results = [_ce_run(_tensor(logits, "float32", d, grad=True), _tensor(probs, "float32", d),
                       None)[:2] for d in ("cuda", "cpu")]
    for a, b in zip(*results):
        _close(a, b, "float32")


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_double_backward_matches_cpu(reduction, smoothing, weighted):
    rng = np.random.default_rng(10)
    x_np, target, weight = _ce_case(rng, 11, 65)
    weight = weight if weighted else None
    v_np = rng.standard_normal(x_np.shape)
    g_np = rng.standard_normal(11) if reduction == "none" else np.array(1.7)
    results = []
    for device in ("cuda", "cpu"):
        x = _tensor(x_np, "float64", device, grad=True)
        g = _tensor(g_np, "float64", device, grad=True)
        w = None if weight is None else _tensor(weight, "float64", device)
        _, gx, _ = _ce_run(x, torchlite.tensor(target, device=device), w, grad_out=g,
                           create_graph=True, reduction=reduction, label_smoothing=smoothing)
        results.append(torchlite.autograd.grad((gx * _tensor(v_np, "float64", device)).sum(),
                                               (x, g)))
    for a, b in zip(*results):
        _close(a, b, "float64")


def test_cross_entropy_backward_with_kernels_disabled_after_the_forward():
    """A fused forward's backward run with fused kernels off takes CrossEntropyGrad's xp path."""
    x, target, weight = _ce_case(np.random.default_rng(11), 13, 65)
    xt = _tensor(x, "float32", "cuda", grad=True)
    tt = torchlite.tensor(target, device="cuda")
    wt = _tensor(weight, "float32", "cuda")
    loss = F.cross_entropy(xt, tt, wt, label_smoothing=0.1)
    with _kernels.disabled():
        gx_xp, = torchlite.autograd.grad(loss, xt, retain_graph=True)
    gx, = torchlite.autograd.grad(loss, xt)
    _close(gx, gx_xp, "float32")


def test_cross_entropy_under_autocast_runs_in_float32():
    """nanoGPT's loss: bfloat16 logits (B*T, vocab) under autocast; cross_entropy is on the
    float32 list, its gradient reaches the logits in bfloat16."""
    _skip_unsupported("bfloat16")
    rng = np.random.default_rng(12)
    x_np, target, _ = _ce_case(rng, 64, 65, ignored=0.0)
    x = _tensor(x_np, "bfloat16", "cuda", grad=True)
    with torchlite.autocast("cuda", dtype=torchlite.bfloat16):
        loss = F.cross_entropy(x, torchlite.tensor(target, device="cuda"))
    assert loss.dtype == torchlite.float32
    loss.backward()
    assert x.grad.dtype == torchlite.bfloat16
    x_cpu = _tensor(host64(x), "float32", "cpu", grad=True)
    loss_cpu = F.cross_entropy(x_cpu, torchlite.tensor(target))
    loss_cpu.backward()
    _close(loss, loss_cpu, "float32")
    _close(x.grad, x_cpu.grad, "bfloat16")


def test_cross_entropy_out_of_range_target_is_nan():
    """PyTorch's CUDA kernel asserts on the device; the fused kernel, which must not sync to
    raise, gives nan (the CPU raises IndexError)."""
    x, target, _ = _ce_case(np.random.default_rng(13), 4, 65, ignored=0.0)
    target[2] = 65
    loss, gx, _ = _ce_on("cuda", x, target, None, "float32", reduction="none")
    assert np.isnan(host64(loss)[2]) and np.isfinite(host64(loss)[[0, 1, 3]]).all()
    assert np.isnan(host64(gx)[2]).all()


def test_fused_paths_do_not_sync():
    """Weighted, smoothed, mean cross entropy (its total weight stays on the device) and its
    backward, and softmax / log_softmax over a dim that is not last with their backward, under
    the stream-capture detector of test_no_host_sync_cuda (a host sync raises there)."""
    x, target, weight = _ce_case(np.random.default_rng(14), 256, 65)
    xt = _tensor(x, "float32", "cuda", grad=True)
    tt = torchlite.tensor(target, device="cuda")
    wt = _tensor(weight, "float32", "cuda")
    g = _tensor(np.ones(x.shape), "float32", "cuda")

    def step():
        _ce_run(xt, tt, wt, label_smoothing=0.1)
        for fn in SOFTMAXES.values():
            _softmax_run(fn, xt, g, 0)

    step()  # compile and warm up the kernels and the memory pool
    torchlite.cuda.synchronize()
    with no_host_sync():
        step()
