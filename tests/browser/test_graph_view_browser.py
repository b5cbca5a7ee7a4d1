"""The GraphView in a real browser: graph_smoke.ipynb run in JupyterLab (SVG node count, click ->
inspector and `selected` synced to Python, scope collapse/expand) and the HTML export opened
standalone from file:// (phase toggle, colouring, tooltip, zoom, search, NaN origin, failing op)."""
import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.lab import KERNEL_READY, notebook_cells, open_notebook, report, run_all
from tests.viz.frontend import SAMPLE
from torchlite.viz import save_html

ROOT = Path(__file__).resolve().parents[2]
DOC_SHOT = ROOT / "docs" / "images" / "graph_widget.png"


def test_notebook_graph_view(lab, page, tmp_path):
    try:
        _notebook_round_trip(lab, page, tmp_path)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise
    assert page.external_requests == []


def _notebook_round_trip(lab, page, tmp_path):
    open_notebook(page, lab, "graph_smoke.ipynb")
    run_all(page)

    cells = notebook_cells(page)
    facts = cells.nth(3).locator(".jp-OutputArea-output")
    expect(facts).to_contain_text("NODES=", timeout=90_000)
    m = re.search(r"NODES=(\d+) FORWARD=(\d+) TARGET=(\d+) SHAPE=(\(.*?\))", facts.inner_text())
    nodes, forward, target, shape = int(m[1]), int(m[2]), m[3], m[4]
    root = page.locator(".tlv-root")
    expect(root.locator("svg g.node")).to_have_count(nodes, timeout=60_000)
    assert nodes > 20
    expect(cells.nth(5).locator(".jp-OutputArea-output")).to_contain_text("SAVED=")
    page.wait_for_function(KERNEL_READY)

    # click a node: the inspector shows its shape and Python sees the selection
    root.locator(f"g.node[data-node='{target}']").click()
    inspector = root.locator(".tlv-inspector")
    expect(inspector).to_be_visible()
    expect(inspector.locator("tr[data-key='shape'] td")).to_have_text(shape)
    expect(inspector.locator("tr[data-key='op'] td")).to_have_text("MmBackward0")
    expect(page.locator(".widget-label", has_text="python saw:")).to_have_text(
        f"python saw: {target}")
    cell = cells.nth(4)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")    # run in place
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text(
        f"PY_SELECTED='{target}' PY_SHAPE={shape}", timeout=30_000)
    root.screenshot(path=str(tmp_path / "graph_both_phases.png"))
    root.locator("button.tlv-phase[data-phase='forward']").click()   # the README's picture
    expect(root.locator("svg g.node")).to_have_count(forward)
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(tmp_path / "graph_widget.png"))
    if os.environ.get("TORCHLITE_UPDATE_DOC_SHOTS"):  # a run never dirties the checkout unasked
        shutil.copy(tmp_path / "graph_widget.png", DOC_SHOT)
    root.locator("button.tlv-phase[data-phase='both']").click()
    expect(root.locator("svg g.node")).to_have_count(nodes)

    # collapse a module scope by its cluster label, then expand it from the folded box
    scope = "Sequential.0"
    root.locator(f"g.cluster[data-scope='{scope}'] text.tlv-cluster-label").click()
    box = root.locator(f"g.node[data-scope='{scope}']")
    expect(box).to_have_count(1)
    expect(root.locator(f"g.cluster[data-scope='{scope}']")).to_have_count(0)
    collapsed_count = root.locator("svg g.node").count()
    assert collapsed_count < nodes
    root.screenshot(path=str(tmp_path / "collapsed.png"))
    box.click()
    expect(root.locator("svg g.node")).to_have_count(nodes)
    expect(root.locator(f"g.cluster[data-scope='{scope}']")).to_have_count(1)

    # the page the notebook exported opens standalone
    standalone = page.context.new_page()
    standalone.goto((lab["dir"] / "graph_smoke.html").as_uri())
    expect(standalone.locator(".tlv-root svg g.node")).to_have_count(nodes, timeout=30_000)
    standalone.screenshot(path=str(tmp_path / "export.png"))
    standalone.close()


@pytest.fixture
def sample_page(page, tmp_path):
    """The widgets' sample document (nested scopes, a NaN origin, a failing op) exported with
    save_html and opened from file://."""
    path = save_html(SAMPLE.read_text(), tmp_path / "sample.html")
    page.goto(path.as_uri())
    expect(page.locator(".tlv-root svg g.node")).to_have_count(8, timeout=30_000)
    yield page
    page.screenshot(path=str(tmp_path / "sample.png"))
    assert page.external_requests == []


def test_export_interactions(sample_page, tmp_path):
    page, root = sample_page, sample_page.locator(".tlv-root")
    try:
        _sample_interactions(page, root)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise


def _sample_interactions(page, root):
    nodes = root.locator("svg g.node")
    # NaN origin and failing op are announced and marked
    expect(root.locator(".tlv-nan")).to_contain_text("NaN/Inf first appears at LogBackward0")
    expect(root.locator(".tlv-failed")).to_contain_text("mat1 and mat2 shapes cannot be multiplied")
    root.locator(".tlv-nan").click()
    expect(root.locator(".tlv-inspector tr[data-key='op'] td")).to_have_text("LogBackward0")
    expect(root.locator(".tlv-inspector tr[data-key='nan / inf'] td")).to_have_text("1 / 0")
    assert root.locator("g.node[data-node='7'] polygon").count() >= 1     # octagon

    # hover tooltip: shape, dtype, device
    root.locator("g.node[data-node='2']").hover()
    expect(root.locator(".tlv-tooltip")).to_be_visible()
    expect(root.locator(".tlv-tooltip")).to_contain_text("shape (3,)\ndtype float32\ndevice cpu")

    # phase toggle
    root.locator("button.tlv-phase[data-phase='backward']").click()
    expect(nodes).to_have_count(1)
    root.locator("button.tlv-phase[data-phase='forward']").click()
    expect(nodes).to_have_count(7)
    root.locator("button.tlv-phase[data-phase='both']").click()
    expect(nodes).to_have_count(8)

    # colour by gradient magnitude: the weight (largest gradient) is red
    root.locator("select.tlv-color").select_option("grad")
    expect(root.locator(".tlv-legend")).to_contain_text("large |grad|")
    expect(root.locator("g.node[data-node='0'] ellipse")).to_have_attribute("fill", "#d32f2f")

    # zoom in, then fit again
    view_box = lambda: root.locator("svg.tlv-svg").get_attribute("viewBox")  # noqa: E731
    fitted = view_box()
    root.locator("button.tlv-zoom-in").click()
    zoomed = view_box()
    assert float(zoomed.split()[2]) < float(fitted.split()[2])
    root.locator("button.tlv-fit").click()
    assert view_box() == fitted

    # search highlights matches and dims the rest; Enter selects the first match
    root.locator("input.tlv-search").fill("exp")
    expect(root.locator("g.node.tlv-match")).to_have_count(1)
    expect(root.locator("g.node.tlv-dim")).to_have_count(7)
    root.locator("input.tlv-search").press("Enter")
    expect(root.locator(".tlv-inspector tr[data-key='op'] td")).to_have_text("ExpBackward0")
