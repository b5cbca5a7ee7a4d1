"""A node's history over training steps in a real browser: history_smoke.ipynb trains with
TrainingDashboard(record_graph_every=5) and shows dash.graph_view(); clicking a parameter shows
one sparkline point per recorded step and the latest gradient norm Python computed; a backward
op says it has no history."""
import re

from playwright.sync_api import expect

from tests.browser.lab import notebook_cells, open_notebook, report, run_all


def test_selected_node_shows_its_history(lab, page, tmp_path):
    try:
        _history(lab, page, tmp_path)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise
    assert page.external_requests == []


def _history(lab, page, tmp_path):
    open_notebook(page, lab, "history_smoke.ipynb")
    run_all(page)
    facts = notebook_cells(page).nth(3).locator(".jp-OutputArea-output")
    expect(facts).to_contain_text("WEIGHT=", timeout=90_000)
    m = re.search(r"WEIGHT=(\d+) STEPS=\[(.*?)\] GRAD_NORM=(\S+) BACKWARD=(\d+)",
                  facts.inner_text())
    weight, steps, grad_norm, backward = m[1], m[2].split(", "), m[3], m[4]
    assert len(steps) == 4

    root = page.locator(".tlv-root")
    root.locator(f"g.node[data-node='{weight}']").click()
    history = root.locator(".tlv-inspector .tlv-history")
    expect(history).to_have_attribute("data-steps", str(len(steps)), timeout=30_000)
    expect(history.locator(".tlv-section-title")).to_have_text(
        f"history: 4 recorded steps {steps[0]}\u2013{steps[-1]}")
    for key in ("value mean", "value std", "grad norm", "grad mean"):
        row = history.locator(f"tr[data-key='{key}']")
        expect(row.locator("path")).to_have_attribute("data-points", str(len(steps)))
        assert row.locator("path").get_attribute("d").count("L") == len(steps) - 1
    expect(history.locator("tr[data-key='grad norm'] td").last).to_have_text(grad_norm)
    root.screenshot(path=str(tmp_path / "history.png"))

    root.locator(f"g.node[data-node='{backward}']").click()   # a backward-phase op
    expect(history).to_have_attribute("data-steps", "0")
    expect(history).to_contain_text("not recorded for this node")
