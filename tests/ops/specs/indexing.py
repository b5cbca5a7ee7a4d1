"""Spec rows for torchlite/ops/indexing.py (getitem/setitem, gather/scatter, index_*, masked_*,
take). Index arrays are int64 (they become tensors that do not require grad)."""
import numpy as np

from ..opspec import ALL_REAL, ErrorInput, OpSpec, Sample, rand

I64 = np.int64


def _x(rng, dtype, shape):
    return rand(rng, shape, dtype)


def _perm_rows(rng, n, cols):
    """An index (n, cols) whose columns are permutations of range(n): no repeats along dim 0."""
    return np.stack([rng.permutation(n) for _ in range(cols)], axis=1).astype(I64)


# ---- getitem / setitem -------------------------------------------------------------------------


def _key_spec(name, key, shape=(3, 4, 5), **kw):
    """A getitem row for a constant key (the same key for torchlite, torch and NumPy)."""
    return OpSpec(f"getitem_{name}", op=lambda t: t[key],
                  torch_op=lambda torch: lambda t: t[key], ref=lambda a: a[key],
                  samples=lambda rng, d: [Sample((_x(rng, d, shape),), name=str(shape))],
                  dtypes=ALL_REAL, **kw)


def _tensor_key_spec(name, make_key, index, shape=(3, 4, 5)):
    """A getitem row whose key mixes constants with one index tensor (a sample argument)."""
    return OpSpec(f"getitem_{name}", op=lambda t, i: t[make_key(i)],
                  torch_op=lambda torch: lambda t, i: t[make_key(i)],
                  ref=lambda a, i: a[make_key(i)],
                  samples=lambda rng, d: [Sample((_x(rng, d, shape), index(rng)))],
                  dtypes=ALL_REAL)


def _setitem(key):
    def run(t, v):
        out = t.clone() if hasattr(t, "clone") else t.copy()
        out[key] = v
        return out
    return run


def _setitem_spec(name, key, vshape, shape=(3, 4)):
    return OpSpec(f"setitem_{name}", op=_setitem(key), torch_op=lambda torch: _setitem(key),
                  ref=_setitem(key), dtypes=ALL_REAL,
                  samples=lambda rng, d: [Sample((_x(rng, d, shape), _x(rng, d, vshape)),
                                                 name=f"{shape}<-{vshape}")])


GETITEM = [
    _key_spec("slice", (slice(1, None), slice(None, None, 2))),
    _key_spec("neg_slice", (slice(-2, None), slice(None, -1), slice(1, -1, 3))),
    _key_spec("int", (1, -1)),
    _key_spec("none_ellipsis", (None, Ellipsis, 1, None)),
    _key_spec("list", ([0, 2, 0],)),
    _key_spec("lists_adjacent", (slice(None), [0, 3, 1], [4, 0, 0])),
    _key_spec("lists_separated", ([0, 2], slice(None), [1, 3])),
    _key_spec("range", (range(0, 3, 2), 1)),
    _key_spec("bool_scalar", (True, 1)),
    _key_spec("empty_list", ([],)),
    _tensor_key_spec("mask", lambda m: m,
                     lambda rng: rng.integers(0, 2, (3, 4)).astype(bool)),
    _tensor_key_spec("mask_inner", lambda m: (slice(None), m),
                     lambda rng: np.array([True, False, True, True])),
    _tensor_key_spec("index_2d", lambda i: (1, i),
                     lambda rng: rng.integers(-4, 4, (2, 3)).astype(I64)),
    _tensor_key_spec("index_with_slice", lambda i: (slice(1, None), None, i),
                     lambda rng: np.array([3, 0, 3], dtype=I64)),
]

SETITEM = [
    _setitem_spec("int", 1, (4,)),
    _setitem_spec("slice_broadcast", (slice(None), slice(1, 3)), (1, 2)),
    _setitem_spec("leading_ones", 0, (1, 1, 4)),
    _setitem_spec("list", ([2, 0],), (4,)),
    _setitem_spec("lists", ([2, 0], [1, 3]), (2,)),
    _setitem_spec("ellipsis_none", (Ellipsis, None, 2), (3, 1)),
    OpSpec("setitem_scalar", op=lambda t: _setitem((slice(1, None), 0))(t, 2.5),
           torch_op=lambda torch: lambda t: _setitem((slice(1, None), 0))(t, 2.5),
           ref=lambda a: _setitem((slice(1, None), 0))(a, 2.5), dtypes=ALL_REAL,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)),))]),
    OpSpec("setitem_mask", op=lambda t, m, v: _setitem(m)(t, v),
           torch_op=lambda torch: lambda t, m, v: _setitem(m)(t, v),
           ref=lambda a, m, v: _setitem(m)(a, v),
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)),
                                           np.array([True, False, True]), _x(rng, d, (4,))))]),
]

