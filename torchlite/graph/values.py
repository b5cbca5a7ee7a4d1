"""Value statistics of a tensor's array, computed with its own xp (NumPy or CuPy).

Only a handful of numbers and a small histogram travel to the host, never the whole array
(except the full value of a small tensor when asked for). Stats run over the finite entries;
NaN and Inf are counted apart, so one NaN does not hide the range of the rest.

On a GPU every statistic stays a device array until one copy brings them all to the host
(``host_floats``): no reduction waits for the GPU on its own. Data holding NaN or Inf takes a
second round (over the finite entries), since the first finds out only when its numbers
arrive; on the host, where looking costs nothing, the range is checked first instead.

They are recorded for every op output and gradient, so each pass over the data counts:
float32 data (and data float32 holds exactly: float16, bfloat16, bool, small ints) stays
float32 (only the std's deviations are float64, a chunk at a time), and the histogram counts
by comparisons with the bin edges instead of a bin index per entry.
"""
import math

import numpy as np

HIST_BINS = 16
FULL_LIMIT = 64  # largest numel whose full value is kept with values="full"
SORT_LIMIT = 8192  # up to this many entries, one sort counts the histogram faster
CHUNK = 1 << 16  # entries per float64 chunk of the std's deviations (512 KiB, cache-sized)
DEVICE_CHUNK = 1 << 24  # the same on a GPU (128 MiB): few kernel launches, bounded memory


def array_stats(arr, xp, full=False, bins=HIST_BINS, full_limit=FULL_LIMIT):
    """A schema ``STATS`` dict for ``arr``: numel, nan/inf/zero counts, min/max/mean/std
    (population std, float64 accumulation) of the finite entries, a histogram (NumPy's
    ``histogram`` bins), and the value itself when ``full`` and it has at most ``full_limit``
    entries. All-finite arrays (the usual case) take a fast path without masks and, on a GPU,
    one copy to the host."""
    a = real_array(arr, xp)
    out = {"numel": int(arr.size), "nan": 0, "inf": 0, "zeros": 0,
           "min": None, "max": None, "mean": None, "std": None, "hist": None}
    if arr.size:
        zeros = xp.count_nonzero(a == 0)
        lo, hi = a.min(), a.max()  # NaN propagates into min/max
        # the host knows the range now; a device's arrives with the rest of the numbers
        got = host_floats(xp, [zeros, *finite_stats(a, xp, lo, hi, bins)]) \
            if xp is not np or _finite(lo, hi) else None
        if got is not None and _finite(got[1], got[2]):
            out["zeros"] = int(got[0])
            _fill(out, got[1:], a.size, bins)
        else:
            _fill_nonfinite(out, a, xp, zeros, bins)
    if full and arr.size <= full_limit:
        out["value"] = json_value(to_host(arr).tolist())
    return out


def _fill_nonfinite(out, a, xp, zeros, bins):
    """Stats of ``a`` holding NaN or Inf: those counted apart, the rest over the finite entries
    (a mask, whose size a device must tell the host; then one copy)."""
    ok = xp.isfinite(a)
    counts = [zeros, xp.count_nonzero(xp.isnan(a))]
    a = a[ok]
    got = host_floats(xp, counts + (finite_stats(a, xp, a.min(), a.max(), bins)
                                    if a.size else []))
    out["zeros"], out["nan"] = int(got[0]), int(got[1])
    out["inf"] = out["numel"] - out["nan"] - int(a.size)
    if a.size:
        _fill(out, got[2:], a.size, bins)


def finite_stats(a, xp, lo, hi, bins=HIST_BINS):
    """The statistics of finite ``a`` as device values, in the order ``_fill`` reads them:
    min, max, mean, variance, the ``bins + 1`` histogram edges and the ``bins - 1`` counts
    of entries below each inner edge. Nothing here waits for the device."""
    mean, var = moments(a, xp)
    edges = bin_edges(xp, lo, hi, bins)
    return [lo, hi, mean, var, edges, *below_edges(a, xp, edges)]


def _fill(out, got, n, bins):
    """Store ``finite_stats``' numbers (now host floats) of ``n`` finite entries in ``out``."""
    lo, hi, mean, var = got[:4]
    out["min"], out["max"] = lo, hi
    out["mean"], out["std"] = _finite_or_none(mean), _finite_or_none(math.sqrt(var))
    if math.isfinite(hi - lo):
        edges = got[4:5 + bins]
        cumulative = [0] + [int(c) for c in got[5 + bins:]] + [n]
        out["hist"] = {"edges": edges,
                       "counts": [b - c for b, c in zip(cumulative[1:], cumulative)]}


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
    """Mean and population variance of finite ``a`` (device scalars), two-pass in float64
    as NumPy's ``var(dtype=float64)``, with deviations made a chunk at a time in one reused
    float64 buffer and their squares summed by a dot product: no full-size float64 copy
    (large fresh allocations cost more than the arithmetic)."""
    flat = a.ravel(order="K")  # a view for any contiguous layout (a transposed gradient)
    n = flat.size
    chunk = CHUNK if xp is np else DEVICE_CHUNK
    if n <= chunk:  # one chunk: convert once for both passes
        d = flat.astype(xp.float64)
        mean = d.sum() / n
        d -= mean
        return mean, xp.dot(d, d) / n
    mean = flat.sum(dtype=xp.float64) / n
    buf = xp.empty(chunk, xp.float64)
    squares = 0.0
    for start in range(0, n, chunk):
        d = buf[:min(chunk, n - start)]
        xp.subtract(flat[start:start + chunk], mean, out=d, dtype=xp.float64)
        squares = squares + xp.dot(d, d)
    return mean, squares / n


