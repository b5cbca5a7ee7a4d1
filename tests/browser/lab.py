"""Driving JupyterLab from the browser tests: open a notebook in a workspace of its own, wait
until its kernel is really connected, run every cell, report a failure."""
import itertools

from playwright.sync_api import TimeoutError as PlaywrightTimeout

KERNEL_READY = """() => {
  const ctx = window.jupyterapp?.shell.currentWidget?.sessionContext;
  const k = ctx?.session?.kernel;
  return !!ctx?.isReady && k?.connectionStatus === 'connected' && k?.status === 'idle';
}"""
_WORKSPACES = itertools.count()


def open_notebook(page, lab, name, timeout=90_000):
    """Open ``name`` alone in a new, empty workspace (no tab left by an earlier test) and wait
    for its kernel: the toolbar shows "idle" before the kernel is connected, and a "Run All"
    clicked then is dropped."""
    page.goto(f"{lab['base']}/lab/workspaces/test{next(_WORKSPACES)}/tree/{name}?reset")
    page.wait_for_function(KERNEL_READY, timeout=timeout)


STARTED = r"""() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
  .some((p) => p.textContent.includes("[*]"))"""  # a cell queued or running


def run_all(page, tries=3):
    """Run All Cells from the menu; clicked again when no cell got queued (a click landing
    while Lab still settles is dropped)."""
    for _ in range(tries):
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(STARTED, timeout=10_000)
            return
        except PlaywrightTimeout:
            pass
    raise AssertionError(f"Run All Cells did not start the notebook after {tries} clicks")


DONE = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const k = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;
  return k?.status === 'idle' &&
    ![...panel.querySelectorAll('.jp-InputPrompt')].some((p) => p.textContent.includes('[*]'));
}"""


ERRORS = """() => {
  const errors = [];
  for (const cell of window.jupyterapp.shell.currentWidget.content.model.cells) {
    for (let i = 0; cell.type === 'code' && i < cell.outputs.length; i++) {
      const out = cell.outputs.get(i).toJSON();
      if (out.output_type === 'error') errors.push(`${out.ename}: ${out.evalue}`);
    }
  }
  return errors;
}"""  # the notebook model's error outputs (rendered like stderr, so read from the model)


def wait_until_done(page, timeout):
    """Wait until no cell is queued or running and the kernel is idle; then no cell may have
    raised."""
    page.wait_for_function(DONE, timeout=timeout)
    errors = page.evaluate(ERRORS)
    assert not errors, f"cells raised: {errors}"


def notebook_cells(page):
    """The cells of the notebook shown."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def report(page, shot):
    page.screenshot(path=str(shot))
    print("CONSOLE:", "\n".join(page.console_log[-30:]), "\nEXTERNAL:", page.external_requests)
