"""The tutorials that teach with the widgets, run in JupyterLab (Run All Cells in a fresh
kernel): no cell raises, and each widget renders in the page and works: graphs drawn with the
right nodes, the stepper's chain rule with micrograd's numbers, dashboards that received the
whole run, the NaN origin and the failing op marked. Each test stays under about a minute.

The expected numbers come from the notebooks' own code, worked out by hand (a trace of
tanh(a * b + exp(b)) has 2 leaves and 4 ops; L = (a * b + c) * f at a=2, b=-3, c=10, f=-2 has
dL/da = f * b = 6, ...), or from what the notebook prints about the same objects."""
import re
import time

from playwright.sync_api import expect

from tests.browser.lab import (notebook_cells, open_notebook, report, run_all,
                               wait_until_done)

RUN_LIMIT_MS = 50_000   # Run All Cells to the last cell done


def _run(lab, page, tmp_path, name, check):
    t0 = time.time()
    try:
        open_notebook(page, lab, name)
        run_all(page)
        wait_until_done(page, RUN_LIMIT_MS)
        ran = time.time() - t0
        check(page, tmp_path)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise
    print(f"{name}: ran in {ran:.1f} s, checked in {time.time() - t0 - ran:.1f} s")
    assert page.external_requests == []


def _cells(page, code):
    """The cells whose code contains ``code`` (a string or a regular expression)."""
    return notebook_cells(page).filter(
        has=page.locator(".jp-InputArea-editor", has_text=code))


def _cell(page, code):
    """The one cell whose code contains ``code``."""
    cell = _cells(page, code)
    expect(cell).to_have_count(1)
    return cell


def _widget(page, code, selector=".tlv-root"):
    """The widget ``selector`` shown by the one cell whose code contains ``code``."""
    cell = _cells(page, code).filter(has=page.locator(selector))
    expect(cell).to_have_count(1, timeout=15_000)
    return cell.locator(selector)


def _output(cell):
    return cell.locator(".jp-OutputArea-output")


def _graph_drawn(root, nodes=None):
    """The view is drawn: as many SVG nodes as its counter says are shown (``nodes`` when
    given, also the graph's total)."""
    expect(root.locator("svg.tlv-svg")).to_be_visible(timeout=30_000)
    count = root.locator(".tlv-count")
    expect(count).to_have_text(re.compile(r"^\d+ shown / \d+ nodes$"))
    shown, total = (int(x) for x in re.findall(r"\d+", count.inner_text()))
    assert 0 < shown <= total
    expect(root.locator("svg g.node")).to_have_count(shown)
    if nodes is not None:
        assert shown == total == nodes, count.inner_text()
    return shown


def _points(dashboard, series):
    return dashboard.locator(f"path.tld-line[data-series='{series}']")


# ---- 00_tour ---------------------------------------------------------------------------------
def test_tour(lab, page, tmp_path):
    _run(lab, page, tmp_path, "00_tour.ipynb", _check_tour)


def _check_tour(page, tmp_path):
    heat = _widget(page, "bump.viz()", ".tl-tensor-view img")
    expect(heat).to_be_visible()
    expect(heat).to_have_attribute("height", re.compile(r"^[1-9]\d*$"))

    # tanh(a * b + exp(b)): leaves a and b, ops mul, exp, add, tanh
    graph = _widget(page, "torch.graph.trace(y")
    _graph_drawn(graph, nodes=6)
    graph.locator("g.node", has_text="Tanh").click()
    expect(graph.locator(".tlv-inspector tr[data-key='op'] td")).to_have_text("TanhBackward0")

    # the dashboard got all 300 steps of loss and accuracy
    dash = _widget(page, "dash = TrainingDashboard(", ".tld-root")
    expect(_points(dash, "loss")).to_have_attribute("data-points", "300", timeout=15_000)
    expect(_points(dash, "accuracy")).to_have_attribute("data-points", "300")
    expect(dash.locator("tr[data-param]")).to_have_count(6)        # 3 Linear layers
    dash.screenshot(path=str(tmp_path / "tour_dashboard.png"))

    # the graph of one step opens on the forward pass with the model's scopes
    step = _widget(page, 'torch.viz.show(g, phase="forward")')
    expect(step.locator("button.tlv-phase[data-phase='forward']")).to_have_attribute(
        "aria-pressed", "true")
    forward = _graph_drawn(step)
    expect(step.locator("g.cluster[data-scope='model']")).to_have_count(1)
    step.screenshot(path=str(tmp_path / "tour_step.png"))
    step.locator("button.tlv-phase[data-phase='both']").click()     # the backward ops join
    expect(step.locator("svg g.node")).not_to_have_count(forward)
    assert _graph_drawn(step) > forward


# ---- 02_backprop_from_scratch ----------------------------------------------------------------
def test_backprop_from_scratch(lab, page, tmp_path):
    _run(lab, page, tmp_path, "02_backprop_from_scratch.ipynb", _check_backprop)


