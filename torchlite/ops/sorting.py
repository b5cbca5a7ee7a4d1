"""Sorting, selection, set ops and counting: sort, topk, kthvalue, unique, nonzero, bincount,
histograms, searchsorted, meshgrid and index generators.

Index outputs come from non-differentiable primitives; differentiable values are gathered from
the input with those indices (``take_along``, one node named as PyTorch names the op), so their
gradient is indexing's scatter.
"""
import warnings

from .. import _device, _dtype
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Function
from ._registry import export, function
from ._return_types import return_type, values_indices
from ._util import check_tensor
from .indexing import Index
from .reduction import SelectAlongDim
from .shape import stack

# ---- sort / topk / kthvalue --------------------------------------------------------------------


def sort_indices(xp, a, dim, descending, stable=True):
    """Stable argsort along ``dim`` (descending keeps equal elements in order; NaN counts as
    the largest value, as in PyTorch)."""
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable")
    n = a.shape[dim]
    flipped = xp.flip(a, axis=dim)
    return (n - 1) - xp.flip(xp.argsort(flipped, axis=dim, kind="stable"), axis=dim)


class ArgSort(Function):
    """Indices that sort ``a`` along ``dim``; ``k`` keeps the first k (topk)."""
    raw = True
    differentiable = False
    label = "argsort(a)"

    @staticmethod
    def forward(ctx, a, dim, descending=False, k=None):
        idx = sort_indices(ctx.xp, a, dim, descending)
        if k is not None:
            idx = ctx.xp.take(idx, ctx.xp.arange(k), axis=dim)
        return idx.astype("int64", copy=False)


def take_along(input, indices, dim, node, shape=None):
    """``input`` gathered at ``indices`` along ``dim`` (trusted indices; differentiable),
    shaped ``shape`` (default: the indices'), its graph node named ``node``."""
    index = indices._data.reshape(indices.shape or (1,))
    return SelectAlongDim.apply(input, index=index, dim=dim, node=node,
                                shape=tuple(indices.shape) if shape is None else shape)


def _argsort(input, dim, descending, k=None):
    if input.ndim == 0:
        return ArgSort.apply(input.reshape(1), dim=0, k=k).reshape(())
    return ArgSort.apply(input, dim=dim, descending=descending, k=k)


@export
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; equal elements keep their order."""
    check_tensor("sort", input)
    dim = _wrap_dim(dim, input.ndim)
    idx = _argsort(input, dim, descending)
    return values_indices("sort", take_along(input, idx, dim, "SortBackward0"), idx)


@export
def argsort(input, dim=-1, descending=False, stable=False):
    check_tensor("argsort", input)
    return _argsort(input, _wrap_dim(dim, input.ndim), descending)


@export
def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


@export
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, sorted."""
    check_tensor("topk", input)
    dim = _wrap_dim(dim, input.ndim)
    n = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _argsort(input, dim, largest, k=k)
    return values_indices("topk", take_along(input, idx, dim, "TopkBackward0"), idx)


@export
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index."""
    check_tensor("kthvalue", input)
    dim = _wrap_dim(dim, input.ndim)
    n = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if input.ndim == 0:
        idx = _argsort(input, 0, False)
        return values_indices("kthvalue", take_along(input, idx, 0, "KthvalueBackward0"), idx)
    idx = ArgSort.apply(input, dim=dim)
    idx = Index.apply(idx, key=(slice(None),) * dim + (slice(k - 1, k), Ellipsis))
    shape = tuple(idx.shape) if keepdim else tuple(s for i, s in enumerate(input.shape)
                                                   if i != dim)
    values = take_along(input, idx, dim, "KthvalueBackward0", shape)
    return values_indices("kthvalue", values, idx if keepdim else idx.reshape(shape))


# ---- nonzero / unique --------------------------------------------------------------------------


class NonZero(Function):
    raw = True
    differentiable = False
    label = "nonzero(a)"

    @staticmethod
    def forward(ctx, a, as_tuple=False):
        xp = ctx.xp
        coords = xp.nonzero(a.reshape(1) if a.ndim == 0 else a)
        if as_tuple:
            return tuple(c.astype("int64", copy=False) for c in coords)
        if a.ndim == 0:
            return xp.zeros((coords[0].size, 0), dtype="int64")
        return xp.stack(coords, axis=1).astype("int64", copy=False)


@export
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: (N, ndim), or one index tensor per dim."""
    check_tensor("nonzero", input)
    return NonZero.apply(input, as_tuple=as_tuple)


