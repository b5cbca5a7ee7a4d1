"""Reductions beyond the op table, against PyTorch: ties, zeros, NaNs, empty inputs, 0-d
inputs, dim=() and the (values, indices) named tuples."""
import pickle
import warnings

import numpy as np
import pytest

import torchlite
from torchlite.autograd import gradgradcheck

from ..autograd.helpers import leaf, raises_alike, same_program

TIES = [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0], [5.0, 5.0, 5.0, 5.0]]
NAN = float("nan")


def _grad(lib, fn, values, dtype="float64"):
    """(fn(x), d sum(fn(x) * seed) / dx) for a leaf x of ``values``."""
    x = leaf(lib, values, dtype)
    out = fn(lib, x)
    first = out[0] if isinstance(out, tuple) else out
    seed = lib.arange(first.numel(), dtype=first.dtype).reshape(first.shape) + 1
    (g,) = lib.autograd.grad(first, x, seed)
    return out, g


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.amax(), lambda lib, x: x.amin(), lambda lib, x: x.amax(1),
    lambda lib, x: x.amin((0, 1), keepdim=True), lambda lib, x: x.amax(0),
    lambda lib, x: x.max(), lambda lib, x: x.min(), lambda lib, x: lib.max(x, 1),
    lambda lib, x: lib.min(x, 0, keepdim=True), lambda lib, x: x.median(),
    lambda lib, x: lib.aminmax(x, dim=1).max, lambda lib, x: lib.cummax(x, 1),
    lambda lib, x: lib.cummin(x, 0), lambda lib, x: x.nanmedian(),
], ids=["amax", "amin", "amax1", "amin01", "amax0", "max", "min", "max_dim", "min_dim",
        "median", "aminmax", "cummax", "cummin", "nanmedian"])
def test_ties_values_indices_and_gradients(fn, torch_oracle):
    """amax/amin and the full max/min/median split the gradient evenly among ties; the dim
    forms send it to the index they return (the same index as PyTorch's)."""
    same_program(lambda lib: _grad(lib, fn, TIES), torch_oracle)


@pytest.mark.parametrize("values", [[1.0, 2.0, 2.0, 1.0, 3.0], [[1.0, 1.0, 2.0, 2.0],
                                                                [3.0, 4.0, 4.0, 3.0]]])
def test_mode_and_median_ties(values, torch_oracle):
    def program(lib):
        x = lib.tensor(values)
        return lib.mode(x), x.median(-1), x.nanmedian(-1), lib.mode(x, 0)
    same_program(program, torch_oracle)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.max(), lambda lib, x: x.min(), lambda lib, x: lib.max(x, 1),
    lambda lib, x: x.argmax(1), lambda lib, x: x.argmin(), lambda lib, x: x.amax(1),
    lambda lib, x: x.median(), lambda lib, x: x.median(1), lambda lib, x: x.nanmedian(),
    lambda lib, x: x.nanmedian(1).values, lambda lib, x: lib.cummax(x, 1),
    lambda lib, x: x.nansum(1), lambda lib, x: x.nanmean(), lambda lib, x: x.logsumexp(1),
    lambda lib, x: x.sum(0),
], ids=["max", "min", "max_dim", "argmax", "argmin", "amax", "median", "median_dim",
        "nanmedian", "nanmedian_dim", "cummax", "nansum", "nanmean", "logsumexp", "sum"])
def test_nans(fn, torch_oracle):
    """NaN propagates (max, median, ...) or is skipped (nan*); the index nanmedian picks in an
    all-NaN slice is unspecified in PyTorch, so only its value is compared."""
    values = [[1.0, NAN, 3.0, NAN], [2.0, 0.5, 0.0, 1.0], [NAN, NAN, NAN, NAN]]
    same_program(lambda lib: fn(lib, lib.tensor(values)), torch_oracle)


@pytest.mark.parametrize("values", [[[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]], [2.0, 0.0, 4.0],
                                    [[0.0, 2.0], [3.0, 4.0]]])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod_gradient_with_zeros(values, dim, torch_oracle):
    def fn(lib, x):
        return x.prod() if dim is None else x.prod(dim)
    same_program(lambda lib: _grad(lib, fn, values), torch_oracle)
    x = leaf(torchlite, values)
    assert gradgradcheck(lambda t: fn(torchlite, t), (x,))


@pytest.mark.parametrize("values", [[[1.0, 0.0, 3.0, 2.0], [0.0, 0.5, 0.0, 2.0]],
                                    [[2.0, 3.0, 0.0, 5.0], [1.0, 2.0, 3.0, 4.0]]])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_gradient_with_zeros(values, dim, torch_oracle):
    same_program(lambda lib: _grad(lib, lambda lib, x: x.cumprod(dim), values), torch_oracle)
    x = leaf(torchlite, values)
    assert gradgradcheck(lambda t: t.cumprod(dim), (x,))


