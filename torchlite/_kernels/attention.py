"""Fused middle of flash-style attention (attention.cu), for nn.functional._flash on CuPy.

Each launcher works in place on one block of scores: a C-contiguous (..., rows, keys) CuPy array
whose leading dims are (batch, head) pairs and whose ``rows`` are consecutive query rows, the
first one query row ``row0`` (the causal mask is applied by index, top-left aligned). One thread
block per score row; lse is float32, one value per score row.
"""
import numpy as np

from . import _compile

_TYPES = ("float32", "float16", "bfloat16")
_compile.register("attention", [f"{name}<{_compile.CTYPE[t]}>" for t in _TYPES for name in (
    "attention_softmax", "attention_weights", "attention_score_grad")])


def _threads(keys):
    """Threads per row: a warp per 256 keys, 1 to 8 warps."""
    return 32 * min(8, max(1, -(-keys // 256)))


def _geometry(scores):
    keys = scores.shape[-1]
    return scores.size // keys, _threads(keys), np.int32(keys), np.int32(scores.shape[-2])


def softmax_lse(scores, row0, causal):
    """``scores`` -> its softmax over the (attended) keys, in place; returns the rows'
    log-sum-exp, shaped as ``scores`` without its last dim."""
    rows, threads, keys, group = _geometry(scores)
    lse = _compile.array_module(scores).empty(scores.shape[:-1], dtype=np.float32)
    _compile.launch("attention", "attention_softmax", scores.dtype, rows, threads,
                    (scores, lse, keys, group, np.int32(row0), np.int32(bool(causal))))
    return lse


def weights(scores, lse, row0, causal):
    """``scores`` -> exp(scores - lse), the weights ``softmax_lse`` gave (in place); ``lse``
    C-contiguous, one value per score row."""
    rows, threads, keys, group = _geometry(scores)
    _compile.launch("attention", "attention_weights", scores.dtype, rows, threads,
                    (scores, lse, keys, group, np.int32(row0), np.int32(bool(causal))))


def score_grad(dp, p, scale):
    """``dp`` (grad v^T) -> the scores' gradient p * (dp - rowsum(p * dp)) * scale, in place;
    ``p`` the weights (same shape)."""
    rows, threads, keys, _ = _geometry(dp)
    _compile.launch("attention", "attention_score_grad", dp.dtype, rows, threads,
                    (dp, p, np.float32(scale), keys))