GETITEM_ERRORS = [
    ErrorInput((np.zeros((3, 2)), 5), {}, IndexError,
               "index 5 is out of bounds for dimension 0 with size 3"),
    ErrorInput((np.zeros((3, 2)), (0, -3)), {}, IndexError,
               "index -3 is out of bounds for dimension 1 with size 2"),
    ErrorInput((np.zeros((3, 2)), (0, 0, 0)), {}, IndexError,
               "too many indices for tensor of dimension 2"),
    ErrorInput((np.zeros(()), 0), {}, IndexError, "invalid index of a 0-dim tensor"),
    ErrorInput((np.zeros(3), slice(None, None, -1)), {}, ValueError,
               "step must be greater than zero"),
    ErrorInput((np.zeros(3), np.array([0.0])), {}, IndexError,
               "tensors used as indices must be long, int, byte or bool tensors"),
    ErrorInput((np.zeros((3, 2)), np.array([0, 4])), {}, IndexError,
               "index 4 is out of bounds for dimension 0 with size 3"),
    ErrorInput((np.zeros((3, 2)), np.array([True, False])), {}, IndexError,
               r"The shape of the mask \[2\] at index 0 does not match the shape of the "
               r"indexed tensor \[3, 2\] at index 0"),
]

SETITEM_ERRORS = [
    ErrorInput((np.zeros((3, 2)), slice(0, 1), np.zeros((3, 2))), {}, RuntimeError,
               r"The expanded size of the tensor \(1\) must match the existing size \(3\)"),
    ErrorInput((np.zeros((3, 2)), [0, 1], np.zeros((3, 2))), {}, RuntimeError,
               r"shape mismatch: value tensor of shape \[3, 2\] cannot be broadcast to "
               r"indexing result of shape \[2, 2\]"),
]


def _getitem(t, key):
    return t[key]


def _setitem_call(t, key, v):
    t = t.clone()
    t[key] = v
    return t


ERROR_ROWS = [
    OpSpec("getitem_errors", op=_getitem, torch_op=lambda torch: _getitem, grad=False,
           samples=lambda rng, d: [], errors=tuple(GETITEM_ERRORS)),
    OpSpec("setitem_errors", op=_setitem_call, torch_op=lambda torch: _setitem_call,
           grad=False, samples=lambda rng, d: [], errors=tuple(SETITEM_ERRORS)),
]

# ---- gather / scatter --------------------------------------------------------------------------


def _np_along(index, dim):
    dim %= max(index.ndim, 1)
    return tuple(index if d == dim else
                 np.arange(n).reshape([n if e == d else 1 for e in range(index.ndim)])
                 for d, n in enumerate(index.shape))


def _np_gather(a, dim, index):
    return a[_np_along(index, dim)]


def _np_scatter(a, dim, index, src, ufunc=None, include_self=True):
    out = a.copy()
    key = _np_along(index, dim)
    if not isinstance(src, np.ndarray):
        src = np.full(index.shape, src, dtype=a.dtype)
    src = src[tuple(slice(0, n) for n in index.shape)]
    if ufunc is None:
        out[key] = src
        return out
    if not include_self:
        out[key] = {np.add: 0, np.multiply: 1}.get(ufunc, src)
    ufunc.at(out, key, src)
    return out


def _np_scatter_mean(a, dim, index, src, include_self=True):
    total = _np_scatter(a, dim, index, src, np.add, include_self)
    count = _np_scatter(np.full(a.shape, 1 if include_self else 0), dim, index,
                        np.ones(index.shape, dtype=int), np.add, True)
    return total / np.maximum(count, 1)


def _gather_samples(rng, d):
    yield Sample((_x(rng, d, (3, 4)), 1, rng.integers(0, 4, (3, 6)).astype(I64)), name="dim1")
    yield Sample((_x(rng, d, (3, 4)), 0, rng.integers(0, 3, (2, 3)).astype(I64)),
                 name="smaller")
    yield Sample((_x(rng, d, (5,)), -1, rng.integers(0, 5, (7,)).astype(I64)), name="1d")


def _scatter_samples(rng, d):
    yield Sample((_x(rng, d, (3, 4)), 0, _perm_rows(rng, 3, 4), _x(rng, d, (3, 4))),
                 name="full")
    yield Sample((_x(rng, d, (3, 4)), 1, _perm_rows(rng, 4, 2).T.copy(), _x(rng, d, (2, 4))),
                 name="small-index")


