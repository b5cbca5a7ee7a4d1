"""Linear, Bilinear, LazyLinear, Identity, Flatten, Unflatten against PyTorch."""
import math

import numpy as np
import pytest

import torchlite

from ._layers import forward_backward, run_module, same, values
from .helpers import same_program

DTYPES = ("float32", "float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5), (2, 1, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear(shape, bias, dtype):
    arrays = [values(shape, 1), values((3, 5), 2)] + ([values((3,), 3)] if bias else [])
    same(lambda lib: forward_backward(lib, lib.nn.functional.linear, arrays, dtype), dtype)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5)])
def test_linear_gradgradcheck(shape):
    """The fused node's backward (bias gradient as a GEMV) is differentiable again."""
    from torchlite.autograd import gradcheck, gradgradcheck
    x, w, b = (torchlite.tensor(values(s, i), dtype=torchlite.float64, requires_grad=True)
               for i, s in enumerate((shape, (3, 5), (3,))))
    assert torchlite.nn.functional.linear(x, w, b).grad_fn.name() == "AddmmBackward0"
    assert gradcheck(torchlite.nn.functional.linear, (x, w, b))
    assert gradgradcheck(torchlite.nn.functional.linear, (x, w, b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead", [(4,), (2, 3)])
def test_functional_bilinear(lead, dtype):
    arrays = [values(lead + (3,), 1), values(lead + (2,), 2), values((5, 3, 2), 3),
              values((5,), 4)]
    same(lambda lib: forward_backward(lib, lib.nn.functional.bilinear, arrays, dtype), dtype)
    same(lambda lib: forward_backward(lib, lib.nn.functional.bilinear, arrays[:3], dtype), dtype)


LAYERS = [
    ("Linear", (5, 3), {}, [(4, 5)]), ("Linear", (5, 3), {"bias": False}, [(2, 4, 5)]),
    ("Bilinear", (5, 2, 3), {}, [(4, 5), (4, 2)]),
    ("Bilinear", (5, 2, 3), {"bias": False}, [(4, 5), (4, 2)]),
    ("Identity", (3, "x"), {"k": 1}, [(4, 5)]), ("Flatten", (), {}, [(2, 3, 4, 5)]),
    ("Flatten", (0, 2), {}, [(2, 3, 4, 5)]), ("Unflatten", (1, (2, 3)), {}, [(4, 6, 2)]),
    ("Unflatten", (-1, (2, -1)), {}, [(4, 6)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kwargs,shapes", LAYERS,
                         ids=[f"{n}{a}{k}" for n, a, k, _ in LAYERS])
def test_module_matches_torch(name, args, kwargs, shapes, dtype):
    arrays = [values(s, i) for i, s in enumerate(shapes)]
    same(lambda lib: run_module(lib, lambda lib: getattr(lib.nn, name)(*args, **kwargs),
                                arrays, dtype), dtype)


REPRS = [("Linear", (3, 4), {}), ("Linear", (3, 4), {"bias": False}),
         ("Bilinear", (2, 3, 4), {}), ("Identity", (), {}),
         ("Flatten", (), {}), ("Flatten", (0, 2), {}), ("Unflatten", (1, (2, 3)), {}),
         ("Unflatten", (1, [2, 3]), {})]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=[f"{n}{a}{k}" for n, a, k in REPRS])
def test_repr_and_parameter_shapes(name, args, kwargs):
    same_program(lambda lib: (repr(m := getattr(lib.nn, name)(*args, **kwargs)),
                              [(n, tuple(p.shape), p.dtype) for n, p in m.named_parameters()]))


def test_lazy_linear_repr():
    same_program(lambda lib: repr(lib.nn.LazyLinear(5)))


def test_lazy_linear_materializes_on_first_call():
    def program(lib):
        m = lib.nn.LazyLinear(4)
        params_before = list(m.parameters())
        lib.manual_seed(0)
        out = m(lib.ones(2, 7))
        return (type(m).__name__, repr(m), m.in_features, out.shape, m.weight.shape,
                m.bias.shape, all(a is b for a, b in zip(params_before, m.parameters())))
    same_program(program)


def test_lazy_linear_trains():
    m = torchlite.nn.LazyLinear(3)
    x = torchlite.randn(5, 4)
    m(x).sum().backward()
    assert m.weight.grad.shape == (3, 4) and m.bias.grad.shape == (3,)


def _uniform_stats(samples, bound):
    """Mean ~0 and std ~bound / sqrt(3) of U(-bound, bound); all inside the bound."""
    assert np.abs(samples).max() <= bound + 1e-7
    assert abs(samples.mean()) < 0.05 * bound
    assert abs(samples.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_linear_default_init_statistics():
    m = torchlite.nn.Linear(400, 300)
    _uniform_stats(m.weight.detach().numpy(), 1 / math.sqrt(400))  # kaiming_uniform_(a=sqrt 5)
    b = np.concatenate([torchlite.nn.Linear(400, 300).bias.detach().numpy()
                        for _ in range(20)])
    _uniform_stats(b, 1 / math.sqrt(400))


def test_bilinear_default_init_statistics():
    m = torchlite.nn.Bilinear(50, 30, 40)
    _uniform_stats(m.weight.detach().numpy(), 1 / math.sqrt(50))


def test_linear_dtype_device_kwargs():
    m = torchlite.nn.Linear(3, 2, dtype=torchlite.float64, device="cpu")
    assert m.weight.dtype == torchlite.float64 and m.bias.dtype == torchlite.float64


ERRORS = [
    lambda lib: lib.nn.Linear(5, 2)(lib.randn(4, 3)),
    lambda lib: lib.nn.Linear(5, 2)(lib.randn(7, 4, 3)),
    lambda lib: lib.nn.functional.linear(lib.randn(4, 3), lib.randn(2, 5)),
    lambda lib: lib.nn.functional.bilinear(lib.randn(2, 3), lib.randn(2, 4),
                                           lib.randn(5, 3, 3)),
    lambda lib: lib.nn.functional.bilinear(lib.randn(2, 4), lib.randn(2, 3),
                                           lib.randn(5, 3, 3)),
    lambda lib: lib.nn.functional.bilinear(lib.randn(2, 3), lib.randn(3, 3),
                                           lib.randn(5, 3, 3)),
    lambda lib: lib.nn.Unflatten(1, (2, 2))(lib.randn(3, 5)),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    assert same_program(ERRORS[index])[0] == "raised"
