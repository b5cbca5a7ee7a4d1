"""The browser tests' fixture notebooks run top to bottom in a kernel (no browser needed), with
this checkout's torchlite first on the kernel's path."""
import os
import shutil

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the 'test' extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the 'test' extra)")

from .frontend import FIXTURE_NOTEBOOKS, ROOT  # noqa: E402


def _execute(name, tmp_path, monkeypatch):
    """Run a copy of the fixture notebook ``name`` in ``tmp_path``; returns its outputs."""
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    shutil.copy(FIXTURE_NOTEBOOKS / name, tmp_path)
    nb = nbformat.read(tmp_path / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    return [o for c in nb.cells for o in c.get("outputs", [])]


def _text(outputs):
    return "".join(o.get("text", "") for o in outputs)


def test_graph_smoke_runs_and_exports_its_page(tmp_path, monkeypatch):
    text = _text(_execute("graph_smoke.ipynb", tmp_path, monkeypatch))
    assert "NODES=" in text and "PY_SELECTED=''" in text
    assert (tmp_path / "graph_smoke.html").stat().st_size > 1_000_000


def test_dashboard_smoke_runs(tmp_path, monkeypatch):
    outputs = _execute("dashboard_smoke.ipynb", tmp_path, monkeypatch)
    assert "TRAINED=81 ALERTS=1" in _text(outputs)
    mimes = [set(o.get("data", {})) for o in outputs]
    assert {"application/vnd.jupyter.widget-view+json", "text/plain"} <= mimes[0]
    assert mimes[-1] == {"text/html", "text/plain"}          # x.viz(): no widget needed


def test_history_smoke_runs(tmp_path, monkeypatch):
    text = _text(_execute("history_smoke.ipynb", tmp_path, monkeypatch))
    assert "STEPS=[0, 5, 10, 15]" in text   # record_graph_every=5 over 20 steps
