"""Losses (torch.nn.functional and torch.nn modules) against torch: values, gradients w.r.t.
every differentiable argument, float32/float64, reductions, weights, ignore_index, label
smoothing, K-dim inputs, errors, warnings, reprs; gradcheck/gradgradcheck of the primitives."""
import warnings

import numpy as np
import pytest
import torch

import torchlite
import torchlite.nn.functional as F
from torchlite.autograd import gradcheck, gradgradcheck

from .helpers import outcome

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float32, np.float64]


def _lib_value(lib, v, grad):
    if isinstance(v, np.ndarray):
        t = lib.tensor(v)
        return t.requires_grad_(True) if grad else t
    return v


def _run(lib, fname, args, kwargs, grad, module):
    """Loss value and input gradients in ``lib`` (upstream gradient fixed per output shape)."""
    targs = [_lib_value(lib, a, i in grad) for i, a in enumerate(args)]
    tkw = {k: _lib_value(lib, v, False) for k, v in kwargs.items()}
    if module is None:
        out = getattr(lib.nn.functional, fname)(*targs, **tkw)
    else:
        out = getattr(lib.nn, module)(**tkw)(*targs)
    up = np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape))
    grads = [None] * len(grad)
    if grad:
        out.backward(lib.tensor(up.astype(out.detach().numpy().dtype)))
        grads = [targs[i].grad for i in grad]
    return out, grads


def check(fname, args, kwargs=None, grad=(0,), module=None, rtol=None, atol=None):
    """Run ``F.<fname>`` (or ``nn.<module>``) in both libraries and compare everything."""
    kwargs = kwargs or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, t_grads = _run(torch, fname, args, kwargs, grad, module)
        ours, o_grads = _run(torchlite, fname, args, kwargs, grad, module)
    single = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)
    rtol = rtol or (2e-5 if single else 1e-10)
    atol = atol or (1e-6 if single else 1e-12)
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol, equal_nan=True)
    for i, o, t in zip(grad, o_grads, t_grads):
        assert (o is None) == (t is None), f"grad of argument {i}"
        if t is not None:
            np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=rtol, atol=atol,
                                       equal_nan=True, err_msg=f"grad of argument {i}")


def _randn(rng, dtype, *shape):
    return rng.standard_normal(shape).astype(dtype)


def _probs(rng, dtype, *shape):
    return rng.uniform(0.02, 0.98, shape).astype(dtype)


def _labels(rng, classes, *shape):
    return rng.integers(0, classes, shape).astype(np.int64)


# ---- regression -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fname,extra", [("mse_loss", {}), ("l1_loss", {}),
                                         ("smooth_l1_loss", {}),
                                         ("smooth_l1_loss", {"beta": 0.4}),
                                         ("smooth_l1_loss", {"beta": 0.0}),
                                         ("huber_loss", {}), ("huber_loss", {"delta": 0.3})])
def test_regression(rng, dtype, reduction, fname, extra):
    x, y = _randn(rng, dtype, 4, 5), _randn(rng, dtype, 4, 5)
    check(fname, [x, y], dict(extra, reduction=reduction), grad=(0, 1))