def _large_src_samples(rng, d):
    """src larger than index: only its leading block is read (PyTorch's own gradient of this
    case fails, so the row is forward-only)."""
    yield Sample((_x(rng, d, (3, 4)), 1, _perm_rows(rng, 4, 2).T.copy(), _x(rng, d, (3, 5))))


def _scatter_add_samples(rng, d):
    yield Sample((_x(rng, d, (3, 4)), 0, rng.integers(0, 3, (5, 4)).astype(I64),
                  _x(rng, d, (5, 4))), name="repeats")
    yield Sample((_x(rng, d, (4,)), 0, np.array([0, 0, 3], dtype=I64), _x(rng, d, (3,))),
                 name="1d")


def _reduce_samples(rng, d):
    for include_self in (True, False):
        yield Sample((_x(rng, d, (3, 4)), 0, rng.integers(0, 2, (5, 4)).astype(I64),
                      _x(rng, d, (5, 4))), {"include_self": include_self},
                     name=f"include_self={include_self}")


def _reduce_spec(reduce, ufunc, ref=None, **kw):
    ref = ref or (lambda a, dim, i, s, include_self=True:
                  _np_scatter(a, dim, i, s, ufunc, include_self))
    return OpSpec(f"scatter_reduce_{reduce}",
                  op=lambda t, dim, i, s, **k: t.scatter_reduce(dim, i, s, reduce, **k),
                  torch_op=lambda torch: lambda t, dim, i, s, **k: t.scatter_reduce(
                      dim, i, s, reduce, **k),
                  ref=ref, samples=_reduce_samples, **kw)


GATHER_SCATTER = [
    OpSpec("gather", ref=_np_gather, samples=_gather_samples, dtypes=ALL_REAL,
           errors=(
               ErrorInput((np.zeros((2, 3)), 1, np.array([[0, 5]])), {}, RuntimeError,
                          "index 5 is out of bounds for dimension 1 with size 3"),
               ErrorInput((np.zeros((2, 3)), 1, np.array([0])), {}, RuntimeError,
                          "Index tensor must have the same number of dimensions as input"),
               ErrorInput((np.zeros((2, 3)), 1, np.zeros((3, 3), dtype=I64)), {},
                          RuntimeError, "Size does not match at dimension 0"),
           )),
    OpSpec("scatter", ref=_np_scatter, samples=_scatter_samples, dtypes=ALL_REAL,
           errors=(
               ErrorInput((np.zeros((2, 3)), 1, np.array([[0, 5]]), np.zeros((1, 2))), {},
                          RuntimeError, "index 5 is out of bounds for dimension 1 with size 3"),
               ErrorInput((np.zeros((2, 3)), 1, np.array([[0]]), np.zeros((1, 1), np.float32)),
                          {}, RuntimeError, "Expected self.dtype to be equal to src.dtype"),
           )),
    OpSpec("scatter_value", op=lambda t, dim, i: t.scatter(dim, i, 1.5),
           torch_op=lambda torch: lambda t, dim, i: t.scatter(dim, i, 1.5),
           ref=lambda a, dim, i: _np_scatter(a, dim, i, 1.5),
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)), 1,
                                           rng.integers(0, 4, (3, 2)).astype(I64)))]),
    OpSpec("scatter_add", ref=lambda a, dim, i, s: _np_scatter(a, dim, i, s, np.add),
           samples=_scatter_add_samples, dtypes=ALL_REAL),
    _reduce_spec("sum", np.add, dtypes=ALL_REAL),
    _reduce_spec("prod", np.multiply),
    _reduce_spec("mean", None, ref=_np_scatter_mean),
    _reduce_spec("amax", np.maximum, dtypes=ALL_REAL),
    _reduce_spec("amin", np.minimum, dtypes=ALL_REAL),
    OpSpec("scatter_large_src", op=lambda *a: a[0].scatter(*a[1:]),
           torch_op=lambda torch: lambda *a: a[0].scatter(*a[1:]), ref=_np_scatter,
           samples=_large_src_samples, grad=False),
    OpSpec("scatter_reduce", samples=lambda rng, d: [], grad=False,
           errors=(ErrorInput((np.zeros(3), 0, np.array([0]), np.zeros(1), "foo"), {},
                              RuntimeError, "reduce argument must be either sum, prod"),)),
]

# ---- index_* -----------------------------------------------------------------------------------


