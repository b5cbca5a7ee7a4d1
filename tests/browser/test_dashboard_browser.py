"""TrainingDashboard in a real browser: dashboard_smoke.ipynb run in JupyterLab; the loss curve's
point count grows in the page while the training cell runs, the final count and the planted
NaN alert arrive, the parameter table lists the model's parameters and the TensorView's
heatmap shows."""
import time

from playwright.sync_api import expect

from tests.browser.lab import notebook_cells, open_notebook, report, run_all


def test_dashboard_updates_during_training(lab, page, tmp_path):
    try:
        _watch_training(lab, page, tmp_path)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise
    assert page.external_requests == []


def _points(line):
    return int(line.get_attribute("data-points") or 0) if line.count() else 0


def _watch_training(lab, page, tmp_path):
    open_notebook(page, lab, "dashboard_smoke.ipynb")
    run_all(page)

    root = page.locator(".tld-root")
    expect(root).to_be_visible(timeout=60_000)
    cells = notebook_cells(page)
    done = cells.nth(3).locator(".jp-OutputArea-output")
    line = root.locator("path.tld-line[data-series='loss']")
    seen, t0 = [], time.time()
    while "TRAINED=" not in (done.inner_text() if done.count() else ""):
        n = _points(line)
        if not seen or n != seen[-1]:
            seen.append(n)
        if len(seen) == 3:
            root.screenshot(path=str(tmp_path / "dashboard_training.png"))
        assert time.time() - t0 < 90, f"training cell did not finish; counts seen {seen}"
        time.sleep(0.05)
    # during the run the page received several appends, each adding points
    growing = [n for n in seen if 0 < n < 81]
    assert len(growing) >= 3, seen
    assert growing == sorted(growing)
    expect(line).to_have_attribute("data-points", "81", timeout=30_000)
    expect(root.locator("path.tld-line[data-series='lr']")).to_have_attribute(
        "data-points", "80")
    assert line.get_attribute("d").startswith("M")
    expect(root.locator(".tld-alert")).to_have_count(1)
    expect(root.locator(".tld-alert")).to_contain_text("step 80: nonfinite loss (nan)")
    expect(root.locator("tr[data-param]")).to_have_count(4)
    expect(root.locator("svg.tld-strip")).to_have_attribute("data-columns", "17")
    root.screenshot(path=str(tmp_path / "dashboard_done.png"))
    view = cells.nth(4).locator(".tl-tensor-view")
    expect(view).to_contain_text("tensor[64, 8] f32 n=512")
    expect(view.locator("img")).to_have_attribute("height", "256")   # 64 rows drawn 4x
