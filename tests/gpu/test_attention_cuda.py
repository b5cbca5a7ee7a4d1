"""scaled_dot_product_attention on cuda: the fused node (flash-style blocks, attention.cu's
kernels between cuBLAS matmuls) against a float64 NumPy reference of the formulas (computed from
the same rounded inputs) and against the composed path on cuda (fused kernels disabled), for
float32 / float16 / bfloat16, no mask, causal, bool and float masks, sequence lengths 1 to 1024
and head sizes 16 to 128; gradients included. Peak memory stays near what flash attention keeps.

Skips (with the reason) on machines without CuPy or a GPU; the lent GPU machine runs it.
"""
import itertools

import numpy as np
import pytest

import torchlite
import torchlite._kernels as kernels
import torchlite._kernels.attention as attention_kernels
from torchlite.nn.functional import _flash

from ._gpu import gpu_reason

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))
F = torchlite.nn.functional

# max |error| <= TOL * max |reference|: output, then gradients (scores and weights are rounded
# to the input dtype between matmuls, as on PyTorch's math path)
TOL = {"float32": (1e-4, 2e-4), "float16": (1e-2, 2e-2), "bfloat16": (4e-2, 8e-2)}
MASKS = ("none", "causal", "bool", "float", "causal+bool")
LENGTHS = (1, 7, 64, 257, 1024)
DTYPES = ("float32", "float16", "bfloat16")
CASES = [(m, n, 64, d) for m, n, d in itertools.product(MASKS, LENGTHS, DTYPES)] + [
    (m, n, e, "bfloat16") for m, n, e in itertools.product(("causal", "float"), LENGTHS,
                                                           (16, 128))]


def _inputs(batch, heads, length, keys, dim, mask, seed=0):
    """q, k, v, a cotangent (float64 NumPy) and the mask's sdpa arguments: attn_mask as NumPy
    (a bool keep-mask keeping each row's first key, or a float mask per batch row with -inf
    entries) and is_causal."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((batch, heads, length, dim))
    k, v = (rng.standard_normal((batch, heads, keys, dim)) for _ in range(2))
    g = rng.standard_normal((batch, heads, length, dim))
    attn = None
    if "bool" in mask:
        attn = rng.random((length, keys)) > 0.3
        attn[:, 0] = True
    elif mask == "float":
        attn = np.where(rng.random((batch, 1, length, keys)) > 0.2,
                        rng.uniform(-1, 1, (batch, 1, length, keys)), -np.inf)
        attn[..., 0] = 0.5
    return q, k, v, g, attn, "causal" in mask


def _reference(q, k, v, g, attn, causal, scale):
    """float64 softmax(q k^T scale + mask) v and its (grad_q, grad_k, grad_v) by the formulas;
    rows with every key masked give zeros."""
    s = q @ k.swapaxes(-1, -2) * scale
    if causal:
        s = np.where(np.tri(s.shape[-2], s.shape[-1], dtype=bool), s, -np.inf)
    if attn is not None:
        s = np.where(attn, s, -np.inf) if attn.dtype == bool else s + attn
    top = s.max(-1, keepdims=True)
    dead = top == -np.inf
    e = np.exp(s - np.where(dead, 0, top))
    p = e / np.where(dead, 1, e.sum(-1, keepdims=True))
    dp = g @ v.swapaxes(-1, -2)
    ds = p * (dp - (p * dp).sum(-1, keepdims=True))
    return p @ v, ds @ k * scale, ds.swapaxes(-1, -2) @ q * scale, p.swapaxes(-1, -2) @ g


def _run(arrays, attn, causal, dtype, device="cuda"):
    """sdpa forward and backward on ``device``: (out, grad_q, grad_k, grad_v) as float64 NumPy,
    and the output's node name."""
    lib_dtype = getattr(torchlite, dtype)
    q, k, v = (torchlite.tensor(a, dtype=lib_dtype, device=device, requires_grad=True)
               for a in arrays[:3])
    g = torchlite.tensor(arrays[3], dtype=lib_dtype, device=device)
    mask = None
    if attn is not None:
        mask = torchlite.tensor(attn, device=device)
        if mask.dtype.is_floating_point:
            mask = mask.to(lib_dtype)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    out.backward(g)
    return [t.detach().float().cpu().numpy().astype(np.float64)
            for t in (out, q.grad, k.grad, v.grad)], out.grad_fn.name()


def _rounded(arrays, dtype):
    """The inputs as the dtype holds them, in float64 (the reference sees what the GPU sees)."""
    return [torchlite.tensor(a, dtype=getattr(torchlite, dtype)).double().numpy()
            for a in arrays]


def _assert_close(got, ref, tol, what):
    for name, a, b in zip(("out", "grad_q", "grad_k", "grad_v"), got, ref):
        assert np.isfinite(a).all(), f"{what} {name}: not finite"
        limit = tol[name != "out"] * max(np.abs(b).max(), 1e-3)
        err = np.abs(a - b).max()
        assert err <= limit, f"{what} {name}: max error {err:.3g} > {limit:.3g}"


