"""torchlite.backends.cuda: ``matmul.allow_tf32`` and friends, as in PyTorch.

``matmul.allow_tf32`` is honoured through CuPy: it sets CuPy's compute type for float32 GEMMs
(TF32 tensor cores or full float32) when CuPy can use a GPU, and ``CUPY_TF32`` for a CuPy imported
later. The reduced-precision-reduction flags are recorded only (cuBLAS through CuPy accumulates
float16 / bfloat16 products in float32).
"""
import os

import numpy as np

from .._device import gpu_cupy


def is_built():
    """Whether CuPy (torchlite's CUDA backend) is installed: PyTorch's "built with CUDA", which
    says nothing about a usable driver or device (that is ``torchlite.cuda.is_available()``)."""
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


def _set_cupy_tf32(enabled):
    os.environ["CUPY_TF32"] = "1" if enabled else "0"
    if gpu_cupy()[0] is None:  # no GPU: nothing to set (and CuPy's setter asks the device)
        return
    from cupy._core import _routines_linalg as linalg
    kind = linalg.COMPUTE_TYPE_TF32 if enabled else linalg.COMPUTE_TYPE_DEFAULT
    linalg.set_compute_type(np.dtype("float32"), kind)


class _Matmul:
    """``torch.backends.cuda.matmul``: settable switches for float32 / half GEMMs."""

    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True
    _allow_tf32 = False

    @property
    def allow_tf32(self):
        return self._allow_tf32

    @allow_tf32.setter
    def allow_tf32(self, value):
        if bool(value) != self._allow_tf32 or "CUPY_TF32" not in os.environ:
            _set_cupy_tf32(bool(value))
        self._allow_tf32 = bool(value)


matmul = _Matmul()
