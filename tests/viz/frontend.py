"""The built front end for tests: builds widgets/ into torchlite/viz/static/ when a bundle is
missing or older than its sources and Node.js is there (``scripts/setup_test_env.sh`` normally
did it already)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from torchlite.viz._static import BUNDLES

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "widgets"
FIXTURE_NOTEBOOKS = ROOT / "tests" / "browser" / "notebooks"  # opened by the browser tests
SAMPLE = WIDGETS / "test" / "sample_graph.json"


def _sources_mtime():
    sources = [*(WIDGETS / "src").iterdir(), WIDGETS / "build.mjs", WIDGETS / "package-lock.json"]
    return max(p.stat().st_mtime for p in sources if p.is_file())


def bundles_current():
    """Every bundle build.mjs writes exists and is newer than every source file."""
    if not all(b.is_file() for b in BUNDLES):
        return False
    return min(b.stat().st_mtime for b in BUNDLES) >= _sources_mtime()


def ensure_bundle():
    """Build the bundles if needed; skip (with the reason) only when Node.js is missing."""
    if bundles_current():
        return
    if shutil.which("npm") is None:
        if all(b.is_file() for b in BUNDLES):
            return   # stale but usable: the sources cannot be rebuilt here
        pytest.skip("the widget bundle is not built and Node.js/npm is not installed "
                    "(bash scripts/setup_test_env.sh installs and builds it)")
    if not (WIDGETS / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WIDGETS, check=True)
    subprocess.run(["npm", "run", "-s", "build"], cwd=WIDGETS, check=True)
