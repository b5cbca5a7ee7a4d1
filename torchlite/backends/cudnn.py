"""torchlite.backends.cudnn: PyTorch's cuDNN switches, with PyTorch's defaults, settable.

torchlite's convolutions are im2col + cuBLAS GEMMs through CuPy, not cuDNN: ``is_available()``
is False; ``benchmark`` and ``deterministic`` are accepted (GEMM convolutions are deterministic
anyway) and ``allow_tf32`` is recorded (the GEMMs follow ``backends.cuda.matmul.allow_tf32``).
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
