"""Every fused CUDA kernel compiles with NVRTC for the GPU generations torchlite targets.

NVRTC needs no GPU, so this runs on CPU-only machines (CI installs cupy-cuda12x and NVIDIA's NVRTC
and runtime-header wheels with the test extra): a syntax or type error in a kernel, a missing
template instantiation, or a compiler warning fails here, before any GPU session.
"""
import importlib
import pkgutil

import pytest

import torchlite._kernels as kernels
from torchlite._kernels import _compile

from ._gpu import nvrtc_reason

for _module in pkgutil.iter_modules(kernels.__path__):
    importlib.import_module(f"{kernels.__name__}.{_module.name}")

# sm_80 (A100), sm_90 (H100 / H200)
ARCHS = ("compute_80", "compute_90")

pytestmark = pytest.mark.skipif(nvrtc_reason() is not None, reason=str(nvrtc_reason()))


def test_every_kernel_file_is_registered():
    files = {p.stem for p in _compile.KERNEL_DIR.glob("*.cu")}
    assert files == set(_compile.SOURCES)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", sorted(_compile.SOURCES))
def test_kernel_compiles_without_warnings(name, arch):
    from cupy_backends.cuda.libs import nvrtc

    program = nvrtc.createProgram(_compile.source(name), f"{name}.cu", [], [])
    try:
        for expression in _compile.SOURCES[name]:
            nvrtc.addNameExpression(program, expression)
        try:
            nvrtc.compileProgram(program, [f"-arch={arch}", *_compile.options()])
        except nvrtc.NVRTCError:
            pytest.fail(nvrtc.getProgramLog(program))
        log = nvrtc.getProgramLog(program).strip()
        assert "warning" not in log, log
        for expression in _compile.SOURCES[name]:
            assert nvrtc.getLoweredName(program, expression)
        assert nvrtc.getPTX(program).count(b".entry") == len(_compile.SOURCES[name])
    finally:
        nvrtc.destroyProgram(program)
