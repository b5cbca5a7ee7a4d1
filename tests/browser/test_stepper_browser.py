"""The BackpropStepper in a real browser: stepper_smoke.ipynb (micrograd's example) run in
JupyterLab; next/prev/play/reset clicked, the chain-rule panel, the highlighted node, the
gradient-labelled edges and the `step` synced back to Python checked; screenshots saved."""
from playwright.sync_api import expect

from tests.browser.lab import KERNEL_READY, notebook_cells, open_notebook, report, run_all

# (node op, grad in, grad -> first input, grad -> second input) for each step
EXPECTED = [("MulBackward0", "1", ("Add #4", "-2"), ("f", "4")),
            ("AddBackward0", "-2", ("Mul #2", "-2"), ("c", "-2")),
            ("MulBackward0", "-2", ("a", "6"), ("b", "-4"))]
LEAVES = [{"f": "4"}, {"f": "4", "c": "-2"}, {"f": "4", "c": "-2", "a": "6", "b": "-4"}]


def test_stepper_notebook(lab, page, tmp_path):
    try:
        _step_through(page, lab, tmp_path)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise
    assert page.external_requests == []


def _cell(key, root):
    return root.locator(f"tr[data-key='{key}'] td")


def _step_through(page, lab, tmp_path):
    open_notebook(page, lab, "stepper_smoke.ipynb")
    run_all(page)
    cells = notebook_cells(page)
    expect(cells.nth(4).locator(".jp-OutputArea-output")).to_contain_text(
        "BACKWARD=a:6 b:-4 c:-2 f:4", timeout=90_000)
    root = page.locator(".tlv-stepper")
    panel = root.locator(".tlv-stepper-panel")
    expect(root.locator("svg g.node")).to_have_count(7, timeout=60_000)   # 4 leaves, 3 ops
    expect(panel).to_have_attribute("data-step", "0")
    expect(root.locator(".tlv-leaf-grads td.tlv-value")).to_have_text(["2", "-3", "10", "-2"])
    expect(root.locator(".tlv-leaf-grads td.tlv-grad")).to_have_text(["0 (not yet)"] * 4)
    page.wait_for_function(KERNEL_READY)

    for k, (op, grad_in, out0, out1) in enumerate(EXPECTED, start=1):
        root.locator("button.tlv-next").click()
        expect(panel).to_have_attribute("data-step", str(k))
        expect(root.locator(".tlv-stepper-title")).to_have_text(f"step {k} / 3: {op}")
        expect(_cell("grad in", panel)).to_have_text(grad_in)
        expect(_cell("rule", panel)).to_contain_text("grad")
        for name, value in (out0, out1):
            expect(_cell(f"grad \u2192 {name}", panel)).to_have_text(value)
        for name, value in LEAVES[k - 1].items():
            leaf = panel.locator(f".tlv-leaf-grads tr[data-key='{name}'] td.tlv-grad")
            expect(leaf).to_have_text(value)
        expect(root.locator("g.node.tlv-current")).to_have_count(1)
        expect(root).to_have_attribute("data-rendered", str(k))
        expect(root.locator("g.edge text")).to_have_count(2 * k)   # gradient labels so far
        root.screenshot(path=str(tmp_path / f"stepper_step{k}.png"))
    expect(root.locator("g.node.tlv-current[data-node='2']")).to_have_count(1)
    expect(page.locator(".widget-label", has_text="python step:")).to_have_text("python step: 3")

    # Python sees the step; its leaf gradients equal L.backward()'s
    cell = cells.nth(3)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text(
        "STEPS=3 PY_STEP=3 LEAF_GRADS={'a': '6', 'b': '-4', 'c': '-2', 'f': '4'}", timeout=30_000)

    root.locator("button.tlv-next").click()          # clamped at the end
    expect(panel).to_have_attribute("data-step", "3")
    root.locator("button.tlv-prev").click()
    expect(root.locator(".tlv-stepper-title")).to_have_text("step 2 / 3: AddBackward0")
    expect(root.locator("g.edge text")).to_have_count(4)
    root.locator("button.tlv-reset").click()
    expect(panel).to_have_attribute("data-step", "0")
    expect(root.locator("g.edge text")).to_have_count(0)
    expect(root.locator("g.node.tlv-current")).to_have_count(0)
    root.locator("button.tlv-play").click()
    expect(panel).to_have_attribute("data-step", "3", timeout=15_000)
    expect(root.locator("button.tlv-play")).to_have_text("play")
    root.screenshot(path=str(tmp_path / "stepper_played.png"))
