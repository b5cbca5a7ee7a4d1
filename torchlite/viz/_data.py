"""Turning what the user passes (Graph, document, JSON, tensor) into a graph document."""
import json

PHASES = ("forward", "backward", "both")
COLOR_MODES = ("family", "device", "grad")
COLLAPSE_ABOVE = 150  # a graph with more nodes starts with its deep scopes collapsed


def graph_document(obj):
    """The JSON graph document (schema ``torchlite.graph``) of a Graph (``to_dict()``), a dict,
    JSON text, or a tensor (``torchlite.graph.trace(tensor)``); validated when the schema is
    available."""
    if isinstance(obj, str):
        obj = json.loads(obj)
    elif hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    elif not isinstance(obj, dict) and hasattr(obj, "grad_fn"):
        from torchlite.graph import trace
        obj = trace(obj).to_dict()
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
    scopes = [scope_prefixes(n.get("scope", "")) for n in nodes]
    for depth in range(max(map(len, scopes)), 0, -1):
        at_depth = {p[depth - 1] for p in scopes if len(p) >= depth}
        boxes = len(at_depth) + sum(len(p) < depth for p in scopes)
        if boxes <= limit:
            return sorted(at_depth)
    return sorted({p[0] for p in scopes if p})
