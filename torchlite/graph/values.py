"""Value statistics of a tensor's array, computed with its own xp (NumPy or CuPy).

Only a handful of numbers and a small histogram travel to the host, never the whole array
(except the full value of a small tensor when asked for). Stats run over the finite entries;
NaN and Inf are counted apart, so one NaN does not hide the range of the rest.
"""
import math

HIST_BINS = 16
FULL_LIMIT = 64  # largest numel whose full value is kept with values="full"


def array_stats(arr, xp, full=False, bins=HIST_BINS, full_limit=FULL_LIMIT):
    """A schema ``STATS`` dict for ``arr``: numel, nan/inf/zero counts, min/max/mean/std
    (population std, float64 accumulation) of the finite entries, a histogram (NumPy's
    ``histogram`` bins), and the value itself when ``full`` and it has at most ``full_limit``
    entries. All-finite arrays (the usual case) take a fast path without masks."""
    kind = arr.dtype.kind
    a = xp.abs(arr) if kind == "c" else arr
    if kind in "biu":
        a = a.astype(xp.float64)
    out = {"numel": int(arr.size), "nan": 0, "inf": 0,
           "zeros": int(arr.size - int(xp.count_nonzero(a))),
           "min": None, "max": None, "mean": None, "std": None, "hist": None}
    if arr.size:
        lo, hi = float(a.min()), float(a.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN propagates into min/max
            ok = xp.isfinite(a)
            out["nan"] = int(xp.isnan(a).sum())
            out["inf"] = int(arr.size - int(xp.count_nonzero(ok)) - out["nan"])
            a = a[ok]
            lo, hi = (float(a.min()), float(a.max())) if a.size else (None, None)
    if a.size:
        out["min"], out["max"] = lo, hi
        out["mean"] = _finite_or_none(float(a.mean(dtype=xp.float64)))
        out["std"] = _finite_or_none(float(a.std(dtype=xp.float64)))
        if math.isfinite(hi - lo):
            out["hist"] = histogram(a, xp, lo, hi, bins)
    if full and arr.size <= full_limit:
        out["value"] = json_value(arr.tolist())
    return out


def histogram(a, xp, lo, hi, bins):
    """``numpy.histogram(a, bins)`` of finite ``a`` with range (lo, hi), by bincount (several
    times faster than NumPy's own; works the same on CuPy)."""
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = xp.linspace(lo, hi, bins + 1)
    x = a.ravel().astype(xp.float64)
    idx = ((x - lo) * (bins / (hi - lo))).astype(xp.intp)
    xp.minimum(idx, bins - 1, out=idx)
    idx -= x < edges[idx]  # NumPy's correction for rounding at bin edges
    idx += (x >= edges[idx + 1]) & (idx != bins - 1)
    counts = xp.bincount(idx, minlength=bins)
    return {"edges": [float(e) for e in edges.tolist()],
            "counts": [int(c) for c in counts.tolist()]}


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
