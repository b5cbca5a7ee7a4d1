"""The softmax-family kernels (torchlite/_kernels/softmax.cu) run in the CPU emulator through their
launchers, against NumPy (float64) and torch: softmax / log_softmax forward and backward for
every float dtype, warp rows (including a partial last block) and block rows; special values;
cross entropy's loss, logsumexp, reduction and logits gradient with weights, ignored targets and
label smoothing."""
import ml_dtypes
import numpy as np
import pytest
import torch

from torchlite._kernels import _compile
from torchlite._kernels import softmax as kernels

from .cases import softmax_special_rows

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
# relative tolerance per dtype: a few units of its last place (float32: sums of 4097 terms)
TOL = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3, ml_dtypes.bfloat16: 1.6e-2}
# (rows, n): warp rows with a partial last block of 4, one lane, a full warp's worth; block rows
SHAPES = [(5, 1), (3, 7), (6, 33), (1, 1000), (2, 1024), (2, 1025), (1, 4097)]


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _close(actual, expected, dtype, scale=None):
    scale = np.abs(expected[np.isfinite(expected)]).max(initial=0.0) if scale is None else scale
    np.testing.assert_allclose(_f64(actual), expected, rtol=TOL[dtype],
                               atol=TOL[dtype] * max(scale, 1e-30), equal_nan=True)


def _reference_softmax(x, log):
    top = x.max(1, keepdims=True)
    shifted = x - top
    log_sum = np.log(np.exp(shifted).sum(1, keepdims=True))
    return shifted - log_sum if log else np.exp(shifted - log_sum)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("rows,n", SHAPES)
def test_softmax_forward_and_backward(emulated, rows, n, dtype, log):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((rows, n)) * 4).astype(dtype)
    g = rng.standard_normal((rows, n)).astype(dtype)
    y = kernels.softmax(x, log=log)
    assert y.dtype == x.dtype and y.shape == x.shape
    _close(y, _reference_softmax(_f64(x), log), dtype)
    out = kernels.softmax_backward(g, y, log=log)
    yd, gd = _f64(y), _f64(g)
    if log:
        expected = gd - np.exp(yd) * gd.sum(1, keepdims=True)
    else:
        expected = yd * (gd - (gd * yd).sum(1, keepdims=True))
    _close(out, expected, dtype, scale=np.abs(gd).max() * (1.0 if log else np.abs(yd).max()))


@pytest.mark.parametrize("n", [3, 40, 1500])
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_special_values_match_torch(emulated, log, n):
    x = softmax_special_rows(n).astype(np.float32)
    fn = torch.log_softmax if log else torch.softmax
    expected = fn(torch.tensor(x), -1).double().numpy()
    np.testing.assert_allclose(_f64(kernels.softmax(x, log=log)), expected, rtol=3e-6,
                               atol=1e-7, equal_nan=True)


# ---- cross entropy ----------------------------------------------------------------------------

def _ce_case(rng, rows, classes, ignore_index=-100):
    x = rng.standard_normal((rows, classes)) * 3
    target = rng.integers(0, classes, rows)
    target[rng.random(rows) < 0.3] = ignore_index
    return x, target, rng.random(classes) + 0.5


def _torch_ce(x, target, weight, reduction, smoothing, ignore_index=-100, grad_out=None):
    xt = torch.tensor(_f64(x), requires_grad=True)
    wt = None if weight is None else torch.tensor(weight)
    loss = torch.nn.functional.cross_entropy(xt, torch.tensor(target), wt,
                                             ignore_index=ignore_index, reduction=reduction,
                                             label_smoothing=smoothing)
    g = torch.ones_like(loss) if grad_out is None else torch.tensor(grad_out)
    loss.backward(g)
    return loss.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("rows,classes", [(9, 7), (3, 1025), (5, 1)])
