"""Activations (torch.nn.functional and torch.nn) against PyTorch: values, gradients, inplace,
reprs, errors; float64 gradcheck and gradgradcheck of the fused primitives."""
import math

import numpy as np
import pytest

import torchlite
import torchlite.nn.functional as TF
from torchlite.autograd import gradcheck, gradgradcheck
from torchlite.nn.functional._blocks import BLOCK

from ._layers import forward_backward, run_module, same, values
from .helpers import same_program

DTYPES = ("float32", "float64")

# (function name, kwargs): every functional activation, with non-default settings too
FUNCTIONAL = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 2.0}),
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("sigmoid", {}), ("tanh", {}), ("hardtanh", {}), ("hardtanh", {"min_val": -0.5,
                                                                   "max_val": 1.5}),
    ("hardswish", {}), ("hardsigmoid", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 1.5}), ("softsign", {}),
    ("softmax", {"dim": 1}), ("softmax", {"dim": -1}), ("log_softmax", {"dim": 0}),
    ("log_softmax", {"dim": 2}), ("softmin", {"dim": 1}),
    ("softmax", {"dim": 1, "dtype": "float64"}), ("log_softmax", {"dim": -1, "dtype": "float64"}),
    ("threshold", {"threshold": 0.3, "value": -1.0}), ("glu", {}), ("glu", {"dim": 0}),
    ("logsigmoid", {}), ("tanhshrink", {}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}),
    ("hardshrink", {}), ("hardshrink", {"lambd": 1.2}),
]


# PyTorch's backward of these uses float32 constants (1/6, 1/alpha) even in float64
FLOAT32_CONSTANTS = {"hardsigmoid", "Hardsigmoid", "CELU"}


def _check(program, dtype, name):
    if dtype == "float64" and name in FLOAT32_CONSTANTS:
        return same_program(program, rtol=1e-7, atol=1e-9)
    return same(program, dtype)


def _kwargs(lib, kwargs):
    return {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}


def _ids(cases):
    return [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in cases]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", FUNCTIONAL, ids=_ids(FUNCTIONAL))
def test_functional_matches_torch(name, kwargs, dtype):
    x = values((4, 6, 5), seed=1, low=-4, high=4)
    _check(lambda lib: forward_backward(
        lib, lambda t: getattr(lib.nn.functional, name)(t, **_kwargs(lib, kwargs)), [x], dtype),
        dtype, name)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_extremes(name):
    """Large logits, -inf entries and 0-d / 1-d inputs."""
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 1.0, 2.0], [3.0, 3.0, 3.0]])
    same(lambda lib: forward_backward(
        lib, lambda t: getattr(lib.nn.functional, name)(t, dim=1), [x], "float64"), "float64")
    same(lambda lib: forward_backward(
        lib, lambda t: getattr(lib.nn.functional, name)(t, dim=0), [np.array(2.5)], "float64"),
        "float64")


