"""Elementwise kernels evaluated block by block (CPU).

A fused pointwise kernel written as a dozen NumPy calls makes a dozen whole-array temporaries:
each is a fresh large allocation (new pages, faulted in on first touch) and each pass streams the
whole array through memory. Run on blocks of ``BLOCK`` elements, the temporaries are small, come
from the allocator's free lists and stay in cache; only the outputs are full-size. On a GPU (or
for small arrays) the kernel runs once on the whole arrays.
"""
BLOCK = 1 << 15  # elements per block: a few float32 temporaries of this size fit in L2


def map_blocks(xp, kernel, *arrays):
    """``kernel(*flat_blocks)`` over the flattened ``arrays`` (same size), block by block.

    ``kernel`` returns a tuple of 1-D arrays of its blocks' length (or None entries); the
    result is that tuple for the whole flattened input."""
    flats = [a.reshape(-1) for a in arrays]
    n = flats[0].size
    if n <= BLOCK or xp.__name__ != "numpy":
        return kernel(*flats)
    outs = None
    for start in range(0, n, BLOCK):
        part = slice(start, start + BLOCK)
        res = kernel(*[f[part] for f in flats])
        if outs is None:
            outs = tuple(None if r is None else xp.empty(n, dtype=r.dtype) for r in res)
        for out, r in zip(outs, res):
            if out is not None:
                out[part] = r
    return outs
