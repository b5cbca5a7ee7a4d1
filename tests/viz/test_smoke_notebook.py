"""The browser tests' graph_smoke.ipynb runs top to bottom in a kernel (no browser needed) and
exports its page."""
import shutil

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the 'test' extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the 'test' extra)")

from .frontend import FIXTURE_NOTEBOOKS  # noqa: E402

NOTEBOOK = FIXTURE_NOTEBOOKS / "graph_smoke.ipynb"


def test_graph_smoke_notebook_runs(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "NODES=" in text and "PY_SELECTED=''" in text
    assert (tmp_path / "graph_smoke.html").stat().st_size > 1_000_000