def _check_backprop(page, tmp_path):
    # L = (a * b + c) * f: 4 leaves, 3 ops
    _graph_drawn(_widget(page, "view = torch.viz.show(torch.graph.trace(L"),
                 nodes=7)

    stepper = _widget(page, "stepper = BackpropStepper(", ".tlv-stepper")
    panel = stepper.locator(".tlv-stepper-panel")
    expect(stepper.locator("svg g.node")).to_have_count(7, timeout=30_000)
    expect(panel).to_have_attribute("data-step", "0")
    for k, op in enumerate(["MulBackward0", "AddBackward0", "MulBackward0"], start=1):
        stepper.locator("button.tlv-next").click()
        expect(panel).to_have_attribute("data-step", str(k))
        expect(stepper.locator(".tlv-stepper-title")).to_have_text(f"step {k} / 3: {op}")
        expect(stepper.locator("g.node.tlv-current")).to_have_count(1)
        expect(stepper.locator("g.edge text")).to_have_count(2 * k)   # gradients so far
    by_hand = {"a": "6", "b": "-4", "c": "-2", "f": "4"}   # f*b, f*a, f, a*b + c
    for name, grad in by_hand.items():
        expect(panel.locator(f".tlv-leaf-grads tr[data-key='{name}'] td.tlv-grad")).to_have_text(
            grad)
    stepper.screenshot(path=str(tmp_path / "backprop_stepper.png"))

    # the neuron: 5 leaves (x1, x2, w1, w2, b) and mul, mul, add, add, tanh
    _graph_drawn(_widget(page, "view = torch.viz.show(torch.graph.trace(o"),
                 nodes=10)

    mlp = _widget(page, 'torch.viz.show(g, phase="backward")')
    expect(mlp.locator("button.tlv-phase[data-phase='backward']")).to_have_attribute(
        "aria-pressed", "true")
    _graph_drawn(mlp)
    mlp.screenshot(path=str(tmp_path / "backprop_mlp.png"))


# ---- 06_debugging ----------------------------------------------------------------------------
def test_debugging(lab, page, tmp_path):
    _run(lab, page, tmp_path, "06_debugging.ipynb", _check_debugging)


def _check_debugging(page, tmp_path):
    # the NaN origin: the op first_nonfinite() names is announced, marked and inspectable
    found = _output(_cell(page, 'print("op:          ", found["op"]')).first.inner_text()
    nan_op = re.search(r"op: +(\w+)", found)[1]
    shown_last = _cells(page, re.compile(r"GraphView\(g\)$"))   # NaN graph, then error graph
    expect(shown_last).to_have_count(2)
    nan_view = shown_last.first.locator(".tlv-root")
    _graph_drawn(nan_view)
    banner = nan_view.locator(".tlv-nan")
    expect(banner).to_contain_text(f"NaN/Inf first appears at {nan_op}")
    banner.click()
    inspector = nan_view.locator(".tlv-inspector")
    expect(inspector.locator("tr[data-key='op'] td")).to_have_text(nan_op)
    expect(inspector.locator("tr[data-key='nan / inf'] td").first).not_to_have_text("0 / 0")
    origin = nan_view.locator("g.node.tlv-selected")
    expect(origin).to_have_count(1)
    assert origin.locator("polygon, path, ellipse").count() >= 2     # doubled outline
    nan_view.screenshot(path=str(tmp_path / "debugging_nan.png"))

    # vanishing gradients: the first dashboard saw all 200 steps and raised alerts; the graph
    # coloured by gradient magnitude shows its legend
    dashboards = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .tld-root")
    expect(dashboards).to_have_count(4)
    expect(_points(dashboards.first, "loss")).to_have_attribute("data-points", "200",
                                                               timeout=15_000)
    assert dashboards.first.locator(".tld-alert").count() >= 1
    grad_view = _widget(page, 'GraphView(g, color_by="grad")')
    _graph_drawn(grad_view)
    expect(grad_view.locator("select.tlv-color")).to_have_value("grad")
    expect(grad_view.locator(".tlv-legend")).to_contain_text("large |grad|")

    # the shape error: the failing op named in the notebook is marked and explained
    failing = _output(_cell(page, 'print("failing op:"')).first.inner_text()
    bad_op = re.search(r"failing op: (\S+)", failing)[1]
    error_view = shown_last.last.locator(".tlv-root")
    _graph_drawn(error_view)
    failed = error_view.locator(".tlv-failed")
    expect(failed).to_contain_text(f"{bad_op} raised")
    failed.click()
    expect(error_view.locator(".tlv-inspector tr[data-key='error'] td")).to_contain_text(
        "shapes cannot be multiplied")
    expect(error_view.locator("g.node.tlv-selected polygon")).not_to_have_count(0)   # octagon
    error_view.screenshot(path=str(tmp_path / "debugging_failed.png"))