@pytest.mark.parametrize("p", [2, 1, 0.5, 1.5, 3, float("inf"), "fro"])
def test_norm_gradient_at_zero(p, torch_oracle):
    """The subgradient PyTorch picks at zero elements and zero norms: never NaN."""
    values = [[0.0, 1.0, -2.0], [0.0, 0.0, 0.0]]
    same_program(lambda lib: _grad(lib, lambda lib, x: x.norm(p, 1), values), torch_oracle)


def test_logsumexp_is_stable(torch_oracle):
    def program(lib):
        x = leaf(lib, [[1000.0, 1000.0, -1000.0], [-1e4, -1e4, -1e4]])
        out = x.logsumexp(1)
        inf = lib.tensor([float("-inf"), float("-inf")]).logsumexp(0)
        return out, lib.autograd.grad(out.sum(), x)[0], inf
    same_program(program, torch_oracle)


def test_values_indices_named_tuple(torch_oracle):
    x = torchlite.tensor([[1.0, 3.0], [4.0, 2.0]])
    result = torchlite.max(x, 1)
    values, indices = result
    assert isinstance(result, tuple) and len(result) == 2
    assert result[0] is values is result.values and result[1] is indices is result.indices
    assert type(result).__name__ == "max" and result._fields == ("values", "indices")
    assert repr(result) == repr(torch_oracle.max(torch_oracle.tensor([[1.0, 3.0], [4.0, 2.0]]),
                                                 1))
    mm = torchlite.aminmax(x)
    assert (mm.min.item(), mm.max.item()) == (1.0, 4.0) and repr(mm).startswith(
        "torch.return_types.aminmax(\nmin=tensor(1.)")
    again = pickle.loads(pickle.dumps(result))
    assert type(again) is type(result) and again.indices.tolist() == [1, 0]


@pytest.mark.parametrize("name", ["max", "min", "median", "nanmedian", "mode"])
def test_value_select_on_0d_and_keepdim(name, torch_oracle):
    def program(lib):
        s = leaf(lib, 2.5)
        x = leaf(lib, [[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        fn = getattr(lib, name)
        out0, out1 = fn(s, 0), fn(s, -1, keepdim=True)
        outk = fn(x, 1, keepdim=True)
        g = lib.autograd.grad(out0.values + outk.values.sum(), (s, x))
        return out0, out1, outk, g
    same_program(program, torch_oracle)


@pytest.mark.parametrize("fn", [
    lambda lib, s: s.sum(0), lambda lib, s: s.sum(-1, keepdim=True), lambda lib, s: s.mean([0]),
    lambda lib, s: s.amax(0), lambda lib, s: s.argmax(0), lambda lib, s: s.argmax(),
    lambda lib, s: s.argmin(0, True), lambda lib, s: s.prod(0), lambda lib, s: s.cumsum(0),
    lambda lib, s: s.cumprod(-1), lambda lib, s: s.logsumexp(0), lambda lib, s: s.all(0),
    lambda lib, s: s.any(-1, keepdim=True), lambda lib, s: s.count_nonzero(0),
    lambda lib, s: s.var(0, correction=0), lambda lib, s: s.nansum(0),
    lambda lib, s: lib.aminmax(s, dim=0), lambda lib, s: s.median(),
])
def test_dims_on_0d(fn, torch_oracle):
    same_program(lambda lib: fn(lib, lib.tensor(1.5)), torch_oracle)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.sum(()), lambda lib, x: x.sum([]), lambda lib, x: x.mean(()),
    lambda lib, x: x.amax(()), lambda lib, x: x.amin([]), lambda lib, x: x.std(()),
    lambda lib, x: x.var([]), lambda lib, x: x.nansum(()), lambda lib, x: x.nanmean(()),
    lambda lib, x: x.count_nonzero(()), lambda lib, x: x.all(()), lambda lib, x: x.any([]),
    lambda lib, x: x.sum(dim=None, keepdim=True), lambda lib, x: x.amax(None, True),
    lambda lib, x: x.argmax(None, keepdim=True), lambda lib, x: lib.aminmax(x, keepdim=True),
])
def test_dim_empty_tuple_and_none(fn, torch_oracle):
    """dim=() / [] reduce over all dims (all/any: over none), as PyTorch does."""
    same_program(lambda lib: fn(lib, lib.tensor([[1.0, 0.0, 3.0], [2.0, 0.0, 2.0]])),
                 torch_oracle)


def test_var_dim_empty_tuple_gradient_is_the_all_dims_gradient():
    """PyTorch 2.13's var/std backward treats dim=() as "no dims" (infinite gradients) while
    its forward reduces all dims; torchlite's gradient is the one of the value it returns."""
    x = leaf(torchlite, [[1.0, 0.0, 3.0], [2.0, 0.0, 2.0]])
    (g,) = torchlite.autograd.grad(x.var(()), x)
    (h,) = torchlite.autograd.grad(x.var(), x)
    np.testing.assert_allclose(g.numpy(), h.numpy())


@pytest.mark.parametrize("fn", [
    lambda lib, b: b.sum(), lambda lib, b: b.prod(0), lambda lib, b: b.cumsum(0),
    lambda lib, b: b.cumprod(0), lambda lib, b: b.all(), lambda lib, b: b.any(0),
    lambda lib, b: b.amax(), lambda lib, b: b.max(), lambda lib, b: lib.max(b, 0),
    lambda lib, b: b.count_nonzero(), lambda lib, b: b.nansum(),
])
def test_bool_inputs(fn, torch_oracle):
    same_program(lambda lib: fn(lib, lib.tensor([True, False, True])), torch_oracle)


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "int64"])
def test_integer_accumulation_dtypes(dtype, torch_oracle):
    def program(lib):
        x = lib.tensor([[1, 2, 3], [4, 5, 6]], dtype=getattr(lib, dtype))
        return (x.sum(), x.sum(1), x.prod(), x.prod(0), x.cumsum(1), x.cumprod(0), x.nansum(),
                x.sum(dtype=lib.int16), x.mean(dtype=lib.float64), x.all(), x.any(1),
                x.amax(0), lib.max(x, 1), x.logsumexp(1))
    same_program(program, torch_oracle, rtol=1e-6)


