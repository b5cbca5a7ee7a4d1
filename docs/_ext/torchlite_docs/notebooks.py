"""The tutorials: every ``notebooks/NN_*.ipynb`` brought into ``docs/tutorials/`` at build time.

The notebooks are committed executed and rendered from their stored outputs (myst-nb with
``nb_execution_mode = "off"``); ``docs/tutorials/`` is a build copy (git-ignored). The test
fixtures (``*_smoke.ipynb``) do not match the pattern.
"""
import shutil
from pathlib import Path

PATTERN = "[0-9][0-9]_*.ipynb"


def sync_tutorials(source, target):
    """Copy the tutorial notebooks of ``source`` into ``target`` (keeping their times, so that
    incremental builds reread only changed ones) and remove copies whose notebook is gone."""
    target.mkdir(exist_ok=True)
    wanted = {p.name: p for p in sorted(source.glob(PATTERN))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name, path in wanted.items():
        copy = target / name
        if not copy.exists() or copy.stat().st_mtime != path.stat().st_mtime:
            shutil.copy2(path, copy)
    return sorted(wanted)


def _on_builder_inited(app):
    source = Path(app.confdir, app.config.torchlite_notebooks).resolve()
    sync_tutorials(source, Path(app.srcdir, "tutorials"))


def setup(app):
    app.add_config_value("torchlite_notebooks", "../notebooks", "env")
    app.connect("builder-inited", _on_builder_inited)
