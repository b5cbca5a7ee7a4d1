"""Normalization layers and functionals against PyTorch: outputs, gradients, running statistics
over several training steps, eval mode, reprs, errors; gradcheck of the fused NormAffine."""
import warnings

import numpy as np
import pytest
import torch

import torchlite
import torchlite.nn.functional as TF
from torchlite.autograd import gradcheck, gradgradcheck

from ._layers import as_tensor, fill_params, forward_backward, run_module, same, values
from .helpers import same_program

DTYPES = ("float32", "float64")

LAYERS = [
    ("BatchNorm1d", (4,), {}, (6, 4)), ("BatchNorm1d", (4,), {}, (6, 4, 5)),
    ("BatchNorm1d", (4,), {"affine": False}, (6, 4)),
    ("BatchNorm1d", (4,), {"bias": False}, (6, 4, 3)),
    ("BatchNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 4, 5)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 4)),
    ("LayerNorm", (5,), {}, (3, 4, 5)), ("LayerNorm", ((4, 5),), {}, (3, 4, 5)),
    ("LayerNorm", (5,), {"bias": False}, (3, 5)),
    ("LayerNorm", (5,), {"elementwise_affine": False}, (3, 4, 5)),
    ("LayerNorm", (5,), {"eps": 1e-2}, (3, 5)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)), ("GroupNorm", (3, 6), {"affine": False}, (2, 6, 2, 3)),
    ("GroupNorm", (1, 4), {"bias": False}, (3, 4)),
    ("InstanceNorm1d", (4,), {}, (3, 4, 5)), ("InstanceNorm1d", (4,), {"affine": True}, (4, 6)),
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {}, (3, 4, 5)),
    ("RMSNorm", (5,), {}, (3, 4, 5)), ("RMSNorm", ((4, 5),), {"eps": 1e-3}, (3, 4, 5)),
    ("RMSNorm", (5,), {"elementwise_affine": False}, (3, 5)),
]


def _ids(cases):
    return [f"{n}{a}{k}{s}" for n, a, k, s in cases]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=_ids(LAYERS))
def test_module_matches_torch(name, args, kwargs, shape, train, dtype):
    x = values(shape, 1, -3, 3) + 0.5

    def program(lib):
        outs = run_module(lib, lambda lib: getattr(lib.nn, name)(*args, **kwargs), [x], dtype,
                          train=train)
        return outs
    same(program, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3},
                                    {"affine": False}, {"track_running_stats": False}],
                         ids=str)
@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm2d", (4, 3, 2, 5)),
                                        ("InstanceNorm1d", (4, 3, 6))])
def test_running_statistics_over_steps(name, shape, kwargs, dtype):
    """Several training steps, then eval: running_mean / running_var / num_batches_tracked,
    outputs and gradients all follow PyTorch (momentum=None: cumulative average)."""
    if name.startswith("Instance"):
        kwargs = dict(kwargs, track_running_stats=not kwargs.get("track_running_stats", True))

    def program(lib):
        m = getattr(lib.nn, name)(3, **kwargs).to(getattr(lib, dtype))
        fill_params(lib, m)
        log = []
        for step in range(4):
            x = as_tensor(lib, values(shape, step, -2, 2) * (step + 1) + step, dtype)
            out = m(x)
            out.backward(lib.tensor(values(shape, 10 + step), dtype=out.dtype))
            log.append((out, x.grad, [b.clone() for b in m.buffers()]))
        m.eval()
        x = as_tensor(lib, values(shape, 9), dtype)
        out = m(x)
        out.backward(lib.tensor(values(shape, 20), dtype=out.dtype))
        log.append((out, x.grad, [(n, p.grad) for n, p in m.named_parameters()]))
        return log
    same(program, dtype)


def test_momentum_none_is_cumulative_average():
    m = torchlite.nn.BatchNorm1d(2, momentum=None)
    means = []
    for step in range(3):
        x = torchlite.tensor(values((5, 2), step) + step, dtype=torchlite.float32)
        m(x)
        means.append(x.mean(0).numpy())
    np.testing.assert_allclose(m.running_mean.numpy(), np.mean(means, 0), rtol=1e-6)
    assert int(m.num_batches_tracked) == 3


