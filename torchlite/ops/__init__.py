"""The op library: importing this package registers every op (functions and Tensor methods)."""
from . import binary, conversion, reduction, shape, unary  # noqa: F401
from ._registry import EXPORTS  # noqa: F401
