"""Builds the docs site the way CI does: ``sphinx-build -W --keep-going -b html docs <out>``
(warnings are errors). Skips, saying why, only when Sphinx or myst-nb is not installed."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def require_sphinx():
    pytest.importorskip("sphinx", reason="Sphinx is not installed (the 'docs' or 'test' extra)")
    pytest.importorskip("myst_nb", reason="myst-nb is not installed (the 'docs' or 'test' extra)")
    pytest.importorskip("anywidget", reason="anywidget is not installed (the 'lab' extra): the "
                        "API reference documents torchlite.viz's widgets")


def build_docs(out):
    """Build the HTML site into ``out``; returns the seconds it took. Fails with the log."""
    require_sphinx()
    from tests.viz.frontend import ensure_bundle
    ensure_bundle()  # the static views' bundle is copied into the site
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q",
                           "-b", "html", str(DOCS), str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    assert done.returncode == 0, f"sphinx-build failed:\n{done.stdout[-5000:]}\n{done.stderr[-8000:]}"
    return seconds
