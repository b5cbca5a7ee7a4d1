"""The browser tests' dashboard_smoke.ipynb runs top to bottom in a kernel (no browser needed)."""
import shutil

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the 'test' extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the 'test' extra)")

from .frontend import FIXTURE_NOTEBOOKS  # noqa: E402

NOTEBOOK = FIXTURE_NOTEBOOKS / "dashboard_smoke.ipynb"


def test_dashboard_smoke_notebook_runs(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert "TRAINED=81 ALERTS=1" in "".join(o.get("text", "") for o in outputs)
    mimes = [set(o.get("data", {})) for o in outputs]
    assert {"application/vnd.jupyter.widget-view+json", "text/plain"} <= mimes[0]
    assert mimes[-1] == {"text/html", "text/plain"}          # x.viz(): no widget needed
