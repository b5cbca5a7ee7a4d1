"""Value statistics of a tensor's array, computed with its own xp (NumPy or CuPy).

Only a handful of numbers and a small histogram travel to the host, never the whole array
(except the full value of a small tensor when asked for). Stats run over the finite entries;
NaN and Inf are counted apart, so one NaN does not hide the range of the rest.

They are recorded for every op output and gradient, so each pass over the data counts:
float32 data (and data float32 holds exactly: float16, bfloat16, bool, small ints) stays
float32 (only the std's deviations are float64, a cache-sized chunk at a time), and the
histogram counts by comparisons with the bin edges instead of a bin index per entry.
"""
import math

import numpy as np

HIST_BINS = 16
FULL_LIMIT = 64  # largest numel whose full value is kept with values="full"
SORT_LIMIT = 8192  # up to this many entries, one sort counts the histogram faster
CHUNK = 1 << 16  # entries per float64 chunk of the std's deviations (512 KiB, cache-sized)


def array_stats(arr, xp, full=False, bins=HIST_BINS, full_limit=FULL_LIMIT):
    """A schema ``STATS`` dict for ``arr``: numel, nan/inf/zero counts, min/max/mean/std
    (population std, float64 accumulation) of the finite entries, a histogram (NumPy's
    ``histogram`` bins), and the value itself when ``full`` and it has at most ``full_limit``
    entries. All-finite arrays (the usual case) take a fast path without masks."""
    a = real_array(arr, xp)
    out = {"numel": int(arr.size), "nan": 0, "inf": 0,
           "zeros": int(xp.count_nonzero(a == 0)),
           "min": None, "max": None, "mean": None, "std": None, "hist": None}
    if arr.size:
        lo, hi = float(a.min()), float(a.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN propagates into min/max
            ok = xp.isfinite(a)
            out["nan"] = int(xp.count_nonzero(xp.isnan(a)))
            out["inf"] = int(arr.size - int(xp.count_nonzero(ok)) - out["nan"])
            a = a[ok]
            lo, hi = (float(a.min()), float(a.max())) if a.size else (None, None)
    if a.size:
        out["min"], out["max"] = lo, hi
        mean, std = moments(a, xp)
        out["mean"], out["std"] = _finite_or_none(mean), _finite_or_none(std)
        if math.isfinite(hi - lo):
            out["hist"] = histogram(a, xp, lo, hi, bins)
    if full and arr.size <= full_limit:
        out["value"] = json_value(arr.tolist())
    return out


def real_array(arr, xp):
    """``arr`` as a float32 or float64 array with the same values (complex: its modulus):
    float32 where that is exact, so no pass over the data runs wider than needed."""
    if arr.dtype.kind == "c":
        arr = xp.abs(arr)
    if arr.dtype == xp.float32 or arr.dtype == xp.float64:
        return arr
    exact32 = arr.dtype.itemsize <= 2 or arr.dtype.kind == "b"  # float16, bfloat16, small ints
    return arr.astype(xp.float32 if exact32 else xp.float64)


def moments(a, xp):
    """Mean and population std of finite ``a``, two-pass in float64 as NumPy's
    ``std(dtype=float64)``, with deviations made a chunk at a time in one reused float64
    buffer and their squares summed by a dot product: no full-size float64 copy (large
    fresh allocations cost more than the arithmetic)."""
    flat = a.ravel(order="K")  # a view for any contiguous layout (a transposed gradient)
    n = flat.size
    if n <= CHUNK:  # one chunk: convert once for both passes
        d = flat.astype(xp.float64)
        mean = float(d.sum()) / n
        d -= mean
        return mean, math.sqrt(float(xp.dot(d, d)) / n)
    mean = float(flat.sum(dtype=xp.float64)) / n
    buf = xp.empty(CHUNK, xp.float64)
    squares = 0.0
    for start in range(0, n, CHUNK):
        d = buf[:min(CHUNK, n - start)]
        xp.subtract(flat[start:start + CHUNK], mean, out=d, dtype=xp.float64)
        squares += float(xp.dot(d, d))
    return mean, math.sqrt(squares / n)


def histogram(a, xp, lo, hi, bins):
    """``numpy.histogram(a, bins)`` of finite ``a`` with range (lo, hi), exactly: entry x is
    in bin i when edge i <= x < edge i + 1 (the last bin closed), which is what NumPy's
    index-and-correct computes. Counts come from the cumulative counts #(x < edge): one
    sort for small arrays, else a vectorized compare-and-count per edge (several times
    faster than a bin index and bincount per entry)."""
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    inner = _ceil_to(edges[1:-1], a.dtype)  # x < edge  <=>  x < inner, in a's dtype
    if a.size <= SORT_LIMIT:
        below = xp.searchsorted(xp.sort(a.ravel(order="K")), xp.asarray(inner)).tolist()
    else:
        below = [int(xp.count_nonzero(a < e)) for e in inner]
    cumulative = [0] + [int(c) for c in below] + [int(a.size)]
    return {"edges": [float(e) for e in edges.tolist()],
            "counts": [b - c for b, c in zip(cumulative[1:], cumulative)]}


def _ceil_to(values, dtype):
    """float64 ``values`` rounded up to ``dtype``: for x of that dtype, x < v exactly when
    x < the rounded value, so comparisons stay in the data's dtype."""
    v = values.astype(dtype)
    return np.where(v < values, np.nextafter(v, dtype.type(np.inf)), v)


def _finite_or_none(x):
    return x if math.isfinite(x) else None


def json_value(v):
    """Nested lists of numbers as JSON: non-finite floats as "nan"/"inf"/"-inf" strings,
    complex numbers as [re, im] pairs."""
    if isinstance(v, list):
        return [json_value(x) for x in v]
    if isinstance(v, complex):
        return [json_value(v.real), json_value(v.imag)]
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if v != v else ("inf" if v > 0 else "-inf")
    return v
