"""Turning what the user passes (Graph, document, JSON, tensor) into a graph document."""
import json
from collections import Counter

PHASES = ("forward", "backward", "both")
COLOR_MODES = ("family", "device", "grad")
COLLAPSE_ABOVE = 150  # a graph with more nodes starts with its deep scopes collapsed


def graph_document(obj):
    """The JSON graph document (schema ``torchlite.graph``) of a Graph, a dict, JSON text, or a
    tensor (``torchlite.graph.trace(tensor)``). Dicts and text are validated; a Graph's document
    (valid by construction) is used as it is, not copied: the views only read it."""
    from torchlite.graph import Graph, trace
    if isinstance(obj, str):
        obj = json.loads(obj)
    elif not isinstance(obj, dict) and hasattr(obj, "grad_fn"):
        obj = trace(obj)
    if isinstance(obj, Graph):
        return obj.doc
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if not isinstance(obj, dict):
        raise TypeError(f"expected a Graph, a graph document (dict or JSON text) or a Tensor, "
                        f"got {type(obj).__name__}")
    from torchlite.graph.schema import validate
    return validate(obj)


def scope_prefixes(scope):
    """"a.b.c" -> ["a", "a.b", "a.b.c"] ("" has none)."""
    parts = scope.split(".") if scope else []
    return [".".join(parts[:i + 1]) for i in range(len(parts))]


def default_collapsed(doc, limit=COLLAPSE_ABOVE):
    """Scopes to collapse at first so that at most ``limit`` boxes are drawn: all scopes at the
    deepest level that achieves it (none for a small graph; the top level at worst)."""
    nodes = doc.get("nodes", [])
    if len(nodes) <= limit:
        return []
    counts = Counter(n.get("scope", "") for n in nodes)          # few scopes, many nodes
    scopes = [(scope_prefixes(s), k) for s, k in counts.items()]
    for depth in range(max(len(p) for p, _ in scopes), 0, -1):
        at_depth = {p[depth - 1] for p, _ in scopes if len(p) >= depth}
        boxes = len(at_depth) + sum(k for p, k in scopes if len(p) < depth)
        if boxes <= limit:
            return sorted(at_depth)
    return sorted({p[0] for p, _ in scopes if p})
