"""A built tutorial page draws its graphs in a real browser from the file system, offline: the
static views (no kernel, no widget manager, no CDN) lay out the same Graphviz SVG as the widget,
and clicking a node opens the inspector."""
import pytest

from tests.docs.build import ROOT, build_docs
from tests.docs.test_docs_build import static_views

TUTORIALS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def graph_page(tmp_path_factory):
    """A built tutorial page that shows a GraphView, and the number of graph views on it."""
    site = tmp_path_factory.mktemp("site")
    build_docs(site)
    for name in TUTORIALS:
        path = site / "tutorials" / f"{name}.html"
        views = [v for v, _ in static_views(path.read_text("utf-8"))]
        if "graph" in views:
            return path, len(views)
    pytest.fail("no tutorial page shows a GraphView")


def test_tutorial_graph_renders_offline(page, graph_page):
    path, count = graph_page
    page.goto(path.as_uri())
    views = page.locator(".torchlite-static-view")
    assert views.count() == count
    graph = page.locator(".torchlite-static-view[data-view='graph']").first
    graph.scroll_into_view_if_needed()
    nodes = graph.locator("svg g.node")
    nodes.first.wait_for(state="visible", timeout=30_000)
    assert nodes.count() > 1
    nodes.first.click()
    assert graph.locator(".tlv-inspector").inner_text(timeout=5_000).strip()
    assert page.external_requests == [], page.external_requests
    assert not [m for m in page.console_log if m.startswith(("pageerror", "error"))], \
        page.console_log


def test_tutorial_stepper_steps_offline(page, graph_page):
    """Where a tutorial shows a BackpropStepper, its buttons step through the backward pass on
    the static page (the state lives in the page: no kernel)."""
    path, _ = graph_page
    site = path.parent
    pages = [p for p in sorted(site.glob("*.html"))
             if "stepper" in [v for v, _ in static_views(p.read_text("utf-8"))]]
    if not pages:
        pytest.skip("no tutorial shows a BackpropStepper")
    page.goto(pages[0].as_uri())
    stepper = page.locator(".torchlite-static-view[data-view='stepper']").first
    stepper.scroll_into_view_if_needed()
    stepper.locator("svg g.node").first.wait_for(state="visible", timeout=30_000)
    assert "step 0 /" in stepper.inner_text()
    stepper.get_by_role("button", name="next").click()
    page.wait_for_function("el => el.innerText.includes('step 1 /')",
                           arg=stepper.element_handle(), timeout=5_000)
    assert page.external_requests == [], page.external_requests
