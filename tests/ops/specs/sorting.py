"""Spec rows for torchlite/ops/sorting.py (sort, topk, kthvalue, unique, nonzero, counting,
histograms, searchsorted, grids). Float samples are distinct, so sort indices are unambiguous;
integer rows with ties use ``stable=True``, where PyTorch's order is defined."""
import numpy as np

import torchlite

from ..opspec import ALL_REAL, FLOATS, INTS, ErrorInput, OpSpec, Sample, rand


def _x(rng, dtype, shape, low=-2.0, high=2.0):
    return rand(rng, shape, dtype, low, high)


def _shapes(*shapes, **kwargs):
    """Samples of the given shapes with fixed keyword args."""
    return lambda rng, d: [Sample((_x(rng, d, s),), dict(kwargs), name=str(s)) for s in shapes]


def _with_kwargs(shape, *kwarg_sets):
    return lambda rng, d: [Sample((_x(rng, d, shape),), dict(k), name=str(k))
                           for k in kwarg_sets]


def _np_sort(a, dim=-1, descending=False, stable=False):
    idx = np.argsort(-a if descending else a, axis=dim, kind="stable")
    return np.take_along_axis(a, idx, dim), idx


def _np_topk(a, k, dim=-1, largest=True):
    v, i = _np_sort(a, dim, descending=largest)
    return np.take(v, np.arange(k), axis=dim), np.take(i, np.arange(k), axis=dim)


def _np_kthvalue(a, k, dim=-1, keepdim=False):
    v, i = _np_sort(a, dim)
    v, i = np.take(v, [k - 1], axis=dim), np.take(i, [k - 1], axis=dim)
    return (v, i) if keepdim else (v.squeeze(dim), i.squeeze(dim))


def _int_ties(rng, d):
    yield Sample((rng.integers(0, 3, (3, 7)).astype(d),), {"stable": True}, name="asc")
    yield Sample((rng.integers(0, 3, (3, 7)).astype(d),), {"stable": True, "descending": True,
                                                          "dim": 0}, name="desc")


def _unique_samples(rng, d):
    x = rng.integers(0, 4, (3, 5)).astype(d)
    for kw in ({}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True}):
        yield Sample((x,), kw, name=str(kw))
    rows = rng.integers(0, 2, (6, 2)).astype(d)
    yield Sample((rows,), {"dim": 0, "return_inverse": True, "return_counts": True}, name="dim0")
    yield Sample((rows.T.copy(),), {"dim": 1, "return_counts": True}, name="dim1")


def _np_unique(a, return_inverse=False, return_counts=False, dim=None):
    out = np.unique(a, return_inverse=True, return_counts=True, axis=dim)
    values, inverse, counts = out
    inverse = inverse.reshape(a.shape if dim is None else (-1,))
    extra = [t for t, want in ((inverse, return_inverse), (counts, return_counts)) if want]
    return (values, *extra) if extra else values


def _consecutive_samples(rng, d):
    yield Sample((np.array([1, 1, 2, 2, 3, 1, 1, 2]).astype(d),),
                 {"return_inverse": True, "return_counts": True}, name="1d")
    yield Sample((rng.integers(0, 2, (4, 3)).astype(d),), {"return_counts": True}, name="2d")
    yield Sample((np.array([[1, 1], [1, 1], [0, 1]]).astype(d),),
                 {"dim": 0, "return_inverse": True}, name="dim0")


def _np_unique_consecutive(a, return_inverse=False, return_counts=False, dim=None):
    rows = a.reshape(-1, 1) if dim is None else np.moveaxis(a, dim, 0).reshape(a.shape[dim], -1)
    starts = np.r_[True, (rows[1:] != rows[:-1]).any(axis=1)]
    pos = np.flatnonzero(starts)
    values = rows[pos]
    values = values.reshape(-1) if dim is None else np.moveaxis(
        values.reshape((len(pos),) + tuple(np.delete(a.shape, dim))), 0, dim)
    inverse = (np.cumsum(starts) - 1).reshape(a.shape if dim is None else (-1,))
    counts = np.diff(np.r_[pos, rows.shape[0]])
    extra = [t for t, want in ((inverse, return_inverse), (counts, return_counts)) if want]
    return (values, *extra) if extra else values


def _search_samples(rng, d):
    seq = np.sort(_x(rng, d, (6,), -3, 3))
    yield Sample((seq, _x(rng, d, (2, 4), -4, 4)), name="1d")
    yield Sample((seq, np.concatenate([seq[:3], _x(rng, d, (3,))])), {"right": True},
                 name="right-ties")
    yield Sample((seq, seq.copy()), {"side": "right"}, name="side")
    rows = np.sort(_x(rng, d, (3, 5), -3, 3), axis=-1)
    yield Sample((rows, _x(rng, d, (3, 2), -4, 4)), {"out_int32": True}, name="rows")


