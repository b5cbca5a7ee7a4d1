"""Launchers of layer_norm.cu: layer norm's forward and backward over rows of ``n`` contiguous
elements (the trailing dims), on arrays of any float dtype; parameters come in the accumulation
dtype (float32, or float64 for float64 rows)."""
import numpy as np

from . import _compile

_FLOATS = tuple(_compile.CTYPE.values())
_compile.register("layer_norm", [
    f"{kernel}<{t}>"
    for kernel in ("layer_norm_forward", "layer_norm_backward_input",
                   "layer_norm_backward_params")
    for t in _FLOATS] + [f"column_sum<{t}>" for t in ("float", "double")])

HAS_WEIGHT, HAS_BIAS = 1, 2
WARP_ROW = 1024  # rows up to this long take one warp each, longer ones a block
ROWS_PER_BLOCK = 4  # warps (rows) per block of the warp-per-row kernels
MAX_GRID = 1 << 20  # kernels stride over rows beyond this many blocks
COLS, ROW_THREADS = 32, 8  # block of the column reduction (as in layer_norm.cu)
PARAM_BLOCKS = 1024  # blocks the column reduction aims for (chunks of rows times column groups)
MIN_CHUNK = 32  # fewest rows per chunk of the column reduction
MAX_CHUNKS = 1024  # most chunks (grid.y) of the column reduction
SUM_THREADS = 256  # threads per block of the chunks' final sum


def _row_geometry(rows, n):
    """(grid, block) of the per-row kernels: a warp per row (``ROWS_PER_BLOCK`` a block) for
    short rows, else a block of 64..1024 threads, about 8 elements a thread."""
    if n <= WARP_ROW:
        return (min(-(-rows // ROWS_PER_BLOCK), MAX_GRID),), (32, ROWS_PER_BLOCK)
    threads = 64
    while threads < 1024 and threads * 8 < n:
        threads *= 2
    return (min(rows, MAX_GRID),), (threads,)


def _flags(has_weight, has_bias):
    """The kernels' ``flags`` argument: which parameters (or parameter gradients) exist."""
    return np.int32((HAS_WEIGHT if has_weight else 0) | (HAS_BIAS if has_bias else 0))


def forward(x, weight, bias, n, eps):
    """(y, xhat, mean, rstd) of layer norm over rows of length ``n`` of ``x``: y and xhat in x's
    shape and dtype (y is xhat without weight and bias), mean and rstd one per row. ``weight`` /
    ``bias``: None or ``n`` values in the accumulation dtype
    (``_compile.accumulation_dtype``)."""
    xp = _compile.array_module(x)
    rows = x.size // n
    acc = _compile.accumulation_dtype(x.dtype)
    flags = _flags(weight is not None, bias is not None)
    xhat = xp.empty(x.shape, x.dtype)
    y = xp.empty(x.shape, x.dtype) if flags else xhat
    x = xp.ascontiguousarray(x)  # 1-D for a 0-d x: the outputs keep x's shape
    mean = xp.empty(rows, x.dtype)
    rstd = xp.empty(rows, x.dtype)
    grid, block = _row_geometry(rows, n)
    unused = xp.empty(1, acc)  # stands in for a parameter that is None (never read)
    params = [unused if p is None else xp.ascontiguousarray(p).reshape(-1)
              for p in (weight, bias)]
    _compile.launch("layer_norm", "layer_norm_forward", x.dtype, grid, block,
                    (x, *params, y, xhat, mean, rstd, np.int64(rows), np.int64(n),
                     acc.type(eps), flags))
    return y, xhat, mean, rstd


def backward(g, xhat, rstd, weight, n, need):
    """[grad_x, grad_w, grad_b] (those ``need`` asks for) of layer norm over rows of length
    ``n``, in the accumulation dtype: grad_x in g's shape, grad_w and grad_b flat (``n``).
    ``rstd``: one per row; ``weight``: None or ``n`` values in the accumulation dtype."""
    xp = _compile.array_module(g)
    shape = g.shape
    g, xhat, rstd = (xp.ascontiguousarray(a) for a in (g, xhat, rstd))  # 0-d: 1-D
    rows = g.size // n
    acc = _compile.accumulation_dtype(g.dtype)
    outs = []
    if need[0]:
        gx = xp.empty(shape, acc)
        grid, block = _row_geometry(rows, n)
        w = xp.empty(1, acc) if weight is None else xp.ascontiguousarray(weight).reshape(-1)
        _compile.launch("layer_norm", "layer_norm_backward_input", g.dtype, grid, block,
                        (g, xhat, rstd, w, gx, np.int64(rows), np.int64(n),
                         _flags(weight is not None, False)))
        outs.append(gx)
    if need[1] or need[2]:
        outs += _param_grads(xp, g, xhat, rows, n, acc, need[1], need[2])
    return outs


def _param_grads(xp, g, xhat, rows, n, acc, need_w, need_b):
    """[grad_w] / [grad_b] / both: column sums over rows of g * xhat and of g, in chunks of rows
    (partial sums per chunk), then the chunks summed in order: deterministic."""
    col_blocks = -(-n // COLS)
    chunks = max(1, min(-(-PARAM_BLOCKS // col_blocks), -(-rows // MIN_CHUNK), MAX_CHUNKS))
    chunk = -(-rows // chunks)
    chunks = -(-rows // chunk)
    parts = [xp.empty((chunks, n), acc) if need else None for need in (need_w, need_b)]
    written = next(p for p in parts if p is not None)  # stands in for the one not asked for
    _compile.launch("layer_norm", "layer_norm_backward_params", g.dtype, (col_blocks, chunks),
                    (COLS, ROW_THREADS),
                    (g, xhat, *(written if p is None else p for p in parts), np.int64(rows),
                     np.int64(n), np.int64(chunk), _flags(need_w, need_b)))
    outs = []
    for part in parts:
        if part is None:
            continue
        if chunks == 1:
            outs.append(part.reshape(n))
            continue
        out = xp.empty(n, acc)
        _compile.launch("layer_norm", "column_sum", acc,
                        (min(-(-n // SUM_THREADS), MAX_GRID),), (SUM_THREADS,),
                        (part, out, np.int64(chunks), np.int64(n)))
        outs.append(out)
    return outs
