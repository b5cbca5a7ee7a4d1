"""``torch.linalg``: the linear-algebra namespace (the ops themselves live in ops/linalg.py)."""
from .ops.linalg import (LinAlgError, det, eigvalsh, inv, matmul, matrix_norm, matrix_power,
                         matrix_rank, multi_dot, svdvals, vecdot, vector_norm)
from .ops.linalg import linalg_cholesky as cholesky
from .ops.linalg import linalg_cross as cross
from .ops.linalg import linalg_eigh as eigh
from .ops.linalg import linalg_norm as norm
from .ops.linalg import linalg_pinv as pinv
from .ops.linalg import linalg_qr as qr
from .ops.linalg import linalg_slogdet as slogdet
from .ops.linalg import linalg_solve as solve
from .ops.linalg import linalg_svd as svd

__all__ = ["LinAlgError", "cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "svd", "svdvals", "vecdot", "vector_norm"]
