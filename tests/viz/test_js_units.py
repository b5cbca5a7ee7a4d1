"""Runs the front end's JavaScript unit tests (node's built-in test runner)."""
import shutil
import subprocess

import pytest

from .frontend import WIDGETS


def test_node_unit_tests():
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (bash scripts/setup_test_env.sh installs it)")
    done = subprocess.run(["node", "--test", "test/"], cwd=WIDGETS, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
