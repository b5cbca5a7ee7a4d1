"""torchlite.nn: modules, parameters, functional, init, utils (PyTorch's torch.nn)."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403  (every layer, gathered from nn/modules/*)
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter

__all__ = ["Parameter", "Buffer", "functional", "init", "utils", *_modules_all]
