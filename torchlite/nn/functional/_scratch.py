"""Scratch arrays reused from one call to the next (CPU).

Convolutions need large temporaries (im2col columns, matmul results before cropping) whose
shapes repeat every training step. Freshly allocated, each is new memory that the kernel maps
and faults in page by page on first touch -- on this kind of machine a large part of a conv
step. A temporary handed back with ``give`` once nothing else refers to it is handed out again
by ``take`` for the same shape and dtype. The pool is bounded (``LIMIT`` bytes); on a GPU
``take`` just allocates.
"""
LIMIT = 64 << 20  # bytes held at most

_POOL = {}  # (shape, dtype) -> arrays ready for reuse
_HELD = [0]


def take(xp, shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``: a pooled one when there is one."""
    if xp.__name__ == "numpy":
        free = _POOL.get((shape, xp.dtype(dtype)))
        if free:
            arr = free.pop()
            _HELD[0] -= arr.nbytes
            return arr
    return xp.empty(shape, dtype=dtype)


def give(arr):
    """Hand back ``arr``, an array from ``take`` that nothing refers to any more."""
    if type(arr).__module__ != "numpy" or _HELD[0] + arr.nbytes > LIMIT:
        return
    _POOL.setdefault((arr.shape, arr.dtype), []).append(arr)
    _HELD[0] += arr.nbytes