@pytest.fixture
def launches(monkeypatch):
    """Counts the attention kernels' launches (the real launchers run)."""
    counts = {"softmax_lse": 0, "weights": 0, "score_grad": 0}
    for name in counts:
        real = getattr(attention_kernels, name)

        def counted(*args, _real=real, _name=name):
            counts[_name] += 1
            return _real(*args)
        monkeypatch.setattr(attention_kernels, name, counted)
    return counts


@pytest.mark.parametrize("mask,length,dim,dtype", CASES)
def test_fused_matches_reference_and_composed(mask, length, dim, dtype, launches):
    batch, heads = (1, 2) if length >= 1024 else (2, 3)
    *arrays, attn, causal = _inputs(batch, heads, length, length, dim, mask)
    scale = 1 / np.sqrt(dim)
    ref = _reference(*_rounded(arrays, dtype), attn, causal, scale)
    fused, name = _run(arrays, attn, causal, dtype)
    assert launches["softmax_lse"] > 0 and launches["score_grad"] > 0
    expected = "ScaledDotProductFlashAttentionBackward0" if dtype != "float32" and mask in (
        "none", "causal") else "ScaledDotProductEfficientAttentionBackward0"
    assert name == expected
    _assert_close(fused, ref, TOL[dtype], "fused vs float64 reference")
    with kernels.disabled():
        composed, _ = _run(arrays, attn, causal, dtype)
    _assert_close(fused, composed, TOL[dtype], "fused vs composed on cuda")


@pytest.mark.parametrize("length,keys", [(100, 300), (300, 100), (1024, 33)])
@pytest.mark.parametrize("mask", ["causal", "causal+bool", "float"])
def test_cross_attention_lengths(length, keys, mask):
    """Fewer or more keys than queries (causal is top-left aligned)."""
    *arrays, attn, causal = _inputs(2, 2, length, keys, 32, mask, seed=1)
    ref = _reference(*_rounded(arrays, "float32"), attn, causal, 1 / np.sqrt(32))
    _assert_close(_run(arrays, attn, causal, "float32")[0], ref, TOL["float32"], mask)


def test_matches_cpu_on_non_contiguous_head_views():
    """q, k, v as head views of one packed projection (a GPT block's layout); cuda vs CPU."""
    rng = np.random.default_rng(2)
    packed = rng.standard_normal((3, 300, 3, 4, 32))
    results = []
    for device in ("cpu", "cuda"):
        x = torchlite.tensor(packed, dtype=torchlite.float32, device=device, requires_grad=True)
        q, k, v = (x[:, :, i].transpose(1, 2) for i in range(3))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.backward(torchlite.ones_like(out))
        results.append([t.detach().cpu().numpy() for t in (out, x.grad)])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)


def test_fully_masked_rows_give_zeros():
    *arrays, _, _ = _inputs(2, 2, 40, 50, 16, "none", seed=3)
    keep = np.ones((40, 50), dtype=bool)
    keep[[3, 17]] = False
    ref = _reference(*_rounded(arrays, "float32"), keep, False, 0.25)
    got, _ = _run(arrays, keep, False, "float32")
    _assert_close(got, ref, TOL["float32"], "masked rows")
    assert not got[0][:, :, [3, 17]].any() and not got[1][:, :, [3, 17]].any()


def test_float64_takes_the_composed_path_as_pytorch():
    """PyTorch has no fused cuda kernel for float64 (its math path composes ops)."""
    *arrays, attn, causal = _inputs(1, 2, 20, 20, 8, "causal")
    ref = _reference(*arrays, attn, causal, 1 / np.sqrt(8))
    got, name = _run(arrays, attn, causal, "float64")
    assert "ScaledDotProduct" not in name
    _assert_close(got, ref, (1e-10, 1e-10), "float64")


def test_peak_memory_is_flash_attention_s():
    """GPT-2 small's attention shape in bfloat16: forward keeps q, k, v, out and lse (no (L, S)
    weights); its peak is the output, lse and one block of scores above the inputs, backward's
    the gradients (grad_k and grad_v adding up in float32) and two blocks."""
    cuda = torchlite.cuda
    batch, heads, length, dim = 8, 12, 1024, 64
    q, k, v = (torchlite.randn(batch, heads, length, dim, dtype=torchlite.bfloat16,
                               device="cuda", requires_grad=True) for _ in range(3))
    g = torchlite.randn(batch, heads, length, dim, dtype=torchlite.bfloat16, device="cuda")
    one = q.numel() * 2  # bytes of q (of k, v, out, a gradient)
    lse = batch * heads * length * 4
    block = _flash.CHUNK_BYTES["cupy"]
    slack = 24 << 20  # a block's scaled queries, row sums, products, cuBLAS workspace
    weights = batch * heads * length * length * 2
    cuda.synchronize()
    start = cuda.memory_allocated()
    cuda.reset_peak_memory_stats()
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    cuda.synchronize()
    forward = cuda.max_memory_allocated() - start
    assert forward <= one + lse + block + slack, forward
    assert forward < weights / 2
    assert cuda.memory_allocated() - start <= one + lse + 4096  # out and lse stay
    start = cuda.memory_allocated()
    cuda.reset_peak_memory_stats()
    out.backward(g)
    cuda.synchronize()
    backward = cuda.max_memory_allocated() - start
    assert backward <= 3 * one + 2 * (2 * one) + 2 * block + slack, backward
