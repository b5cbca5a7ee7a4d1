"""Per-node value and gradient statistics over training steps (``NodeHistory``).

Each recorded step is a graph document with ``values="stats"``; a node is followed from one step
to the next by a key that does not depend on the ids of one recording: its kind, module scope,
op, label and how many such nodes ran before it in the step (parameters: their name). Any graph
of the same model recorded the same way (``record(values="stats", model=model)``, as
``TrainingDashboard`` does) finds its nodes' histories by the same keys.

Bounded: the latest ``max_points`` steps per node, in a preallocated float64 ring, and at most
``max_keys`` nodes (the ones seen longest ago go first).
"""
import math
from collections import Counter

import numpy as np

STATS = ("mean", "std", "min", "max", "norm", "nonfinite")
MAX_POINTS = 100
MAX_KEYS = 50_000


def node_keys(doc):
    """{node id: key} for the forward-phase nodes of a graph document (backward-phase ops have
    no stable counterpart from step to step and are left out)."""
    seen, keys = Counter(), {}
    for n in doc["nodes"]:
        if n["phase"] != "forward":
            continue
        base = (n["kind"], n["scope"], n["op"], n["label"])
        keys[n["id"]] = (*base, seen[base])
        seen[base] += 1
    return keys


def stats_row(stats):
    """``STATS`` of a schema stats dict as floats (NaN where unknown): mean, std, min and max of
    the finite entries, their 2-norm (from numel, mean and std) and the NaN + Inf count."""
    if not stats:
        return [math.nan] * len(STATS)
    nonfinite = stats["nan"] + stats["inf"]
    if stats["mean"] is None:
        return [math.nan] * (len(STATS) - 1) + [float(nonfinite)]
    finite = stats["numel"] - nonfinite
    norm = math.sqrt(finite * (stats["std"] ** 2 + stats["mean"] ** 2))
    return [float(stats[k]) for k in ("mean", "std", "min", "max")] + [norm, float(nonfinite)]


class _Ring:
    """The latest ``capacity`` rows of ``width`` floats."""

    __slots__ = ("rows", "count")

    def __init__(self, capacity, width):
        self.rows, self.count = np.empty((capacity, width)), 0

    def append(self, row):
        self.rows[self.count % len(self.rows)] = row
        self.count += 1

    def values(self):
        """The rows kept, oldest first."""
        cap = len(self.rows)
        if self.count <= cap:
            return self.rows[:self.count]
        start = self.count % cap
        return np.concatenate([self.rows[start:], self.rows[:start]])


def _json_list(column):
    return [float(v) if math.isfinite(v) else None for v in column]


class NodeHistory:
    """Value and gradient statistics of every forward node over the steps added."""

    def __init__(self, max_points=MAX_POINTS, max_keys=MAX_KEYS):
        if max_points < 1 or max_keys < 1:
            raise ValueError(f"max_points and max_keys must be >= 1, got {max_points} and "
                             f"{max_keys}")
        self.max_points, self.max_keys = int(max_points), int(max_keys)
        self.steps = []          # every step added, in order
        self._rings = {}         # key -> _Ring of (step, value STATS..., grad STATS...)

    def add(self, step, graph):
        """Add the statistics of a recorded step (a Graph or document recorded with
        ``values="stats"``)."""
        doc = getattr(graph, "doc", graph)
        if not doc["meta"]["values"]:
            raise ValueError("NodeHistory.add(): the graph has no value statistics; record it "
                             "with values='stats'")
        nodes = {n["id"]: n for n in doc["nodes"]}
        for nid, key in node_keys(doc).items():
            out = nodes[nid]["outputs"]
            ref = out[0] if out else {}
            ring = self._rings.pop(key, None)   # re-inserted last: recently seen
            if ring is None:
                ring = _Ring(self.max_points, 1 + 2 * len(STATS))
            ring.append([step, *stats_row(ref.get("stats")), *stats_row(ref.get("grad_stats"))])
            self._rings[key] = ring
        while len(self._rings) > self.max_keys:
            del self._rings[next(iter(self._rings))]
        self.steps.append(int(step))

    def __len__(self):
        return len(self._rings)

    def series(self, key):
        """{"steps": [...], "value": {stat: [...]}, "grad": {stat: [...]}} of a node key, with
        None where a statistic is unknown (JSON-ready); None for an unknown key."""
        ring = self._rings.get(key)
        if ring is None:
            return None
        rows = ring.values()
        k = len(STATS)
        return {"steps": [int(s) for s in rows[:, 0]],
                "value": {s: _json_list(rows[:, 1 + i]) for i, s in enumerate(STATS)},
                "grad": {s: _json_list(rows[:, 1 + k + i]) for i, s in enumerate(STATS)}}

    def of_node(self, doc, node_id, keys=None):
        """The series of node ``node_id`` of a graph document (``keys``: its ``node_keys``, when
        already computed), or None when it has no history."""
        key = (keys if keys is not None else node_keys(doc)).get(node_id)
        return None if key is None else self.series(key)
