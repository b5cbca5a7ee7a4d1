"""A CPU emulator for torchlite's CUDA kernels, so that their index math, bounds, reductions and
launchers are checked against NumPy before any GPU session.

g++ compiles the very same ``.cu`` file with ``include/cuda_emu.h`` (the CUDA dialect as host
C++: fibers for threads, a scheduler for barriers and warp ops) into one shared library per file,
cached by content hash. A launch passes each array argument in a guarded copy (memory ending at an
inaccessible page), so an access past an array's end is reported with the argument it belongs to,
and checks what CuPy would pass silently: every scalar must be a NumPy scalar of the C parameter's
exact type, every array C-contiguous with the pointee's dtype; None is a null pointer and a struct
parameter takes a 1-element structured array, as in CuPy.
"""
import ctypes
import functools
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading

import numpy as np

from torchlite._kernels import _compile

INCLUDE_DIR = pathlib.Path(__file__).parent / "include"
PACKAGE_HEADERS = pathlib.Path(_compile.__file__).parent  # common.cuh
FLAGS = ("-std=c++20", "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-U_FORTIFY_SOURCE",
         "-D_FORTIFY_SOURCE=0", "-w")
GRID_LIMITS = (2**31 - 1, 65535, 65535)
BLOCK_LIMITS = (1024, 1024, 64)
MAX_THREADS = 1024
MAX_DYNAMIC_SHARED = 48 << 10  # more needs cudaFuncAttributeMaxDynamicSharedMemorySize
MAX_BLOCKS = 1 << 22           # what a test may ask the emulator to run, not a CUDA limit
GUARD_BYTES = 64 << 10         # emu_launch.h's kGuardBytes

_LOCK = threading.Lock()       # one launch at a time: the runtime's state is per library, global


class KernelError(RuntimeError):
    """What a GPU reports as an error or leaves undefined: an invalid launch configuration, a
    memory fault, a barrier in divergent code, a warp op not every lane reaches."""