def _np_searchsorted(seq, v, right=False, side=None, out_int32=False):
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        out = np.searchsorted(seq, v, side=side)
    else:
        out = np.stack([np.searchsorted(r, x, side=side) for r, x in zip(seq, v)])
    return out.astype(np.int32 if out_int32 else np.int64)


def _bucketize_samples(rng, d):
    b = np.sort(_x(rng, d, (5,), -3, 3))
    yield Sample((_x(rng, d, (3, 4), -4, 4), b), name="left")
    yield Sample((np.concatenate([b, _x(rng, d, (2,))]), b), {"right": True}, name="right")


def _grid_samples(rng, d):
    yield Sample((_x(rng, d, (3,)), _x(rng, d, (2,))), {"indexing": "ij"}, name="ij")
    yield Sample((_x(rng, d, (3,)), _x(rng, d, (2,)), _x(rng, d, ())), {"indexing": "xy"},
                 name="xy")


def _index_generator_spec(name, np_fn, *cases, error):
    """tril/triu_indices: the first argument (an empty tensor) only names the device."""
    def call(module):
        return lambda like, r, c, o=0: getattr(module, name)(r, c, o, device=like.device)
    return OpSpec(name, op=call(torchlite), torch_op=call, grad=False, dtypes=FLOATS[:1],
                  ref=lambda like, r, c, o=0: np.stack(np_fn(r, o, c)),
                  samples=lambda rng, d: [Sample((np.zeros(0, d),) + c, name=str(c))
                                          for c in cases],
                  errors=(ErrorInput((np.zeros(0),) + error[0], {}, RuntimeError, error[1]),))


SORT = [
    OpSpec("sort", ref=_np_sort, samples=_with_kwargs((3, 5), {}, {"dim": 0},
                                                      {"descending": True})),
    OpSpec("sort_stable_ties", op=lambda t, **k: t.sort(**k),
           torch_op=lambda torch: lambda t, **k: t.sort(**k), ref=_np_sort,
           samples=_int_ties, dtypes=INTS, grad=False),
    OpSpec("argsort", ref=lambda a, **k: _np_sort(a, **k)[1],
           samples=_with_kwargs((3, 5), {"dim": 0}, {"descending": True}), grad=False),
    OpSpec("msort", ref=lambda a: np.sort(a, axis=0), samples=_shapes((4, 3), (5,))),
    OpSpec("topk", ref=_np_topk,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 6)), 2), name="largest"),
                                   Sample((_x(rng, d, (4, 3)), 3), {"dim": 0,
                                                                   "largest": False},
                                          name="smallest")],
           errors=(ErrorInput((np.zeros((2, 3)), 4), {}, RuntimeError,
                              "selected index k out of range"),)),
    OpSpec("kthvalue", ref=_np_kthvalue,
           samples=lambda rng, d: [Sample((_x(rng, d, (3, 6)), 2), name="last"),
                                   Sample((_x(rng, d, (4, 3)), 4), {"dim": 0, "keepdim": True},
                                          name="keepdim")],
           errors=(ErrorInput((np.zeros((2, 3)), 4), {}, RuntimeError,
                              "selected number k out of range"),)),
]

SETS = [
    OpSpec("nonzero", ref=lambda a: np.argwhere(a), dtypes=ALL_REAL, grad=False,
           samples=lambda rng, d: [Sample((rng.integers(0, 2, s).astype(d),), name=str(s))
                                   for s in ((5,), (3, 4), (2, 0))]),
    OpSpec("nonzero_tuple", op=lambda t: t.nonzero(as_tuple=True),
           torch_op=lambda torch: lambda t: t.nonzero(as_tuple=True),
           ref=lambda a: np.nonzero(a), dtypes=ALL_REAL, grad=False,
           samples=lambda rng, d: [Sample((rng.integers(0, 2, (3, 4)).astype(d),))]),
    OpSpec("argwhere", ref=lambda a: np.argwhere(a), dtypes=INTS, grad=False,
           samples=lambda rng, d: [Sample((rng.integers(0, 2, (2, 3)).astype(d),))]),
    OpSpec("unique", ref=_np_unique, samples=_unique_samples, dtypes=ALL_REAL, grad=False),
    OpSpec("unique_consecutive", ref=_np_unique_consecutive, samples=_consecutive_samples,
           dtypes=ALL_REAL, grad=False),
]

