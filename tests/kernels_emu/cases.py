"""Inputs shared by the emulated kernel tests and their real-GPU twins in tests/gpu."""
import numpy as np


def softmax_special_rows(n):
    """Seven float64 rows of n values with the special values a row softmax must treat as
    PyTorch does: one -inf (masked attention), all -inf (nan), a +inf (nan), a nan, all but the
    last -inf, all but the first -inf, every other -inf."""
    inf, nan = float("inf"), float("nan")
    rows = np.tile(np.linspace(-2.0, 3.0, n), (7, 1))
    rows[0, 0] = -inf
    rows[1, :] = -inf
    rows[2, n // 2] = inf
    rows[3, n - 1] = nan
    rows[4, : n - 1] = -inf
    rows[5, 1:] = -inf
    rows[6, ::2] = -inf
    return rows