def compiler():
    """The C++ compiler the emulator uses ($CXX, else g++), or None where there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


def compiler_reason():
    """Why kernels cannot be emulated here (None where they can)."""
    return None if compiler() else (f"{os.environ.get('CXX', 'g++')} not found: the CUDA kernel "
                                    "emulator compiles with g++ ($CXX)")


@functools.cache
def _compiler_version():
    return subprocess.run([compiler(), "--version"], capture_output=True, text=True,
                          check=True).stdout


def _cache_dir():
    path = pathlib.Path(os.environ.get("TORCHLITE_EMU_CACHE")
                        or pathlib.Path(tempfile.gettempdir()) / "torchlite-kernels-emu")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wrapper(path, expressions):
    """The translation unit: the kernel source, then two C entry points per instantiation."""
    lines = [f'#include "{path}"', '#include "emu_launch.h"']
    for i, expression in enumerate(expressions):
        lines += [
            (f"EMU_EXPORT int emu_launch_{i}(const unsigned* grid, const unsigned* block, "
             f"size_t shared, void** args, unsigned long long seed) {{"),
            f"    return emu::launch(&{expression}, grid, block, shared, args, seed);", "}",
            f"EMU_EXPORT const char* emu_signature_{i}() {{",
            f"    return emu::signature(&{expression});", "}"]
    return "\n".join(lines) + "\n"


def _build(path, expressions):
    """The shared library of ``path`` with ``expressions``, compiled unless cached."""
    wrapper = _wrapper(path, expressions)
    digest = hashlib.sha256("\0".join((wrapper, _compiler_version(), *FLAGS)).encode())
    headers = [*INCLUDE_DIR.glob("*.h"), *path.parent.glob("*.cuh"),
               *PACKAGE_HEADERS.glob("*.cuh")]
    for file in [path, *sorted(set(headers))]:
        digest.update(file.read_bytes())
    library = _cache_dir() / f"{path.stem}-{digest.hexdigest()[:20]}.so"
    if not library.exists():
        with tempfile.TemporaryDirectory(dir=library.parent) as tmp:
            source, output = pathlib.Path(tmp, "wrapper.cpp"), pathlib.Path(tmp, library.name)
            source.write_text(wrapper)
            command = [compiler(), *FLAGS, "-include", "cuda_emu.h", f"-I{INCLUDE_DIR}",
                       f"-I{PACKAGE_HEADERS}", str(source), "-o", str(output)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode:
                raise RuntimeError(f"g++ could not compile {path.name} for the emulator:\n"
                                   f"{done.stderr[-6000:]}")
            os.replace(output, library)
    return library


def _parameter_names(source, kernel):
    """The parameter names of ``__global__ void kernel(...)`` in ``source`` (None if not found)."""
    found = re.search(rf"__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s*)?{kernel}\s*"
                      r"\(([^)]*)\)", source)
    if not found:
        return None
    return [re.findall(r"\w+", p)[-1] for p in found.group(1).split(",") if p.strip()]


def _dims(value, limits, what):
    dims = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    dims = dims + (1,) * (3 - len(dims))
    if len(dims) != 3 or not all(isinstance(d, (int, np.integer)) and 1 <= d <= m
                                 for d, m in zip(dims, limits)):
        raise KernelError(f"invalid {what} {value!r}: each dimension must be an int in 1..limit "
                          f"{limits} (CUDA: invalid configuration argument)")
    return dims


class Kernel:
    """One instantiation (``row_softmax<float>``) of a compiled ``.cu`` file."""

    def __init__(self, library, index, expression, names):
        self.library, self.expression = library, expression
        self._launch = getattr(library.cdll, f"emu_launch_{index}")
        self._launch.argtypes = [ctypes.POINTER(ctypes.c_uint)] * 2 + [
            ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p), ctypes.c_ulonglong]
        self._launch.restype = ctypes.c_int
        signature = getattr(library.cdll, f"emu_signature_{index}")
        signature.restype = ctypes.c_char_p
        self.types = signature().decode().split(",") if signature() else []
        self.names = names if names and len(names) == len(self.types) else \
            [f"arg{i}" for i in range(len(self.types))]

    def _describe(self, i):
        return f"argument {i} '{self.names[i]}' ({self.types[i]}) of {self.expression}"

    def __call__(self, grid, block, args, shared_mem=0, seed=0):
        """Run the kernel on NumPy ``args`` like CuPy's ``kernel(grid, block, args,
        shared_mem=...)``; ``seed`` picks the order threads and blocks run in."""
        grid, block = _dims(grid, GRID_LIMITS, "grid"), _dims(block, BLOCK_LIMITS, "block")
        if np.prod(block) > MAX_THREADS:
            raise KernelError(f"block {block} has more than {MAX_THREADS} threads")
        if np.prod(grid, dtype=np.int64) > MAX_BLOCKS:
            raise ValueError(f"grid {grid}: more than {MAX_BLOCKS} blocks is too slow to emulate")
        if not 0 <= shared_mem <= MAX_DYNAMIC_SHARED:
            raise KernelError(f"shared_mem={shared_mem}: more than {MAX_DYNAMIC_SHARED} bytes of "
                              "dynamic shared memory needs "
                              "cudaFuncAttributeMaxDynamicSharedMemorySize")
        args = tuple(args)
        if len(args) != len(self.types):
            raise TypeError(f"{self.expression} takes {len(self.types)} arguments "
                            f"({', '.join(self.names)}), got {len(args)}")
        with _LOCK, _Arguments(self, args) as argv:
            failed = self._launch((ctypes.c_uint * 3)(*grid), (ctypes.c_uint * 3)(*block),
                                  shared_mem, argv.pointers, seed)
            if failed:
                raise KernelError(f"{self.expression}: {argv.explain_fault()}")
            argv.check_underruns()
            argv.copy_back()


class _Arguments:
    """The ``void**`` of a launch: scalars in NumPy's width, arrays as guarded copies."""

    def __init__(self, kernel, args):
        self.kernel, self.args = kernel, args
        self.cdll = kernel.library.cdll
        self.regions = []  # [array, guarded address, argument indices]
        self.values = []   # keeps the scalars' buffers alive
        self.pointers = (ctypes.c_void_p * max(len(args), 1))()
        self.addresses = (ctypes.c_void_p * max(len(args), 1))()

    def __enter__(self):
        try:
            for i, (arg, ctype) in enumerate(zip(self.args, self.kernel.types)):
                if ctype.endswith("*"):
                    self.addresses[i] = None if arg is None else self._guarded(i, arg, ctype[:-1])
                    self.pointers[i] = ctypes.addressof(self.addresses) + i * ctypes.sizeof(
                        ctypes.c_void_p)
                elif ctype.startswith("struct:"):
                    self.pointers[i] = self._struct(i, arg, int(ctype.partition(":")[2]))
                else:
                    self.pointers[i] = self._scalar(i, arg, ctype)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for array, address, _ in self.regions:
            self.cdll.emu_guarded_free(ctypes.c_void_p(address), ctypes.c_size_t(array.nbytes))
        self.regions = []

    def _scalar(self, i, arg, ctype):
        if not isinstance(arg, np.generic):
            raise TypeError(f"{self.kernel._describe(i)}: got {type(arg).__name__} {arg!r}; pass "
                            f"np.{ctype}(...), a scalar of the C parameter's width")
        if arg.dtype.name != ctype:
            raise TypeError(f"{self.kernel._describe(i)}: got np.{arg.dtype.name} {arg!r}; pass "
                            f"np.{ctype}(...)")
        value = np.array(arg)
        self.values.append(value)
        return value.ctypes.data

    def _struct(self, i, arg, size):
        """A struct by value: a 1-element structured array of the struct's size (as CuPy)."""
        if not (isinstance(arg, np.ndarray) and arg.size == 1 and arg.dtype.names):
            raise TypeError(f"{self.kernel._describe(i)}: got {type(arg).__name__}; pass a "
                            "1-element array of a structured dtype with the struct's layout")
        if arg.itemsize != size:
            raise TypeError(f"{self.kernel._describe(i)}: the struct has {size} bytes, the array's "
                            f"dtype {arg.itemsize}")
        value = np.ascontiguousarray(arg)
        self.values.append(value)
        return value.ctypes.data

    def _guarded(self, i, arg, element):
        if not isinstance(arg, np.ndarray):
            raise TypeError(f"{self.kernel._describe(i)}: got {type(arg).__module__}."
                            f"{type(arg).__name__}; the emulator takes NumPy arrays")
        if element not in ("void", arg.dtype.name):
            raise TypeError(f"{self.kernel._describe(i)}: got an array of {arg.dtype.name}")
        if not arg.flags.c_contiguous:
            raise ValueError(f"{self.kernel._describe(i)}: the array is not C-contiguous (a "
                             "kernel reads it as flat memory)")
        start, end = arg.ctypes.data, arg.ctypes.data + arg.nbytes
        for region in self.regions:
            other = region[0]
            if (other.ctypes.data, other.nbytes) == (start, arg.nbytes):
                region[2].append(i)
                return region[1]
            if start < other.ctypes.data + other.nbytes and other.ctypes.data < end:
                raise ValueError(f"{self.kernel._describe(i)} overlaps argument {region[2][0]}")
        address = self.cdll.emu_guarded_alloc(ctypes.c_size_t(arg.nbytes))
        if not address:
            raise MemoryError(f"no guarded memory for {self.kernel._describe(i)}")
        ctypes.memmove(address, start, arg.nbytes)
        self.regions.append([arg, address, [i]])
        return address

    def check_underruns(self):
        for array, address, indices in self.regions:
            if not self.cdll.emu_underrun_intact(ctypes.c_void_p(address),
                                                 ctypes.c_size_t(array.nbytes)):
                raise KernelError(f"{self.kernel.expression} wrote before the start of "
                                  f"{self.kernel._describe(indices[0])}")

    def copy_back(self):
        for array, address, _ in self.regions:
            if array.flags.writeable:
                ctypes.memmove(array.ctypes.data, address, array.nbytes)

    def explain_fault(self):
        """The runtime's message, plus the argument and element a memory fault hit."""
        message = self.cdll.emu_error().decode()
        fault = self.cdll.emu_fault_address()
        for array, address, indices in self.regions if fault else ():
            offset = fault - address
            if -GUARD_BYTES <= offset < array.nbytes + GUARD_BYTES:
                place = "before its start" if offset < 0 else "past its end"
                element = offset // array.itemsize
                return (f"{message}: element {element} of {self.kernel._describe(indices[0])}, "
                        f"{array.size} elements ({place})")
        return message