def test_softmax_implicit_dim_warns():
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = values(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            ours = TF.softmax(torchlite.tensor(x))
        import torch
        with pytest.warns(UserWarning):
            theirs = torch.nn.functional.softmax(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_tensor_softmax_methods():
    x = values((3, 4))
    same(lambda lib: (lib.tensor(x).softmax(1), lib.tensor(x).log_softmax(dim=0),
                      lib.tensor(x).softmax(-1, dtype=lib.float32)), "float32")


INPLACE = [("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("elu", {}), ("selu", {}),
           ("celu", {}), ("silu", {}), ("mish", {}), ("hardtanh", {}), ("hardswish", {}),
           ("hardsigmoid", {}), ("threshold", {"threshold": 0.1, "value": 2.0})]


@pytest.mark.parametrize("name,kwargs", INPLACE, ids=_ids(INPLACE))
def test_inplace_flag(name, kwargs):
    """inplace=True writes into the input (a non-leaf) and keeps the gradient right."""
    x = values((3, 5), seed=2)

    def program(lib):
        leaf = lib.tensor(x, requires_grad=True)
        h = leaf * 1.5
        out = getattr(lib.nn.functional, name)(h, inplace=True, **kwargs)
        out.sum().backward()
        return out is h, h, leaf.grad
    _check(program, "float64", name)


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_",
                                  "celu_"])
def test_underscore_variants(name):
    x = values((3, 5), seed=3)

    def program(lib):
        t = lib.tensor(x)
        out = getattr(lib.nn.functional, name)(t)
        return out is t, t
    same(program, "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu(dtype):
    x = values((3, 4, 5), seed=4)
    w = values((4,), seed=5, low=0, high=0.5)
    same(lambda lib: forward_backward(lib, lib.nn.functional.prelu, [x, w], dtype), dtype)
    w1 = np.array([0.3])
    same(lambda lib: forward_backward(lib, lib.nn.functional.prelu, [x, w1], dtype), dtype)


ERRORS = [
    lambda lib: lib.nn.functional.glu(lib.randn(2, 5)),
    lambda lib: lib.nn.functional.glu(lib.tensor(1.0)),
    lambda lib: lib.nn.functional.softshrink(lib.randn(3), -1.0),
    lambda lib: lib.nn.functional.softshrink(lib.randn(3, dtype=lib.float64), -1.0),
    lambda lib: lib.nn.functional.gelu(lib.randn(3), approximate="foo"),
    lambda lib: lib.nn.functional.hardtanh(lib.randn(3), 2.0, 1.0),
    lambda lib: lib.nn.functional.prelu(lib.randn(2, 3), lib.randn(4)),
    lambda lib: lib.nn.functional.elu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.gelu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.silu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.softplus(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.leaky_relu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.softmax(lib.tensor([1, 2]), 0),
    lambda lib: lib.nn.functional.log_softmax(lib.tensor([[1, 2]]), 0),
    lambda lib: lib.nn.functional.mish(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.logsigmoid(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.hardswish(lib.tensor([1, 2])),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    result = same_program(ERRORS[index])
    assert result[0] == "raised"


# ---- primitives: gradcheck and gradgradcheck in float64 ----------------------------------------

PRIMITIVES = [
    lambda x: TF.gelu(x), lambda x: TF.gelu(x, approximate="tanh"), TF.silu,
    lambda x: TF.softplus(x, beta=1.5, threshold=2.0), TF.elu, TF.selu,
    lambda x: TF.celu(x, alpha=0.7), lambda x: TF.leaky_relu(x, 0.1),
    lambda x: TF.hardtanh(x, -0.7, 0.9), lambda x: TF.softmax(x, 1),
    lambda x: TF.log_softmax(x, -1), lambda x: TF.softmin(x, 0), TF.logsigmoid, TF.mish,
    TF.hardswish, TF.glu,
]


@pytest.mark.parametrize("index", range(len(PRIMITIVES)))
def test_gradcheck(index):
    fn = PRIMITIVES[index]
    # keep away from the kinks (|x| near 0, and hardtanh / hardswish bounds)
    x = values((3, 4), seed=index, low=0.05, high=2.5) * np.where(
        np.arange(12).reshape(3, 4) % 2, 1, -1)
    t = torchlite.tensor(x, requires_grad=True)
    assert gradcheck(fn, (t,))
    assert gradgradcheck(fn, (t,))


# ---- modules ---------------------------------------------------------------------------------

MODULES = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.05,)), ("PReLU", ()), ("PReLU", (4,)),
    ("ELU", (0.7,)), ("SELU", ()), ("CELU", (1.3,)), ("GELU", ()), ("GELU", ("tanh",)),
    ("SiLU", ()), ("Mish", ()), ("Sigmoid", ()), ("Tanh", ()), ("Hardtanh", (-2.0, 2.0)),
    ("Hardswish", ()), ("Hardsigmoid", ()), ("Softplus", (2.0, 3.0)), ("Softsign", ()),
    ("Softmax", (1,)), ("LogSoftmax", (-1,)), ("Softmin", (2,)), ("Threshold", (0.2, 5.0)),
    ("GLU", (1,)), ("LogSigmoid", ()), ("Tanhshrink", ()), ("Softshrink", (0.7,)),
    ("Hardshrink", (0.4,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args", MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_module_matches_torch(name, args, dtype):
    x = values((3, 4, 6), seed=6, low=-3, high=3)
    _check(lambda lib: run_module(lib, lambda lib: getattr(lib.nn, name)(*args), [x], dtype),
           dtype, name)


REPRS = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("ReLU6", (), {"inplace": True}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 2, True), {}), ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2, True), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("CELU", (), {}), ("SELU", (True,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (True,), {}), ("Mish", (), {}),
    ("Hardswish", (True,), {}), ("Hardsigmoid", (), {}), ("Softplus", (), {}),
    ("Softplus", (2, 10), {}), ("Softmax", (), {}), ("Softmax", (1,), {}),
    ("LogSoftmax", (-1,), {}), ("Softmin", (0,), {}), ("Threshold", (0.1, 20), {}),
    ("Threshold", (0.1, 20, True), {}), ("GLU", (), {}), ("Softshrink", (), {}),
    ("Hardshrink", (0.3,), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("LogSigmoid", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=[f"{n}{a}{k}" for n, a, k in REPRS])
def test_repr_matches_torch(name, args, kwargs):
    same_program(lambda lib: repr(getattr(lib.nn, name)(*args, **kwargs)))


def test_prelu_init_and_parameters():
    same_program(lambda lib: [(n, p) for n, p in lib.nn.PReLU(3, 0.1).named_parameters()],
                 rtol=1e-7)


def test_module_softmax_implicit_dim():
    x = values((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = torchlite.nn.Softmax()(torchlite.tensor(x))
    np.testing.assert_allclose(out.sum(0).numpy(), np.ones((3, 4)))


def test_gelu_speed_path_is_one_node():
    """gelu / softmax / log_softmax are single graph nodes (fused primitives)."""
    x = torchlite.randn(4, 5, requires_grad=True)
    for fn in (TF.gelu, lambda t: TF.softmax(t, 1), lambda t: TF.log_softmax(t, 1), TF.silu):
        out = fn(x)
        assert all(e[0] is None or e[0].name() == "torch::autograd::AccumulateGrad"
                   for e in out.grad_fn.next_functions)


def test_softplus_large_inputs_are_finite():
    x = torchlite.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    y = TF.softplus(x)
    y.sum().backward()
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert math.isclose(float(TF.logsigmoid(torchlite.tensor(-1000.0))), -1000.0)


# the fused pointwise primitives, with PyTorch's node names of their double-backward nodes
POINTWISE = [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}),
             ("softplus", {"beta": 2.0, "threshold": 1.5}), ("elu", {}), ("selu", {}),
             ("celu", {"alpha": 0.7}), ("leaky_relu", {"negative_slope": 0.2}),
             ("hardtanh", {"min_val": -0.5, "max_val": 1.5})]


@pytest.mark.parametrize("name,kwargs", POINTWISE, ids=_ids(POINTWISE))
def test_pointwise_blocks_and_double_backward_match_torch(name, kwargs):
    """Past one block (and not a multiple of it) the kernels run block by block; first and
    second derivatives and node names match PyTorch's (silu's second derivative is a composite
    in PyTorch, one fused node here)."""
    x = values((3, BLOCK // 2 + 7), seed=4, low=-4, high=4)
    w = values(x.shape, seed=5)

    def program(lib):
        t = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        y = getattr(lib.nn.functional, name)(t, **kwargs)
        g, = lib.autograd.grad(y, t, lib.tensor(w, dtype=lib.float32), create_graph=True)
        (g * g).sum().backward()
        names = (y.grad_fn.name(), None if name == "silu" else g.grad_fn.name())
        return y, g, t.grad, names
    same(program, "float32")