def test_cross_entropy_matches_torch(emulated, rows, classes, reduction, weighted, smoothing):
    rng = np.random.default_rng(classes)
    x, target, weight = _ce_case(rng, rows, classes)
    weight = weight if weighted else None
    grad_out = rng.standard_normal(rows) if reduction == "none" else np.array(0.7)
    loss, lse, inv = kernels.cross_entropy(x, target, weight, -100, reduction, smoothing)
    expected_loss, expected_grad = _torch_ce(x, target, weight, reduction, smoothing,
                                             grad_out=grad_out)
    _close(loss, expected_loss, np.float64)
    _close(lse, torch.logsumexp(torch.tensor(x), 1).numpy(), np.float64)
    grad = kernels.cross_entropy_backward(grad_out, x, lse, inv, target, weight, -100, smoothing)
    _close(grad, expected_grad, np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_entropy_dtypes(emulated, dtype):
    """16-bit logits: float32 math, loss and gradient rounded to the logits' dtype."""
    x, target, weight = _ce_case(np.random.default_rng(1), 6, 65)
    x = x.astype(dtype)
    loss, lse, inv = kernels.cross_entropy(x, target, weight, -100, "mean", 0.1)
    assert loss.dtype == x.dtype and lse.dtype == inv.dtype == _compile.accumulation_dtype(dtype)
    expected_loss, expected_grad = _torch_ce(x, target, weight, "mean", 0.1)
    _close(loss, expected_loss, dtype)
    grad = kernels.cross_entropy_backward(np.array(1, dtype), x, lse, inv, target, weight, -100,
                                          0.1)
    assert grad.dtype == x.dtype
    _close(grad, expected_grad, dtype)


def test_cross_entropy_ignore_index_that_is_a_class(emulated):
    x, target, weight = _ce_case(np.random.default_rng(2), 8, 5, ignore_index=2)
    loss, lse, inv = kernels.cross_entropy(x, target, weight, 2, "mean", 0.2)
    expected_loss, expected_grad = _torch_ce(x, target, weight, "mean", 0.2, ignore_index=2)
    _close(loss, expected_loss, np.float64)
    grad = kernels.cross_entropy_backward(np.array(1.0), x, lse, inv, target, weight, 2, 0.2)
    _close(grad, expected_grad, np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_all_ignored(emulated, reduction):
    """PyTorch: mean 0 / 0 = nan, sum 0, none zeros; every gradient 0 (inv 0 for the mean)."""
    x, _, weight = _ce_case(np.random.default_rng(3), 4, 6)
    target = np.full(4, -100)
    loss, lse, inv = kernels.cross_entropy(x, target, weight, -100, reduction, 0.1)
    expected_loss, _ = _torch_ce(x, target, weight, reduction, 0.1)
    np.testing.assert_array_equal(loss, expected_loss)
    grad_out = np.ones(4) if reduction == "none" else np.array(1.0)
    grad = kernels.cross_entropy_backward(grad_out, x, lse, inv, target, weight, -100, 0.1)
    assert not grad.any()


def test_cross_entropy_out_of_range_target_gives_nan(emulated):
    x, target, _ = _ce_case(np.random.default_rng(4), 4, 6)
    target[:] = [1, 6, -1, 2]
    loss, lse, inv = kernels.cross_entropy(x, target, None, -100, "none", 0.0)
    assert np.isnan(loss[1:3]).all() and np.isfinite(loss[[0, 3]]).all()
    grad = kernels.cross_entropy_backward(np.ones(4), x, lse, inv, target, None, -100, 0.0)
    assert np.isnan(grad[1:3]).all() and np.isfinite(grad[[0, 3]]).all()
    mean, _, inv = kernels.cross_entropy(x, target, None, -100, "mean", 0.0)
    assert np.isnan(mean) and np.isnan(inv)


# ---- the ops on the emulated kernels ----------------------------------------------------------

def _both(values, grad=True):
    """The same float64 values as a torch and a torchlite tensor."""
    import torchlite

    return (torch.tensor(values, requires_grad=grad),
            torchlite.tensor(values, requires_grad=grad))


def _grads_and_double(lib, out, inputs, v, w):
    """d(sum(out * v)) / d inputs with create_graph, then d(sum of those * w) / d inputs."""
    first = lib.autograd.grad((out * lib.tensor(v)).sum(), inputs, create_graph=True)
    second = lib.autograd.grad(sum((g * lib.tensor(w)).sum() for g in first), inputs)
    return [g.detach().numpy() for g in first], [g.numpy() for g in second]


def _assert_same_as_torch(want, got):
    """(output, node name, first gradients, second gradients) of PyTorch (``want``) and
    torchlite (``got``) agree."""
    (out_t, name_t, first_t, second_t), (out_o, name_o, first_o, second_o) = want, got
    assert name_o == name_t
    np.testing.assert_allclose(out_o, out_t, rtol=1e-12, atol=1e-14)
    for a, b in zip(first_o + second_o, first_t + second_t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dim,transpose", [(-1, False), (0, False), (1, True)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_ops_match_torch(fused_ops, name, dim, transpose):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 40)) * 3
    v = rng.standard_normal((40, 6) if transpose else (6, 40))  # the output's gradient
    w = rng.standard_normal((6, 40))
    results = []
    for lib, t in zip((torch, __import__("torchlite")), _both(x)):
        src = t.t() if transpose else t
        out = getattr(lib, name)(src, dim)
        results.append((out.detach().numpy(), out.grad_fn.name(),
                        *_grads_and_double(lib, out, (t,), v, w)))
    _assert_same_as_torch(*results)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_op_matches_torch(fused_ops, reduction, weighted, smoothing):
    import torchlite

    rng = np.random.default_rng(6)
    x, target, weight = _ce_case(rng, 9, 7)
    v, w = rng.standard_normal((2, 9) if reduction == "none" else 2), rng.standard_normal((9, 7))
    results = []
    for lib, t in zip((torch, torchlite), _both(x)):
        wt = None if not weighted else lib.tensor(weight)
        loss = lib.nn.functional.cross_entropy(t, lib.tensor(target), wt, reduction=reduction,
                                               label_smoothing=smoothing)
        results.append((loss.detach().numpy(), loss.grad_fn.name(),
                        *_grads_and_double(lib, loss, (t,), v[0], w)))
    _assert_same_as_torch(*results)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_op_of_one_sample_and_all_ignored(fused_ops, reduction):
    import torchlite

    x = np.random.default_rng(7).standard_normal(5)
    for target in (3, -100):
        t_torch, t_ours = _both(x)
        expected = torch.nn.functional.cross_entropy(t_torch, torch.tensor(target),
                                                     reduction=reduction, label_smoothing=0.1)
        ours = torchlite.nn.functional.cross_entropy(t_ours, torchlite.tensor(target),
                                                     reduction=reduction, label_smoothing=0.1)
        assert tuple(ours.shape) == tuple(expected.shape)
        np.testing.assert_allclose(ours.detach().numpy(), expected.detach().numpy(), rtol=1e-12,
                                   equal_nan=True)
        expected.backward()
        ours.backward()
        np.testing.assert_allclose(t_ours.grad.numpy(), t_torch.grad.numpy(), rtol=1e-10,
                                   atol=1e-14)
