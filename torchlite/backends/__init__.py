"""torchlite.backends: switches for the cuda backend (``backends.cuda.matmul.allow_tf32``,
``backends.cudnn.benchmark`` ...), settable as in PyTorch."""
from . import cuda, cudnn

__all__ = ["cuda", "cudnn"]
