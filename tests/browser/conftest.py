"""A throwaway JupyterLab (127.0.0.1, free port, no token; stopped by its PID) and Debian's
headless Chromium driven by Playwright; every request that leaves 127.0.0.1 is blocked and
recorded (the tests assert the list stays empty: the widgets work offline)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "file://")

if not Path(CHROMIUM).is_file():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (scripts/setup_test_env.sh installs "
                "it with apt-get)", allow_module_level=True)
sync_playwright = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (the 'test' extra)").sync_playwright
pytest.importorskip("jupyterlab", reason="jupyterlab is not installed (the 'test' extra)")
pytest.importorskip("anywidget", reason="anywidget is not installed (the 'lab' extra)")

from tests.viz.frontend import ensure_bundle  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url, proc, log, limit=90):
    t0 = time.time()
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if proc.poll() is not None or time.time() - t0 > limit:
                raise RuntimeError(f"jupyter lab did not start, see {log}")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab serving a folder with the notebooks; yields {base, dir}."""
    ensure_bundle()
    run = tmp_path_factory.mktemp("lab")
    nb_dir = run / "nb"
    shutil.copytree(ROOT / "tests" / "browser" / "notebooks", nb_dir,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for tutorial in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(tutorial, nb_dir)
    settings = run / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)   # no news / update toasts over the page
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    notebook_settings = run / "settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)   # every cell in the DOM, on screen or not
    (notebook_settings / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    python_path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=python_path,
               JUPYTERLAB_SETTINGS_DIR=str(run / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(run / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(run / "runtime"))
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
           "--allow-root", "--LabApp.extension_manager=readonly",
           "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={nb_dir}",
           "--LabApp.news_url=None", "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log_path = run / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/api/status", proc, log_path)
            yield {"base": base, "dir": nb_dir}
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)   # only the server this fixture started
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        yield b
        b.close()


def _shut_down_kernels(base):
    """Stop the kernels the test started (every session of this test's Lab server)."""
    with urllib.request.urlopen(f"{base}/api/sessions", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/sessions/{s['id']}", method="DELETE"), timeout=10)


@pytest.fixture
def page(browser, request):
    """A page that blocks and records every request not to 127.0.0.1 (``external_requests``)
    and keeps the console (``console_log``) for failure reports; the kernels a test started
    in Lab are shut down after it (each test opens its notebook in a new workspace:
    ``lab.open_notebook``)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.external_requests, pg.console_log = [], []

    def guard(route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            pg.external_requests.append(route.request.url)
            route.abort()
    pg.route("**/*", guard)
    pg.on("console", lambda m: pg.console_log.append(f"{m.type}: {m.text}"[:400]))
    pg.on("pageerror", lambda e: pg.console_log.append(f"pageerror: {e}"[:400]))
    yield pg
    ctx.close()
    if "lab" in request.fixturenames:
        _shut_down_kernels(request.getfixturevalue("lab")["base"])
