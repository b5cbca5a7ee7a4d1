"""The built front end for tests: builds widgets/ into torchlite/viz/static/ when it is missing
and Node.js is there (``scripts/setup_test_env.sh`` normally did it already)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from torchlite.viz._static import STANDALONE_BUNDLE, WIDGET_BUNDLE

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"
SAMPLE = WIDGETS / "test" / "sample_graph.json"


def ensure_bundle():
    """Build the bundles if needed; skip (with the reason) only when Node.js is missing."""
    if WIDGET_BUNDLE.is_file() and STANDALONE_BUNDLE.is_file():
        return
    if shutil.which("npm") is None:
        pytest.skip("the widget bundle is not built and Node.js/npm is not installed "
                    "(bash scripts/setup_test_env.sh installs and builds it)")
    if not (WIDGETS / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WIDGETS, check=True)
    subprocess.run(["npm", "run", "-s", "build"], cwd=WIDGETS, check=True)