def _np_index_put(a, dim, index, src, accumulate):
    out = a.copy()
    key = index if isinstance(index, tuple) else (slice(None),) * (dim % a.ndim) + (index,)
    if accumulate:
        np.add.at(out, key, src)
    else:
        out[key] = src
    return out


def _index_samples(repeats):
    def samples(rng, d):
        idx = rng.integers(0, 4, 5) if repeats else rng.permutation(4)[:3]
        n = len(idx)
        yield Sample((_x(rng, d, (4, 3)), 0, idx.astype(I64), _x(rng, d, (n, 3))), name="dim0")
        yield Sample((_x(rng, d, (2, 4)), -1, idx.astype(I64), _x(rng, d, (2, n))),
                     name="dim-1")
    return samples


def _drop_source(samples):
    def dropped(rng, d):
        for s in samples(rng, d):
            yield Sample(s.args[:3], s.kwargs, s.name)
    return dropped


INDEX_OPS = [
    OpSpec("index_select", ref=lambda a, dim, i: np.take(a, i, axis=dim), dtypes=ALL_REAL,
           samples=_drop_source(_index_samples(True)),
           errors=(
               ErrorInput((np.zeros((2, 3)), 0, np.array([5])), {}, IndexError,
                          "index out of range in self"),
               ErrorInput((np.zeros((2, 3)), 0, np.array([[0]])), {}, IndexError,
                          "Index is supposed to be a vector"),
               ErrorInput((np.zeros((2, 3)), 0, np.array([0.0])), {}, RuntimeError,
                          "Expected dtype int32 or int64 for index"),
           )),
    OpSpec("index_add", ref=lambda a, dim, i, s: _np_index_put(a, dim, i, s, True),
           samples=_index_samples(True), dtypes=ALL_REAL,
           errors=(ErrorInput((np.zeros((2, 3)), 0, np.array([0]), np.ones((2, 3))), {},
                              RuntimeError, r"Number of indices \(1\) should be equal to "
                                            r"source.size\(dim\): \(2\)"),)),
    OpSpec("index_add_alpha", op=lambda t, dim, i, s: t.index_add(dim, i, s, alpha=-2),
           torch_op=lambda torch: lambda t, dim, i, s: t.index_add(dim, i, s, alpha=-2),
           ref=lambda a, dim, i, s: _np_index_put(a, dim, i, -2 * s, True),
           samples=_index_samples(True)),
    OpSpec("index_copy", ref=lambda a, dim, i, s: _np_index_put(a, dim, i, s, False),
           samples=_index_samples(False), dtypes=ALL_REAL,
           errors=(ErrorInput((np.zeros((2, 3)), 0, np.array([0]), np.ones((2, 3))), {},
                              IndexError, r"Number of indices \(1\) should be equal"),)),
    OpSpec("index_fill", op=lambda t, dim, i: t.index_fill(dim, i, -1.5),
           torch_op=lambda torch: lambda t, dim, i: t.index_fill(dim, i, -1.5),
           ref=lambda a, dim, i: _np_index_put(a, dim, i, -1.5, False),
           samples=_drop_source(_index_samples(True)),
           errors=(ErrorInput((np.zeros((2, 3)), 0, np.array([5])), {}, IndexError,
                              "index 5 is out of bounds for dimension 0 with size 2"),)),
    OpSpec("index_fill_tensor", op=lambda t, v, i: t.index_fill(1, i, v),
           torch_op=lambda torch: lambda t, v, i: t.index_fill(1, i, v),
           ref=lambda a, v, i: _np_index_put(a, 1, i, v, False),
           samples=lambda rng, d: [Sample((_x(rng, d, (2, 4)), _x(rng, d, ()),
                                           np.array([0, 3], dtype=I64)))]),
    OpSpec("index_put", op=lambda t, i, j, v, **k: t.index_put((i, j), v, **k),
           torch_op=lambda torch: lambda t, i, j, v, **k: t.index_put((i, j), v, **k),
           ref=lambda a, i, j, v, accumulate=False: _np_index_put(
               a, 0, (i, j), v, accumulate),
           samples=lambda rng, d: [
               Sample((_x(rng, d, (3, 4)), np.array([0, 2, 1], dtype=I64),
                       np.array([1, 1, 3], dtype=I64), _x(rng, d, (3,))), name="set"),
               Sample((_x(rng, d, (3, 4)), np.array([0, 0, 1], dtype=I64),
                       np.array([1, 1, 3], dtype=I64), _x(rng, d, (1,))),
                      {"accumulate": True}, name="accumulate")], dtypes=ALL_REAL),
]