@export
def argwhere(input):
    return nonzero(input)


class Unique(Function):
    """Sorted distinct elements (or slices along ``dim``), inverse indices and counts."""
    raw = True
    differentiable = False
    label = "unique(a)"

    @staticmethod
    def forward(ctx, a, dim=None, consecutive=False):
        xp = ctx.xp
        moved = a.reshape(-1, 1) if dim is None else xp.moveaxis(a, dim, 0).reshape(
            a.shape[dim], -1)
        if consecutive:
            values, inverse, counts = _unique_consecutive_rows(xp, moved)
        else:
            rows, inverse, counts = _unique_rows(xp, moved)
            values = moved[rows]
        if dim is None:
            out, inverse = values.reshape(-1), inverse.reshape(a.shape)
        else:
            rest = tuple(s for i, s in enumerate(a.shape) if i != dim)
            out = xp.moveaxis(values.reshape((values.shape[0],) + rest), 0, dim)
        return (xp.ascontiguousarray(out), inverse.astype("int64"), counts.astype("int64"))


def _unique_rows(xp, rows):
    """Distinct rows of a 2-D array in lexicographic order: first index, inverse, counts."""
    order = xp.lexsort(rows.T[::-1]) if rows.shape[1] else xp.arange(rows.shape[0])
    s = rows[order]
    starts = xp.ones(s.shape[0], dtype=bool)
    if s.shape[0] > 1:
        starts[1:] = (s[1:] != s[:-1]).any(axis=1)
    group = xp.cumsum(starts) - 1
    inverse = xp.empty_like(group)
    inverse[order] = group
    positions = xp.nonzero(starts)[0]
    counts = xp.diff(xp.append(positions, s.shape[0]))
    return order[positions], inverse, counts


def _unique_consecutive_rows(xp, rows):
    starts = xp.ones(rows.shape[0], dtype=bool)
    if rows.shape[0] > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    positions = xp.nonzero(starts)[0]
    counts = xp.diff(xp.append(positions, rows.shape[0]))
    return rows[positions], xp.cumsum(starts) - 1, counts


def _unique_result(input, dim, consecutive, return_inverse, return_counts):
    if dim is not None:
        dim = _wrap_dim(dim, input.ndim)
    out, inverse, counts = Unique.apply(input, dim=dim, consecutive=consecutive)
    extra = [t for t, want in ((inverse, return_inverse), (counts, return_counts)) if want]
    return (out, *extra) if extra else out


