"""layer_norm.cu on the CPU emulator: the launchers' outputs against a float64 NumPy reference of
layer norm and its gradients (and the composed NumPy path), for every dtype, warp- and
block-per-row lengths, partial last blocks, row striding beyond the grid, and several chunks of
the column sums."""
import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import layer_norm as kernels
from torchlite.nn.functional import normalization

DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
          "bfloat16": ml_dtypes.bfloat16}
# dtype -> (rtol, atol) of outputs rounded to that dtype
ROUNDED = {"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3),
           "bfloat16": (1e-2, 1e-2)}
ROW_LENGTHS = (1, 7, 33, 384, 1024, 1025, 4097)
EPS = 1e-5


def _inputs(rows, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, n)) * 3 + 1).astype(DTYPES[dtype])
    w, b = rng.standard_normal(n), rng.standard_normal(n)
    return x, w, b, rng.standard_normal((rows, n)).astype(DTYPES[dtype])


def _reference_forward(x, w, b):
    x = x.astype(np.float64)
    mean = x.mean(1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean) ** 2).mean(1, keepdims=True) + EPS)
    xhat = (x - mean) * rstd
    y = xhat * (1 if w is None else w) + (0 if b is None else b)
    return y, xhat, mean[:, 0], rstd[:, 0]


def _reference_backward(g, xhat, rstd, w):
    g, xhat, rstd = (a.astype(np.float64) for a in (g, xhat, rstd))
    gh = g * (1 if w is None else w)
    gx = rstd[:, None] * (gh - gh.mean(1, keepdims=True)
                          - xhat * (gh * xhat).mean(1, keepdims=True))
    return gx, (g * xhat).sum(0), g.sum(0)


def _close(got, want, tol, what):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=tol[0], atol=tol[1],
                               err_msg=what)


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("n", ROW_LENGTHS)
def test_forward_matches_reference(emulated, n, dtype):
    x, w, b, _ = _inputs(5, n, dtype)
    acc = kernels.acc_dtype(x.dtype)
    y, xhat, mean, rstd = kernels.forward(x, w.astype(acc), b.astype(acc), n, EPS)
    assert y.dtype == xhat.dtype == mean.dtype == rstd.dtype == x.dtype
    assert y.shape == xhat.shape == x.shape and mean.shape == rstd.shape == (5,)
    for got, want, name in zip((y, xhat, mean, rstd), _reference_forward(x, w, b),
                               ("y", "xhat", "mean", "rstd")):
        _close(got, want, ROUNDED[dtype], name)


@pytest.mark.parametrize("params", ["none", "weight", "bias"])
def test_forward_without_some_parameters(emulated, params):
    x, w, b, _ = _inputs(6, 33, "float32")
    w = w.astype(np.float32) if params == "weight" else None
    b = b.astype(np.float32) if params == "bias" else None
    y, xhat, _, _ = kernels.forward(x, w, b, 33, EPS)
    assert (y is xhat) == (params == "none")
    ref_y, ref_xhat, _, _ = _reference_forward(x, w, b)
    _close(y, ref_y, ROUNDED["float32"], "y")
    _close(xhat, ref_xhat, ROUNDED["float32"], "xhat")


@pytest.mark.parametrize("n", (33, 1025))
def test_rows_beyond_the_grid_are_strided(emulated, monkeypatch, n):
    monkeypatch.setattr(kernels, "MAX_GRID", 2)
    x, w, b, g = _inputs(11, n, "float64")
    y, xhat, mean, rstd = kernels.forward(x, w, b, n, EPS)
    for got, want in zip((y, xhat, mean, rstd), _reference_forward(x, w, b)):
        _close(got, want, ROUNDED["float64"], "forward")
    gx, = kernels.backward(g, xhat, rstd, w, n, (True, False, False))
    _close(gx, _reference_backward(g, xhat, rstd, w)[0], ROUNDED["float64"], "grad_x")


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("n", ROW_LENGTHS)
def test_backward_matches_reference(emulated, n, dtype):
    x, w, b, g = _inputs(5, n, dtype)
    acc = kernels.acc_dtype(x.dtype)
    _, xhat, _, rstd = kernels.forward(x, w.astype(acc), b.astype(acc), n, EPS)
    outs = kernels.backward(g, xhat, rstd, w.astype(acc), n, (True, True, True))
    assert [o.dtype for o in outs] == [acc] * 3
    assert [o.shape for o in outs] == [x.shape, (n,), (n,)]
    tol = ROUNDED["float64" if acc == np.float64 else "float32"]
    for got, want, name in zip(outs, _reference_backward(g, xhat, rstd, w),
                               ("grad_x", "grad_w", "grad_b")):
        _close(got, want, (tol[0] * 10, tol[1] * 10), name)


@pytest.mark.parametrize("need", [(True, False, False), (False, True, False),
                                  (False, False, True), (True, False, True)])
@pytest.mark.parametrize("rows, n", [(300, 7), (1000, 1), (70, 40)])
def test_backward_chunks_and_needs(emulated, rows, n, need):
    x, w, _, g = _inputs(rows, n, "float64", seed=rows)
    _, xhat, _, rstd = kernels.forward(x, w, None, n, EPS)
    outs = kernels.backward(g, xhat, rstd, None, n, need)
    want = [r for r, needed in zip(_reference_backward(g, xhat, rstd, None), need) if needed]
    assert len(outs) == len(want)
    for got, ref in zip(outs, want):
        _close(got, ref, (1e-11, 1e-11), str(need))


def test_glue_matches_the_composed_path(emulated):
    """normalization's fused forward / backward helpers (what NormAffine and NormAffineBackward
    run on cuda) for a 3-D input over two dims: the forward against the composed NumPy path
    (outputs, shapes, dtypes), the backward against the reference in the parameters' shapes."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    w, b = (rng.standard_normal((1, 4, 5)).astype(np.float32) for _ in range(2))
    axes = (2, 3)
    fused = normalization._fused_forward(x, w, b, axes, EPS, 20)
    composed = normalization._composed_forward(np, x, w, b, axes, EPS)
    for got, want in zip(fused, composed):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(x.shape).astype(np.float32)
    xhat, rstd = composed[1], composed[3]
    outs = normalization._fused_backward(g, xhat, rstd, w, 20, (True, True, True),
                                         (w.shape, b.shape))
    assert [o.shape for o in outs] == [x.shape, w.shape, b.shape]
    want = _reference_backward(g.reshape(6, 20), xhat.reshape(6, 20), rstd.reshape(6),
                               w.reshape(20))
    for got, ref in zip(outs, want):
        _close(got.reshape(ref.shape), ref, (1e-4, 1e-4), "backward")


@pytest.mark.parametrize("shape", [(), (3, 4)])
def test_empty_normalized_shape_keeps_shapes(emulated, shape):
    """normalized_shape () (rows of one element), on a 0-d input too: shapes as composed."""
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    w = np.float32(1.5).reshape(())
    fused = normalization._fused_forward(x, w, None, (), EPS, 1)
    composed = normalization._composed_forward(np, x, w, None, (), EPS)
    for got, want in zip(fused, composed):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    g = np.ones(shape, np.float32)
    outs = normalization._fused_backward(g, composed[1], composed[3], w, 1, (True, True, False),
                                         (w.shape, None))
    assert [o.shape for o in outs] == [shape, ()]
    np.testing.assert_allclose(outs[0], np.zeros(shape), atol=1e-6)
