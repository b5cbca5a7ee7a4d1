"""The fused Adam / AdamW kernel (torchlite/_kernels/adam.cu) on cuda against (a) the composed
update on cuda (fused kernels disabled), (b) the CPU update and (c) a float64 NumPy reference of
PyTorch's fused math (one rounding per step), over 100+ parameters of odd sizes and mixed dtypes.

The struct layout and the block -> (tensor, chunk) mapping are checked here without a GPU.
"""
import re

import numpy as np
import pytest

import torchlite
from torchlite import _kernels
from torchlite._kernels import _compile
from torchlite._kernels import adam as adam_kernel

from ._gpu import gpu_reason

REASON = gpu_reason()
needs_gpu = pytest.mark.skipif(REASON is not None, reason=str(REASON))

# odd sizes around warp, block and chunk (16384) boundaries
SIZES = [1, 7, 33, 255, 257, 1000, 4097, 16383, 16385, 50257]
SHAPES = [(n,) for n in SIZES] + [(3, 11), (17, 33), (2, 3, 5)]
TOL = {"float32": (2e-5, 1e-6), "float64": (1e-12, 1e-14), "bfloat16": (1e-2, 1e-2),
       "float16": (2e-3, 2e-3)}


def _shapes(count):
    return [SHAPES[i % len(SHAPES)] for i in range(count)]


# ---- without a GPU: the kernel argument and its index math ---------------------------------
def test_struct_layout_matches_adam_cu():
    source = _compile.source("adam")
    assert int(re.search(r"ADAM_MAX_TENSORS = (\d+);", source)[1]) == adam_kernel.MAX_TENSORS
    assert int(re.search(r"ADAM_CHUNK = (\d+);", source)[1]) == adam_kernel.CHUNK
    fields = re.search(r"struct AdamTensors \{(.*?)\};", source, re.DOTALL)[1]
    names = re.findall(r"^\s+\w[\w ]*?\s(\w+)\[", fields, re.MULTILINE)
    assert tuple(names) == adam_kernel.TENSORS_DTYPE.names
    m = adam_kernel.MAX_TENSORS
    assert adam_kernel.TENSORS_DTYPE.itemsize == 9 * 8 * m + 4 * (m + 2)  # adam.cu's assert
    assert adam_kernel.TENSORS_DTYPE.itemsize + 8 * 8 <= 4096  # CUDA's kernel-argument limit


