"""The fused scaled_dot_product_attention node is flash-style: what it saves for backward grows
with the sequence length, not with its square (short sequences keep their weights, no larger);
its blocks cover every score exactly once; and its fused-kernel branch (run on CPU with NumPy
stand-ins written from attention.cu's contract) matches PyTorch."""
import types

import numpy as np
import pytest

import torchlite
import torchlite.graph as G
from torchlite.nn.functional import _flash

from ._layers import values
from .helpers import same_program
from .test_attention import TOLERANCE, _fused_program


def _sdpa_saved_bytes(batch, heads, length, dim, dtype):
    """Bytes the fused node keeps for backward (the recorder's count), and the bytes of every
    array the node holds outside it (none for a flash-style node)."""
    q, k, v = (torchlite.randn(batch, heads, length, dim, dtype=dtype, requires_grad=True)
               for _ in range(3))
    with G.record() as g:
        out = torchlite.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    (node,) = [n for n in g.to_dict()["nodes"] if n.get("saved_bytes")]
    hidden = 0
    for name, item in vars(out.grad_fn).items():
        if name != "_saved":
            for x in item if isinstance(item, (list, tuple)) else (item,):
                hidden += getattr(x, "nbytes", 0) if isinstance(x, np.ndarray) else 0
    return node["saved_bytes"], hidden


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saved_bytes_are_q_k_v_out_and_lse(dtype):
    batch, heads, dim = 2, 3, 8
    item = np.dtype(dtype).itemsize
    for length in (64, 256):
        saved, hidden = _sdpa_saved_bytes(batch, heads, length, dim, getattr(torchlite, dtype))
        per_row = batch * heads * length
        # q, k, v (B, H, L, E) each, one log-sum-exp per query row
        assert saved == 3 * per_row * dim * item + per_row * item
        assert hidden == 0
        # the (B, H, L, L) weights alone would be this much
        assert saved < per_row * length * item


def test_short_sequences_keep_weights_no_larger_than_q_k_v_and_out():
    """Where the (L, L) weights take no more than q, k, v and the output (L <= 4 E), forward
    keeps them (backward then recomputes nothing) and no log-sum-exp."""
    batch, heads, length, dim = 2, 3, 16, 8
    saved, hidden = _sdpa_saved_bytes(batch, heads, length, dim, torchlite.float32)
    weights = batch * heads * length * length * 4
    assert weights <= 4 * batch * heads * length * dim * 4
    assert saved == 3 * batch * heads * length * dim * 4 + weights
    assert hidden == 0


def test_saved_bytes_grow_linearly_with_length():
    short, _ = _sdpa_saved_bytes(1, 2, 128, 16, torchlite.float32)
    long, _ = _sdpa_saved_bytes(1, 2, 1024, 16, torchlite.float32)
    assert long == 8 * short


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(3, 4, 200, 200), (2, 5, 37, 91), (4, 2, 91, 37),
                                   (1, 1, 1, 1), (2, 12, 1024, 1024)])
@pytest.mark.parametrize("budget", [1 << 10, 1 << 18, 1 << 26])
def test_blocks_cover_every_score_once(shape, budget, causal):
    """Each (batch, head, query row) is in one block; a block reads the keys its rows attend
    (under causal those up to its last row, top-left aligned), and stays near the budget."""
    b, h, length, keys = shape
    plan = _flash._chunks(shape, 4, budget, causal)
    seen = np.zeros((b, h, length), dtype=int)
    for key, n in plan:
        seen[key] += 1
        rows = np.arange(length)[key[2]]
        assert n == (min(rows[-1] + 1, keys) if causal else keys)
        block = np.zeros((b, h, length))[key].size * n * 4
        assert block <= max(budget, n * 4 * (_flash._MIN_ROWS if causal else 1))
    assert (seen == 1).all()
    if causal and length >= 4 * _flash._MIN_ROWS:  # long causal rows: the upper blocks skipped
        assert len({k[2].start for k, _ in plan}) >= 4


# ---- the fused-kernel branch with NumPy stand-ins for attention.cu ------------------------