# ---- masked_* / take ---------------------------------------------------------------------------


def _masks(rng, *shapes):
    return [rng.integers(0, 2, s).astype(bool) for s in shapes]


def _np_masked_fill(a, m, v):
    return np.where(m, np.asarray(v, dtype=a.dtype), a)


def _np_masked_select(a, m):
    return a[m]


def _np_masked_scatter(a, m, s):
    a, m = np.broadcast_arrays(a, m)
    out = a.copy()
    out[m] = s.reshape(-1)[:m.sum()]
    return out


MASKED_TAKE = [
    OpSpec("masked_fill", op=lambda t, m: t.masked_fill(m, 0.5),
           torch_op=lambda torch: lambda t, m: t.masked_fill(m, 0.5),
           ref=lambda a, m: _np_masked_fill(a, m, 0.5), dtypes=ALL_REAL,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)), m), name=str(m.shape))
                                   for m in _masks(rng, (3, 4), (4,), (2, 1, 4))],
           errors=(
               ErrorInput((np.zeros((2, 3)), np.ones((2, 3))), {}, RuntimeError,
                          "only supports boolean masks"),
           )),
    OpSpec("masked_fill_tensor", op=lambda t, m, v: t.masked_fill(m, v),
           torch_op=lambda torch: lambda t, m, v: t.masked_fill(m, v), ref=_np_masked_fill,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)), _masks(rng, (3, 1))[0],
                                           _x(rng, d, ())))],
           errors=(ErrorInput((np.zeros((2, 3)), np.ones((2, 3), bool), np.ones(2)), {},
                              RuntimeError, "only supports a 0-dimensional value tensor"),)),
    OpSpec("masked_select", ref=lambda a, m: _np_masked_select(*np.broadcast_arrays(a, m)),
           dtypes=ALL_REAL,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)), m), name=str(m.shape))
                                   for m in _masks(rng, (3, 4), (4,), (2, 3, 4))],
           errors=(ErrorInput((np.zeros(3), np.ones(3)), {}, RuntimeError,
                              "expected BoolTensor for mask"),)),
    OpSpec("masked_scatter", ref=_np_masked_scatter, dtypes=ALL_REAL,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)), m, _x(rng, d, (4, 4))),
                                          name=str(m.shape))
                                   for m in _masks(rng, (3, 4), (4,))],
           errors=(ErrorInput((np.zeros(3), np.ones(3, bool), np.zeros(2)), {}, RuntimeError,
                              "Number of elements of source < number of ones in mask"),)),
    OpSpec("take", ref=lambda a, i: a.reshape(-1)[i], dtypes=ALL_REAL,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 4)),
                                           rng.integers(-12, 12, (2, 5)).astype(I64)))],
           errors=(ErrorInput((np.zeros((2, 3)), np.array([10])), {}, IndexError,
                              "out of range: tried to access index 10 on a tensor of 6"),
                   ErrorInput((np.zeros((2, 3)), np.array([1.0])), {}, RuntimeError,
                              "Expected a long tensor for index"))),
    OpSpec("take_along_dim", dtypes=ALL_REAL,
           ref=lambda a, i, dim=None: np.take_along_axis(a, i, axis=dim),
           samples=lambda rng, d: [
               Sample((_x(rng, d, (3, 4)), rng.integers(0, 4, (3, 2)).astype(I64)),
                      {"dim": 1}, name="dim1"),
               Sample((_x(rng, d, (3, 1)), rng.integers(0, 3, (2, 5)).astype(I64)),
                      {"dim": 0}, name="broadcast"),
               Sample((_x(rng, d, (3, 4)), rng.integers(0, 12, (5,)).astype(I64)),
                      name="flat")]),
    OpSpec("put", op=lambda t, i, s, **k: t.put(i, s, **k),
           torch_op=lambda torch: lambda t, i, s, **k: t.put(i, s, **k),
           ref=lambda a, i, s, accumulate=False: _np_index_put(
               a.reshape(-1), 0, i, s.reshape(i.shape), accumulate).reshape(a.shape),
           samples=lambda rng, d: [
               Sample((_x(rng, d, (3, 4)), np.array([[0, 5], [11, 2]], dtype=I64),
                       _x(rng, d, (2, 2))), name="set"),
               Sample((_x(rng, d, (3, 4)), np.array([0, 5, 0], dtype=I64), _x(rng, d, (3,))),
                      {"accumulate": True}, name="accumulate")]),
]

SPECS = GETITEM + SETITEM + ERROR_ROWS + GATHER_SCATTER + INDEX_OPS + MASKED_TAKE
