"""``torch.linalg``: the linear-algebra namespace (the ops themselves live in ops/linalg.py)."""
from .ops.linalg import (LinAlgError, det, eigvalsh, inv, matmul, matrix_norm, matrix_power,
                         matrix_rank, multi_dot, solve_triangular, svdvals, vecdot, vector_norm)
from .ops.linalg import linalg_cholesky as cholesky
from .ops.linalg import linalg_cross as cross
from .ops.linalg import linalg_diagonal as diagonal
from .ops.linalg import linalg_eigh as eigh
from .ops.linalg import linalg_norm as norm
from .ops.linalg import linalg_pinv as pinv
from .ops.linalg import linalg_qr as qr
from .ops.linalg import linalg_slogdet as slogdet
from .ops.linalg import linalg_solve as solve
from .ops.linalg import linalg_svd as svd

__all__ = ["LinAlgError", "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv",
           "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv",
           "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals", "vecdot",
           "vector_norm"]
