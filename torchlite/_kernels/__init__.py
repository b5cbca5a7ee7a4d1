"""Fused CUDA kernels for training's hot paths, compiled once per device and cached.

An op asks ``fused(xp)``: true on cuda while fused kernels are enabled; the op then calls a launcher
of this package (``softmax``, ``layer_norm``, ...), which takes and returns CuPy arrays. On CPU, or
with fused kernels disabled, the op computes through ``xp`` as before, and that composed path is
the reference the fused kernels are tested against on a GPU.

The kernels are CUDA C++ files beside this module. Each family registers its file and its template
instantiations in ``SOURCES`` (``_compile.register``), so tests compile every kernel with NVRTC
even on a machine without a GPU.
"""
import contextlib
import os

_STATE = {"enabled": os.environ.get("TORCHLITE_FUSED_KERNELS", "1") != "0"}


def fused(xp):
    """True when ``xp`` is CuPy and fused kernels are enabled (``TORCHLITE_FUSED_KERNELS=0`` turns
    them off for a process, ``disabled()`` for a block)."""
    return _STATE["enabled"] and xp.__name__ == "cupy"


@contextlib.contextmanager
def disabled():
    """Run a block on the composed ``xp`` paths: the reference fused kernels are compared with."""
    before = _STATE["enabled"]
    _STATE["enabled"] = False
    try:
        yield
    finally:
        _STATE["enabled"] = before
