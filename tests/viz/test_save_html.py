"""save_html: one self-contained page (bundle and data inlined, nothing fetched)."""
import json
import re

import pytest

from torchlite.viz import save_html


def test_page_is_self_contained(doc, tmp_path):
    path = save_html(doc, tmp_path / "g.html", title="my <graph>")
    page = path.read_text()
    assert "<title>my &lt;graph&gt;</title>" in page
    assert not re.search(r"<script[^>]+src=|<link|require\.js|jsdelivr|unpkg|cdnjs", page)
    assert page.count("<script") == page.count("</script>") == 2
    data = re.search(r'id="torchlite-graph-data">(.*?)</script>', page, re.DOTALL).group(1)
    state = json.loads(data)
    assert state["graph"] == doc
    assert (state["phase"], state["color_by"], state["collapsed"]) == ("both", "family", [])


def test_script_closing_tags_in_data_are_escaped(doc, tmp_path):
    doc["nodes"][1]["label"] = "</script><b>x"
    page = save_html(doc, tmp_path / "g.html").read_text()
    assert "</script><b>" not in page
    data = re.search(r'id="torchlite-graph-data">(.*?)</script>', page, re.DOTALL).group(1)
    assert json.loads(data)["graph"]["nodes"][1]["label"] == "</script><b>x"


def test_options_are_checked(doc, tmp_path):
    with pytest.raises(ValueError, match="phase must be one of"):
        save_html(doc, tmp_path / "g.html", phase="sideways")