def test_float_result_dtypes(torch_oracle):
    def program(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float32)
        return (x.sum(dtype=lib.float64), x.mean(1, dtype=lib.float64), x.cumsum(0,
                dtype=lib.float64), x.prod(dtype=lib.float64), x.nanmean(dtype=lib.float64),
                x.sum(dtype=lib.int64))
    same_program(program, torch_oracle)


@pytest.mark.parametrize("call", [
    lambda lib, x: x.std(True), lambda lib, x: x.std(0, True), lambda lib, x: x.var(1, False),
    lambda lib, x: x.std(0, True, True), lambda lib, x: x.var(correction=2.5),
    lambda lib, x: x.std(unbiased=False), lambda lib, x: lib.std_mean(x, 0),
    lambda lib, x: lib.var_mean(x, [0, 1], correction=0, keepdim=True),
    lambda lib, x: lib.var_mean(x, True), lambda lib, x: x.var(0, correction=3),
])
def test_std_var_overloads(call, torch_oracle):
    def program(lib):
        x = leaf(lib, [[1.0, 3.0, 0.5], [2.0, -1.0, 4.0]])
        out = call(lib, x)
        first = out[0] if isinstance(out, tuple) else out
        return out, lib.autograd.grad(first.sum(), x)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns when correction >= N
        same_program(program, torch_oracle)


@pytest.mark.parametrize("call,exc,match", [
    (lambda lib, e: e.max(), RuntimeError, "max\\(\\): Expected reduction dim to be specified"),
    (lambda lib, e: e.min(0), IndexError, "min\\(\\): Expected reduction dim 0 to have non-zero"),
    (lambda lib, e: e.amax(), RuntimeError, "amax\\(\\): Expected reduction dim to be specified"),
    (lambda lib, e: e.argmin(), IndexError, "argmin\\(\\): Expected reduction dim to be"),
    (lambda lib, e: e.median(0), IndexError, "median\\(\\): Expected reduction dim 0"),
    (lambda lib, e: lib.aminmax(e), RuntimeError, "aminmax\\(\\): cannot compute aminmax over"),
    (lambda lib, e: lib.mode(e, 0), IndexError, "mode\\(\\): Expected reduction dim 0"),
    (lambda lib, e: lib.tensor([1, 2]).mean(), RuntimeError, "mean\\(\\): could not infer"),
    (lambda lib, e: e.mean(dtype=lib.int64), RuntimeError, "Optional dtype must be either"),
    (lambda lib, e: lib.tensor([1, 2]).std(), RuntimeError, "std and var only support"),
    (lambda lib, e: lib.tensor([1, 2]).nanmean(), RuntimeError, "nanmean\\(\\): expected"),
    (lambda lib, e: e.sum((1, -1)), RuntimeError, "dim 1 appears multiple times"),
    (lambda lib, e: e.prod((0, 1)), TypeError, "prod\\(\\)"),
    (lambda lib, e: e.cumsum((0,)), TypeError, "cumsum\\(\\): argument 'dim'"),
    (lambda lib, e: lib.argmax(e, (0,)), TypeError, "must be int, not tuple"),
    (lambda lib, e: e.std(0, True, correction=1), TypeError,
     "std\\(\\) received an invalid combination of arguments"),
    (lambda lib, e: lib.tensor([True]).argmax(), RuntimeError, "does not support bool input"),
    (lambda lib, e: lib.tensor(1.0).sum(1), IndexError,
     "expected to be in range of \\[-1, 0\\], but got 1"),
])
def test_errors_match_torch(call, exc, match, torch_oracle):
    raises_alike(lambda lib: call(lib, lib.zeros(0, 3)), torch_oracle, exc, match)


