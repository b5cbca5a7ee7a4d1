"""layer_norm.cu's launchers on the CPU emulator against a float64 NumPy layer norm: the warp per
row and block per row geometries, odd row lengths, one- and multi-chunk column sums, every dtype."""
import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import _compile, layer_norm

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
# tolerance of a result rounded to the dtype (float32 math for the 16-bit types)
TOL = {np.float32: 2e-5, np.float64: 1e-12, np.float16: 2e-3, ml_dtypes.bfloat16: 1.6e-2}
SHAPES = [(3, 1), (5, 7), (2, 33), (3, 1000), (2, 1025), (2, 4097)]


def _inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    acc = _compile.accumulation_dtype(np.dtype(dtype))
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    weight = rng.standard_normal(shape[-1]).astype(acc)
    bias = rng.standard_normal(shape[-1]).astype(acc)
    return x, weight, bias


def _close(got, want, dtype, scale=1.0):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=TOL[dtype],
                               atol=TOL[dtype] * scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_forward(emulated, dtype, shape, affine):
    x, weight, bias = _inputs(shape, dtype)
    if not affine:
        weight = bias = None
    n, eps = shape[-1], 1e-5
    y, xhat, mean, rstd = layer_norm.forward(x, weight, bias, n, eps)
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=-1, keepdims=True)
    r = 1 / np.sqrt(((x64 - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    h = (x64 - mu) * r
    want = h * weight + bias if affine else h
    assert y.dtype == xhat.dtype == mean.dtype == rstd.dtype == np.dtype(dtype)
    _close(mean, mu.ravel(), dtype, scale=4)
    _close(rstd, r.ravel(), dtype)
    _close(xhat, h, dtype, scale=4)
    _close(y, want, dtype, scale=8)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES + [(100, 7), (70, 65)], ids=str)
def test_backward(emulated, dtype, shape):
    _, weight, _ = _inputs(shape, dtype)
    n = shape[-1]
    rng = np.random.default_rng(1)
    g = rng.standard_normal(shape).astype(dtype)
    xhat = rng.standard_normal(shape).astype(dtype)
    rstd = rng.uniform(0.5, 2, shape[:-1]).astype(dtype)
    gx, gw, gb = layer_norm.backward(g, xhat, rstd, weight, n, (True, True, True))
    g64, h64 = g.astype(np.float64), xhat.astype(np.float64)
    gh = g64 * weight
    want_gx = (gh - gh.mean(-1, keepdims=True) - h64 * (gh * h64).mean(-1, keepdims=True)) * \
        rstd.astype(np.float64)[..., None]
    acc = _compile.accumulation_dtype(np.dtype(dtype))
    assert gx.dtype == gw.dtype == gb.dtype == acc
    rows = g.size // n
    accuracy = np.float64 if dtype == np.float64 else np.float32  # the kernels compute in Acc<T>
    _close(gx, want_gx, accuracy, scale=8)
    _close(gw, (g64 * h64).reshape(rows, n).sum(0), accuracy, scale=4 * np.sqrt(rows))
    _close(gb, g64.reshape(rows, n).sum(0), accuracy, scale=4 * np.sqrt(rows))


@pytest.mark.parametrize("need", [(True, False, False), (False, True, False),
                                  (False, False, True), (False, True, True)])
def test_backward_computes_only_what_is_needed(emulated, need):
    shape = (100, 7)  # four chunks: the column sums' second stage runs
    rng = np.random.default_rng(2)
    g, xhat = rng.standard_normal(shape), rng.standard_normal(shape)
    rstd = rng.uniform(0.5, 2, shape[0])
    outs = layer_norm.backward(g, xhat, rstd, None, shape[1], need)
    want = [(g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
            * rstd[:, None], (g * xhat).sum(0), g.sum(0)]
    want = [w for w, asked in zip(want, need) if asked]
    assert len(outs) == len(want)
    for got, expected in zip(outs, want):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, normalized", [((3, 7), (7,)), ((2, 3, 33), (3, 33)),
                                               ((2, 1025), (1025,))], ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_layer_norm_op_on_the_kernels_matches_torch(fused_ops, torch_oracle, dtype, shape,
                                                    normalized, affine):
    import torchlite

    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 2 + 0.5
    v = rng.standard_normal(shape)
    params = [rng.standard_normal(normalized), rng.standard_normal(normalized)] if affine else []
    results = []
    for lib in (torch_oracle, torchlite):
        tensors = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True)
                   for a in [x, *params]]
        out = lib.nn.functional.layer_norm(tensors[0], normalized, *tensors[1:], eps=1e-5)
        (out * lib.tensor(v, dtype=getattr(lib, dtype))).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    accuracy = np.float64 if dtype == "float64" else np.float32
    for got, want in zip(*results[::-1]):
        _close(got, want, accuracy, scale=8)
    kind = "float" if dtype == "float32" else "double"
    assert {f"layer_norm_forward<{kind}>", f"layer_norm_backward_input<{kind}>"} <= set(
        fused_ops.launches)
    assert (f"layer_norm_backward_params<{kind}>" in fused_ops.launches) == affine
