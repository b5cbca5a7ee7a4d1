"""Embedding on cuda without host syncs (embedding.cu): the index bounds check as a device-side
assert, and the backward's scatter-add and per-row counts as atomic adds (cupyx.scatter_add), with
no sort, unique or bincount of the indices (CuPy's bincount reads the maximum on the host)."""
import numpy as np

from . import _compile

BLOCK = 256
_INDEX_CTYPE = {"int32": "int", "int64": "long long"}

_compile.register("embedding", [f"embedding_check_indices<{c}>" for c in _INDEX_CTYPE.values()])


def check_indices(idx, num):
    """Fail the device (asynchronously) if an index of ``idx`` is outside ``[0, num)``."""
    idx = idx.ravel()
    if idx.size:
        _compile.LAUNCHER("embedding", f"embedding_check_indices<{_INDEX_CTYPE[idx.dtype.name]}>",
                          (-(-idx.size // BLOCK),), (BLOCK,),
                          (idx, np.int64(idx.size), np.int64(num)), 0)


def scatter_rows(idx, rows, num):
    """zeros((num, D)) with ``rows[k]`` added at row ``idx[k]``, accumulated in float32 for
    16-bit floats (as PyTorch's CUDA embedding backward) and returned in ``rows``' dtype."""
    import cupyx

    xp = _compile.array_module(rows)
    acc = np.dtype(np.float32) if rows.dtype.itemsize == 2 else rows.dtype
    out = xp.zeros((num, rows.shape[1]), dtype=acc)
    cupyx.scatter_add(out, idx, rows.astype(acc, copy=False))
    return out.astype(rows.dtype, copy=False)


def count_rows(idx, num):
    """How often each row in ``range(num)`` is looked up (bincount without reading the
    maximum index on the host)."""
    import cupyx

    counts = _compile.array_module(idx).zeros(num, dtype=np.int32)
    cupyx.scatter_add(counts, idx.ravel(), 1)
    return counts
