"""The README's main job, end to end: `bash scripts/start_lab.sh` installs, builds the widgets,
starts JupyterLab on 127.0.0.1 and prints the tour's URL; that URL opens the tour notebook."""
import os
import re
import signal
import subprocess
import time

import torchlite

from .conftest import ROOT, _wait_for

URL = re.compile(r"The torchlite tour: (http://127\.0\.0\.1:\d+/lab/tree/00_tour\.ipynb\?token=\w+)")


def _tour_url(proc, log, limit=300):
    t0 = time.time()
    while time.time() - t0 < limit:
        found = URL.search(log.read_text())
        if found:
            return found.group(1)
        assert proc.poll() is None, (f"start_lab.sh exited ({proc.returncode}):\n"
                                     f"{log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"no tour URL after {limit} s:\n{log.read_text()[-3000:]}")


def test_start_lab_opens_the_tour(page, tmp_path):
    log = tmp_path / "start_lab.log"
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), DISPLAY="", WAYLAND_DISPLAY="")
    with open(log, "w") as out:
        proc = subprocess.Popen(["bash", "scripts/start_lab.sh"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = _tour_url(proc, log)   # printed before the server listens
        _wait_for(url.replace("/lab/tree/00_tour.ipynb", "/api/status"), proc, log)
        page.goto(url)
        heading = page.locator(".jp-NotebookPanel .jp-RenderedMarkdown h1").first
        heading.wait_for(timeout=60_000)
        assert heading.inner_text().startswith("A tour of torchlite")
        # the stored output of the first code cell, rendered
        page.locator(".jp-OutputArea-output", has_text=f"torchlite {torchlite.__version__}"
                     ).first.wait_for(timeout=30_000)
        assert page.external_requests == []
    finally:
        os.killpg(proc.pid, signal.SIGTERM)   # the script's own process group only
        proc.wait(30)
