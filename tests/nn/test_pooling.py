"""Pooling vs PyTorch: F.max/avg/adaptive/lp pooling and the pooling layers (values, indices,
gradients in float64 and float32, gradcheck / gradgradcheck, errors, repr)."""
import numpy as np
import pytest
import torch

import torchlite
import torchlite.nn.functional as F
from torchlite.autograd import gradcheck, gradgradcheck

from .test_conv import compare_functional, compare_module, same_error

POOL_CASES = [
    ("max_pool2d", [(2, 3, 7, 6)], dict(kernel_size=2)),
    ("max_pool2d", [(2, 3, 7, 6)], dict(kernel_size=3, stride=2, padding=1, dilation=(1, 2),
                                        ceil_mode=True, return_indices=True)),
    ("max_pool2d", [(3, 7, 6)], dict(kernel_size=(3, 2), stride=(1, 2), return_indices=True)),
    ("max_pool2d", [(1, 2, 8, 8)], dict(kernel_size=3, stride=3, ceil_mode=True)),
    ("max_pool2d", [(1, 2, 5, 9)], dict(kernel_size=(2, 4), stride=1, padding=(1, 2))),
    ("max_pool1d", [(2, 3, 9)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     return_indices=True)),
    ("max_pool1d", [(3, 10)], dict(kernel_size=2, dilation=3)),
    ("max_pool3d", [(1, 2, 5, 6, 5)], dict(kernel_size=2, stride=2, ceil_mode=True,
                                           return_indices=True)),
    ("avg_pool2d", [(2, 3, 7, 6)], dict(kernel_size=2)),
    ("avg_pool2d", [(2, 3, 7, 6)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                        count_include_pad=False)),
    ("avg_pool2d", [(2, 3, 7, 6)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", [(3, 7, 6)], dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0),
                                     divisor_override=5)),
    ("avg_pool2d", [(1, 1, 5, 5)], dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ("avg_pool1d", [(2, 3, 8)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", [(3, 8)], dict(kernel_size=3, count_include_pad=False, padding=1)),
    ("avg_pool3d", [(1, 2, 4, 5, 3)], dict(kernel_size=2, stride=1, padding=1)),
    ("adaptive_avg_pool2d", [(2, 3, 7, 6)], dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", [(3, 7, 6)], dict(output_size=(None, 4))),
    ("adaptive_avg_pool2d", [(2, 3, 5, 5)], dict(output_size=1)),
    ("adaptive_avg_pool2d", [(1, 2, 3, 4)], dict(output_size=(5, 7))),
    ("adaptive_avg_pool1d", [(2, 3, 7)], dict(output_size=5)),
    ("adaptive_max_pool2d", [(2, 3, 7, 6)], dict(output_size=(3, 4), return_indices=True)),
    ("adaptive_max_pool2d", [(3, 7, 6)], dict(output_size=(5, None), return_indices=True)),
    ("adaptive_max_pool2d", [(1, 2, 3, 4)], dict(output_size=(5, 7))),
    ("adaptive_max_pool1d", [(2, 3, 7)], dict(output_size=3, return_indices=True)),
    ("lp_pool2d", [(2, 3, 7, 6)], dict(norm_type=2, kernel_size=3, stride=2)),
    ("lp_pool1d", [(2, 3, 7)], dict(norm_type=1.5, kernel_size=2, ceil_mode=True)),
]


def _case_ids(cases):
    return [f"{c[0]}-{i}" for i, c in enumerate(cases)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,shapes,kwargs", POOL_CASES, ids=_case_ids(POOL_CASES))
def test_pooling_functional_vs_torch(name, shapes, kwargs, dtype):
    if name.startswith("lp_pool"):  # x ** p of negative x: compare on positive inputs
        compare_lp(name, shapes, kwargs, dtype)
        return
    compare_functional(name, shapes, dtype=dtype, **kwargs)


def compare_lp(name, shapes, kwargs, dtype):
    x = torch.rand(*shapes[0], dtype=dtype) + 0.5
    x.requires_grad_(True)
    xl = torchlite.tensor(x.detach().numpy(), requires_grad=True)
    a = getattr(torch.nn.functional, name)(x, **kwargs)
    b = getattr(F, name)(xl, **kwargs)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(xl.grad.numpy(), x.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_max_pool_ties_and_nan_as_torch():
    """Ties pick the first maximum; a NaN is a window's maximum, the last NaN its index."""
    nan = float("nan")
    for rows in ([[1., 1., 2.], [2., nan, 0.], [3., 3., 3.]],
                 [[nan, 1., 2.], [2., nan, 0.], [3., nan, 3.]]):
        x = torch.tensor([[rows]])
        for fn, kw in (("max_pool2d", dict(kernel_size=2, stride=1)),
                       ("adaptive_max_pool2d", dict(output_size=2))):
            a, ia = getattr(torch.nn.functional, fn)(x, return_indices=True, **kw)
            b, ib = getattr(F, fn)(torchlite.tensor(x.numpy()), return_indices=True, **kw)
            np.testing.assert_array_equal(b.numpy(), a.numpy())
            np.testing.assert_array_equal(ib.numpy(), ia.numpy())
            assert ib.dtype == torchlite.int64 and not ib.requires_grad


def test_max_pool_integer_input():
    x = torch.randint(-50, 50, (2, 3, 6, 6))
    a = torch.nn.functional.max_pool2d(x, 3, 2, 1)
    b = F.max_pool2d(torchlite.tensor(x.numpy()), 3, 2, 1)
    np.testing.assert_array_equal(b.numpy(), a.numpy())
    assert b.dtype == torchlite.int64


def _f64(*shape):
    return torchlite.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


GRADCHECK = [
    lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.max_pool2d(x, 2, 1),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    lambda x: F.adaptive_max_pool2d(x, (3, 4)),
    lambda x: F.adaptive_avg_pool2d(x, (4, 3)),
    lambda x: F.max_pool1d(x.flatten(2), 3, 2),
    lambda x: F.avg_pool1d(x.flatten(2), 4, 3, 2),
]


@pytest.mark.parametrize("fn", GRADCHECK, ids=[str(i) for i in range(len(GRADCHECK))])
def test_pooling_gradcheck_and_gradgradcheck(fn):
    x = _f64(2, 2, 6, 5)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


POOL_ERRORS = [
    lambda t, f: f.max_pool2d(t.ones(2, 3, 7, 6), 3, padding=2),
    lambda t, f: f.max_pool2d(t.ones(7, 6), 3),
    lambda t, f: f.max_pool2d(t.ones(2, 3, 7, 6), 3, stride=0),
    lambda t, f: f.max_pool2d(t.ones(2, 3, 7, 6), 8),
    lambda t, f: f.max_pool2d(t.ones(2, 3, 7, 6), (2, 2, 2)),
    lambda t, f: f.max_pool2d(t.ones(2, 3, 7, 6), 3, dilation=0),
    lambda t, f: f.max_pool1d(t.ones(3), 2),
    lambda t, f: f.max_pool1d(t.ones(2, 3, 4), 5),
    lambda t, f: f.max_pool1d(t.ones(2, 3, 4), 2, padding=2),
    lambda t, f: f.avg_pool2d(t.ones(2, 3, 7, 6), 3, padding=2),
    lambda t, f: f.avg_pool2d(t.ones(2, 3, 7, 6), 8),
    lambda t, f: f.avg_pool1d(t.ones(2, 3, 4), 5),
    lambda t, f: f.avg_pool1d(t.ones(3), 2),
    lambda t, f: f.avg_pool2d(t.ones(2, 3, 7, 6), 2, divisor_override=0),
    lambda t, f: f.adaptive_avg_pool2d(t.ones(7, 6), 3),
    lambda t, f: f.adaptive_avg_pool2d(t.ones(2, 3, 7, 6), (3, 4, 5)),
    lambda t, f: f.adaptive_max_pool2d(t.ones(7, 6), 3),
    lambda t, f: f.adaptive_avg_pool1d(t.ones(7), 3),
    lambda t, f: f.adaptive_max_pool1d(t.ones(7), 3),
    lambda t, f: f.adaptive_avg_pool2d(t.ones(2, 3, 0, 4), 2),
]


@pytest.mark.parametrize("program", POOL_ERRORS, ids=[str(i) for i in range(len(POOL_ERRORS))])
def test_pooling_errors_as_torch(program):
    same_error(program)


LAYERS = [
    ("MaxPool2d(2)", (2, 3, 6, 7)),
    ("MaxPool2d(3, 2, 1, 2, False, True)", (2, 3, 9, 8)),
    ("MaxPool1d(3, stride=2, padding=1)", (2, 3, 9)),
    ("MaxPool3d(2)", (1, 2, 4, 4, 5)),
    ("AvgPool2d(2)", (3, 6, 7)),
    ("AvgPool2d(3, 2, 1, True, False, 2)", (2, 3, 7, 7)),
    ("AvgPool1d(3)", (2, 3, 10)),
    ("AvgPool3d(2, stride=1)", (1, 2, 3, 4, 3)),
    ("AdaptiveAvgPool2d((2, None))", (2, 3, 5, 6)),
    ("AdaptiveAvgPool2d(1)", (2, 3, 5, 6)),
    ("AdaptiveAvgPool1d(3)", (2, 3, 7)),
    ("AdaptiveMaxPool2d(3)", (2, 3, 7, 5)),
    ("AdaptiveMaxPool1d(4)", (2, 3, 9)),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("spec,shape", LAYERS, ids=[s for s, _ in LAYERS])
def test_pooling_layers_vs_torch(spec, shape, dtype):
    compare_module(spec, shape, dtype)


def test_pooling_layers_return_indices():
    compare_module("MaxPool2d(3, 2, 1, return_indices=True)", (2, 3, 7, 6))
    compare_module("AdaptiveMaxPool2d((2, 3), return_indices=True)", (2, 3, 7, 6))
    compare_module("MaxPool1d(2, return_indices=True)", (2, 3, 7))


@pytest.mark.parametrize("spec", ["LPPool2d(2, 3)", "LPPool1d(1.5, 2, stride=1)",
                                  "AdaptiveMaxPool2d(3, return_indices=True)",
                                  "MaxPool2d((2, 3), stride=[1, 2], ceil_mode=True)"])
def test_pooling_layer_repr(spec):
    assert repr(eval(spec, dict(vars(torchlite.nn)))) == repr(eval(spec, dict(vars(torch.nn))))


def test_avg_pool_integer_input_truncates_as_torch():
    x = torch.tensor([[[[-7, 2, 5], [3, -1, 8]]]])
    for kw in (dict(kernel_size=2, stride=1),
               dict(kernel_size=2, stride=1, padding=1, count_include_pad=False)):
        a = torch.nn.functional.avg_pool2d(x, **kw)
        b = F.avg_pool2d(torchlite.tensor(x.numpy()), **kw)
        np.testing.assert_array_equal(b.numpy(), a.numpy())
        assert b.dtype == torchlite.int64
    same_error(lambda t, f: f.adaptive_avg_pool2d(t.ones(1, 2, 3, 3, dtype=t.int64), 1))


def test_adaptive_max_pool3d_vs_torch():
    compare_functional("adaptive_max_pool3d", [(2, 3, 5, 6, 7)], output_size=(2, 3, 4),
                       return_indices=True)
    compare_module("AdaptiveMaxPool3d((2, None, 3))", (1, 2, 4, 5, 6))


@pytest.mark.parametrize("n,kwargs", [(1, dict(kernel_size=2)),
                                      (2, dict(kernel_size=3, stride=2, padding=1)),
                                      (3, dict(kernel_size=(1, 2, 2)))])
def test_max_unpool_inverts_max_pool_as_torch(n, kwargs):
    shape = {1: (2, 3, 8), 2: (2, 3, 7, 8), 3: (1, 2, 3, 4, 6)}[n]
    x = torch.tensor(np.random.default_rng(n).standard_normal(shape))
    pooled, index = getattr(torch.nn.functional, f"max_pool{n}d")(x, return_indices=True,
                                                                  **kwargs)
    pooled.requires_grad_(True)
    ours = torchlite.tensor(pooled.detach().numpy(), requires_grad=True)
    args = dict(kwargs, output_size=shape[2:])
    a = getattr(torch.nn.functional, f"max_unpool{n}d")(pooled, index, **args)
    b = getattr(F, f"max_unpool{n}d")(ours, torchlite.tensor(index.numpy()), **args)
    np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
    g = np.random.default_rng(0).standard_normal(tuple(a.shape))
    a.backward(torch.tensor(g))
    b.backward(torchlite.tensor(g))
    np.testing.assert_array_equal(ours.grad.numpy(), pooled.grad.numpy())
    layer = f"MaxUnpool{n}d({kwargs['kernel_size']}, stride={kwargs.get('stride')}, " \
            f"padding={kwargs.get('padding', 0)})"
    assert repr(eval(layer, dict(vars(torchlite.nn)))) == repr(eval(layer, dict(vars(torch.nn))))


def test_max_unpool_errors_as_torch():
    same_error(lambda t, f: f.max_unpool2d(t.ones(1, 1, 2, 2), t.tensor([[[[0, 1], [2, 40]]]]),
                                           2))
    same_error(lambda t, f: f.max_unpool2d(t.ones(1, 1, 2, 2), t.tensor([[[[0, 1]]]]), 2))
