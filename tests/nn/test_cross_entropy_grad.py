"""CrossEntropyGrad, the backward primitive of the fused (cuda) cross entropy, on the CPU through
its xp path: its value and its own gradients (double backward) against torch's cross_entropy
gradients, from logsumexp and total weight computed here with NumPy. The cuda kernel of the same
formula is compared with this path in tests/gpu/test_softmax_cuda.py."""
import numpy as np
import pytest
import torch

import torchlite
from torchlite.nn.functional.loss import CrossEntropyGrad

IGNORE = -100


def _case(rng, rows, classes, weighted, ignored):
    x = rng.standard_normal((rows, classes)) * 3
    target = rng.integers(0, classes, rows)
    target[rng.random(rows) < ignored] = IGNORE
    weight = rng.random(classes) + 0.5 if weighted else None
    return x, target, weight


def _lse_and_inv(x, target, weight, reduction):
    """The forward kernel's saved values, from NumPy: the rows' logsumexp and 1 / total weight
    of the non-ignored targets for 'mean' (0 when it is 0), else 1."""
    top = x.max(1, keepdims=True)
    lse = (top + np.log(np.exp(x - top).sum(1, keepdims=True)))[:, 0]
    valid = target != IGNORE
    w = np.ones(x.shape[1]) if weight is None else weight
    total = w[np.where(valid, target, 0)][valid].sum()
    inv = (0.0 if total == 0 else 1.0 / total) if reduction == "mean" else 1.0
    return lse, np.array(inv)


def _torch_grads(x, target, weight, reduction, smoothing, g, v):
    """torch: d loss / d x for loss gradient g, and the gradients of sum(v * that) w.r.t. x and
    g (double backward)."""
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(g, requires_grad=True)
    wt = None if weight is None else torch.tensor(weight)
    loss = torch.nn.functional.cross_entropy(xt, torch.tensor(target), wt, reduction=reduction,
                                             label_smoothing=smoothing)
    gx, = torch.autograd.grad(loss, xt, gt, create_graph=True)
    ggx, ggg = torch.autograd.grad((gx * torch.tensor(v)).sum(), (xt, gt))
    return gx.detach().numpy(), ggx.numpy(), ggg.numpy()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_value_and_double_backward_match_torch(reduction, smoothing, weighted):
    rng = np.random.default_rng(3)
    x, target, weight = _case(rng, 9, 6, weighted, 0.3)
    lse, inv = _lse_and_inv(x, target, weight, reduction)
    g = rng.standard_normal(9) if reduction == "none" else np.array(rng.standard_normal())
    v = rng.standard_normal(x.shape)
    expect_gx, expect_ggx, expect_ggg = _torch_grads(x, target, weight, reduction, smoothing, g,
                                                     v)

    xt = torchlite.tensor(x, requires_grad=True)
    gt = torchlite.tensor(g, requires_grad=True)
    wt = None if weight is None else torchlite.tensor(weight)
    gx = CrossEntropyGrad.apply(gt, xt, torchlite.tensor(lse), torchlite.tensor(inv),
                                torchlite.tensor(target), wt, ignore_index=IGNORE,
                                reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(gx.detach().numpy(), expect_gx, rtol=1e-10, atol=1e-12)
    ggx, ggg = torchlite.autograd.grad((gx * torchlite.tensor(v)).sum(), (xt, gt))
    np.testing.assert_allclose(ggx.numpy(), expect_ggx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ggg.numpy(), expect_ggg, rtol=1e-10, atol=1e-12)


def test_all_ignored_mean_gives_zero_gradients():
    rng = np.random.default_rng(4)
    x, _, weight = _case(rng, 4, 5, True, 0.0)
    target = np.full(4, IGNORE)
    lse, inv = _lse_and_inv(x, target, weight, "mean")
    xt = torchlite.tensor(x, requires_grad=True)
    gt = torchlite.tensor(1.0, dtype=torchlite.float64, requires_grad=True)
    gx = CrossEntropyGrad.apply(gt, xt, torchlite.tensor(lse), torchlite.tensor(inv),
                                torchlite.tensor(target), torchlite.tensor(weight),
                                ignore_index=IGNORE, reduction="mean", label_smoothing=0.1)
    ggx, ggg = torchlite.autograd.grad(gx.sum(), (xt, gt))
    assert not gx.detach().numpy().any() and not ggx.numpy().any() and float(ggg) == 0.0
