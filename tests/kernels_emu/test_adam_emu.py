"""adam.cu's multi-tensor launcher on the CPU emulator against PyTorch's Adam / AdamW algorithm
written out in float64 NumPy: every flag, host and device step counters, GradScaler's unscale and
skip, tensors across a chunk boundary and more tensors than one launch takes."""
import math

import ml_dtypes
import numpy as np
import pytest

from torchlite._kernels import adam

LR, BETA1, BETA2, EPS = 1e-2, 0.9, 0.99, 1e-8
DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
TOL = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3, ml_dtypes.bfloat16: 1.6e-2}


def reference(p, g, m, v, vmax, step, weight_decay, amsgrad, maximize, decoupled, scale=1.0):
    """PyTorch's single-tensor Adam / AdamW update in float64: new (p, m, v, vmax)."""
    p, g, m, v = (a.astype(np.float64) for a in (p, g, m, v))
    g = g / scale
    if maximize:
        g = -g
    if decoupled:
        p = p * (1 - LR * weight_decay)
    elif weight_decay:
        g = g + weight_decay * p
    m = m + (1 - BETA1) * (g - m)
    v = BETA2 * v + (1 - BETA2) * g * g
    second = np.maximum(vmax.astype(np.float64), v) if amsgrad else v
    denom = np.sqrt(second) / math.sqrt(1 - BETA2 ** step) + EPS
    p = p - LR / (1 - BETA1 ** step) * m / denom
    return p, m, v, second


def _state(sizes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    p, g, m = ([rng.standard_normal(n).astype(dtype) for n in sizes] for _ in range(3))
    v, vmax = ([rng.uniform(0, 2, n).astype(dtype) for n in sizes] for _ in range(2))
    return p, g, m, v, vmax


def _run(state, steps, **options):
    p, g, m, v, vmax = (list(map(np.copy, arrays)) for arrays in state)
    adam.adam_(p, g, m, v, vmax, steps, lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS, **options)
    return p, g, m, v, vmax


def _check(got, want, dtype):
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("weight_decay, amsgrad, maximize, decoupled", [
    (0.0, False, False, False), (0.1, False, False, False), (0.1, False, False, True),
    (0.0, True, False, False), (0.05, True, True, True), (0.0, False, True, False)])
def test_host_steps(emulated, dtype, weight_decay, amsgrad, maximize, decoupled):
    sizes = [1, 7, adam.CHUNK + 3]  # the last spans two chunks (blocks)
    state = _state(sizes, dtype)
    steps = [3, 1, 10]
    flags = {"weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
             "decoupled": decoupled}
    p, g, m, v, vmax = _run(state, steps, **flags)
    for k, step in enumerate(steps):
        want = reference(*(a[k] for a in state), step, **flags)
        for got, expected in zip((p[k], m[k], v[k]), want):
            _check(got, expected, dtype)
        if amsgrad:
            _check(vmax[k], want[3], dtype)
        np.testing.assert_array_equal(g[k], state[1][k])  # no grad_scale: grads untouched


@pytest.mark.parametrize("found_inf", [0.0, 1.0])
def test_device_steps_with_grad_scaler(emulated, found_inf):
    sizes = [5, 40, 1]
    state = _state(sizes, np.float32, seed=1)
    counters = [np.array(s, np.float32) for s in (0.0, 4.0, 9.0)]  # before this step
    scale, inf = np.array(1024.0, np.float32), np.array(found_inf, np.float32)
    p, g, m, v, vmax = _run(state, counters, weight_decay=0.01, amsgrad=True, maximize=False,
                            decoupled=True, grad_scale=scale, found_inf=inf)
    if found_inf:
        assert [float(c) for c in counters] == [0.0, 4.0, 9.0]
        for got, before in zip((p, g, m, v, vmax), state):
            for a, b in zip(got, before):
                np.testing.assert_array_equal(a, b)
        return
    assert [float(c) for c in counters] == [1.0, 5.0, 10.0]
    for k, step in enumerate((1, 5, 10)):
        want = reference(*(a[k] for a in state), step, weight_decay=0.01, amsgrad=True,
                         maximize=False, decoupled=True, scale=1024.0)
        for got, expected in zip((p[k], m[k], v[k], vmax[k]), want):
            _check(got, expected, np.float32)
        _check(g[k], state[1][k] / 1024.0, np.float32)  # unscaled in place, as GradScaler


def test_more_tensors_than_one_launch(emulated):
    sizes = [(k % 5) + 1 for k in range(adam.MAX_TENSORS + 3)]
    state = _state(sizes, np.float64, seed=2)
    steps = [k + 1 for k in range(len(sizes))]
    p, _, m, v, _ = _run(state, steps, weight_decay=0.0, amsgrad=False, maximize=False,
                         decoupled=False)
    for k, step in enumerate(steps):
        want = reference(*(a[k] for a in state), step, 0.0, False, False, False)
        for got, expected in zip((p[k], m[k], v[k]), want):
            _check(got, expected, np.float64)


@pytest.mark.parametrize("name, options", [
    ("Adam", {}), ("Adam", {"weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"weight_decay": 0.1, "maximize": True})])
def test_optimizer_on_the_kernel_matches_torch(fused_ops, torch_oracle, name, options):
    import torchlite

    rng = np.random.default_rng(5)
    shapes = [(3, 5), (7,), (1,)]
    start = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    results = []
    for lib in (torch_oracle, torchlite):
        params = [lib.tensor(p, requires_grad=True) for p in start]
        optimizer = getattr(lib.optim, name)(params, lr=LR, betas=(BETA1, BETA2), **options)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = lib.tensor(g)
            optimizer.step()
        results.append([p.detach().numpy() for p in params])
    for got, want in zip(*results[::-1]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert fused_ops.launches.count("adam_multi_tensor<double>") == 3
