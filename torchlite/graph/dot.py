"""DOT export of a Graph: ops as boxes, leaves as ellipses, module scopes as nested clusters.

``to_dot`` needs nothing installed: it returns a ``graphviz.Digraph`` when the graphviz
package is importable and the DOT source text otherwise. Rendering SVG needs Graphviz's
``dot`` binary; without it ``render_svg`` says so (the widgets lay graphs out in the browser
and need neither).
"""
import shutil
import subprocess

_FILL = {"leaf": "#dbe9f6", "param": "#d5f0d5", "buffer": "#e6e0f3", "constant": "#eeeeee",
         "forward": "#ffffff", "backward": "#fdf0d5", "error": "#f8c9c9"}


def quote(s):
    """A DOT double-quoted string (newlines become DOT's \\n)."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_line(n):
    shapes = ", ".join(str(tuple(r["shape"])) for r in n["outputs"])
    if n["kind"] == "op":
        text = f"{n['op']}\n{shapes}"
        fill = _FILL["error"] if n["status"] == "error" else _FILL[n["phase"]]
        shape = "box"
    else:
        text = f"{n['label']}\n{shapes}"
        fill, shape = _FILL[n["kind"]], "ellipse"
    return (f"n{n['id']} [label={quote(text)} shape={shape} style=filled "
            f"fillcolor={quote(fill)}]")


def dot_lines(graph, phase=None):
    """The statements of the DOT graph (without the enclosing ``digraph {}``)."""
    nodes = [n for n in graph.nodes if phase is None or n["phase"] == phase]
    kept = {n["id"] for n in nodes}
    lines = ['rankdir=TB', 'node [fontname="Helvetica" fontsize=10]']
    by_scope = {}
    for n in nodes:
        by_scope.setdefault(n["scope"], []).append(n)
    scopes = graph.doc["scopes"]
    lines += [_node_line(n) for n in by_scope.pop("", [])]
    lines += _clusters("", sorted(set(by_scope) | set(scopes)), by_scope, scopes, 0)
    for e in graph.edges:
        if e["src"] in kept and e["dst"] in kept:
            style = "" if e["requires_grad"] else " style=dashed"
            if e.get("kind") == "saved":  # a forward tensor read by backward: dotted, grey
                style = ' style=dotted color="#9e9e9e"'
            lines.append(f"n{e['src']} -> n{e['dst']} [tooltip={quote(e['tensor'])}{style}]")
    return lines


def _clusters(parent, paths, by_scope, scopes, depth):
    """Nested ``subgraph cluster_*`` blocks for the scopes directly under ``parent``."""
    out = []
    children = [p for p in paths if p.rpartition(".")[0] == parent and p]
    for path in children:
        inner = _clusters(path, paths, by_scope, scopes, depth + 1)
        own = [_node_line(n) for n in by_scope.get(path, [])]
        if not inner and not own:
            continue
        kind = scopes.get(path, {}).get("type", "")
        label = f"{path} ({kind})" if kind else path
        pad = "  " * (depth + 1)
        out.append(f"subgraph {quote('cluster_' + path)} {{")
        out.append(f"{pad}label={quote(label)} style=rounded color=\"#888888\"")
        out += [pad + line for line in own + inner]
        out.append("}")
    return out


def to_dot(graph, phase=None, name="torchlite"):
    """The graph in DOT: a ``graphviz.Digraph`` if the graphviz package is installed, else
    the source text. ``phase`` ("forward"/"backward") keeps only that phase's nodes."""
    lines = dot_lines(graph, phase)
    try:
        import graphviz
    except ImportError:
        return "digraph " + quote(name) + " {\n" + "".join(f"  {line}\n" for line in lines) + "}\n"
    return graphviz.Digraph(name=name, body=[f"\t{line}\n" for line in lines])


def render_svg(graph, phase=None):
    """SVG text of the graph laid out by Graphviz's ``dot`` binary."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "Graph.to_svg() needs the Graphviz 'dot' binary on PATH, which was not found "
            "(install Graphviz, e.g. 'apt-get install graphviz'); Graph.to_dot() and the "
            "torchlite.viz widgets work without it")
    src = to_dot(graph, phase)
    src = src if isinstance(src, str) else src.source
    return subprocess.run([dot, "-Tsvg"], input=src, capture_output=True, text=True,
                          check=True).stdout
