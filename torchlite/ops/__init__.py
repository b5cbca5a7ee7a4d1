"""The op library: importing this package registers every op (functions and Tensor methods).

One module per op family; each holds that family's Function classes and public functions.
"""
from . import (_inplace, binary, conversion, indexing, linalg, reduction, shape,  # noqa: F401
               sorting, unary)
from ._registry import EXPORTS  # noqa: F401