@export
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Distinct elements (always sorted), optionally with inverse indices and counts."""
    check_tensor("unique", input)
    return _unique_result(input, dim, False, return_inverse, return_counts)


@export
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    check_tensor("unique_consecutive", input)
    return _unique_result(input, dim, True, return_inverse, return_counts)


# ---- counting ----------------------------------------------------------------------------------


class BinCount(Function):
    raw = True
    differentiable = False
    label = "bincount(a)"

    @staticmethod
    def forward(ctx, a, weights=None, minlength=0):
        xp = ctx.xp
        if weights is None:
            return xp.bincount(a, minlength=minlength).astype("int64")
        out = xp.bincount(a, weights=weights, minlength=minlength)
        return out.astype(weights.dtype if weights.dtype.kind == "f" else "float64")


@export
def bincount(input, weights=None, minlength=0):
    """Occurrences of each value of a 1-D non-negative int tensor (or summed ``weights``)."""
    check_tensor("bincount", input)
    kind = input._data.dtype.kind
    if kind not in "iub":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{input.dtype._short}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.ndim != 1 or (input.numel() and int(input._data.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.numel() != input.numel()):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    return BinCount.apply(input, weights, minlength=minlength)


class Histogram(Function):
    """Counts (or summed weights, or a density) of ``a`` in bins; returns (hist, edges)."""
    raw = True
    differentiable = False
    label = "histogram(a)"

    @staticmethod
    def forward(ctx, a, edges=None, weight=None, bins=None, range=None, density=False):
        xp = ctx.xp
        hist, out_edges = xp.histogram(a.reshape(-1), bins=bins if edges is None else edges,
                                       range=range, density=density,
                                       weights=None if weight is None else weight.reshape(-1))
        return hist.astype(a.dtype), out_edges.astype(a.dtype)


def _check_float(op, input):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{op}" not implemented for \'{input.dtype._short}\'')


def _data_range(input, lo, hi):
    """PyTorch's histogram range: the data's min/max when lo == hi, widened when empty."""
    if lo == hi and input.numel():
        lo, hi = float(input._data.min()), float(input._data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return lo, hi


@export
def histc(input, bins=100, min=0, max=0):
    """Counts in ``bins`` equal bins over [min, max] (the data's range when min == max)."""
    check_tensor("histc", input)
    _check_float("histogram_cpu", input)
    if max < min:
        raise RuntimeError("torch.histc: max must be larger than min")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0")
    return Histogram.apply(input, bins=int(bins), range=_data_range(input, min, max))[0]


@export
def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): ``bins`` an int (equal bins over ``range``) or a tensor of edges."""
    check_tensor("histogram", input)
    _check_float("histogramdd", input)
    edges = bins if isinstance(bins, Tensor) else None
    lo, hi = range if range is not None else (0, 0)
    kwargs = {} if edges is not None else {"bins": int(bins),
                                           "range": _data_range(input, lo, hi)}
    hist, out_edges = Histogram.apply(input, edges, weight, density=density, **kwargs)
    return return_type("histogram", ("hist", "bin_edges"))(hist, out_edges)


# ---- searchsorted / bucketize ------------------------------------------------------------------


class SearchSorted(Function):
    """Insertion points of ``values`` in the last dim of ``seq`` (rows matched up)."""
    raw = True
    differentiable = False
    label = "searchsorted(seq, v)"

    @staticmethod
    def forward(ctx, seq, values, side="left", sorter=None, dtype="int64"):
        xp = ctx.xp
        values = xp.asarray(values)
        if sorter is not None:
            seq = xp.take_along_axis(seq, sorter, axis=-1)
        if seq.ndim == 1:
            return xp.searchsorted(seq, values, side=side).astype(dtype)
        rows = seq.reshape(-1, seq.shape[-1])
        vals = values.reshape(rows.shape[0], -1)
        out = xp.stack([xp.searchsorted(r, v, side=side) for r, v in zip(rows, vals)])
        return out.reshape(values.shape).astype(dtype)


@export(method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Indices where ``input`` would be inserted into ``sorted_sequence`` to keep it sorted."""
    check_tensor("searchsorted", sorted_sequence, 1, "sorted_sequence")
    if side == "left" and right:
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                           f"got side of {side} while right was {right}")
    side = side or ("right" if right else "left")
    if isinstance(input, Tensor) and sorted_sequence.ndim > 1 and (
            input.ndim != sorted_sequence.ndim or
            tuple(input.shape[:-1]) != tuple(sorted_sequence.shape[:-1])):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(sorted_sequence.shape)} and input value tensor "
            f"{list(input.shape)}")
    return SearchSorted.apply(sorted_sequence, input, side=side,
                              sorter=None if sorter is None else sorter._data,
                              dtype="int32" if out_int32 else "int64")


@export(method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element: ``searchsorted(boundaries, input, right=right)``."""
    check_tensor("bucketize", boundaries, 2, "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---- grids and index generators ----------------------------------------------------------------


@function
def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 0-D/1-D tensors; ``indexing`` "ij" or "xy"."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, ax in zip(tensors, axes):
        shape[ax] = t.numel()
    grids = []
    for t, ax in zip(tensors, axes):
        view = [1] * len(shape)
        view[ax] = -1
        grids.append(t.reshape(view).expand(shape))
    return tuple(grids)


@function
def cartesian_prod(*tensors):
    """Rows of all combinations of the elements of 1-D tensors (one column per tensor)."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], dim=1)


def _index_generator(name):
    def gen(row, col, offset=0, *, dtype=None, device=None, layout=None):
        for arg, value in (("row", row), ("col", col)):
            if value < 0:
                raise RuntimeError(f"{arg} must be non-negative, got{value}")
        dev = _device.resolve(device)
        xp = dev.xp
        coords = getattr(xp, name)(row, offset, col)
        dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
        return _make(xp.stack(coords).astype(dt.np).reshape(2, -1), dev)
    gen.__name__ = name
    gen.__doc__ = f"The (2, N) coordinates of the {name[:4]}angular part of a row x col matrix."
    return function(gen)


tril_indices = _index_generator("tril_indices")
triu_indices = _index_generator("triu_indices")
