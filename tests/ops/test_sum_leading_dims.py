"""Sums over leading dims of float arrays (a vector-matrix product when the array is
contiguous and not too tall) against PyTorch: values, shapes, dtypes, keepdim, gradients."""
import numpy as np
import pytest
import torch

import torchlite


@pytest.mark.parametrize("shape, dim", [
    ((768, 64), 0), ((12, 64, 64), (0, 1)), ((12, 64, 64), 0), ((3, 4, 5, 6), (0, 1, 2)),
    ((5000, 7), 0), ((1, 9), 0), ((4, 0), 0), ((0, 3), 0), ((6, 5), (1,)),
    ((6, 5), (0, 1)), ((2, 3, 4), (-3, -2)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_over_leading_dims(rng, shape, dim, dtype, keepdim):
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    ours = torchlite.from_numpy(a.copy()).sum(dim, keepdim=keepdim)
    theirs = torch.from_numpy(a.copy()).sum(dim, keepdim=keepdim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=rtol * 100)


@pytest.mark.parametrize("shape, make", [
    ((8, 6), lambda a: a.T), ((8, 6), lambda a: a[::2]),
    ((4, 1), lambda a: a.expand(3, 4, 6)[0]),
], ids=["transposed", "strided", "broadcast"])
def test_sum_over_leading_dims_of_views(rng, shape, make):
    a = rng.standard_normal(shape)
    ours, theirs = make(torchlite.from_numpy(a)), make(torch.from_numpy(a))
    np.testing.assert_allclose(ours.sum(0).numpy(), theirs.sum(0).numpy(), rtol=1e-12)


def test_sum_over_leading_dims_nonfinite_and_dtype_arg():
    a = np.array([[1.0, np.inf, np.nan], [2.0, 1.0, 0.0]], dtype=np.float32)
    ours, theirs = torchlite.from_numpy(a), torch.from_numpy(a)
    np.testing.assert_array_equal(ours.sum(0).numpy(), theirs.sum(0).numpy())
    for dt in ("float64", "float32"):
        o, t = ours.sum(0, dtype=getattr(torchlite, dt)), theirs.sum(0, dtype=getattr(torch, dt))
        assert str(o.dtype) == str(t.dtype)
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_sum_over_leading_dims_gradients(rng):
    a = rng.standard_normal((5, 3, 4))
    seed = rng.standard_normal((1, 1, 4))
    x1 = torchlite.tensor(a, requires_grad=True)
    x2 = torch.tensor(a, requires_grad=True)
    (x1.sum((0, 1), keepdim=True) * torchlite.from_numpy(seed)).sum().backward()
    (x2.sum((0, 1), keepdim=True) * torch.from_numpy(seed)).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-12)
