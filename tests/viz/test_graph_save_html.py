"""Graph.save_html: the issue's `graph.save_html("g.html")` spelling of viz.save_html."""
import json
import re

import torchlite as torch
from torchlite.graph import record


def test_graph_method_writes_the_offline_page_of_that_graph(tmp_path):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with record() as g:
        (x * 3).sum().backward()
    page = g.save_html(tmp_path / "g.html", title="step", phase="backward").read_text()
    assert "<title>step</title>" in page and not re.search(r"<script[^>]+src=", page)
    state = json.loads(re.search(r'id="torchlite-graph-data">(.*?)</script>', page, re.S).group(1))
    assert state["phase"] == "backward"
    recorded = [n["op"] for n in g.nodes if n["kind"] == "op"]
    assert [n["op"] for n in state["graph"]["nodes"] if n["kind"] == "op"] == recorded
    assert "MulBackward0" in recorded and any(n["phase"] == "backward" for n in g.ops)
