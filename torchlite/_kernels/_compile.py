"""Compiling and launching the CUDA C++ kernels of this package through CuPy's RawModule.

A family's file ``NAME.cu`` is compiled once per device with all its template instantiations
(``register(NAME, expressions)``) and cached; CuPy also keeps the binary on disk between runs.
"""
import functools
import importlib.util
import os
import pathlib
import sys

import numpy as np

KERNEL_DIR = pathlib.Path(__file__).parent
# NAME -> template instantiations ("row_softmax<float>", ...) compiled from NAME.cu
SOURCES = {}
# C++ element type of each dtype the kernels take
CTYPE = {"float32": "float", "float64": "double", "float16": "__half", "bfloat16": "__nv_bfloat16"}

_FUNCTIONS = {}


@functools.cache
def cuda_header_dir():
    """The folder of ``cuda_fp16.h`` / ``cuda_bf16.h``: the pip CUDA runtime's (CUDA 12's
    nvidia/cuda_runtime, CUDA 13's nvidia/cu13), else the toolkit's (``CUDA_PATH``,
    /usr/local/cuda); None where neither is installed."""
    candidates = []
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or ()) if spec is not None else ():
        candidates += [os.path.join(root, sub, "include") for sub in ("cuda_runtime", "cu13")]
    candidates += [os.path.join(os.environ.get("CUDA_PATH", "/usr/local/cuda"), "include")]
    return next((d for d in candidates if os.path.exists(os.path.join(d, "cuda_bf16.h"))), None)


def options():
    """NVRTC options of every kernel: C++17, this folder and the CUDA headers on the path."""
    dirs = [KERNEL_DIR] + [d for d in (cuda_header_dir(),) if d]
    return ("--std=c++17",) + tuple(f"-I{d}" for d in dirs)


def accumulation_dtype(dtype):
    """The NumPy dtype the kernels accumulate ``dtype`` in (common.cuh's Acc<T>): float64 for
    float64, else float32."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def register(name, expressions):
    """Declare ``NAME.cu`` and the instantiations ``expressions`` that launchers may ask for."""
    SOURCES[name] = tuple(expressions)


def source(name):
    """The CUDA C++ text of ``NAME.cu``."""
    return (KERNEL_DIR / f"{name}.cu").read_text()


def function(name, expression):
    """The compiled kernel ``expression`` of ``NAME.cu`` on the current device."""
    import cupy

    key = (name, expression, cupy.cuda.runtime.getDevice())
    fn = _FUNCTIONS.get(key)
    if fn is None:
        module = cupy.RawModule(code=source(name), options=options(),
                                name_expressions=SOURCES[name])
        for expr in SOURCES[name]:
            _FUNCTIONS[key[:1] + (expr,) + key[2:]] = module.get_function(expr)
        fn = _FUNCTIONS[key]
    return fn


def array_module(a):
    """numpy or cupy, whichever holds ``a``: launchers allocate with it, so that the CPU emulator
    (tests) can run them on NumPy arrays."""
    return sys.modules[type(a).__module__.partition(".")[0]]


def data_pointer(a):
    """The address of ``a``'s first element, for pointers a launcher packs into a struct: CuPy's
    device pointer, or NumPy's host pointer where the CPU emulator (tests) runs the kernels."""
    return a.data.ptr if array_module(a).__name__ == "cupy" else a.ctypes.data


def launch_on_device(name, expression, grid, block, args, shared_mem):
    """Run the kernel ``expression`` of ``NAME.cu`` through CuPy on the current stream."""
    function(name, expression)(grid, block, args, shared_mem=shared_mem)


# Where launch() sends kernels: the GPU; the CPU emulator of the tests (tests/kernels_emu) swaps
# in its own, which runs the same kernels on NumPy arrays.
LAUNCHER = launch_on_device


def launch(name, template, dtype, grid, block, args, shared_mem=0):
    """Run ``template<ctype of dtype>`` of ``NAME.cu`` on the current stream (no host sync)."""
    LAUNCHER(name, f"{template}<{CTYPE[dtype.name]}>", (grid,) if isinstance(grid, int) else grid,
             (block,) if isinstance(block, int) else block, args, shared_mem)