@pytest.mark.parametrize("fname", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_elementwise_weight(rng, fname, reduction):
    x, y, w = (_randn(rng, np.float64, 3, 4) for _ in range(3))
    check(fname, [x, y], {"reduction": reduction, "weight": np.abs(w)}, grad=(0, 1))


@pytest.mark.parametrize("fname", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_broadcast_warns(rng, fname):
    x, y = _randn(rng, np.float64, 3, 4), _randn(rng, np.float64, 4)
    check(fname, [x, y], grad=(0, 1))
    for lib in (torch, torchlite):
        with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that "
                          r"is different to the input size \(torch.Size\(\[3, 4\]\)\)"):
            getattr(lib.nn.functional, fname)(lib.tensor(x), lib.tensor(y))


def test_mixed_dtypes_promote(rng):
    check("mse_loss", [_randn(rng, np.float32, 3), _randn(rng, np.float64, 3)], grad=(0, 1))


# ---- cross entropy and nll --------------------------------------------------------------------

def _ce_case(rng, dtype, shape, ignore=False):
    """Logits of ``shape`` (N, C, ...) and class indices, some set to ignore_index 3 (or -100)."""
    x = _randn(rng, dtype, *shape)
    t = _labels(rng, shape[1], shape[0], *shape[2:])
    if ignore:
        t.reshape(-1)[::3] = -100
    return x, t


CE_SHAPES = [(6, 5), (4, 3, 5), (3, 4, 2, 3), (2, 3, 2, 2, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
def test_class_indices(rng, dtype, reduction, shape, weighted, ignore, fname):
    x, t = _ce_case(rng, dtype, shape, ignore)
    if fname == "nll_loss":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, shape[1]).astype(dtype)
    check(fname, [x, t], kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CE_SHAPES[:3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_label_smoothing(rng, dtype, reduction, shape, weighted, ignore):
    x, t = _ce_case(rng, dtype, shape, ignore)
    kw = {"reduction": reduction, "label_smoothing": 0.15}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, shape[1]).astype(dtype)
    check("cross_entropy", [x, t], kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (3, 4, 2, 3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_probability_targets(rng, dtype, reduction, shape, weighted, smoothing):
    x = _randn(rng, dtype, *shape)
    p = _probs(rng, dtype, *shape)
    p /= p.sum(0 if len(shape) == 1 else 1, keepdims=True)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, shape[0 if len(shape) == 1 else 1]).astype(dtype)
    check("cross_entropy", [x, p], kw, grad=(0, 1))


@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_unbatched(rng, fname, reduction, smoothing):
    kw = {"reduction": reduction}
    if fname == "cross_entropy":
        kw["label_smoothing"] = smoothing
    check(fname, [_randn(rng, np.float64, 5), np.array(3)], kw)


@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
def test_uint8_targets(rng, fname):
    check(fname, [_randn(rng, np.float32, 4, 5), np.array([0, 4, 2, 1], dtype=np.uint8)])


@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_all_ignored_gives_nan_and_zero_grad(rng, fname, weighted, smoothing):
    kw = {"weight": np.ones(5)} if weighted else {}
    if fname == "cross_entropy":
        kw["label_smoothing"] = smoothing
    check(fname, [_randn(rng, np.float64, 3, 5), np.full(3, -100)], kw)
    check(fname, [_randn(rng, np.float64, 3, 5), np.full(3, 2)], dict(kw, ignore_index=2))


def test_ignore_index_inside_class_range(rng):
    x, t = _ce_case(rng, np.float64, (8, 4))
    check("cross_entropy", [x, t], {"ignore_index": 1, "weight": np.arange(1.0, 5.0)})
    check("cross_entropy", [x, t], {"ignore_index": 1, "label_smoothing": 0.3})


def test_empty_batch():
    for red in REDUCTIONS:
        check("cross_entropy", [np.zeros((0, 4)), np.zeros(0, dtype=np.int64)],
              {"reduction": red})


def test_half_precision(rng):
    x, t = _ce_case(rng, np.float32, (6, 5))
    ours = F.cross_entropy(torchlite.tensor(x).half(), torchlite.tensor(t))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x).half(), torch.tensor(t))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.float().item(), theirs.float().item(), rtol=2e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spread", [1.0, 30.0, 400.0])
@pytest.mark.parametrize("shape", [(400, 17), (40, 7, 30)])
def test_cross_entropy_large_inputs(rng, dtype, spread, shape):
    """Large inputs take the global-shift path where the value range allows it."""
    x, t = _ce_case(rng, dtype, shape, ignore=True)
    x = x * spread + rng.uniform(-spread, spread, (shape[0], 1) + shape[2:]).astype(dtype)
    check("cross_entropy", [x, t], {"weight": rng.uniform(0.5, 2, shape[1]).astype(dtype)})
    check("cross_entropy", [x, t], {"reduction": "none"})


def test_cross_entropy_nan_and_inf():
    x = np.zeros((100, 50))
    x[3, 4], x[7, 1] = np.nan, np.inf
    check("cross_entropy", [x, np.ones(100, dtype=np.int64)], {"reduction": "none"})


def test_cross_entropy_extreme_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]], dtype=np.float32)
    check("cross_entropy", [x, np.array([1, 1])])
    check("cross_entropy", [x, np.array([0, 2])], {"label_smoothing": 0.1})


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
def test_class_index_gradcheck(rng, shape, reduction, weighted, fname):
    x, t = _ce_case(rng, np.float64, shape, ignore=True)
    t.reshape(-1)[1] = 0
    w = torchlite.tensor(rng.uniform(0.5, 2.0, shape[1])) if weighted else None
    xt = torchlite.tensor(x, requires_grad=True)
    tt = torchlite.tensor(t)

    def fn(inp):
        return getattr(F, fname)(inp, tt, weight=w, reduction=reduction)
    assert gradcheck(fn, (xt,))
    assert gradgradcheck(fn, (xt,))


