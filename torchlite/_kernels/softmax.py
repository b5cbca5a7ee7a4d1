"""Launchers of softmax.cu: softmax / log_softmax over the last axis (forward and backward) and
cross entropy of class indices fused with its logits' logsumexp.

Each takes arrays with the reduced axis last (contiguous for the softmax launchers) and returns
new arrays of the array module of its inputs, without a host sync. Rows of up to ``WARP_ROW``
elements take one warp each, longer rows one block each.
"""
import numpy as np

from . import _compile

_DTYPES = tuple(_compile.CTYPE)
_compile.register("softmax", [f"{kernel}<{_compile.CTYPE[d]}>" for kernel in (
    "softmax_forward", "softmax_backward", "cross_entropy_forward", "cross_entropy_reduce",
    "cross_entropy_backward") for d in _DTYPES])

WARP_ROW = 1024          # rows this long or shorter: one warp per row
_WARP_BLOCK = 128        # threads of a block of per-warp rows (4 rows)
_ELEMENTS_PER_THREAD = 8  # a long row's block: enough threads for about this many each
_FLAT_BLOCK = 256        # threads of a block of the elementwise cross-entropy backward
_MAX_GRID = 2 ** 31 - 1


def _rows_geometry(rows, n):
    """(grid, block, per_warp) of a row kernel over ``rows`` rows of ``n`` elements."""
    if n <= WARP_ROW:
        per_block = _WARP_BLOCK // 32
        return (rows + per_block - 1) // per_block, _WARP_BLOCK, np.int32(1)
    threads = 1 << max(n // _ELEMENTS_PER_THREAD - 1, 1).bit_length()
    return rows, min(max(threads, 128), 1024), np.int32(0)


def _row_kernel(kernel, dtype, rows, n, args):
    grid, block, per_warp = _rows_geometry(rows, n)
    _compile.launch("softmax", kernel, dtype, grid, block, args + (per_warp,))


def softmax(x, log=False):
    """softmax (``log``: log_softmax) over the last axis of the contiguous ``x``, in its dtype."""
    xp = _compile.array_module(x)
    y = xp.empty_like(x)
    n = x.shape[-1]
    rows = x.size // n
    _row_kernel("softmax_forward", x.dtype, rows, n,
                (x, y, np.int64(rows), np.int64(n), np.int32(log)))
    return y


def softmax_backward(g, y, log=False):
    """The input gradient of softmax (``log``: log_softmax) from its output ``y`` and output
    gradient ``g`` (contiguous, same shape and dtype): y * (g - sum(g * y)), or
    g - exp(y) * sum(g), over the last axis."""
    xp = _compile.array_module(y)
    out = xp.empty_like(y)
    n = y.shape[-1]
    rows = y.size // n
    _row_kernel("softmax_backward", y.dtype, rows, n,
                (g, y, out, np.int64(rows), np.int64(n), np.int32(log)))
    return out


def _class_weight(xp, weight, acc):
    """(weight, sum of weight, has_weight) as the kernels take them (a 1-element placeholder
    when there is no weight: the kernels do not read it)."""
    if weight is None:
        empty = xp.zeros(1, acc)
        return empty, empty, np.int32(0)
    weight = xp.ascontiguousarray(weight, dtype=acc)
    return weight, weight.sum(keepdims=True), np.int32(1)


def cross_entropy(x, target, weight, ignore_index, reduction, label_smoothing):
    """Cross entropy of logits ``x`` (rows, C) (rows >= 1, C >= 1) and class indices
    ``target`` (rows,), optional class ``weight`` (C,), ``label_smoothing`` and ``reduction``
    ('none', 'sum', 'mean'): returns (loss in x's dtype, lse, inv): the rows' logsumexp and the
    0-d factor of every row's gradient (1 / total weight for 'mean', else 1), both in the
    accumulation dtype, for ``cross_entropy_backward``."""
    xp, x, target, acc, (weight, weight_sum, has_weight) = _ce_inputs(x, target, weight)
    rows, classes = x.shape
    loss, row_weight, lse = (xp.empty(rows, acc) for _ in range(3))
    _row_kernel("cross_entropy_forward", x.dtype, rows, classes,
                (x, target, weight, weight_sum, has_weight, loss, row_weight, lse,
                 np.int64(rows), np.int64(classes), np.int64(ignore_index),
                 acc.type(label_smoothing)))
    if reduction == "none":
        return loss.astype(x.dtype, copy=False), lse, xp.ones((), acc)
    out = xp.empty((), x.dtype)
    inv = xp.empty((), acc)
    _compile.launch("softmax", "cross_entropy_reduce", x.dtype, 1, 1024,
                    (loss, row_weight, np.int64(rows), np.int32(reduction == "mean"), out, inv))
    return out, lse, inv


def _ce_inputs(x, target, weight):
    """What both cross-entropy launchers pass: array module, contiguous logits and int64 targets,
    accumulation dtype and the class-weight arguments."""
    xp = _compile.array_module(x)
    acc = _compile.accumulation_dtype(x.dtype)
    return (xp, xp.ascontiguousarray(x), xp.ascontiguousarray(target, dtype=np.int64), acc,
            _class_weight(xp, weight, acc))


def cross_entropy_backward(grad, x, lse, inv, target, weight, ignore_index, label_smoothing):
    """The gradient w.r.t. ``x`` of ``cross_entropy`` (same arguments, its ``lse`` and ``inv``)
    for the loss gradient ``grad``: one value per row (reduction 'none') or a 0-d array."""
    xp, x, target, acc, (weight, weight_sum, has_weight) = _ce_inputs(x, target, weight)
    rows, classes = x.shape
    per_row = np.int32(grad.ndim > 0)  # before ascontiguousarray, which makes 0-d arrays 1-d
    grad = xp.ascontiguousarray(grad, dtype=x.dtype)
    out = xp.empty_like(x)
    grid = min((x.size + _FLAT_BLOCK - 1) // _FLAT_BLOCK, _MAX_GRID)
    _compile.launch("softmax", "cross_entropy_backward", x.dtype, grid, _FLAT_BLOCK,
                    (x, lse, target, weight, weight_sum, has_weight, grad,
                     per_row, inv, out, np.int64(rows), np.int64(classes),
                     np.int64(ignore_index), acc.type(label_smoothing)))
    return out
