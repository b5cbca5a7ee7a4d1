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
    (population std, float64 accumulation) of the finite entries, a histogram, and the value
    itself when ``full`` and the tensor has at most ``full_limit`` entries."""
    kind = arr.dtype.kind
    a = xp.abs(arr) if kind == "c" else arr
    if kind in "biu":
        a = a.astype(xp.float64)
    out = {"numel": int(arr.size), "nan": 0, "inf": 0, "zeros": int((a == 0).sum()),
           "min": None, "max": None, "mean": None, "std": None, "hist": None}
    finite = a
    if kind in "fc":
        ok = xp.isfinite(a)
        out["nan"] = int(xp.isnan(a).sum())
        out["inf"] = int(arr.size - int(ok.sum()) - out["nan"])
        if out["nan"] or out["inf"]:
            finite = a[ok]
    if finite.size:
        f64 = finite.astype(xp.float64)
        lo, hi = float(f64.min()), float(f64.max())
        out["min"], out["max"] = lo, hi
        out["mean"] = _finite_or_none(float(f64.mean()))
        out["std"] = _finite_or_none(float(f64.std()))
        if math.isfinite(hi - lo):
            counts, edges = xp.histogram(f64, bins=bins)
            out["hist"] = {"edges": [float(e) for e in edges.tolist()],
                           "counts": [int(c) for c in counts.tolist()]}
    if full and arr.size <= full_limit:
        out["value"] = json_value(arr.tolist())
    return out


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
