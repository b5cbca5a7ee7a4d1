"""The ``emulated`` fixture: torchlite's kernel launches run on NumPy arrays in the CPU emulator."""
import pytest

from torchlite._kernels import _compile

from . import emulator


@pytest.fixture
def emulated(monkeypatch):
    """Route ``_compile.launch`` to the emulator for one test (skips where g++ is missing), so a
    family's launchers run on NumPy inputs; the emulator module is the fixture's value."""
    reason = emulator.compiler_reason()
    if reason:
        pytest.skip(reason)
    monkeypatch.setattr(_compile, "LAUNCHER", emulator.launch_registered)
    return emulator
