"""attention.cu's launchers on the CPU emulator against float64 NumPy: softmax + log-sum-exp with
the causal mask by index and the weights from lse, for odd key counts, every thread count,
float32 / float16 / bfloat16; and scaled_dot_product_attention on the emulated kernels (the score
gradient's too) against torch."""
import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import attention
from torchlite.nn.functional import _flash

DTYPES = [np.float32, np.float16, ml_dtypes.bfloat16]
TOL = {np.float32: 2e-6, np.float16: 1e-3, ml_dtypes.bfloat16: 8e-3}
# (pairs, group rows, keys): one to eight warps per row
SHAPES = [(3, 2, 1), (2, 3, 7), (1, 4, 33), (2, 2, 257), (1, 3, 1000), (1, 2, 2100)]


def _attended(pairs, group, keys, row0, causal):
    """Which keys each score row attends, (pairs, group, keys) bools."""
    position = row0 + np.arange(group)[:, None]
    keep = np.arange(keys) <= position if causal else np.ones((group, keys), bool)
    return np.broadcast_to(keep, (pairs, group, keys))


def reference_softmax(s, keep):
    """(softmax over the attended keys, 0 elsewhere; the log-sum-exp) in float64."""
    s = np.where(keep, s.astype(np.float64), -np.inf)
    top = s.max(-1, keepdims=True)
    e = np.exp(s - top)
    total = e.sum(-1, keepdims=True)
    return e / total, (top + np.log(total))[..., 0]


def _close(got, want, dtype):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=TOL[dtype],
                               atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("pairs, group, keys", SHAPES, ids=str)
@pytest.mark.parametrize("row0, causal", [(0, False), (0, True), (5, True)])
def test_softmax_lse_and_weights(emulated, dtype, pairs, group, keys, row0, causal):
    rng = np.random.default_rng(keys)
    s = (rng.standard_normal((pairs, group, keys)) * 3).astype(dtype)
    keep = _attended(pairs, group, keys, row0, causal)
    want, want_lse = reference_softmax(s, keep)
    p = s.copy()
    lse = attention.softmax_lse(p, row0, causal)
    assert lse.dtype == np.float32 and lse.shape == (pairs, group)
    _close(p, want, dtype)
    _close(lse, want_lse, np.float32)
    w = s.copy()
    attention.weights(w, lse, row0, causal)
    _close(w, want, dtype)


def test_masked_rows_give_zeros_and_nan_propagates(emulated):
    """A row whose every key is masked (-inf) gives zeros and lse 0, as the composed path; a NaN
    score makes its row NaN (softmax's value, as the composed path and PyTorch): never zeros."""
    s = np.random.default_rng(0).standard_normal((1, 4, 40)).astype(np.float32)
    want, want_lse = reference_softmax(s[:, :1], np.ones((1, 1, 40), bool))
    s[0, 1] = -np.inf
    s[0, 2, 17] = np.nan
    s[0, 3, :] = np.nan
    lse = attention.softmax_lse(s, 0, False)
    _close(s[:, :1], want, np.float32)
    _close(lse[:, :1], want_lse, np.float32)
    np.testing.assert_array_equal(s[0, 1], 0)
    assert lse[0, 1] == 0
    assert np.isnan(s[0, 2:]).all() and np.isnan(lse[0, 2:]).all()


@pytest.mark.parametrize("mask", [None, "causal", "bool", "float"])
@pytest.mark.parametrize("lengths", [(5, 7, 8), (40, 70, 4)], ids=["kept", "recomputed"])
def test_sdpa_on_the_kernels_matches_torch(fused_ops, torch_oracle, mask, lengths):
    import torchlite

    rng = np.random.default_rng(6)
    length, keys, dim = lengths
    q, k, v = (rng.standard_normal((2, 3, n, dim)) for n in (length, keys, keys))
    grad = rng.standard_normal((2, 3, length, dim))
    masks = {None: None, "causal": None, "bool": rng.random((length, keys)) > 0.3,
             "float": rng.standard_normal((2, 1, length, keys))}
    results = []
    for lib in (torch_oracle, torchlite):
        tensors = [lib.tensor(a, dtype=lib.float32, requires_grad=True) for a in (q, k, v)]
        m = None if masks[mask] is None else lib.tensor(masks[mask])
        if mask == "float":
            m = m.to(lib.float32)
        out = lib.nn.functional.scaled_dot_product_attention(*tensors, attn_mask=m,
                                                             is_causal=mask == "causal")
        out.backward(lib.tensor(grad, dtype=lib.float32))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for got, want in zip(*results[::-1]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    kernels = {"attention_softmax<float>", "attention_score_grad<float>"}
    if not _flash.keeps_weights(q.shape, k.shape):  # backward recomputes the weights
        kernels.add("attention_weights<float>")
    assert kernels <= set(fused_ops.launches)
