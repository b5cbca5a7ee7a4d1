"""The tutorials: every ``notebooks/NN_*.ipynb`` brought into ``docs/tutorials/`` at build time.

The notebooks are committed executed and rendered from their stored outputs (myst-nb with
``nb_execution_mode = "off"``); ``docs/tutorials/`` is a build copy (git-ignored). The test
fixtures (``*_smoke.ipynb``) do not match the pattern. The copies drop nbval's marker
comments (``# NBVAL_CHECK_OUTPUT``), which are for CI, not for readers.
"""
import json
import os
import re
from pathlib import Path

PATTERN = "[0-9][0-9]_*.ipynb"
NBVAL_MARKER = re.compile(r"^# NBVAL_[A-Z_]+\n?", re.MULTILINE)


def sync_tutorials(source, target):
    """Copy the tutorial notebooks of ``source`` into ``target`` (rewriting only changed ones and
    keeping their times, so that incremental builds reread only those) and remove copies whose
    notebook is gone."""
    target.mkdir(exist_ok=True)
    wanted = {p.name: p for p in sorted(source.glob(PATTERN))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name, path in wanted.items():
        copy = target / name
        text = json.dumps(without_nbval_markers(json.loads(path.read_text("utf-8"))))
        if not copy.exists() or copy.read_text("utf-8") != text:
            copy.write_text(text, "utf-8")
            stat = path.stat()
            os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return sorted(wanted)


def without_nbval_markers(notebook):
    """The notebook (nbformat JSON) with nbval's marker lines removed from its code cells."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            cell["source"] = NBVAL_MARKER.sub("", source)
    return notebook


def _on_builder_inited(app):
    source = Path(app.confdir, app.config.torchlite_notebooks).resolve()
    sync_tutorials(source, Path(app.srcdir, "tutorials"))


def setup(app):
    app.add_config_value("torchlite_notebooks", "../notebooks", "env")
    app.connect("builder-inited", _on_builder_inited)