# ---- functionals ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_layer_norm(dtype):
    arrays = [values((2, 3, 4), 1), values((3, 4), 2), values((3, 4), 3)]
    same(lambda lib: forward_backward(
        lib, lambda x, w, b: lib.nn.functional.layer_norm(x, (3, 4), w, b, 1e-3), arrays,
        dtype), dtype)
    same(lambda lib: forward_backward(
        lib, lambda x: lib.nn.functional.layer_norm(x, [4]), arrays[:1], dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm(training, dtype):
    x, w, b = values((5, 3, 4), 1), values((3,), 2), values((3,), 3)
    rm, rv = values((3,), 4), values((3,), 5, 0.5, 2.0)

    def program(lib):
        mean = lib.tensor(rm, dtype=getattr(lib, dtype))
        var = lib.tensor(rv, dtype=getattr(lib, dtype))
        res = forward_backward(lib, lambda x, w, b: lib.nn.functional.batch_norm(
            x, mean, var, w, b, training, 0.2, 1e-4), [x, w, b], dtype)
        return res, mean, var
    same(program, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_group_and_instance_norm(dtype):
    arrays = [values((2, 6, 5), 1), values((6,), 2), values((6,), 3)]
    same(lambda lib: forward_backward(
        lib, lambda x, w, b: lib.nn.functional.group_norm(x, 3, w, b, 1e-4), arrays, dtype),
        dtype)
    same(lambda lib: forward_backward(
        lib, lambda x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b), arrays,
        dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_functional_rms_norm(eps, dtype):
    arrays = [values((2, 3, 4), 1), values((4,), 2)]
    same(lambda lib: forward_backward(
        lib, lambda x, w: lib.nn.functional.rms_norm(x, (4,), w, eps), arrays, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_functional_normalize(p, dim, dtype):
    x = values((3, 4, 5), 1)
    x[0, :, 0] = 0.0  # a zero vector: clamped by eps
    same(lambda lib: forward_backward(
        lib, lambda t: lib.nn.functional.normalize(t, p, dim), [x], dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size,shape", [(1, (2, 5, 3)), (2, (2, 5, 3, 4)), (3, (2, 6, 3, 2)),
                                        (8, (2, 5, 2, 2, 3))])
def test_local_response_norm(size, shape, dtype):
    same(lambda lib: run_module(lib, lambda lib: lib.nn.LocalResponseNorm(size, 0.1, 0.6, 2.0),
                                [values(shape, 1)], dtype), dtype)
    same_program(lambda lib: (repr(lib.nn.LocalResponseNorm(size)),
                              lib.nn.functional.local_response_norm(lib.randn(2, 3), 2)))


# ---- the primitive ----------------------------------------------------------------------------

CHECKS = [
    lambda x, w, b: TF.layer_norm(x, (4,), w[0], b[0]),
    lambda x, w, b: TF.layer_norm(x, (3, 4), None, None, 1e-2),
    lambda x, w, b: TF.layer_norm(x, (4,), None, b[0]),
    lambda x, w, b: TF.batch_norm(x, None, None, w[:, 0], b[:, 0], training=True),
    lambda x, w, b: TF.group_norm(x, 3, w[:, 0], b[:, 1]),
    lambda x, w, b: TF.instance_norm(x, weight=w[:, 1], bias=b[:, 2]),
    lambda x, w, b: TF.rms_norm(x, (4,), w[1]),
]


@pytest.mark.parametrize("index", range(len(CHECKS)))
def test_gradcheck(index):
    x = torchlite.tensor(values((2, 3, 4), 1), requires_grad=True)
    w = torchlite.tensor(values((3, 4), 2), requires_grad=True)
    b = torchlite.tensor(values((3, 4), 3), requires_grad=True)
    assert gradcheck(CHECKS[index], (x, w, b))
    assert gradgradcheck(CHECKS[index], (x, w, b))


def test_layer_norm_is_one_node():
    x = torchlite.randn(4, 5, requires_grad=True)
    ln = torchlite.nn.LayerNorm(5)
    out = ln(x)
    assert {type(e[0]).__name__ for e in out.grad_fn.next_functions} == {"AccumulateGrad"}


# PyTorch names InstanceNorm's node after the view of its batch_norm on (1, N*C, ...);
# torchlite after its own last node.
OTHER_NODE_NAMES = ("InstanceNorm",)
NAMED_LAYERS = [case for case in LAYERS if not case[0].startswith(OTHER_NODE_NAMES)]


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("name,args,kwargs,shape", NAMED_LAYERS, ids=_ids(NAMED_LAYERS))
def test_node_names_match_torch(name, args, kwargs, shape, train):
    """NativeLayerNorm / NativeGroupNorm / NativeBatchNormBackward0 (training and eval)."""
    names = []
    for lib in (torch, torchlite):
        module = getattr(lib.nn, name)(*args, **kwargs).double().train(train)
        names.append(module(lib.tensor(values(shape), requires_grad=True)).grad_fn.name())
    assert names[1] == names[0]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
@pytest.mark.parametrize("weighted", [False, True])
def test_rms_norm_reduced_precision(dtype, weighted):
    """Default eps is float32's for 16-bit inputs (computed in float32): small inputs
    normalise to about 1, as PyTorch; PyTorch's node names (ToCopyBackward0) too."""
    outs = []
    for lib in (torch, torchlite):
        x = lib.tensor(values((3, 4), 5, 0.005, 0.02)).to(getattr(lib, dtype)).requires_grad_()
        w = lib.tensor(values((4,), 6, 0.5, 1.5), dtype=lib.float32) if weighted else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: no fused kernel for mixed dtypes
            out = lib.nn.functional.rms_norm(x, (4,), w)
        outs.append((out.grad_fn.name(), str(out.dtype), out.detach().float().numpy()))
    assert outs[1][:2] == outs[0][:2]
    np.testing.assert_allclose(outs[1][2], outs[0][2], rtol=1e-2 if dtype != "float32" else 1e-5)


MIXED = [("LayerNorm", (6,), (4, 6), True), ("GroupNorm", (2, 6), (4, 6, 3), True),
         ("BatchNorm1d", (6,), (4, 6, 3), True), ("BatchNorm1d", (6,), (4, 6), False),
         ("RMSNorm", (6,), (4, 6), True), ("InstanceNorm1d", (6,), (4, 6, 5), True)]


def _mixed_run(lib, name, args, shape, train, dtype):
    """Output, input gradient and parameter gradients of a float32 module on ``dtype`` input
    (running statistics set away from 0 / 1 so that eval mode uses them)."""
    kwargs = {"affine": True} if name.startswith("InstanceNorm") else {}
    module = fill_params(lib, getattr(lib.nn, name)(*args, **kwargs)).train(train)
    for i, buf in enumerate(("running_mean", "running_var")):
        if getattr(module, buf, None) is not None:
            with lib.no_grad():
                getattr(module, buf).copy_(lib.tensor(values((6,), 20 + i, 0.2, 1.5)))
    x = lib.tensor(values(shape, 3)).to(getattr(lib, dtype)).requires_grad_()
    out = module(x)
    out.backward(lib.tensor(values(shape, 4)).to(out.dtype))
    params = [p for _, p in sorted(module.named_parameters())]
    return out, x.grad, [p.grad for p in params]


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")  # torch's RMSNorm
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name,args,shape,train", MIXED)
def test_reduced_precision_input_with_float32_params(name, args, shape, train, dtype):
    """A bfloat16 / float16 input keeps its dtype through float32 weights (output and input
    gradient), the weights' gradients stay float32; values as PyTorch's within rounding."""
    ref, mine = (_mixed_run(lib, name, args, shape, train, dtype) for lib in (torch, torchlite))
    tol = dict(rtol=2e-2, atol=2e-2) if dtype == "bfloat16" else dict(rtol=3e-3, atol=3e-3)
    for r, m in [(ref[0], mine[0]), (ref[1], mine[1])] + list(zip(ref[2], mine[2])):
        assert str(m.dtype) == str(r.dtype)
        np.testing.assert_allclose(m.detach().float().numpy(), r.detach().float().numpy(),
                                   **tol)


# ---- reprs, parameters, buffers, errors -----------------------------------------------------

REPRS = [
    ("BatchNorm1d", (3,), {}), ("BatchNorm2d", (3,), {"momentum": None, "affine": False,
                                                      "track_running_stats": False}),
    ("BatchNorm3d", (4,), {"eps": 1e-3}), ("BatchNorm2d", (3,), {"bias": False}),
    ("LayerNorm", (4,), {}), ("LayerNorm", ([3, 4],), {"elementwise_affine": False,
                                                       "bias": False}),
    ("LayerNorm", (4,), {"bias": False}), ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (2, 4), {"affine": False}), ("InstanceNorm1d", (3,), {}),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("RMSNorm", (4,), {}), ("RMSNorm", ([3, 4],), {"eps": 1e-5, "elementwise_affine": False}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=[f"{n}{a}{k}" for n, a, k in REPRS])
def test_repr_state_dict_and_init(name, args, kwargs):
    same_program(lambda lib: (repr(m := getattr(lib.nn, name)(*args, **kwargs)),
                              m.state_dict(), list(m.named_parameters())))


ERRORS = [
    lambda lib: lib.nn.BatchNorm1d(3)(lib.randn(2, 3, 4, 5)),
    lambda lib: lib.nn.BatchNorm2d(3)(lib.randn(2, 3, 4)),
    lambda lib: lib.nn.BatchNorm3d(3)(lib.randn(2, 3, 4)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.randn(1, 3)),
    lambda lib: lib.nn.functional.batch_norm(lib.randn(2, 3), None, None, training=False),
    lambda lib: lib.nn.GroupNorm(4, 6),
    lambda lib: lib.nn.GroupNorm(4, 8)(lib.randn(2, 6, 3)),
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.randn(2, 3, 4, 5)),
    lambda lib: lib.nn.InstanceNorm2d(3)(lib.randn(2, 3)),
    lambda lib: lib.nn.InstanceNorm1d(4, affine=True)(lib.randn(2, 3, 5)),
    lambda lib: lib.nn.functional.instance_norm(lib.randn(2, 3, 1)),
    lambda lib: lib.nn.LayerNorm(4)(lib.randn(2, 3)),
    lambda lib: lib.nn.functional.layer_norm(lib.randn(2, 3, 4), (3, 5)),
    lambda lib: lib.nn.functional.rms_norm(lib.randn(2, 3), (4,)),
    lambda lib: lib.nn.functional.rms_norm(lib.randn(2, 3, 4), (3, 5)),
    lambda lib: lib.nn.functional.layer_norm(lib.tensor([[1, 2]]), (2,)),
]


def _param_dtypes(lib, x, w, b):
    """Input (2, 4, 3) and per-channel parameters (4,) of the given dtype names."""
    return (lib.randn(2, 4, 3).to(getattr(lib, x)), lib.ones(4).to(getattr(lib, w)),
            lib.zeros(4).to(getattr(lib, b)))


# PyTorch's CPU dtype rule for norm parameters: a 16-bit input takes float32 ones (all of
# them); otherwise they share the input's dtype.
for _x, _w, _b in [("bfloat16", "bfloat16", "float32"), ("float32", "bfloat16", "bfloat16"),
                   ("float32", "float64", "float64"), ("float64", "float32", "float32"),
                   ("float16", "float32", "bfloat16"), ("bfloat16", "float32", "bfloat16")]:
    ERRORS += [
        lambda lib, d=(_x, _w, _b): lib.nn.functional.layer_norm(
            _param_dtypes(lib, *d)[0].transpose(1, 2), (4,), *_param_dtypes(lib, *d)[1:]),
        lambda lib, d=(_x, _w, _b): lib.nn.functional.group_norm(
            _param_dtypes(lib, *d)[0], 2, *_param_dtypes(lib, *d)[1:]),
        lambda lib, d=(_x, _w, _b): lib.nn.functional.batch_norm(
            _param_dtypes(lib, *d)[0], None, None, *_param_dtypes(lib, *d)[1:], training=True),
        lambda lib, d=(_x, _w, _b): lib.nn.functional.batch_norm(
            _param_dtypes(lib, *d)[0], *_param_dtypes(lib, *d)[1:], training=False),
    ]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    assert same_program(ERRORS[index])[0] == "raised"


def test_instance_norm_feature_mismatch_warns():
    with pytest.warns(UserWarning, match="does not match num_features"):
        torchlite.nn.InstanceNorm1d(4)(torchlite.randn(2, 3, 5))
