"""getitem/setitem key zoo against PyTorch (values, result shapes, gradients, view-ness), writes
through views, setitem under autograd with version counters, and in-place scatter variants."""
import warnings

import numpy as np
import pytest

import torchlite
from torchlite.autograd import gradcheck, gradgradcheck

SHAPE = (3, 4, 5)

# Each key is built from the module (torch or torchlite) so tensor keys exist in both.
KEYS = {
    "int": lambda m: 1,
    "neg_int": lambda m: -1,
    "ints": lambda m: (0, -2, 4),
    "slice": lambda m: slice(1, None),
    "neg_slice_step": lambda m: (slice(-3, -1), slice(None, None, 2)),
    "empty_slice": lambda m: slice(2, 1),
    "none": lambda m: None,
    "ellipsis": lambda m: Ellipsis,
    "ellipsis_int": lambda m: (Ellipsis, 2),
    "none_ellipsis_none": lambda m: (None, Ellipsis, None, 0),
    "int_slice_none": lambda m: (1, slice(None, 3), None),
    "list": lambda m: [2, 0, 2],
    "lists_broadcast": lambda m: ([[0], [2]], slice(None), [1, 3]),
    "lists_adjacent": lambda m: (slice(None), [0, 1, 3], [4, 4, 0]),
    "range": lambda m: range(1, 3),
    "tuple_in_tuple": lambda m: ((0, 2), 1),
    "tensor": lambda m: m.tensor([2, 0, 1, 2]),
    "tensor_2d": lambda m: m.tensor([[0, 1], [2, 2]]),
    "tensor_int32": lambda m: m.tensor([1, 0], dtype=m.int32),
    "tensor_negative": lambda m: (slice(None), m.tensor([-1, -4])),
    "zero_dim_tensor": lambda m: m.tensor(1),
    "zero_dim_then_list": lambda m: (m.tensor(0), slice(None), [0, 1]),
    "mask": lambda m: m.tensor([True, False, True]),
    "mask_2d": lambda m: m.tensor([[True, False, True, False]] * 3),
    "mask_inner": lambda m: (slice(None), m.tensor([True, False, True, True])),
    "mask_and_list": lambda m: (m.tensor([True, False, True]), [1, 3]),
    "all_false_mask": lambda m: m.zeros(3, dtype=m.bool),
    "python_true": lambda m: True,
    "python_false": lambda m: False,
    "true_with_int": lambda m: (True, 1, [0, 2]),
    "separated_by_none": lambda m: ([0, 1], None, [2, 3]),
    "list_then_ellipsis": lambda m: ([0, 2], Ellipsis, [1, 4]),
    "empty_list": lambda m: [],
}

BASIC = {"int", "neg_int", "ints", "slice", "neg_slice_step", "empty_slice", "none", "ellipsis",
         "ellipsis_int", "none_ellipsis_none", "int_slice_none"}