def test_empty_reductions_with_identity(torch_oracle):
    def program(lib):
        e = lib.zeros(0, 3)
        return (e.sum(), e.sum(0), e.prod(1), e.mean(0), e.median(), e.logsumexp(0),
                e.cumsum(0), lib.cummax(e, 1), e.all(), e.any(0), e.count_nonzero(1),
                lib.max(e, 1), e.amax(1), e.argmax(1), e.nansum())
    same_program(program, torch_oracle)


def test_binary_max_min_are_maximum_minimum(torch_oracle):
    if "maximum" not in dir(torchlite):
        pytest.skip("torchlite.maximum is not available yet")

    def program(lib):
        a, b = lib.tensor([1.0, 5.0, -2.0]), lib.tensor([3.0, 0.0, -2.0])
        return lib.max(a, b), lib.min(a, b), a.max(b), a.min(lib.tensor(0.0))
    same_program(program, torch_oracle)


def test_grad_fn_names(torch_oracle):
    def program(lib):
        x = leaf(lib, [[1.0, 2.0], [3.0, 0.5]])
        outs = (x.sum(), x.mean(0), x.amax(), x.max(), lib.max(x, 0).values, x.prod(1),
                x.std(), x.var(), x.logsumexp(0), x.cumsum(0), x.cumprod(1),
                lib.cummax(x, 0).values, x.median(), lib.median(x, 1).values, x.nansum(),
                x.nanmedian(), lib.mode(x, 0).values, lib.cummin(x, 1).values, x.min(),
                lib.min(x, 1).values, x.amin(0), lib.nanmedian(x, 0).values)
        return [o.grad_fn.name() for o in outs]
    ours = program(torchlite)
    theirs = program(torch_oracle)
    # PyTorch numbers overloads (SumBackward1 for sum(dim)); torchlite names the op's node
    assert [n.rstrip("0123456789") for n in ours] == [n.rstrip("0123456789") for n in theirs]


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sum(axis=1), lambda lib, x: lib.mean(x, axis=0, keepdims=True),
    lambda lib, x: x.max(axis=1), lambda lib, x: x.argmin(axis=0), lambda lib, x: x.std(axis=1),
    lambda lib, x: x.amax(axis=(0, 1)), lambda lib, x: x.cumsum(axis=1),
    lambda lib, x: x.prod(axis=0, keepdims=True), lambda lib, x: x.all(axis=1),
    lambda lib, x: x.logsumexp(axis=1), lambda lib, x: x.median(axis=0),
    lambda lib, x: x.count_nonzero(axis=1), lambda lib, x: lib.var_mean(x, axis=1),
])
def test_numpy_argument_names(call, torch_oracle):
    """PyTorch accepts NumPy's axis= and keepdims= for dim= and keepdim=."""
    same_program(lambda lib: call(lib, lib.tensor([[1.0, 0.0, 3.0], [2.0, 5.0, 2.5]])),
                 torch_oracle)


@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 9, 4), 1), ((5, 1), 0), ((2, 0), 1),
                                        ((4, 13), -1)])
def test_log_step_scan_equals_accumulate(shape, axis):
    """The scan cummax/cummin/mode use on CuPy (which lacks maximum.accumulate), run here on
    NumPy arrays through a namespace that is not named numpy."""
    from types import SimpleNamespace

    from torchlite.ops.reduction import _accumulate
    not_numpy = SimpleNamespace(__name__="cupy", moveaxis=np.moveaxis)
    a = np.random.default_rng(0).normal(size=shape)
    a[a > 1.2] = np.nan
    for op in (np.maximum, np.minimum):
        np.testing.assert_array_equal(_accumulate(not_numpy, op, a, axis),
                                      op.accumulate(a, axis=axis))