class Library:
    """A ``.cu`` file compiled for the emulator with its instantiations."""

    def __init__(self, path, expressions):
        path = pathlib.Path(path).resolve()
        self.cdll = ctypes.CDLL(str(_build(path, expressions)))
        self.cdll.emu_guarded_alloc.restype = ctypes.c_void_p
        self.cdll.emu_error.restype = ctypes.c_char_p
        self.cdll.emu_fault_address.restype = ctypes.c_void_p
        source = path.read_text()
        self.kernels = {e: Kernel(self, i, e, _parameter_names(source, e.partition("<")[0]))
                        for i, e in enumerate(expressions)}
        self.path = path

    def __getitem__(self, expression):
        try:
            return self.kernels[expression]
        except KeyError:
            raise KeyError(f"{expression!r} is not an instantiation of {self.path.name}: "
                           f"{sorted(self.kernels)}") from None


@functools.cache
def library(path, expressions):
    """The emulated ``.cu`` file ``path`` with its instantiations ``expressions`` (a tuple)."""
    return Library(path, expressions)


def launch_registered(name, expression, grid, block, args, shared_mem):
    """``_compile.LAUNCHER`` on the CPU: run ``expression`` of the registered ``NAME.cu`` as
    CuPy's RawKernel call does (grid, block and args tuples; a dimension below 1 launches 1), its
    threads in the order of seed $TORCHLITE_EMU_SEED (0 by default; try others for races)."""
    for what, value in (("grid", grid), ("block", block), ("args", args)):
        if not isinstance(value, tuple):
            raise TypeError(f"{expression}: {what} must be a tuple (CuPy's RawKernel), got "
                            f"{type(value).__name__}")
    grid, block = (tuple(max(1, d) for d in dims) for dims in (grid, block))
    kernels = library(_compile.KERNEL_DIR / f"{name}.cu", tuple(_compile.SOURCES[name]))
    kernels[expression](grid, block, args, shared_mem,
                        seed=int(os.environ.get("TORCHLITE_EMU_SEED", "0")))