def _pair(torch, rng, shape=SHAPE):
    data = rng.standard_normal(shape)
    return torchlite.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def _close(a, b, what=""):
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(np.asarray(a.detach()._data), b, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("name", list(KEYS))
def test_getitem_matches_torch(name, torch_oracle, rng):
    torch = torch_oracle
    x, tx = _pair(torch, rng)
    out, tout = x[KEYS[name](torchlite)], tx[KEYS[name](torch)]
    assert tuple(out.shape) == tuple(tout.shape)
    _close(out, tout, name)
    seed = rng.standard_normal(tuple(tout.shape))
    out.backward(torchlite.tensor(seed))
    tout.backward(torch.tensor(seed))
    _close(x.grad, tx.grad, name + " grad")


@pytest.mark.parametrize("name", list(KEYS))
def test_getitem_view_iff_basic(name, rng):
    x = torchlite.tensor(rng.standard_normal(SHAPE))
    out = x[KEYS[name](torchlite)]
    assert (name in BASIC) == (out._base is x), name
    if out.numel():
        assert np.shares_memory(out._data, x._data) == (name in BASIC), name


@pytest.mark.parametrize("name", list(KEYS))
def test_getitem_double_backward(name, rng):
    x = torchlite.tensor(rng.standard_normal(SHAPE), requires_grad=True)
    key = KEYS[name](torchlite)
    assert gradcheck(lambda t: t[key], (x,))
    assert gradgradcheck(lambda t: t[key], (x,))


@pytest.mark.parametrize("name", [n for n in KEYS if n != "empty_list"])
@pytest.mark.parametrize("value", ["scalar", "tensor", "broadcast"])
def test_setitem_matches_torch(name, value, torch_oracle, rng):
    torch = torch_oracle
    x, tx = _pair(torch, rng)
    target = tuple(tx.detach()[KEYS[name](torch)].shape)
    vshape = {"scalar": None, "tensor": target, "broadcast": target[-1:]}[value]
    if vshape is None:
        v = tv = 0.5
    else:
        v, tv = _pair(torch, rng, vshape)
    y, ty = x * 1, tx * 1
    y[KEYS[name](torchlite)] = v
    ty[KEYS[name](torch)] = tv
    _close(y, ty, name)
    seed = rng.standard_normal(SHAPE)
    y.backward(torchlite.tensor(seed))
    ty.backward(torch.tensor(seed))
    _close(x.grad, tx.grad, name + " grad of self")
    if vshape is not None:
        assert (v.grad is None) == (tv.grad is None)
        if tv.grad is not None:
            _close(v.grad, tv.grad, name + " grad of value")


def test_setitem_casts_and_strips_leading_ones(torch_oracle):
    torch = torch_oracle
    a, ta = torchlite.zeros(2, 3, dtype=torchlite.int64), torch.zeros(2, 3, dtype=torch.int64)
    a[0] = torchlite.tensor([[[1.7, -2.2, 3.0]]])
    ta[0] = torch.tensor([[[1.7, -2.2, 3.0]]])
    assert a.dtype is torchlite.int64
    assert a.tolist() == ta.tolist()
    a[1, [0, 2]] = [5, 6]
    ta[1, [0, 2]] = torch.tensor([5, 6])
    assert a.tolist() == ta.tolist()


def test_setitem_bumps_version_and_invalidates_saved():
    x = torchlite.ones(3, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    v = y._version
    y[0] = 5.0
    assert y._version == v + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_setitem_on_leaf_that_requires_grad():
    x = torchlite.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 2.0
    with torchlite.no_grad():
        x[0] = 2.0
    assert x.tolist() == [2.0, 1.0, 1.0]


def test_chained_setitem_writes_through_view():
    a = torchlite.zeros(3, 4)
    row = a[1]
    assert np.shares_memory(row._data, a._data)
    a[1][2] = 7.0
    a[2][1:3] = torchlite.tensor([1.0, 2.0])
    assert a[1, 2].item() == 7.0 and row[2].item() == 7.0
    assert a[2].tolist() == [0.0, 1.0, 2.0, 0.0]
    a[[0, 2]][0] = 9.0  # advanced index: a copy, the write does not reach ``a``
    assert a[0].tolist() == [0.0] * 4


def test_chained_setitem_autograd(torch_oracle, rng):
    torch = torch_oracle
    x, tx = _pair(torch, rng, (3, 4))
    v, tv = _pair(torch, rng, (2,))
    y, ty = x * 2, tx * 2
    y[1][1:3] = v * 3
    ty[1][1:3] = tv * 3
    view, tview = y[2], ty[2]
    view[0] = 0.0
    tview[0] = 0.0
    _close(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(x.grad, tx.grad, "x grad")
    _close(v.grad, tv.grad, "v grad")


def test_getitem_errors_match_torch(torch_oracle):
    torch = torch_oracle
    cases = [
        (lambda m: m.zeros(3)[5], IndexError, "index 5 is out of bounds for dimension 0 with "
                                              "size 3"),
        (lambda m: m.tensor(1.0)[0], IndexError, "invalid index of a 0-dim tensor. Use "
                                                 "`tensor.item\\(\\)`"),
        (lambda m: m.tensor(1.0)[:], IndexError, "slice\\(\\) cannot be applied to a 0-dim"),
        (lambda m: m.zeros(2, 3)[:, m.tensor([3])], IndexError, "index 3 is out of bounds for "
                                                               "dimension 1 with size 3"),
        (lambda m: m.zeros(2, 3)[1.5], IndexError, "only integers, slices"),
    ]
    for fn, exc, match in cases:
        with pytest.raises(exc, match=match):
            fn(torchlite)
        with pytest.raises(exc):
            fn(torch)


def test_uint8_mask_warns_like_torch(torch_oracle):
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        out = torchlite.arange(3)[torchlite.tensor([1, 0, 1], dtype=torchlite.uint8)]
    assert out.tolist() == [0, 2]


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_inplace_reduce(reduce, torch_oracle, rng):
    torch = torch_oracle
    data = rng.standard_normal((3, 4))
    index = np.array([[0, 1, 2, 0], [0, 0, 1, 1]])
    src = rng.standard_normal((2, 4))
    a, ta = torchlite.tensor(data), torch.tensor(data)
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src"):
        a.scatter_(0, torchlite.tensor(index), torchlite.tensor(src), reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns once per process
        ta.scatter_(0, torch.tensor(index), torch.tensor(src), reduce=reduce)
    _close(a, ta, reduce)
    b, tb = torchlite.tensor(data), torch.tensor(data)
    b.scatter_(1, torchlite.tensor(index), 2.0, reduce=reduce)
    tb.scatter_(1, torch.tensor(index), 2.0, reduce=reduce)
    _close(b, tb, reduce + " value")


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_inplace(reduce, include_self, torch_oracle, rng):
    torch = torch_oracle
    data = rng.standard_normal((4, 3))
    index = rng.integers(0, 2, (5, 3))
    src = rng.standard_normal((5, 3))
    x, tx = _pair(torch, rng, (4, 3))
    s, ts = _pair(torch, rng, (5, 3))
    y, ty = x * torchlite.tensor(data), tx * torch.tensor(data)
    y.scatter_reduce_(0, torchlite.tensor(index), s * torchlite.tensor(src), reduce,
                      include_self=include_self)
    ty.scatter_reduce_(0, torch.tensor(index), ts * torch.tensor(src), reduce,
                       include_self=include_self)
    _close(y, ty, reduce)
    seed = rng.standard_normal((4, 3))
    y.backward(torchlite.tensor(seed))
    ty.backward(torch.tensor(seed))
    _close(x.grad, tx.grad, "self grad")
    _close(s.grad, ts.grad, "src grad")


def test_scatter_reduce_prod_with_zeros(torch_oracle):
    torch = torch_oracle
    data, src = [2.0, 0.0, 3.0], [0.0, 4.0, 0.0, 5.0]
    index = [0, 1, 2, 2]
    grads = []
    for m in (torchlite, torch):
        x = m.tensor(data, dtype=m.float64, requires_grad=True)
        s = m.tensor(src, dtype=m.float64, requires_grad=True)
        x.scatter_reduce(0, m.tensor(index), s, "prod").sum().backward()
        grads.append((x.grad.tolist(), s.grad.tolist()))
    assert grads[0] == grads[1]


def test_inplace_index_variants_match_torch(torch_oracle, rng):
    torch = torch_oracle
    data = rng.standard_normal((4, 3))
    src = rng.standard_normal((2, 3))
    mask = rng.integers(0, 2, (4, 3)).astype(bool)
    calls = [
        lambda m, t: t.index_add_(0, m.tensor([3, 3]), m.tensor(src), alpha=2),
        lambda m, t: t.index_copy_(0, m.tensor([2, 0]), m.tensor(src)),
        lambda m, t: t.index_fill_(1, m.tensor([0, 2]), -1.0),
        lambda m, t: t.index_put_((m.tensor([0, 0]), m.tensor([1, 1])),
                                  m.tensor(1.5, dtype=m.float64),
                                  accumulate=True),
        lambda m, t: t.masked_fill_(m.tensor(mask), m.tensor(3.0)),
        lambda m, t: t.masked_fill_(m.tensor(mask[0]), 2.0),
        lambda m, t: t.masked_scatter_(m.tensor(mask), m.tensor(data * 10)),
        lambda m, t: t.put_(m.tensor([0, 11]), m.tensor([1.0, 2.0], dtype=m.float64)),
        lambda m, t: t.scatter_add_(1, m.tensor([[0, 0]] * 4), m.tensor(np.ones((4, 2)))),
    ]
    for i, call in enumerate(calls):
        a, ta = torchlite.tensor(data), torch.tensor(data)
        assert call(torchlite, a) is a
        call(torch, ta)
        _close(a, ta, f"call {i}")
        assert a._version == 1


def test_masked_fill_inplace_rejects_growing_broadcast():
    with pytest.raises(RuntimeError, match=r"output with shape \[2, 3\] doesn't match the "
                                           r"broadcast shape \[4, 2, 3\]"):
        torchlite.zeros(2, 3).masked_fill_(torchlite.ones(4, 2, 3, dtype=torchlite.bool), 1.0)


def test_sort_family_return_types(torch_oracle):
    x = torchlite.tensor([3.0, 1.0, 2.0])
    s = torchlite.sort(x)
    assert repr(s).startswith("torch.return_types.sort(")
    values, indices = s
    assert values is s.values and indices.tolist() == [1, 2, 0]
    assert torchlite.topk(x, 1).indices.tolist() == [0]
    h = torchlite.histogram(x, 2)
    assert tuple(h._fields) == ("hist", "bin_edges")


def test_meshgrid_warns_without_indexing(torch_oracle):
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        a, b = torchlite.meshgrid(torchlite.arange(2), torchlite.arange(3))
    assert tuple(a.shape) == (2, 3) and a.tolist() == [[0] * 3, [1] * 3]


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ordered_int_scatter_matches_float_ufunc_at(name, dtype, rng):
    """The CuPy path of scatter max/min (integer atomics on order-preserving bits), run here
    with NumPy's integer ufunc.at, equals the float ufunc.at exactly."""
    from torchlite.ops.indexing import ordered_at
    out = np.concatenate([rng.standard_normal(6) * 1e3, [0.0, -0.0, np.inf, -np.inf]])
    out = out.astype(dtype)
    key = (rng.integers(0, out.size, 40),)
    values = (rng.standard_normal(40) * 1e3).astype(dtype)
    want = out.copy()
    getattr(np, name).at(want, key, values)
    got = out.copy()
    ordered_at(np, getattr(np, name).at, got, key, values)
    np.testing.assert_array_equal(got, want)


SORTING_CALLS = {
    "sort_nan": lambda m: m.sort(m.tensor([1.0, float("nan"), -1.0, 0.5])),
    "sort_nan_desc": lambda m: m.sort(m.tensor([1.0, float("nan"), -1.0, 0.5]),
                                      descending=True),
    "topk_nan": lambda m: m.topk(m.tensor([1.0, float("nan"), -1.0]), 2),
    "argsort_stable_desc": lambda m: m.argsort(m.tensor([1, 3, 1, 3, 2]), descending=True,
                                               stable=True),
    "kthvalue_0d": lambda m: m.kthvalue(m.tensor(2.5), 1),
    "sort_0d": lambda m: m.sort(m.tensor(2.5)),
    "searchsorted_sorter": lambda m: m.searchsorted(m.tensor([3.0, 1.0, 2.0]),
                                                    m.tensor([2.5, 0.0]),
                                                    sorter=m.tensor([1, 2, 0])),
    "searchsorted_scalar": lambda m: m.searchsorted(m.tensor([1.0, 2.0, 3.0]), 2.0,
                                                    right=True),
    "bucketize_scalar": lambda m: m.bucketize(2, m.tensor([1, 2, 3])),
    "scatter_reduce_mean_int": lambda m: m.zeros(2, dtype=m.int64).scatter_reduce(
        0, m.tensor([0, 0, 1, 1]), m.tensor([-1, -2, 3, 4]), "mean", include_self=False),
    "nonzero_0d": lambda m: (m.nonzero(m.tensor(1.0)), m.nonzero(m.tensor(0.0), as_tuple=True)),
    "histc_degenerate": lambda m: m.histc(m.tensor([1.0, 1.0]), bins=4),
    "cartesian_single": lambda m: m.cartesian_prod(m.tensor([1, 2])),
    "meshgrid_list": lambda m: m.meshgrid([m.tensor([1, 2]), m.tensor([3, 4, 5])],
                                          indexing="xy"),
}


def _flat_outputs(r):
    if isinstance(r, (tuple, list)):
        return [x for v in r for x in _flat_outputs(v)]
    return [r]


@pytest.mark.parametrize("name", list(SORTING_CALLS))
def test_sorting_edge_cases_match_torch(name, torch_oracle):
    got = _flat_outputs(SORTING_CALLS[name](torchlite))
    want = _flat_outputs(SORTING_CALLS[name](torch_oracle))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g.dtype) == str(w.dtype) and tuple(g.shape) == tuple(w.shape), name
        np.testing.assert_array_equal(np.asarray(g._host()), w.numpy(), err_msg=name)
