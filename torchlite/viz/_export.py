"""``save_html``: a self-contained page (bundle and data inlined; no CDN, no require.js)."""
import html
import json
import re
from pathlib import Path

from ._data import COLOR_MODES, PHASES, default_collapsed, graph_document
from ._static import STANDALONE_BUNDLE, bundle

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>body {{ margin: 16px; font-family: system-ui, sans-serif; }}</style>
</head>
<body>
<h3>{title}</h3>
<div id="torchlite-graph"></div>
<script type="application/json" id="torchlite-graph-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""


def save_html(graph, path, *, title="torchlite graph", phase="both", color_by="family",
              collapsed=None):
    """Write ``graph`` (a Graph, document or tensor) as one HTML file that shows the
    interactive view in any browser, offline. Returns the path."""
    if phase not in PHASES or color_by not in COLOR_MODES:
        raise ValueError(f"phase must be one of {PHASES} and color_by one of {COLOR_MODES}, "
                         f"got {phase!r} and {color_by!r}")
    doc = graph_document(graph)
    state = {"graph": doc, "phase": phase, "color_by": color_by, "selected": "",
             "collapsed": default_collapsed(doc) if collapsed is None else list(collapsed)}
    # "<" escaped so that the JSON cannot close its script element
    data = json.dumps(state, separators=(",", ":")).replace("<", "\\u003c")
    script = re.sub(r"</(script)", r"<\\/\1", bundle(STANDALONE_BUNDLE).read_text("utf-8"),
                    flags=re.IGNORECASE)
    path = Path(path)
    path.write_text(PAGE.format(title=html.escape(title), data=data, script=script), "utf-8")
    return path