def _attended(scores, row0, causal):
    """attention.cu's mask: block row i is query row row0 + i and attends keys 0..row0 + i."""
    rows, keys = scores.shape[-2:]
    if not causal:
        return np.ones((rows, keys), dtype=bool)
    return np.arange(keys)[None, :] <= (row0 + np.arange(rows))[:, None]


def _softmax_lse(scores, row0, causal):
    x = np.where(_attended(scores, row0, causal), scores.astype(np.float64), -np.inf)
    top = x.max(-1, keepdims=True)
    shift = np.where(top == -np.inf, 0.0, top)
    e = np.exp(x - shift)
    total = e.sum(-1, keepdims=True)
    scores[...] = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    return np.where(total > 0, shift + np.log(np.where(total > 0, total, 1.0)),
                    0.0)[..., 0].astype(np.float32)


def _weights(scores, lse, row0, causal):
    e = np.exp(scores.astype(np.float64) - lse[..., None].astype(np.float64))
    scores[...] = np.where(_attended(scores, row0, causal), e, 0.0)


def _score_grad(dp, p, scale):
    p = p.astype(np.float64)
    dot = (p * dp).sum(-1, keepdims=True)
    dp[...] = p * (dp - dot) * np.float32(scale)


KERNELS = types.SimpleNamespace(softmax_lse=_softmax_lse, weights=_weights,
                                score_grad=_score_grad)

KERNEL_CASES = [
    ("causal, row blocks", (2, 3, 150, 150, 8), {"is_causal": True}),
    ("causal, more keys than rows", (2, 2, 70, 130, 4), {"is_causal": True}),
    ("causal, more rows than keys", (2, 2, 130, 70, 4), {"is_causal": True}),
    ("causal and a bool mask", (2, 3, 100, 100, 4),
     {"is_causal": True, "mask": ("bool", (100, 100))}),
    ("float mask per batch", (3, 2, 40, 60, 4), {"mask": ("float", (3, 1, 40, 60))}),
    ("plain", (3, 2, 40, 60, 4), {}),
    ("short, weights kept", (2, 3, 12, 12, 8), {"is_causal": True}),
]


@pytest.mark.parametrize("budget", [1 << 11, 1 << 18, 1 << 30])
@pytest.mark.parametrize("name,shape,case", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_fused_kernel_branch_matches_torch(name, shape, case, budget, monkeypatch):
    """The branch CuPy takes with fused kernels (the causal mask by index, not as a bias; the
    kernels' lse, weights and score gradients), on small and large blocks and on one block."""
    monkeypatch.setattr(_flash, "_kernels", types.SimpleNamespace(fused=lambda xp: True))
    monkeypatch.setattr(_flash, "_kernel_ops", lambda: KERNELS)
    monkeypatch.setitem(_flash.CHUNK_BYTES, "numpy", budget)
    same_program(_fused_program("float32", *shape, **case), **TOLERANCE["float32"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,shape,case", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_small_blocks_match_torch(name, shape, case, dtype, monkeypatch):
    """The composed branch with blocks of a few rows and heads (partial last blocks)."""
    monkeypatch.setitem(_flash.CHUNK_BYTES, "numpy", 1 << 11)
    same_program(_fused_program(dtype, *shape, **case), **TOLERANCE[dtype])


@pytest.mark.parametrize("length,dim", [(12, 8), (150, 4)], ids=["weights kept", "flash"])
def test_stacked_calls_and_retained_graph_match_torch(length, dim):
    """Two attention calls, both forwards before the backwards, and a second backward through
    the retained graph: blocks reused from one call to the next never alias kept ones."""
    def program(lib):
        x = lib.tensor(values((2, 3, length, dim), 1), dtype=lib.float32, requires_grad=True)
        F = lib.nn.functional
        h = F.scaled_dot_product_attention(x, x * 0.5, x, is_causal=True)
        y = F.scaled_dot_product_attention(h, x, h * 2.0)
        first = lib.autograd.grad(y.sum(), x, retain_graph=True)[0]
        again = lib.autograd.grad((y * y).sum(), x)[0]
        return y, first, again
    same_program(program, **TOLERANCE["float32"])
