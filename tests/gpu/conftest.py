"""Fixtures of the GPU tests."""
import pytest

from torchlite._kernels import _compile


@pytest.fixture
def launched(monkeypatch):
    """The kernel names launched through _compile.launch during a test (the real launches)."""
    names = []
    real = _compile.launch

    def spy(name, template, *args, **kwargs):
        names.append(template)
        return real(name, template, *args, **kwargs)
    monkeypatch.setattr(_compile, "launch", spy)
    return names
