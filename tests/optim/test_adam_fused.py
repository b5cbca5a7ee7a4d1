"""Adam / AdamW with fused=True on the CPU against PyTorch's fused CPU kernel: where 'step' lives,
GradScaler handing the scale and the inf flag to the optimizer (unscaled gradients written back,
skipped steps that do not count), state_dicts and the refusal of non-float parameters."""
import math

import numpy as np
import pytest

import torchlite

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
X = RNG.standard_normal((8, 5)).astype(np.float32)
Y = RNG.standard_normal((8, 3)).astype(np.float32)
W0 = RNG.standard_normal((3, 5)).astype(np.float32)
B0 = RNG.standard_normal(3).astype(np.float32)
INF_STEPS = {2, 3}


def _scaled_run(lib, name, opts, unscale_at=None):
    model = lib.nn.Linear(5, 3)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(W0))
        model.bias.copy_(lib.tensor(B0))
    opt = getattr(lib.optim, name)(model.parameters(), fused=True, **opts)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 6, growth_interval=3)
    history = []
    for step in range(8):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(lib.tensor(X)), lib.tensor(Y))
        scaler.scale(loss).backward()
        if step in INF_STEPS:
            model.weight.grad[1, 2] = math.inf
        if step == unscale_at:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        scaler.step(opt)
        scaler.update()
        history.append((scaler.get_scale(), model.weight.detach().numpy().copy(),
                        model.weight.grad.detach().numpy().copy(),
                        float(opt.state[model.weight]["step"])))
    return history, opt.state_dict()


@pytest.mark.parametrize("name,opts,unscale_at", [
    ("Adam", {"lr": 0.05}, None),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}, 5),
    ("AdamW", {"lr": 0.05, "maximize": True}, None),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.2, "amsgrad": True}, 4),
])
def test_grad_scaler_with_fused_adam_matches_torch(name, opts, unscale_at):
    ours, our_state = _scaled_run(torchlite, name, opts, unscale_at)
    ref, ref_state = _scaled_run(torch, name, opts, unscale_at)
    for (scale, w, g, step), (rscale, rw, rg, rstep) in zip(ours, ref):
        assert scale == rscale
        assert step == rstep  # skipped steps do not count
        np.testing.assert_allclose(g, rg, rtol=1e-5, atol=1e-6)  # unscaled in place
        np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)
    for key, value in ref_state["state"][0].items():
        ours_value = our_state["state"][0][key]
        assert str(ours_value.dtype) == str(value.dtype), key
        np.testing.assert_allclose(ours_value.numpy(), value.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opts", [{"fused": True}, {}])
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_step_state_dtype_matches_torch(opts, default):
    dtypes = []
    for lib in (torchlite, torch):
        before = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            p = lib.nn.Parameter(lib.ones(3))
            opt = lib.optim.Adam([p], lr=0.1, **opts)
            p.grad = lib.ones(3)
            opt.step()
            step = opt.state_dict()["state"][0]["step"]
            dtypes.append((str(step.dtype), step.device.type, float(step)))
        finally:
            lib.set_default_dtype(before)
    assert dtypes[0] == dtypes[1]


def test_fused_refuses_integer_params_as_torch():
    messages = []
    for lib in (torchlite, torch):
        p = lib.zeros(3, dtype=lib.int64)
        opt = lib.optim.Adam([p], fused=True)
        p.grad = lib.zeros(3, dtype=lib.int64)
        with pytest.raises(RuntimeError) as info:
            opt.step()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_only_fused_optimizers_let_grad_scaler_skip_without_reading():
    for lib in (torchlite, torch):
        p = lib.nn.Parameter(lib.ones(2))
        assert getattr(lib.optim.Adam([p], fused=True), "_step_supports_amp_scaling", False)
        assert not getattr(lib.optim.Adam([p]), "_step_supports_amp_scaling", False)
        assert not getattr(lib.optim.AdamW([p], fused=False), "_step_supports_amp_scaling",
                           False)


def _emulated_kernel(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1,
                     beta2, eps, weight_decay, amsgrad, maximize, decoupled, grad_scale=None,
                     found_inf=None):
    """adam.cu's per-element math in float64 NumPy, with its host-step contract (``steps``: the
    counters after this step, as numbers)."""
    assert all(isinstance(s, float) for s in steps)
    if found_inf is not None and found_inf != 0:
        return
    for i, p in enumerate(params):
        g = grads[i].astype(np.float64)
        if grad_scale is not None:
            g = g / float(grad_scale)
            grads[i][...] = g
        g = -g if maximize else g
        w = p.astype(np.float64)
        if weight_decay:
            w = w * (1 - lr * weight_decay) if decoupled else w
            g = g if decoupled else g + weight_decay * w
        m = exp_avgs[i] + (1 - beta1) * (g - exp_avgs[i])
        v = beta2 * exp_avg_sqs[i] + (1 - beta2) * g * g
        second = v
        if amsgrad:
            second = np.maximum(max_exp_avg_sqs[i], v)
            max_exp_avg_sqs[i][...] = second
        denom = np.sqrt(second) / np.sqrt(1 - beta2 ** steps[i]) + eps
        p[...] = w - lr / (1 - beta1 ** steps[i]) * m / denom
        exp_avgs[i][...], exp_avg_sqs[i][...] = m, v


@pytest.mark.parametrize("name,opts,unscale_at", [
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}, None),
    ("AdamW", {"lr": 0.05, "maximize": True}, 5),
])
def test_fused_dispatch_with_an_emulated_kernel_matches_torch(monkeypatch, name, opts,
                                                               unscale_at):
    """The optimizer's side of the fused path (which tensors go to the kernel, step counting,
    GradScaler's scale and inf flag), run here with a NumPy stand-in for the CUDA kernel."""
    from torchlite import _kernels
    from torchlite.optim import adam as adam_module
    calls = []

    def kernel(*args, **kwargs):
        calls.append(len(args[0]))
        _emulated_kernel(*args, **kwargs)

    monkeypatch.setattr(_kernels, "fused", lambda xp: True)
    monkeypatch.setattr(adam_module._adam_kernel, "adam_", kernel)
    ours, _ = _scaled_run(torchlite, name, opts, unscale_at)
    ref, _ = _scaled_run(torch, name, opts, unscale_at)
    assert calls == [2] * (8 - len(INF_STEPS))  # weight and bias together; skips: no call
    for (scale, w, g, step), (rscale, rw, rg, rstep) in zip(ours, ref):
        assert (scale, step) == (rscale, rstep)
        np.testing.assert_allclose(g, rg, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)


def test_scaler_with_fused_adam_and_no_gradients_matches_torch():
    outcomes = []
    for lib in (torchlite, torch):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.Adam([p], fused=True)
        scaler = lib.amp.GradScaler("cpu")
        scaler.scale(p.sum())
        scaler.step(opt)  # nothing to check or update
        with pytest.raises(AssertionError) as info:
            scaler.update()
        outcomes.append((str(info.value), p.detach().numpy().tolist()))
    assert outcomes[0] == outcomes[1]