def test_grad_fn_names_match_torch(rng):
    x, t = _ce_case(rng, np.float64, (4, 5))
    for fname in ["cross_entropy", "nll_loss"]:
        names = [getattr(lib.nn.functional, fname)(lib.tensor(x, requires_grad=True),
                                                   lib.tensor(t)).grad_fn.name()
                 for lib in (torch, torchlite)]
        assert names[0] == names[1]


_POINTWISE_LOSSES = [("mse_loss", {}), ("mse_loss", {"weight": True}), ("smooth_l1_loss", {}),
                     ("smooth_l1_loss", {"beta": 0.4}), ("smooth_l1_loss", {"beta": 0.0}),
                     ("huber_loss", {"delta": 0.3}), ("huber_loss", {"weight": True}),
                     ("binary_cross_entropy", {}), ("binary_cross_entropy", {"weight": True}),
                     ("binary_cross_entropy_with_logits", {}),
                     ("binary_cross_entropy_with_logits", {"weight": True, "pos_weight": True})]


def _pointwise_case(lib, rng, fname, extra, reduction):
    """(input, target, loss) in ``lib``: float64 input and target requiring grad (values the
    same in both libraries for the same ``rng`` seed)."""
    x = _probs(rng, np.float64, 3, 4) if fname == "binary_cross_entropy" else \
        rng.standard_normal((3, 4)) * 2
    t = _probs(rng, np.float64, 3, 4)
    kw = {k: lib.tensor(rng.uniform(0.5, 2.0, (4,) if k == "pos_weight" else (3, 4)))
          for k in extra if extra[k] is True}
    kw.update({k: v for k, v in extra.items() if v is not True})
    xt, tt = lib.tensor(x, requires_grad=True), lib.tensor(t, requires_grad=True)
    return xt, tt, getattr(lib.nn.functional, fname)(xt, tt, reduction=reduction, **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fname,extra", _POINTWISE_LOSSES)
def test_pointwise_loss_node_names_and_double_backward_vs_torch(reduction, fname, extra):
    """PyTorch's grad_fn name (one loss node, or its composite's last node where weighted),
    and values, gradients and gradients of gradients w.r.t. input and target equal torch's."""
    out = []
    for lib in (torch, torchlite):
        x, t, loss = _pointwise_case(lib, np.random.default_rng(3), fname, extra, reduction)
        up = lib.tensor(np.linspace(-1.0, 2.0, loss.numel()).reshape(tuple(loss.shape)))
        gx, gt = lib.autograd.grad(loss, (x, t), up, create_graph=True)
        v = lib.tensor(np.linspace(0.5, 1.5, 12).reshape(3, 4))
        ggx, ggt = lib.autograd.grad((gx * v).sum() + (gt * v * v).sum(), (x, t),
                                     allow_unused=True)
        out.append((loss.grad_fn.name(), loss.detach().numpy(), gx.detach().numpy(),
                    gt.detach().numpy(),
                    *(None if g is None else g.numpy(force=True) for g in (ggx, ggt))))
    assert out[1][0] == out[0][0]
    for mine, ref in zip(out[1][1:], out[0][1:]):
        if ref is None:  # torch's graph does not reach it: torchlite's gives zeros or nothing
            assert mine is None or not np.any(mine)
        else:  # the second derivatives' formulas round in another order: 1e-9 apart
            np.testing.assert_allclose(mine, ref, rtol=1e-8, atol=1e-12)


def test_cross_entropy_double_backward_vs_torch(rng):
    x, t = _ce_case(rng, np.float64, (4, 5), ignore=True)
    w = rng.uniform(0.5, 2.0, 5)
    out = []
    for lib in (torch, torchlite):
        xt = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(xt, lib.tensor(t), weight=lib.tensor(w))
        g, = lib.autograd.grad(loss, xt, create_graph=True)
        gg, = lib.autograd.grad((g * lib.tensor(x)).sum(), xt)
        out.append(gg.numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
def test_class_index_grad_of_grad_output(rng, fname):
    """The backward primitive is differentiable w.r.t. the incoming gradient too."""
    x, t = _ce_case(rng, np.float64, (4, 3, 2))
    xt = torchlite.tensor(x, requires_grad=True)
    tt = torchlite.tensor(t)
    g0 = torchlite.tensor(rng.standard_normal((4, 2)), requires_grad=True)

    def fn(inp, g):
        with torchlite.enable_grad():
            out = getattr(F, fname)(inp, tt, reduction="none")
            grad, = torchlite.autograd.grad(out, inp, g, create_graph=True)
        return grad
    if fname == "cross_entropy":
        assert gradcheck(fn, (xt, g0))
    else:  # nll's gradient does not depend on its input
        assert gradcheck(lambda g: fn(xt, g), (g0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_gradcheck(rng, reduction):
    x = torchlite.tensor(_probs(rng, np.float64, 3, 4), requires_grad=True)
    y = torchlite.tensor(_probs(rng, np.float64, 3, 4), requires_grad=True)

    def fn(a, b):
        return F.binary_cross_entropy(a, b, reduction=reduction)
    assert gradcheck(fn, (x, y))
    assert gradgradcheck(fn, (x, y))


# ---- binary -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(rng, dtype, reduction, weighted):
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, (3, 4)).astype(dtype)
    check("binary_cross_entropy", [_probs(rng, dtype, 3, 4), _probs(rng, dtype, 3, 4)], kw,
          grad=(0, 1))


def test_binary_cross_entropy_saturated():
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5])
    check("binary_cross_entropy", [x, y], {"reduction": "none"})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos", [False, True])
def test_bce_with_logits(rng, dtype, reduction, weighted, pos):
    x = _randn(rng, dtype, 3, 4) * 4
    x[0, :2] = [60.0, -60.0]
    x[1, 0] = 0.0
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, 4).astype(dtype)
    if pos:
        kw["pos_weight"] = rng.uniform(0.2, 3.0, 4).astype(dtype)
    check("binary_cross_entropy_with_logits", [x, _probs(rng, dtype, 3, 4)], kw, grad=(0, 1))


