"""Fixtures that run torchlite's CUDA kernels on NumPy arrays in the CPU emulator."""
import pytest

import torchlite._kernels as fused_kernels
from torchlite._kernels import _compile
from torchlite.nn.functional import _flash

from . import emulator


@pytest.fixture
def emulated(monkeypatch):
    """Route ``_compile.launch`` to the emulator for one test (skips where g++ is missing), so a
    family's launchers run on NumPy inputs. The fixture's value is the emulator module, whose
    ``launches`` lists the kernels (expressions) launched during the test."""
    reason = emulator.compiler_reason()
    if reason:
        pytest.skip(reason)
    launches = []

    def launcher(name, expression, grid, block, args, shared_mem):
        launches.append(expression)
        emulator.launch_registered(name, expression, grid, block, args, shared_mem)

    monkeypatch.setattr(_compile, "LAUNCHER", launcher)
    monkeypatch.setattr(emulator, "launches", launches, raising=False)
    return emulator


@pytest.fixture
def fused_ops(emulated, monkeypatch):
    """torchlite's ops take their fused-kernel branches on the CPU, launching in the emulator
    (``_kernels.disabled()`` still turns them off); the value is the emulator module. sdpa's
    score blocks take CuPy's layout (rows-first, C-contiguous: what the kernels read) rather
    than NumPy's keys-first one."""
    monkeypatch.setattr(fused_kernels, "fused", lambda xp: fused_kernels._STATE["enabled"])
    monkeypatch.setattr(_flash, "_keys_first", lambda xp: False)
    return emulated
