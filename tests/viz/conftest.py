import json

import pytest

pytest.importorskip("anywidget", reason="torchlite.viz needs the 'lab' extra (anywidget)")

from .frontend import SAMPLE, ensure_bundle  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def bundle():
    ensure_bundle()


@pytest.fixture
def doc():
    """The widgets' sample document: ops in nested scopes, a NaN origin and a failing op."""
    return json.loads(SAMPLE.read_text())
