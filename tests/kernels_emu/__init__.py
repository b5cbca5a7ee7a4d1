"""torchlite's CUDA kernels run on the CPU (g++ and NumPy), checked before any GPU session.

How to test a kernel family here:

- ``emulated`` fixture: ``_compile.launch`` (and ``_compile.LAUNCHER``) run the registered
  ``.cu`` files in the emulator, so a family's launchers take NumPy arrays (they must allocate with
  ``_compile.array_module(x)``); compare with an independent NumPy reference. The fixture's value
  is the ``emulator`` module; ``emulated.launches`` lists the kernels launched in the test.
- ``fused_ops`` fixture: also makes ``_kernels.fused(numpy)`` true, so torchlite's ops take their
  fused branches on CPU tensors (compare values and gradients with torch).
- ``emulator.library(path, expressions)[expression](grid, block, args, shared_mem=0, seed=0)``
  runs any ``.cu`` file's kernel directly (selftest.cu).

What a launch checks beyond the results: arguments against the kernel's C signature (NumPy
scalars of the exact width, C-contiguous arrays of the pointee's dtype, structs as 1-element
structured arrays, None as NULL); grid, block and dynamic shared memory limits; accesses past an
array's end (a fault naming the argument and element) and writes before its start;
``__syncthreads`` in divergent code; warp ops not reached by every lane of their mask; device-side
asserts. Threads run in a seeded random order between sync points ($TORCHLITE_EMU_SEED), so a
missing barrier tends to give wrong results; dynamic shared memory starts as NaN bytes.

Not emulated: static ``__shared__`` arrays keep the previous block's values (not poisoned); warp
ops with partial masks; timing, occupancy and memory coalescing; floating-point contraction
(NVRTC fuses a * b + c into FMAs, g++ does not), and the fast intrinsics' (``__expf``) GPU error.
Libraries are cached under $TORCHLITE_EMU_CACHE (default: the temp dir's torchlite-kernels-emu).
"""
