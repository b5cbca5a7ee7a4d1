"""Debugging helpers: where a NaN/Inf first appeared, and how gradients flow per parameter.

``first_nonfinite(graph)`` reads a graph recorded with ``values="stats"``;
``gradient_flow(model)`` reads the parameters' ``.grad`` after a backward pass (norms are
computed with the tensor's own xp; only scalars reach the host, in one copy per device).
"""
import math

from .sources import source_location
from .values import norms

VANISHING = 1e-3   # grad norm below this fraction of the largest one: "vanishing"
EXPLODING = 1e3    # grad norm above this: "exploding"


def first_nonfinite(graph):
    """The earliest node whose output holds NaN or Inf, as a dict: ``node`` (id), ``op``,
    ``phase``, ``scope``, ``source``, ``outputs`` and ``inputs`` (tensor refs with their
    stats) and ``text`` (a readable account); None when every recorded value is finite.
    A leaf found first means the input itself was already non-finite."""
    if not graph.meta["values"]:
        raise ValueError("first_nonfinite() needs value statistics: record the graph with "
                         "torchlite.graph.record(values='stats') (or values='full')")
    for n in graph.nodes:
        bad = [r for r in n["outputs"] if r.get("stats") and
               (r["stats"]["nan"] or r["stats"]["inf"])]
        if bad:
            return {"node": n["id"], "op": n["op"], "label": n["label"], "phase": n["phase"],
                    "scope": n["scope"], "source": n.get("source"), "outputs": bad,
                    "inputs": _input_stats(graph, n), "text": _nonfinite_text(graph, n, bad)}
    return None


def _input_stats(graph, node):
    """The node's input refs, with stats taken from their producers' outputs."""
    produced = {}
    for n in graph.nodes:
        for r in n["outputs"]:
            produced[r["tensor"]] = r
    return [dict(r, stats=produced.get(r["tensor"], {}).get("stats")) if "tensor" in r else r
            for r in node["inputs"]]


def _fmt_stats(s):
    if not s:
        return "no stats"
    return (f"min={s['min']} max={s['max']} mean={s['mean']} nan={s['nan']} inf={s['inf']} "
            f"numel={s['numel']}")


def _nonfinite_text(graph, node, bad):
    s = bad[0]["stats"]
    what = "input" if node["kind"] != "op" else f"op {node['op']} ({node['label']})"
    lines = [f"first non-finite value: {what}, node {node['id']}, {node['phase']} phase, "
             f"scope {node['scope'] or '(top level)'}: {s['nan']} NaN, {s['inf']} Inf "
             f"of {s['numel']}"]
    src = node.get("source")
    if src:
        lines.append(f"  at {source_location(src)} in {src['function']}: {src.get('code')}")
    for i, r in enumerate(_input_stats(graph, node)):
        if "tensor" in r:
            lines.append(f"  input {i}: {r['shape']} {r['dtype']}: {_fmt_stats(r['stats'])}")
        else:
            lines.append(f"  input {i}: scalar {r['scalar']!r}")
    return "\n".join(lines)


def _named(model_or_params):
    if hasattr(model_or_params, "named_parameters"):
        return dict(model_or_params.named_parameters())
    return dict(model_or_params)


def snapshot(model_or_params):
    """Copies of the parameters' values, for ``gradient_flow(..., before=snapshot)``."""
    return {name: p._data.copy() for name, p in _named(model_or_params).items()}


class GradientFlow:
    """Per-parameter gradient summary: ``rows`` (dicts with name, shape, grad_norm,
    weight_norm, update_ratio, zero_frac, flags); indexable by parameter name."""

    def __init__(self, rows):
        self.rows = rows

    def __getitem__(self, name):
        for r in self.rows:
            if r["name"] == name:
                return r
        raise KeyError(name)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def flagged(self, flag):
        """Names of the parameters carrying ``flag`` ("dead", "vanishing", ...)."""
        return [r["name"] for r in self.rows if flag in r["flags"]]

    def to_dict(self):
        return {"rows": [dict(r) for r in self.rows]}

    def __repr__(self):
        head = f"{'parameter':<28} {'grad norm':>11} {'update/w':>10} {'zero grads':>10}  flags"
        lines = [head]
        for r in self.rows:
            ratio = "-" if r["update_ratio"] is None else f"{r['update_ratio']:.2e}"
            gn = "-" if r["grad_norm"] is None else f"{r['grad_norm']:.3e}"
            zf = "-" if r["zero_frac"] is None else f"{r['zero_frac']:.0%}"
            lines.append(f"{r['name']:<28} {gn:>11} {ratio:>10} {zf:>10}  "
                         + ",".join(r["flags"]))
        return "\n".join(lines)


def gradient_flow(model_or_params, lr=None, before=None):
    """Per-parameter gradient summary after backward: grad norm, update/weight ratio (from
    ``lr`` as lr * |grad| / |w|, or from ``before = snapshot(model)`` taken before the
    optimizer step as |w - w_before| / |w_before|), the fraction of exactly-zero gradient
    entries (dead ReLUs give 1.0), and flags: "no grad", "dead", "vanishing" (norm below
    1e-3 of the largest), "exploding" (norm above 1e3), "nonfinite". The numbers are computed
    where the parameters live and reach the host in one copy per device."""
    params = _named(model_or_params)
    arrays, zeros, slots = [], [], []   # slots: per parameter, its entries in arrays
    for name, p in params.items():
        d, w, g = p._device, p._data, p._grad
        slot = {"weight": len(arrays)}
        arrays.append((d, w))
        if g is not None:
            slot["grad"], slot["zeros"] = len(arrays), len(zeros)
            arrays.append((d, g._data))
            zeros.append((d, d.xp.count_nonzero(g._data == 0)))
        if before is not None and name in before:
            old = before[name]
            old = d.xp.asarray(old._data if hasattr(old, "_data") else old)
            slot["old"], slot["change"] = len(arrays), len(arrays) + 1
            arrays += [(d, old), (d, w - old)]
        slots.append(slot)
    norms_, zero_counts = norms(arrays, zeros)
    rows = []
    for (name, p), slot in zip(params.items(), slots):
        row = {"name": name, "shape": list(p.shape), "weight_norm": norms_[slot["weight"]],
               "grad_norm": None, "zero_frac": None, "update_ratio": None, "flags": []}
        if "grad" not in slot:
            row["flags"].append("no grad")
        else:
            size = p._grad._data.size
            row["grad_norm"] = norms_[slot["grad"]]
            row["zero_frac"] = zero_counts[slot["zeros"]] / max(size, 1)
            if row["zero_frac"] == 1.0 and size:
                row["flags"].append("dead")
        if "old" in slot:
            row["update_ratio"] = _ratio(norms_[slot["change"]], norms_[slot["old"]])
        elif lr is not None and row["grad_norm"] is not None:
            row["update_ratio"] = _ratio(lr * row["grad_norm"], row["weight_norm"])
        rows.append(row)
    _flag_magnitudes(rows)
    return GradientFlow(rows)


def _ratio(a, b):
    return a / b if b else (0.0 if a == 0 else math.inf)


def _flag_magnitudes(rows):
    norms = [r["grad_norm"] for r in rows if r["grad_norm"] is not None
             and math.isfinite(r["grad_norm"])]
    top = max(norms, default=0.0)
    for r in rows:
        gn = r["grad_norm"]
        if gn is None:
            continue
        if not math.isfinite(gn):
            r["flags"].append("nonfinite")
        elif gn > EXPLODING:
            r["flags"].append("exploding")
        elif top > 0 and gn < VANISHING * top and "dead" not in r["flags"]:
            r["flags"].append("vanishing")