COUNTING = [
    OpSpec("bincount", grad=False, dtypes=INTS,
           ref=lambda a, w=None, minlength=0: np.bincount(a, w, minlength).astype(
               np.int64 if w is None else w.dtype),
           samples=lambda rng, d: [
               Sample((rng.integers(0, 5, 9).astype(d),), name="plain"),
               Sample((rng.integers(0, 5, 9).astype(d), _x(rng, np.float32, (9,))),
                      {"minlength": 8}, name="weights")],
           errors=(ErrorInput((np.array([-1]),), {}, RuntimeError,
                              "bincount only supports 1-d non-negative integral inputs"),
                   ErrorInput((np.array([1.0]),), {}, NotImplementedError,
                              "not implemented for 'Double'"))),
    OpSpec("histc", grad=False, samples=lambda rng, d: [
        Sample((_x(rng, d, (20,)),), {"bins": 5, "min": -1, "max": 1}, name="range"),
        Sample((_x(rng, d, (4, 5)),), {"bins": 7}, name="data-range")],
        ref=lambda a, bins=100, min=0, max=0: np.histogram(
            a, bins, (min, max) if min != max else (a.min(), a.max()))[0].astype(a.dtype),
        errors=(ErrorInput((np.zeros(3),), {"min": 2, "max": 1}, RuntimeError,
                           "max must be larger than min"),
                ErrorInput((np.zeros(3, np.int64),), {}, NotImplementedError,
                           "not implemented for 'Long'"))),
    OpSpec("histogram", grad=False,
           op=lambda a, bins, w=None, **k: torchlite.histogram(a, bins, weight=w, **k),
           torch_op=lambda torch: lambda a, bins, w=None, **k: torch.histogram(
               a, bins, weight=w, **k),
           ref=lambda a, bins, w=None, **k: tuple(r.astype(a.dtype) for r in np.histogram(
               a, bins, weights=w, **k)),
           samples=lambda rng, d: [
               Sample((_x(rng, d, (20,)), 4), name="bins"),
               Sample((_x(rng, d, (20,)), 3), {"range": (-1.0, 1.0), "density": True},
                      name="density"),
               Sample((_x(rng, d, (20,)), np.array([-2.0, 0.0, 0.5, 2.0], dtype=d),
                       _x(rng, d, (20,))), name="edges-weights")]),
]

SEARCH = [
    OpSpec("searchsorted", ref=_np_searchsorted, samples=_search_samples, grad=False,
           dtypes=ALL_REAL,
           errors=(ErrorInput((np.zeros(3), np.zeros(2)), {"side": "left", "right": True},
                              RuntimeError, "side and right can't be set to opposites"),
                   ErrorInput((np.zeros((2, 3)), np.zeros(3)), {}, RuntimeError,
                              "boundaries tensor should be 1 dimension"))),
    OpSpec("bucketize", grad=False, dtypes=ALL_REAL, samples=_bucketize_samples,
           ref=lambda a, b, right=False: np.searchsorted(b, a, "right" if right else "left"),
           errors=(ErrorInput((np.zeros(3), np.zeros((2, 3))), {}, RuntimeError,
                              r"boundaries tensor must be 1 dimension, but got dim\(2\)"),)),
]

GRIDS = [
    OpSpec("meshgrid", samples=_grid_samples, dtypes=ALL_REAL,
           ref=lambda *a, indexing: np.meshgrid(*a, indexing=indexing),
           errors=(ErrorInput((np.zeros(2),), {"indexing": "foo"}, RuntimeError,
                              "indexing must be one of"),
                   ErrorInput((np.zeros(2), np.zeros(2, np.int64)), {"indexing": "ij"},
                              RuntimeError, "meshgrid expects all tensors to have the same"))),
    OpSpec("cartesian_prod", dtypes=ALL_REAL,
           ref=lambda *a: np.stack([g.reshape(-1) for g in np.meshgrid(*a, indexing="ij")],
                                   axis=1),
           samples=lambda rng, d: [Sample((_x(rng, d, (3,)), _x(rng, d, (2,))), name="2"),
                                   Sample((_x(rng, d, (2,)), _x(rng, d, (2,)),
                                           _x(rng, d, (3,))), name="3")]),
    _index_generator_spec("tril_indices", np.tril_indices, (3, 4), (4, 3, -1), (3, 3, 1),
                          error=((-1, 3), "row must be non-negative")),
    _index_generator_spec("triu_indices", np.triu_indices, (3, 4), (4, 3, -1), (0, 3),
                          error=((3, -2), "col must be non-negative")),
]

SPECS = SORT + SETS + COUNTING + SEARCH + GRIDS