def bin_edges(xp, lo, hi, bins):
    """``numpy.histogram``'s bin edges for the range (lo, hi): ``linspace(lo, hi, bins + 1)``
    (a constant array widened by 0.5 each side). On a device, NumPy's ``linspace`` step for
    step on device scalars, so the edges are bit for bit those NumPy computes on the host."""
    if xp is np:
        lo, hi = float(lo), float(hi)
        return np.linspace(lo - 0.5, hi + 0.5, bins + 1) if lo == hi else \
            np.linspace(lo, hi, bins + 1)
    lo, hi = xp.asarray(lo, dtype=xp.float64), xp.asarray(hi, dtype=xp.float64)
    same = lo == hi
    lo, hi = xp.where(same, lo - 0.5, lo), xp.where(same, hi + 0.5, hi)
    delta = hi - lo
    step = delta / bins
    y = xp.arange(bins + 1, dtype=xp.float64)
    y = xp.where(step == 0, y / bins * delta, y * step) + lo  # linspace's subnormal case
    return xp.concatenate([y[:-1], hi.reshape(1)])


def below_edges(a, xp, edges):
    """The counts #(x < edge) of finite ``a`` for the inner ``edges``, as device values.
    Entry x is in bin i when edge i <= x < edge i + 1 (the last bin closed), which is what
    NumPy's index-and-correct computes; these cumulative counts give the bins exactly. Small
    arrays: one sort on the host, one broadcast comparison on a device (a GPU sort waits for
    the device); large ones: a vectorized compare-and-count per edge (several times faster
    than a bin index and bincount per entry)."""
    inner = _ceil_to(xp, edges[1:-1], a.dtype)  # x < edge  <=>  x < inner, in a's dtype
    if a.size > SORT_LIMIT:
        return [xp.count_nonzero(a < inner[i]) for i in range(inner.size)]
    flat = a.ravel(order="K")
    if xp is np:
        return [np.searchsorted(np.sort(flat), inner)]
    return [(flat[:, None] < inner).sum(axis=0)]


def _ceil_to(xp, values, dtype):
    """float64 ``values`` rounded up to ``dtype``: for x of that dtype, x < v exactly when
    x < the rounded value, so comparisons stay in the data's dtype."""
    v = values.astype(dtype)
    return xp.where(v < values, xp.nextafter(v, xp.full_like(v, np.inf)), v)


def to_host(arr):
    """A NumPy array of ``arr``'s values: a device array is copied (one transfer), a host
    array is returned as it is."""
    get = getattr(arr, "get", None)
    return arr if get is None else get()


def host_floats(xp, values):
    """The numbers of ``values`` (device scalars and small arrays of one device) as a flat
    list of Python numbers, gathered into one float64 array there and copied in one
    transfer: the only place the statistics wait for the device. Host values are read as
    they are (no gathering needed)."""
    if xp is np:
        out = []
        for v in values:
            if getattr(v, "ndim", 0):
                out += v.tolist()
            else:
                out.append(float(v))
        return out
    if not values:
        return []
    parts = [xp.asarray(v, dtype=xp.float64).reshape(-1) for v in values]
    return to_host(xp.concatenate(parts)).tolist()


def host_scalars(items):
    """Python floats of ``(device, 0-d array)`` pairs on any devices, in order: one
    ``host_floats`` transfer per device."""
    groups = {}
    for i, (device, value) in enumerate(items):
        groups.setdefault(device, []).append(i)
    out = [0.0] * len(items)
    for device, idx in groups.items():
        for i, v in zip(idx, host_floats(device.xp, [items[i][1] for i in idx])):
            out[i] = v
    return out


def norms(items, extra=()):
    """2-norms of ``(device, array)`` pairs, and the ``(device, 0-d array)`` values of
    ``extra`` riding along, as Python floats: squares summed where each array lives (a dot
    product: BLAS, no temporary copy) and brought to the host with ``extra`` in one copy per
    device. Squares that overflowed the array's dtype (float32 past ~1.8e19) are summed again
    in float64: one more copy, only then."""
    squares = host_scalars([(d, _squared_norm(d.xp, a)) for d, a in items] + list(extra))
    squares, values = squares[:len(items)], squares[len(items):]
    redo = [i for i, sq in enumerate(squares) if sq == math.inf]
    again = host_scalars([(items[i][0], _squared_norm(items[i][0].xp,
                                                      items[i][1].astype("float64")))
                          for i in redo])
    for i, sq in zip(redo, again):
        squares[i] = sq
    return [math.sqrt(sq) for sq in squares], values


def _squared_norm(xp, arr):
    flat = arr.reshape(-1)
    return abs(flat @ flat) if flat.size else xp.zeros((), xp.float64)


def _finite(lo, hi):
    return math.isfinite(lo) and math.isfinite(hi)


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
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v
