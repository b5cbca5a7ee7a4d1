"""Spec rows for torchlite/ops/reduction.py.

Samples cover dim=None, int, negative, tuple, list and ``()``, keepdim both ways and 0-d inputs.
Float samples are uniform random, so they have no ties: max/min/median/mode gradients are then
well defined (ties are tested against PyTorch in test_reduction_extra.py).
"""
import re

import numpy as np

import torchlite

from ..opspec import ALL_REAL, FLOATS, ErrorInput, OpSpec, Sample, rand

BOOL_AND_REAL = ALL_REAL + ("bool",)

# (shape, dim): dim None means "not passed"
MULTI_DIMS = [((), None), ((), 0), ((), -1), ((5,), None), ((5,), 0), ((2, 3, 4), None),
              ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), [-1, 0]),
              ((2, 3, 4), ())]
ONE_DIM = [((), 0), ((), -1), ((5,), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((3, 4), 0)]


def _samples(cases, with_none=True, low=-2.0, high=2.0, keepdim=True):
    """samples(rng, dtype): one per (shape, dim) case; ``keepdim`` alternating False/True
    where the op takes it."""
    def make(rng, dtype):
        for i, (shape, dim) in enumerate(cases):
            if dim is None and not with_none:
                continue
            kw = {}
            if dim is not None:
                kw["dim"] = dim
                if keepdim:
                    kw["keepdim"] = bool(i % 2)
            yield Sample((rand(rng, shape, dtype, low, high),), kw, name=f"{shape}-{dim}")
    return make


def _axis(a, dim):
    """NumPy's axis for a torch ``dim``: None for all dims (and for 0-d inputs)."""
    if dim is None or a.ndim == 0 or (isinstance(dim, (tuple, list)) and not dim):
        return None
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _np_reduce(fn, **fixed):
    """A NumPy reference ``ref(a, dim=None, keepdim=False)`` for a reduction ``fn``."""
    def ref(a, dim=None, keepdim=False, **kw):
        out = fn(a, axis=_axis(a, dim), keepdims=keepdim, **fixed, **kw)
        return np.asarray(out)
    return ref


def _with_nans(rng, dtype, shape):
    a = rand(rng, shape, dtype)
    if a.size > 1 and a.dtype.kind == "f":
        a.reshape(-1)[rng.choice(a.size, size=max(1, a.size // 4), replace=False)] = np.nan
    return a


def _nan_samples(rng, dtype):
    for shape, dim in MULTI_DIMS:
        kw = {} if dim is None else {"dim": dim}
        yield Sample((_with_nans(rng, dtype, shape),), kw, name=f"{shape}-{dim}")


def _flat_along(a, dim):
    """``a`` with ``dim`` moved last (0-d as shape (1,)): rows for per-slice references."""
    a = a.reshape(a.shape or (1,))
    return np.moveaxis(a, dim, -1)


def _select_ref(pick):
    """Reference of a (values, indices) reduction: ``pick(row) -> index`` per slice."""
    def ref(a, dim, keepdim=False):
        rows = _flat_along(a, dim)
        idx = np.apply_along_axis(pick, -1, rows.reshape(-1, rows.shape[-1]))
        idx = idx.reshape(rows.shape[:-1] + (1,)).astype(np.int64)
        vals = np.take_along_axis(rows, idx, -1)
        idx, vals = np.moveaxis(idx, -1, dim), np.moveaxis(vals, -1, dim)
        if a.ndim == 0:
            return vals.reshape(()), idx.reshape(())
        if not keepdim:
            idx, vals = idx.squeeze(dim), vals.squeeze(dim)
        return vals, idx
    return ref


def _lower_median_index(row):
    order = np.argsort(row, kind="stable")
    return order[(len(row) - 1) // 2]


def _mode_index(row):
    values, counts = np.unique(row, return_counts=True)
    best = values[np.argmax(counts)]
    return np.nonzero(row == best)[0][-1]


def _cumulative_ref(fn, dtype=None):
    def ref(a, dim):
        return fn(a.reshape(a.shape or (1,)), axis=dim, dtype=dtype).reshape(a.shape)
    return ref


def _cum_extreme_ref(better):
    """cummax/cummin reference by a loop: ties take the later index, as PyTorch."""
    def ref(a, dim):
        rows = _flat_along(a, dim).copy()
        flat = rows.reshape(-1, rows.shape[-1])
        vals, idx = np.empty_like(flat), np.zeros(flat.shape, np.int64)
        for r, row in enumerate(flat):
            best = 0
            for j, v in enumerate(row):
                if not better(row[best], v):
                    best = j
                vals[r, j], idx[r, j] = row[best], best
        shape = rows.shape
        vals = np.moveaxis(vals.reshape(shape), -1, dim).reshape(a.shape)
        idx = np.moveaxis(idx.reshape(shape), -1, dim).reshape(a.shape)
        return vals, idx
    return ref


def _norm_ref(a, p="fro", dim=None, keepdim=False):
    mag = np.abs(a).astype(np.float64)
    axis = _axis(a, dim)
    if p == "fro" or p == 2:
        out = np.sqrt((mag ** 2).sum(axis=axis, keepdims=keepdim))
    elif np.isinf(p):
        out = (np.amax if p > 0 else np.amin)(mag, axis=axis, keepdims=keepdim)
    elif p == 0:
        out = (mag != 0).sum(axis=axis, keepdims=keepdim)
    else:
        out = (mag ** p).sum(axis=axis, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(out)


def _moment_ref(root):
    def ref(a, dim=None, keepdim=False, correction=1, unbiased=None):
        ddof = correction if unbiased is None else int(unbiased)
        out = np.var(a, axis=_axis(a, dim), ddof=ddof, keepdims=keepdim)
        return np.sqrt(out) if root else out
    return ref


def _moment_mean_ref(root):
    def ref(a, dim=None, keepdim=False, **kw):
        return (_moment_ref(root)(a, dim, keepdim, **kw), _np_reduce(np.mean)(a, dim, keepdim))
    return ref


def _moment_samples(zero_d):
    """var/std samples; a 0-d input only where the gradient exists (var: std's is 0 / 0)."""
    cases = [((5,), {}), ((5,), {"correction": 0}), ((2, 3, 4), {"dim": 1}),
             ((2, 3, 4), {"dim": (0, -1), "keepdim": True, "correction": 2}),
             ((2, 3, 4), {"dim": [2], "unbiased": False})]
    cases += [((), {"correction": 0})] if zero_d else []

    def make(rng, dtype):
        for shape, kw in cases:
            yield Sample((rand(rng, shape, dtype),), kw, name=f"{shape}-{kw}")
    return make


def _norm_samples(rng, dtype):
    cases = [((5,), {}), ((2, 3), {"p": 1}), ((2, 3, 4), {"p": float("inf"), "dim": 1}),
             ((2, 3, 4), {"p": float("-inf"), "dim": (0, 2), "keepdim": True}),
             ((2, 3, 4), {"p": 3, "dim": -1}), ((3, 4), {"p": 0.5, "dim": 0}),
             ((3, 4), {"p": "fro", "dim": (0, 1)}), ((3, 4), {"p": 0}), ((), {"p": 2}),
             ((2, 3), {"p": 1.5, "dim": [1], "keepdim": True})]
    for shape, kw in cases:
        yield Sample((rand(rng, shape, dtype),), kw, name=f"{shape}-{kw}")


def _dtype_row(name, ref, dtype_name, dtypes=FLOATS, dims=(None, 1)):
    """A row calling ``name(..., dtype=<dtype_name>)`` with the library's own dtype object;
    ``ref`` computes in that dtype."""
    def call(lib):
        fn, dt = getattr(lib, name), getattr(lib, dtype_name)
        return lambda a, **kw: fn(a, dtype=dt, **kw)

    def samples(rng, dtype):
        for dim in dims:
            kw = {} if dim is None else {"dim": dim}
            yield Sample((rand(rng, (3, 4), dtype),), kw, name=f"(3, 4)-{dim}")
    return OpSpec(f"{name}_{dtype_name}", op=call(torchlite), torch_op=call, ref=ref,
                  samples=samples, dtypes=dtypes)


def _out_of_range(shape=(2, 3), dim=2):
    n = max(len(shape), 1)
    msg = (f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
           f"but got {dim})")
    return ErrorInput((np.zeros(shape, np.float32),), {"dim": dim}, IndexError, re.escape(msg))


def _err(shape, kw, exc, msg, dtype=np.float32):
    return ErrorInput((np.zeros(shape, dtype),), kw, exc, re.escape(msg))


DIM_ERRORS = (_out_of_range(), _out_of_range((), 1), _out_of_range((2, 3), -3),
              _err((2, 3), {"dim": (0, 0)}, RuntimeError,
                   "dim 0 appears multiple times in the list of dims"))
EMPTY_FULL = "(): Expected reduction dim to be specified for input.numel() == 0."


def _empty_errors(name):
    return (_err((0, 3), {}, RuntimeError, name + EMPTY_FULL),
            _err((0, 3), {"dim": 0}, IndexError,
                 f"{name}(): Expected reduction dim 0 to have non-zero size."))


def _arg_errors(name):
    return _select_errors(name) + (_err((0,), {}, IndexError, name + EMPTY_FULL),)


def _select_errors(name):
    return (_out_of_range(), _err((0, 3), {"dim": 0}, IndexError,
                                  f"{name}(): Expected reduction dim 0 to have non-zero size."))


SPECS = [
    OpSpec("sum", ref=_np_reduce(np.sum), samples=_samples(MULTI_DIMS), dtypes=BOOL_AND_REAL,
           errors=DIM_ERRORS),
    _dtype_row("sum", _np_reduce(np.sum, dtype=np.float64), "float64", dtypes=ALL_REAL),
    OpSpec("nansum", ref=_np_reduce(np.nansum), samples=_nan_samples, dtypes=ALL_REAL,
           errors=DIM_ERRORS),
    OpSpec("mean", ref=_np_reduce(np.mean), samples=_samples(MULTI_DIMS),
           errors=DIM_ERRORS + (_err((2,), {}, RuntimeError, "mean(): could not infer output "
                                     "dtype. Input dtype must be either a floating point or "
                                     "complex dtype. Got: Long", np.int64),)),
    _dtype_row("mean", _np_reduce(np.mean, dtype=np.float64), "float64", dtypes=ALL_REAL),
    OpSpec("nanmean", ref=_np_reduce(np.nanmean), samples=_nan_samples,
           errors=(_err((2,), {}, RuntimeError, "nanmean(): expected input to have floating "
                        "point or complex dtype but got Long", np.int64),)),
    OpSpec("prod", ref=_np_reduce(np.prod), dtypes=BOOL_AND_REAL,
           samples=_samples(ONE_DIM + [((2, 3), None)], low=0.5, high=1.5),
           errors=(_out_of_range(),)),
    _dtype_row("prod", _np_reduce(np.prod, dtype=np.float64), "float64"),
    _dtype_row("cumprod", _cumulative_ref(np.cumprod, np.float64), "float64", dims=(0,)),
    _dtype_row("nansum", _np_reduce(np.nansum, dtype=np.float64), "float64"),
    _dtype_row("nanmean", _np_reduce(np.nanmean, dtype=np.float64), "float64"),
    OpSpec("amax", ref=_np_reduce(np.amax), samples=_samples(MULTI_DIMS), dtypes=ALL_REAL,
           errors=DIM_ERRORS + _empty_errors("amax")),
    OpSpec("amin", ref=_np_reduce(np.amin), samples=_samples(MULTI_DIMS), dtypes=ALL_REAL,
           errors=DIM_ERRORS + _empty_errors("amin")),
    OpSpec("max", ref=lambda a: np.asarray(np.max(a)), samples=_samples([((), None),
                                                                         ((5,), None),
                                                                         ((2, 3), None)]),
           dtypes=ALL_REAL, errors=(_err((0, 3), {}, RuntimeError, "max" + EMPTY_FULL),)),
    OpSpec("min", ref=lambda a: np.asarray(np.min(a)), samples=_samples([((), None),
                                                                         ((5,), None),
                                                                         ((2, 3), None)]),
           dtypes=ALL_REAL, errors=(_err((0, 3), {}, RuntimeError, "min" + EMPTY_FULL),)),
    OpSpec("max_dim", op=torchlite.max,
           torch_op=lambda torch: torch.max, ref=_select_ref(np.argmax),
           samples=_samples(ONE_DIM, with_none=False), errors=_select_errors("max")),
    OpSpec("min_dim", op=torchlite.min,
           torch_op=lambda torch: torch.min, ref=_select_ref(np.argmin),
           samples=_samples(ONE_DIM, with_none=False), errors=_select_errors("min")),
    OpSpec("aminmax", ref=lambda a, dim=None, keepdim=False: (
        _np_reduce(np.amin)(a, dim, keepdim), _np_reduce(np.amax)(a, dim, keepdim)),
        samples=_samples(ONE_DIM + [((2, 3), None)]), dtypes=ALL_REAL),
    OpSpec("argmax", ref=_np_reduce(np.argmax), grad=False, dtypes=ALL_REAL,
           samples=_samples(ONE_DIM + [((2, 3), None), ((), None)]),
           errors=_arg_errors("argmax")),
    OpSpec("argmin", ref=_np_reduce(np.argmin), grad=False, dtypes=ALL_REAL,
           samples=_samples(ONE_DIM + [((2, 3), None), ((), None)]),
           errors=_arg_errors("argmin")),
    OpSpec("var", ref=_moment_ref(False), samples=_moment_samples(True), errors=(
        _out_of_range(), _err((2,), {}, RuntimeError,
                              "std and var only support floating point and complex dtypes",
                              np.int64))),
    OpSpec("std", ref=_moment_ref(True), samples=_moment_samples(False),
           errors=(_out_of_range(),)),
    OpSpec("var_mean", ref=_moment_mean_ref(False), samples=_moment_samples(True)),
    OpSpec("std_mean", ref=_moment_mean_ref(True), samples=_moment_samples(False)),
    OpSpec("norm_p", op=torchlite.norm, torch_op=lambda torch: torch.norm, ref=_norm_ref,
           samples=_norm_samples, errors=(
        _out_of_range(), _err((2,), {}, RuntimeError, "linalg.vector_norm: Expected a floating "
                              "point or complex tensor as input. Got Long", np.int64))),
    OpSpec("logsumexp", ref=lambda a, dim, keepdim=False: np.asarray(np.log(np.sum(
        np.exp(a), axis=_axis(a, dim), keepdims=keepdim))),
        samples=_samples(MULTI_DIMS[1:-1], with_none=False), dtypes=ALL_REAL,
        check_dtype=True, errors=(_out_of_range(),)),
    OpSpec("cumsum", ref=_cumulative_ref(np.cumsum), dtypes=BOOL_AND_REAL,
           samples=_samples(ONE_DIM, with_none=False, keepdim=False),
           errors=(_out_of_range(),)),
    _dtype_row("cumsum", _cumulative_ref(np.cumsum, np.float64), "float64", dtypes=ALL_REAL,
               dims=(1, -2)),
    OpSpec("cumprod", ref=_cumulative_ref(np.cumprod), dtypes=ALL_REAL,
           samples=_samples(ONE_DIM, with_none=False, low=0.5, high=1.5, keepdim=False),
           errors=(_out_of_range(),)),
    OpSpec("cummax", ref=_cum_extreme_ref(lambda best, v: best > v or np.isnan(best)),
           samples=_samples(ONE_DIM, with_none=False, keepdim=False),
           errors=(_out_of_range(),)),
    OpSpec("cummin", ref=_cum_extreme_ref(lambda best, v: best < v or np.isnan(best)),
           samples=_samples(ONE_DIM, with_none=False, keepdim=False),
           errors=(_out_of_range(),)),
    OpSpec("all", ref=_np_reduce(np.all), samples=_samples(MULTI_DIMS[:-1], low=0, high=1),
           grad=False, dtypes=BOOL_AND_REAL, errors=(_out_of_range(),)),
    OpSpec("any", ref=_np_reduce(np.any), samples=_samples(MULTI_DIMS[:-1], low=-1, high=0),
           grad=False, dtypes=BOOL_AND_REAL, errors=(_out_of_range(),)),
    OpSpec("count_nonzero", ref=lambda a, dim=None: np.asarray(np.count_nonzero(
        a, axis=_axis(a, dim))), grad=False, dtypes=BOOL_AND_REAL,
        samples=_samples(MULTI_DIMS[:-1], low=-1, high=1, keepdim=False),
        errors=(_out_of_range(),)),
    OpSpec("median", ref=lambda a: np.asarray(np.sort(a.reshape(-1))[(a.size - 1) // 2]),
           samples=_samples([((), None), ((5,), None), ((2, 3), None), ((2, 2), None)])),
    OpSpec("median_dim", op=torchlite.median,
           torch_op=lambda torch: torch.median, ref=_select_ref(_lower_median_index),
           samples=_samples(ONE_DIM, with_none=False), errors=_select_errors("median")),
    OpSpec("nanmedian", ref=lambda a: np.asarray(np.sort(a[~np.isnan(a)])[
        (np.count_nonzero(~np.isnan(a)) - 1) // 2]),
        samples=lambda rng, d: [Sample((_with_nans(rng, d, s),), name=str(s))
                                for s in [(), (5,), (2, 3), (2, 4)]]),
    OpSpec("nanmedian_dim", op=torchlite.nanmedian,
           torch_op=lambda torch: torch.nanmedian, ref=_select_ref(_lower_median_index),
           samples=_samples(ONE_DIM, with_none=False)),
    OpSpec("mode", ref=_select_ref(_mode_index), samples=_samples(ONE_DIM, with_none=False),
           errors=_select_errors("mode")),
]