# ---- distributions ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(rng, dtype, reduction, log_target):
    x = np.log(_probs(rng, dtype, 3, 4))
    y = _probs(rng, dtype, 3, 4)
    if log_target:
        y = np.log(y)
    check("kl_div", [x, y], {"reduction": reduction, "log_target": log_target}, grad=(0, 1))


def test_kl_div_mean_warns():
    x = torchlite.zeros(2, 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, x.exp())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll(rng, reduction, log_input, full):
    x = _probs(rng, np.float64, 3, 4) * 3
    y = rng.integers(0, 5, (3, 4)).astype(np.float64)
    check("poisson_nll_loss", [x, y], {"reduction": reduction, "log_input": log_input,
                                       "full": full}, grad=(0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll(rng, reduction, var_shape, full):
    x, y = _randn(rng, np.float64, 3, 4), _randn(rng, np.float64, 3, 4)
    var = _probs(rng, np.float64, *var_shape)
    var.reshape(-1)[0] = 1e-9  # clamped to eps; the gradient still flows
    check("gaussian_nll_loss", [x, y, var], {"reduction": reduction, "full": full},
          grad=(0, 1, 2))


# ---- margins and embeddings -------------------------------------------------------------------

def _signs(rng, *shape):
    return rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(rng, dtype, reduction):
    kw = {"reduction": reduction}
    a, b = _randn(rng, dtype, 6, 3), _randn(rng, dtype, 6, 3)
    check("cosine_embedding_loss", [a, b, _signs(rng, 6).astype(dtype)],
          dict(kw, margin=0.1), grad=(0, 1))
    check("cosine_embedding_loss", [a[0], b[0], np.array(-1.0, dtype)], dict(kw, margin=-0.9),
          grad=(0, 1))
    y = _signs(rng, 6, 3).astype(dtype)
    check("margin_ranking_loss", [a, b, y], dict(kw, margin=0.3), grad=(0, 1))
    check("hinge_embedding_loss", [a, y], dict(kw, margin=0.5), grad=(0,))
    check("soft_margin_loss", [a, y], kw, grad=(0,))
    check("multilabel_soft_margin_loss", [a, (y > 0).astype(dtype)], kw, grad=(0, 1))
    check("multilabel_soft_margin_loss", [a, (y > 0).astype(dtype)],
          dict(kw, weight=rng.uniform(0.5, 2, 3).astype(dtype)), grad=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin(rng, reduction, p, weighted):
    kw = {"reduction": reduction, "p": p, "margin": 0.8}
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, 5)
    check("multi_margin_loss", [_randn(rng, np.float64, 4, 5), _labels(rng, 5, 4)], kw)
    check("multi_margin_loss", [_randn(rng, np.float64, 5), np.array([3])], kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2, 3.5])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin(rng, dtype, reduction, p, swap):
    a, b, c = (_randn(rng, dtype, 5, 4) for _ in range(3))
    check("triplet_margin_loss", [a, b, c], {"reduction": reduction, "p": p, "swap": swap,
                                             "margin": 2.0}, grad=(0, 1, 2))


# ---- modules ----------------------------------------------------------------------------------

MODULE_CASES = [
    ("L1Loss", {}), ("MSELoss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 0.5}), ("SoftMarginLoss", {}), ("KLDivLoss", {"log_target": True}),
    ("HingeEmbeddingLoss", {"margin": 0.2}), ("BCEWithLogitsLoss", {"pos_weight": "w"}),
    ("MultiLabelSoftMarginLoss", {"weight": "w"}), ("PoissonNLLLoss", {"full": True}),
]


@pytest.mark.parametrize("name,kw", MODULE_CASES)
def test_modules_pointwise(rng, name, kw):
    kw = {k: (rng.uniform(0.5, 2, 4) if v == "w" else v) for k, v in kw.items()}
    x = _probs(rng, np.float64, 3, 4)
    y = x[::-1].copy() if name != "HingeEmbeddingLoss" else _signs(rng, 3, 4)
    check(None, [x, y], kw, module=name)


@pytest.mark.parametrize("name,kw", [("CrossEntropyLoss", {"label_smoothing": 0.1}),
                                     ("CrossEntropyLoss", {"ignore_index": 2}),
                                     ("NLLLoss", {"reduction": "none"}),
                                     ("MultiMarginLoss", {"p": 2})])
def test_modules_classes(rng, name, kw):
    x, t = _ce_case(rng, np.float64, (5, 4))
    check(None, [x, t], dict(kw, weight=rng.uniform(0.5, 2, 4)), module=name)


def test_modules_other(rng):
    a, b, c = (_randn(rng, np.float64, 5, 4) for _ in range(3))
    check(None, [a, b, c], {"swap": True}, module="TripletMarginLoss", grad=(0, 1, 2))
    check(None, [a, b, _signs(rng, 5)], {"margin": 0.2}, module="CosineEmbeddingLoss")
    check(None, [a, b, _signs(rng, 5, 4)], {}, module="MarginRankingLoss")
    check(None, [a, b, np.abs(c)], {"full": True}, module="GaussianNLLLoss", grad=(0, 2))
    check(None, [_probs(rng, np.float64, 5), np.ones(5) / 2], {"weight": np.arange(5.0)},
          module="BCELoss")


ALL_MODULES = ["L1Loss", "NLLLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss",
               "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss", "SmoothL1Loss", "HuberLoss",
               "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss",
               "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
               "TripletMarginLoss"]


@pytest.mark.parametrize("name", ALL_MODULES)
def test_module_repr_attributes_and_state(name):
    ours, theirs = getattr(torchlite.nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    public = {k: v for k, v in vars(theirs).items() if not k.startswith("_") and k != "training"}
    for k, v in public.items():
        assert getattr(ours, k) == v, k
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_weighted_module_buffers():
    w = np.arange(1.0, 4.0)
    ours = torchlite.nn.CrossEntropyLoss(weight=torchlite.tensor(w))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert repr(ours) == repr(theirs) == "CrossEntropyLoss()"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_legacy_reduction_args(rng):
    x, y = _randn(rng, np.float64, 3, 4), _randn(rng, np.float64, 3, 4)
    for sa, red in [(False, None), (None, False), (True, True)]:
        check("mse_loss", [x, y], {"size_average": sa, "reduce": red})
        check(None, [x, y], {"size_average": sa, "reduce": red}, module="L1Loss")
    for lib in (torch, torchlite):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated, "
                          "please use reduction='sum' instead."):
            lib.nn.MSELoss(size_average=False)
        assert lib.nn.MSELoss(reduce=False).reduction == "none"


# ---- errors -----------------------------------------------------------------------------------

def _x(lib, *shape):
    return lib.zeros(*shape)


ERROR_CASES = {
    "batch": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, 1, 2, 3])),
    "oob": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, 5, 2])),
    "negative": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, -1, 2])),
    "oob_smoothing": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, 5, 2]),
                                                             label_smoothing=0.1),
    "nll_oob_4d": lambda L: L.nn.functional.nll_loss(_x(L, 2, 5, 3, 4),
                                                     L.full((2, 3, 4), 7)),
    "float_target": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.zeros(3)),
    "int32_target": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5),
                                                            L.zeros(3, dtype=L.int32)),
    "int_probs": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5),
                                                         L.zeros(3, 5, dtype=L.int64)),
    "probs_ignore": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.zeros(3, 5),
                                                            ignore_index=1),
    "int_input": lambda L: L.nn.functional.cross_entropy(L.zeros(3, 5, dtype=L.int64),
                                                         L.tensor([0, 1, 2])),
    "reduction": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, 1, 2]),
                                                         reduction="foo"),
    "smoothing": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, 1, 2]),
                                                         label_smoothing=1.5),
    "weight": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5), L.tensor([0, 1, 2]),
                                                      weight=L.ones(4)),
    "weight_4d": lambda L: L.nn.functional.nll_loss(_x(L, 2, 5, 3, 4),
                                                    L.zeros(2, 3, 4, dtype=L.int64),
                                                    weight=L.ones(4)),
    "weight_grad": lambda L: L.nn.functional.cross_entropy(
        _x(L, 3, 5), L.tensor([0, 1, 2]), weight=L.ones(5, requires_grad=True)),
    "kdim": lambda L: L.nn.functional.cross_entropy(_x(L, 2, 5, 3),
                                                    L.zeros(2, 4, dtype=L.int64)),
    "kdim_4d": lambda L: L.nn.functional.cross_entropy(_x(L, 2, 5, 3, 4),
                                                       L.zeros(2, 3, dtype=L.int64)),
    "kdim_size": lambda L: L.nn.functional.nll_loss(_x(L, 2, 5, 3, 4),
                                                    L.zeros(2, 3, 5, dtype=L.int64)),
    "multi_target": lambda L: L.nn.functional.cross_entropy(_x(L, 3, 5),
                                                            L.zeros(3, 2, dtype=L.int64)),
    "nll_0d": lambda L: L.nn.functional.nll_loss(L.tensor(1.0), L.tensor(0)),
    "mse_bad_broadcast": lambda L: L.nn.functional.mse_loss(_x(L, 3, 5), _x(L, 4)),
    "mse_weight": lambda L: L.nn.functional.mse_loss(_x(L, 3), _x(L, 3), weight=_x(L, 1)),
    "bce_size": lambda L: L.nn.functional.binary_cross_entropy(_x(L, 3), _x(L, 4)),
    "bce_range": lambda L: L.nn.functional.binary_cross_entropy(L.ones(3) * 2, _x(L, 3)),
    "bce_target_range": lambda L: L.nn.functional.binary_cross_entropy(_x(L, 3), L.ones(3) * 3),
    "bce_weight_grad": lambda L: L.nn.functional.binary_cross_entropy(
        _x(L, 3), _x(L, 3), weight=L.ones(3, requires_grad=True)),
    "bcel_size": lambda L: L.nn.functional.binary_cross_entropy_with_logits(_x(L, 3), _x(L, 4)),
    "bcel_pos_grad": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _x(L, 3), _x(L, 3), pos_weight=L.ones(3, requires_grad=True)),
    "kl_reduction": lambda L: L.nn.functional.kl_div(_x(L, 3), _x(L, 3), reduction="foo"),
    "huber_delta": lambda L: L.nn.functional.huber_loss(_x(L, 3), _x(L, 3), delta=0.0),
    "smooth_beta": lambda L: L.nn.functional.smooth_l1_loss(_x(L, 3), _x(L, 3), beta=-1.0),
    "triplet_margin": lambda L: L.nn.functional.triplet_margin_loss(_x(L, 2, 3), _x(L, 2, 3),
                                                                    _x(L, 2, 3), margin=0),
    "triplet_dims": lambda L: L.nn.functional.triplet_margin_loss(_x(L, 2, 3), _x(L, 2, 3),
                                                                  _x(L, 3)),
    "cosine_dims": lambda L: L.nn.functional.cosine_embedding_loss(_x(L, 2, 3, 4),
                                                                   _x(L, 2, 3, 4), L.ones(2)),
    "cosine_target": lambda L: L.nn.functional.cosine_embedding_loss(_x(L, 3, 2), _x(L, 3, 2),
                                                                     L.ones(3, 1)),
    "ranking_dims": lambda L: L.nn.functional.margin_ranking_loss(_x(L, 3, 5), _x(L, 3, 5),
                                                                  L.ones(3)),
    "multi_margin_p": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 5),
                                                                  L.tensor([0, 1, 2]), p=3),
    "multi_margin_target": lambda L: L.nn.functional.multi_margin_loss(_x(L, 3, 5),
                                                                       L.tensor([0, 1])),
    "gaussian_var": lambda L: L.nn.functional.gaussian_nll_loss(_x(L, 3, 4), _x(L, 3, 4),
                                                                L.ones(2)),
    "gaussian_negative": lambda L: L.nn.functional.gaussian_nll_loss(_x(L, 3), _x(L, 3),
                                                                     -L.ones(3)),
    "huber_module_delta": lambda L: L.nn.HuberLoss(delta="1"),
    "triplet_module": lambda L: L.nn.TripletMarginLoss(margin=-1.0),
    "multi_margin_module": lambda L: L.nn.MultiMarginLoss(p=3),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_match_torch(case):
    theirs = outcome(ERROR_CASES[case], torch)
    ours = outcome(ERROR_CASES[case], torchlite)
    assert theirs[0] == "raised", theirs
    assert ours[:2] == theirs[:2]
    assert ours[2].startswith(theirs[2])  # torchlite may name the op and shapes after it
