"""Graph: a recorded or traced graph as plain data (a schema document) with views on it.

A Graph made by ``record()`` reads the live recorder until the ``with`` block ends, then
keeps the finished document. Everything else (JSON, DOT, subgraphs, diffs, the notebook
display, the debugging helpers) works from the document alone, so a Graph loaded from JSON
behaves like the one recorded.
"""
import copy
import html
import json
import sys
from collections import Counter

from . import schema


class Graph:
    """A graph document (see ``torchlite.graph.schema``) with helpers."""

    def __init__(self, doc=None, recorder=None):
        self._doc, self._recorder = doc, recorder

    # ---- data ---------------------------------------------------------------------------
    @property
    def doc(self):
        """The document itself (read-only by convention); live while recording, built once
        on first use after it."""
        rec = self._recorder
        if rec is not None:
            if rec.active:
                return rec.to_dict()
            self._doc, self._recorder = rec.to_dict(), None
        return self._doc

    @property
    def nodes(self):
        return self.doc["nodes"]

    @property
    def edges(self):
        return self.doc["edges"]

    @property
    def meta(self):
        return self.doc["meta"]

    @property
    def ops(self):
        """The op nodes (no leaves), in execution order."""
        return [n for n in self.nodes if n["kind"] == "op"]

    def op_names(self, phase=None):
        """The op names in order, e.g. ["MulBackward0", "AddBackward0", "SumBackward0"]."""
        return [n["op"] for n in self.ops if phase is None or n["phase"] == phase]

    def node(self, nid):
        for n in self.nodes:
            if n["id"] == nid:
                return n
        raise KeyError(f"no node with id {nid}")

    def __len__(self):
        return len(self.nodes)

    def to_dict(self):
        """A deep copy of the document (safe to modify)."""
        return copy.deepcopy(self.doc)

    def to_json(self, indent=None):
        return json.dumps(self.doc, indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d):
        """A Graph from a document, validated against the schema."""
        return cls(copy.deepcopy(schema.validate(d)))

    @classmethod
    def from_json(cls, text):
        return cls(schema.validate(json.loads(text)))

    def validate(self):
        schema.validate(self.doc)
        return self

    # ---- views --------------------------------------------------------------------------
    def subgraph(self, scope=None, phase=None):
        """The nodes inside module ``scope`` (and its nested scopes; None: all) of ``phase``
        ("forward" or "backward"; None: both), the leaves that feed them, and the edges between
        what is kept (inputs from ops outside keep their tensor refs but lose their edges).
        ``subgraph(phase="forward")`` is the forward pass alone, with the gradient statistics
        that reached its outputs."""
        if phase not in (None, "forward", "backward"):
            raise ValueError(f"subgraph(): phase must be 'forward', 'backward' or None, "
                             f"got {phase!r}")
        inside = {n["id"] for n in self.nodes
                  if (scope is None or n["scope"] == scope or n["scope"].startswith(scope + "."))
                  and (phase is None or n["phase"] == phase)}
        leaves = {n["id"] for n in self.nodes if n["kind"] != "op"}
        feeding = {e["src"] for e in self.edges if e["dst"] in inside} & leaves
        keep = inside | feeding
        doc = self.to_dict()
        doc["nodes"] = [n for n in doc["nodes"] if n["id"] in keep]
        doc["edges"] = [e for e in doc["edges"] if e["src"] in keep and e["dst"] in keep]
        if scope is not None:
            doc["scopes"] = {k: v for k, v in doc["scopes"].items()
                             if k == scope or k.startswith(scope + ".")}
        return Graph(doc)

    def diff(self, other):
        """What changed from this graph to ``other``: ops matched by (phase, scope, op name,
        occurrence); ``added``/``removed`` list nodes of one side only, ``changed`` pairs
        whose input or output shapes or dtypes differ."""
        mine, theirs = _keyed_ops(self), _keyed_ops(other)
        changed = []
        for key in mine.keys() & theirs.keys():
            a, b = mine[key], theirs[key]
            fields = [f for f in ("inputs", "outputs") if _signature(a[f]) != _signature(b[f])]
            if fields:
                changed.append({"before": a, "after": b, "fields": fields})
        return {"added": [theirs[k] for k in theirs.keys() - mine.keys()],
                "removed": [mine[k] for k in mine.keys() - theirs.keys()],
                "changed": sorted(changed, key=lambda c: c["before"]["id"])}

    # ---- debugging ----------------------------------------------------------------------
    def first_nonfinite(self):
        """The earliest op whose output has NaN/Inf (see ``debug.first_nonfinite``)."""
        from .debug import first_nonfinite
        return first_nonfinite(self)

    def error_node(self):
        """The op that raised (status "error"), or None."""
        return next((n for n in self.nodes if n["status"] == "error"), None)

    # ---- export -------------------------------------------------------------------------
    def to_dot(self, **kw):
        from .dot import to_dot
        return to_dot(self, **kw)

    def to_svg(self):
        from .dot import render_svg
        return render_svg(self)

    def save_html(self, path, **options):
        """Write this graph as one self-contained HTML page with the interactive view (offline:
        script and data inlined). Options as ``torchlite.viz.save_html``. Returns the path."""
        from ..viz import save_html
        return save_html(self, path, **options)

    def summary(self):
        """A few lines of text: node counts by phase and kind, bytes saved for backward,
        scopes, status, first ops."""
        ops = self.ops
        phases = Counter(n["phase"] for n in ops)
        meta = self.meta
        lines = [f"Graph ({self.doc['kind']}): {len(ops)} ops "
                 f"({phases.get('forward', 0)} forward, {phases.get('backward', 0)} backward), "
                 f"{_leaf_counts(self.nodes)}, {len(self.edges)} edges"]
        saving = [n["saved_bytes"] for n in ops if n.get("saved_bytes")]
        if saving:
            lines.append(f"  saved for backward: {sum(saving):,} bytes by {len(saving)} ops")
        if meta.get("dropped"):
            lines.append(f"  {meta['dropped']} oldest nodes dropped (max_nodes="
                         f"{meta['max_nodes']})")
        if meta.get("error"):
            lines.append(f"  stopped at an error: {meta['error']['type']}: "
                         f"{meta['error']['message'].splitlines()[0]}")
        if self.doc["scopes"]:
            lines.append("  scopes: " + ", ".join(sorted(self.doc["scopes"])[:12]))
        for n in ops[:20]:
            shapes = " ".join(str(r["shape"]) for r in n["outputs"])
            mark = "  !" if n["status"] == "error" else "   "
            lines.append(f"{mark} {n['id']:>4} {n['phase'][0]} {n['op']:<24} {shapes:<16} "
                         f"{n['scope']}")
        if len(ops) > 20:
            lines.append(f"    ... {len(ops) - 20} more")
        return "\n".join(lines)

    def __repr__(self):
        return self.summary()

    def _repr_html_(self):
        return f"<pre>{html.escape(self.summary())}</pre>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The interactive widget in a notebook when torchlite.viz is usable, else text and
        a static HTML summary."""
        if _in_notebook():
            try:
                from .. import viz
                view = viz.GraphView(self)
                bundle = view._repr_mimebundle_(include=include, exclude=exclude)
            except Exception:  # noqa: BLE001 - any failure of the widget: show the static view
                bundle = None
            if bundle:
                return bundle
        return {"text/plain": self.summary(), "text/html": self._repr_html_()}


def _in_notebook():
    """True inside a Jupyter kernel (checked without importing IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _leaf_counts(nodes):
    """"5 leaves" or "5 leaves (2 params, 1 buffer, 1 constant)": leaf nodes by kind."""
    kinds = Counter(n["kind"] for n in nodes if n["kind"] != "op")
    total = sum(kinds.values())
    named = [f"{kinds[k]} {k}{'s' if kinds[k] > 1 else ''}"
             for k in ("param", "buffer", "constant") if kinds[k]]
    return f"{total} leaves" + (f" ({', '.join(named)})" if named else "")


def _keyed_ops(graph):
    seen = Counter()
    out = {}
    for n in graph.ops:
        base = (n["phase"], n["scope"], n["op"])
        out[base + (seen[base],)] = n
        seen[base] += 1
    return out


def _signature(refs):
    return [(r.get("shape"), r.get("dtype")) if "tensor" in r else ("scalar",) for r in refs]