def test_blocks_cover_every_element_once():
    """Emulates adam.cu's block loop (binary search in chunk_start, chunk bounds) in NumPy."""
    sizes = [1, 16384, 16385, 7, 50257, 32768, 3] * 9  # 63 tensors: two launches
    arrays = [np.zeros(n, np.float32) for n in sizes]  # NumPy: host addresses, as the emulator
    steps = [3.0] * len(arrays)
    lists = (arrays, arrays, arrays, arrays, None, steps)
    seen = [np.zeros(n, np.int64) for n in sizes]
    for start in range(0, len(arrays), adam_kernel.MAX_TENSORS):
        batch = slice(start, start + adam_kernel.MAX_TENSORS)
        tl, count, chunks = adam_kernel._pack(lists, batch, False, 0.1, 0.9, 0.999)
        starts = tl["chunk_start"][0]
        assert chunks == sum(-(-n // adam_kernel.CHUNK) for n in sizes[batch])
        for block in range(chunks):
            t = int(np.searchsorted(starts[:count], block, side="right")) - 1
            begin = (block - starts[t]) * adam_kernel.CHUNK
            end = min(tl["numel"][0, t], begin + adam_kernel.CHUNK)
            assert tl["param"][0, t] == arrays[start + t].ctypes.data
            seen[start + t][begin:end] += 1
        np.testing.assert_allclose(tl["step_size"][0, :count], 0.1 / (1 - 0.9 ** 3))
        np.testing.assert_allclose(tl["bias_correction2_sqrt"][0, :count],
                                   np.sqrt(1 - 0.999 ** 3))
    assert all((s == 1).all() for s in seen)


# ---- on a GPU -------------------------------------------------------------------------------
def _reference_step(state, grad, step, opts):
    """PyTorch's fused Adam math in float64 on host arrays; returns the new state."""
    lr, (beta1, beta2), eps = opts["lr"], opts.get("betas", (0.9, 0.999)), 1e-8
    wd, decoupled = opts.get("weight_decay", 0.0), opts["decoupled"]
    p, m, v, vmax = (state[k].astype(np.float64) for k in ("p", "m", "v", "vmax"))
    g = grad.astype(np.float64) * (-1 if opts.get("maximize") else 1)
    if wd:
        p = p * (1 - lr * wd) if decoupled else p
        g = g if decoupled else g + wd * p
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    vmax = np.maximum(vmax, v)
    second = vmax if opts.get("amsgrad") else v
    p = p - lr / (1 - beta1 ** step) * m / (np.sqrt(second) / np.sqrt(1 - beta2 ** step) + eps)
    dtype = state["p"].dtype
    return {"p": p.astype(dtype), "m": m.astype(dtype), "v": v.astype(dtype),
            "vmax": vmax.astype(dtype)}


def _run(device, dtypes, opts, steps, fused_kernels=True, fused_flag=None, seed=0):
    """Parameters (one per shape, dtypes cycled) stepped ``steps`` times with seeded gradients;
    returns the optimizer and the parameters."""
    rng = np.random.default_rng(seed)
    name = "AdamW" if opts["decoupled"] else "Adam"
    kwargs = {k: v for k, v in opts.items() if k != "decoupled"}
    shapes = _shapes(opts.get("count", 104))
    kwargs.pop("count", None)
    params = [torchlite.nn.Parameter(torchlite.tensor(
        rng.standard_normal(s).astype(np.float32), device=device).to(
        getattr(torchlite, dtypes[i % len(dtypes)]))) for i, s in enumerate(shapes)]
    opt = getattr(torchlite.optim, name)(params, fused=fused_flag, **kwargs)
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torchlite.tensor(g, device=device).to(p.dtype)
        if fused_kernels:
            opt.step()
        else:
            with _kernels.disabled():
                opt.step()
    return opt, params, grads


def _host(t):
    """A host copy; float16 / bfloat16 as float32."""
    t = t.detach().cpu()
    return t.float().numpy() if t.dtype in (torchlite.float16, torchlite.bfloat16) else t.numpy()


OPTIONS = [
    {"lr": 0.1, "decoupled": False},
    {"lr": 0.1, "decoupled": False, "weight_decay": 0.1},
    {"lr": 0.1, "decoupled": True},
    {"lr": 0.1, "decoupled": True, "weight_decay": 0.2, "amsgrad": True},
    {"lr": 0.05, "decoupled": False, "amsgrad": True, "maximize": True, "betas": (0.8, 0.95)},
    {"lr": 0.05, "decoupled": True, "maximize": True},
]


@needs_gpu
@pytest.mark.parametrize("opts", OPTIONS, ids=str)
def test_fused_equals_composed_and_cpu_float32(opts):
    fused_opt, fused, _ = _run("cuda", ["float32"], opts, steps=4)
    _, composed, _ = _run("cuda", ["float32"], opts, steps=4, fused_kernels=False)
    cpu_opt, cpu, _ = _run("cpu", ["float32"], opts, steps=4)
    for a, b, c in zip(fused, composed, cpu):
        np.testing.assert_allclose(_host(a), _host(b), rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(_host(a), _host(c), rtol=2e-5, atol=1e-6)
        for key in fused_opt.state[a]:
            np.testing.assert_allclose(_host(fused_opt.state[a][key]),
                                       _host(cpu_opt.state[c][key]), rtol=2e-5, atol=1e-6)


@needs_gpu
@pytest.mark.parametrize("dtypes", [["float32", "bfloat16"], ["float64"], ["float16"]],
                         ids=str)
@pytest.mark.parametrize("opts", OPTIONS[1:4], ids=str)
def test_fused_matches_float64_reference_mixed_dtypes(dtypes, opts):
    """Each step from the fused kernel's own previous state: one rounding per step, as PyTorch's
    fused kernel (the composed path rounds every intermediate in low precision)."""
    if "bfloat16" in dtypes and not torchlite.cuda.is_bf16_supported():
        pytest.skip("this GPU / CuPy has no bfloat16")
    opt, params, grads = _run("cuda", dtypes, opts, steps=3)
    opt2, params2, _ = _run("cuda", dtypes, opts, steps=2)  # the same first two steps
    for p2, p3, g in zip(params2, params, grads[2]):
        s = opt2.state[p2]
        state = {"p": _host(p2), "m": _host(s["exp_avg"]), "v": _host(s["exp_avg_sq"])}
        state["vmax"] = _host(s["max_exp_avg_sq"]) if "max_exp_avg_sq" in s else \
            np.zeros_like(state["p"])
        grad = _host(torchlite.tensor(g).to(p2.dtype))
        expected = _reference_step(state, grad, 3, opts)
        rtol, atol = TOL[str(p3.dtype).split(".")[-1]]
        np.testing.assert_allclose(_host(p3), expected["p"], rtol=rtol, atol=atol)
        np.testing.assert_allclose(_host(opt.state[p3]["exp_avg"]), expected["m"], rtol=rtol,
                                   atol=atol)
        assert float(opt.state[p3]["step"]) == 3.0


@needs_gpu
def test_one_launch_per_dtype_per_48_tensors(monkeypatch):
    launches = []
    real = _compile.launch
    monkeypatch.setattr(_compile, "launch",
                        lambda name, *a, **k: (launches.append(a[1].name), real(name, *a, **k)))
    _, params, _ = _run("cuda", ["float32", "bfloat16"], OPTIONS[2], steps=1)
    count32 = sum(p.dtype == torchlite.float32 for p in params)
    expected = {"float32": -(-count32 // 48), "bfloat16": -(-(len(params) - count32) // 48)}
    assert {d: launches.count(d) for d in expected} == expected


@needs_gpu
def test_noncontiguous_and_empty_fall_back_per_tensor():
    results = []
    for device in ("cuda", "cpu"):
        rng = np.random.default_rng(5)
        a = torchlite.nn.Parameter(torchlite.tensor(rng.standard_normal((5, 7)).astype(
            np.float32), device=device))
        b = torchlite.nn.Parameter(torchlite.zeros(0, device=device))
        c = torchlite.nn.Parameter(torchlite.ones(9, device=device))
        opt = torchlite.optim.AdamW([a, b, c], lr=0.1, weight_decay=0.1)
        for _ in range(3):
            g = torchlite.tensor(rng.standard_normal((7, 5)).astype(np.float32), device=device)
            a.grad = g.t()  # a transposed (non-contiguous) gradient
            b.grad = torchlite.zeros(0, device=device)
            c.grad = torchlite.full((9,), 0.5, device=device)
            opt.step()
        results.append([_host(t) for t in (a, c)] + [float(opt.state[b]["step"])])
    for x, y in zip(*results):
        np.testing.assert_allclose(x, y, rtol=2e-5, atol=1e-6)


@needs_gpu
@pytest.mark.parametrize("fused_flag", [None, True])
def test_state_dict_round_trip_continues_identically(fused_flag):
    opts = OPTIONS[3]
    _, full, grads = _run("cuda", ["float32"], opts, steps=4, fused_flag=fused_flag)
    half_opt, half, _ = _run("cuda", ["float32"], opts, steps=2, fused_flag=fused_flag)
    saved = half_opt.state_dict()
    step = saved["state"][0]["step"]
    assert step.device.type == ("cuda" if fused_flag else "cpu")
    assert str(step.dtype) == "torch.float32"
    fresh = torchlite.optim.AdamW(half, fused=fused_flag, **{
        k: v for k, v in opts.items() if k != "decoupled"})
    fresh.load_state_dict(saved)
    for step_grads in grads[2:]:
        for p, g in zip(half, step_grads):
            p.grad = torchlite.tensor(g, device="cuda")
        fresh.step()
    for a, b in zip(full, half):
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-6, atol=1e-7)
    assert fresh.state_dict()["state"][0]["step"].item() == 4.0


@needs_gpu
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_grad_scaler_with_fused_flag_on_cuda_matches_cpu(name):
    """fused=True: GradScaler hands grad_scale / found_inf to the kernel (unscale in place, skip
    on inf, the step counter not advanced); the CPU run of the same is checked against PyTorch
    in tests/optim/test_adam_fused.py."""
    runs = []
    for device in ("cuda", "cpu"):
        rng = np.random.default_rng(2)
        model = torchlite.nn.Linear(6, 4).to(device)
        with torchlite.no_grad():
            model.weight.copy_(torchlite.tensor(rng.standard_normal((4, 6)).astype(np.float32),
                                                device=device))
            model.bias.zero_()
        opt = getattr(torchlite.optim, name)(model.parameters(), lr=0.05, fused=True)
        scaler = torchlite.amp.GradScaler(device, init_scale=2.0 ** 8, growth_interval=2)
        x = torchlite.tensor(rng.standard_normal((5, 6)).astype(np.float32), device=device)
        history = []
        for step in range(6):
            opt.zero_grad()
            loss = model(x).square().mean()
            scaler.scale(loss).backward()
            if step == 2:
                model.weight.grad[0, 0] = float("inf")
            scaler.step(opt)
            scaler.update()
            history.append((scaler.get_scale(), _host(model.weight), _host(model.weight.grad),
                            float(opt.state[model.weight]["step"])))
        runs.append(history)
    for (scale, w, g, step), (rscale, rw, rg, rstep) in zip(*runs):
        assert (scale, step) == (rscale, rstep)
        np.testing.assert_allclose(w, rw, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(g, rg, rtol=2e-5, atol=1e-6)
