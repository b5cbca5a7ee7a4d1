"""Every fused kernel family together, end to end: a tiny nanoGPT model (the benchmarks'
build_gpt)
trains a few AdamW steps on the CPU with the ops' fused branches on (``fused_ops``: embedding,
layer_norm, causal sdpa, gelu, cross_entropy and Adam launch their kernels in the emulator), from
the same initial weights as the same model in PyTorch, on the same batches. Losses and final
weights must match PyTorch's, and those of the composed path (kernels disabled). Also one step
under bfloat16 autocast, and the embedding backward over many repeats of a few tokens."""
import sys
import types

import ml_dtypes
import numpy as np
import pytest

import torchlite
from benchmarks.gpt_model import build_gpt
from torchlite import _kernels
from torchlite.nn.functional import attention as _attention

pytest.importorskip("torch", reason="PyTorch 2.13 (CPU) is the oracle of these comparisons")
from tests.nn.helpers import copy_weights  # imports torch: after the skip

VOCAB, CONTEXT, WIDTH, HEADS, LAYERS = 37, 16, 32, 2, 2
BATCH, STEPS, LR, WEIGHT_DECAY, CLIP = 4, 5, 3e-3, 0.1, 0.5
LOSS_TOL = {"rtol": 1e-5, "atol": 0}
# Adam moves a weight whose gradient is near 0 by up to LR per step whatever the gradient's
# rounding: weights agree to a small fraction of one step
PARAM_TOL = {"rtol": 1e-4, "atol": LR / 100}
# The kernels one training step launches, by family (softmax's through cross_entropy; the
# embedding's backward is cupyx.scatter_add, not a kernel of ours).
KERNELS = {
    "embedding": {"embedding_check_indices"},
    "layer_norm": {"layer_norm_forward", "layer_norm_backward_input",
                   "layer_norm_backward_params"},
    "attention": {"attention_softmax", "attention_score_grad"},  # weights kept: T = 16
    "gelu": {"gelu_forward", "gelu_backward"},
    "softmax": {"cross_entropy_forward", "cross_entropy_backward"},
    "adam": {"adam_multi_tensor"},
}


@pytest.fixture
def scatter_add(monkeypatch):
    """cupyx.scatter_add on NumPy arrays: CuPy documents it as equivalent to numpy.add.at (an
    unbuffered add, repeats accumulate), which is what the fused embedding backward calls; the
    GPU's atomics are not emulated."""
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = np.add.at
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)


@pytest.fixture
def fused_training(fused_ops, scatter_add):
    return fused_ops


def _batches(seed=0):
    """STEPS fixed (inputs, targets) batches of random tokens: 64 lookups of 37 rows per batch,
    so the embedding backward adds many rows more than once."""
    seq = np.random.default_rng(seed).integers(0, VOCAB, (STEPS, BATCH, CONTEXT + 1))
    return [(s[:, :-1], s[:, 1:]) for s in seq]


def _models(torch):
    torch.manual_seed(0)
    ref = build_gpt(torch, VOCAB, LAYERS, HEADS, WIDTH, CONTEXT)
    return ref, copy_weights(ref, build_gpt(torchlite, VOCAB, LAYERS, HEADS, WIDTH, CONTEXT))


def _optimizer(lib, model, amsgrad):
    """nanoGPT's AdamW: weight decay on the matrices, none on biases and LayerNorm."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return lib.optim.AdamW(groups, lr=LR, betas=(0.9, 0.95), amsgrad=amsgrad)


def _train(lib, model, amsgrad, clip):
    """(losses, gradient norms before clipping) of STEPS AdamW steps over _batches()."""
    optimizer = _optimizer(lib, model, amsgrad)
    losses, norms = [], []
    for x, y in _batches():
        loss = model(lib.tensor(x), lib.tensor(y))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            norms.append(float(lib.nn.utils.clip_grad_norm_(model.parameters(), CLIP)))
        optimizer.step()
        losses.append(loss.item())
    return losses, norms


def _state(model):
    """A float32 NumPy copy of the model's weights."""
    return {name: value.detach().float().numpy().copy()
            for name, value in model.state_dict().items()}


KEY_BIAS = np.s_[WIDTH:2 * WIDTH]  # of a block's c_attn.bias


def _without_key_bias(name, value):
    """``value`` less the attention's key bias where ``name`` is a c_attn bias: that bias's
    gradient is 0 in exact arithmetic (it adds a constant to a query's scores), so Adam turns
    rounding noise into steps of up to ``LR`` with either sign."""
    return np.delete(value, KEY_BIAS) if name.endswith("c_attn.bias") else value


def _compare_weights(got, want, what):
    """Final weights; the key biases only within the ``LR`` per step that Adam can move them."""
    for name, value in want.items():
        if name.endswith("c_attn.bias"):
            np.testing.assert_allclose(got[name][KEY_BIAS], value[KEY_BIAS], rtol=0,
                                       atol=LR * STEPS, err_msg=f"{what}: {name}")
        np.testing.assert_allclose(_without_key_bias(name, got[name]),
                                   _without_key_bias(name, value), **PARAM_TOL,
                                   err_msg=f"{what}: {name}")


def _kernel_names(launches):
    return {expression.split("<")[0] for expression in launches}


@pytest.mark.parametrize("amsgrad, clip", [(False, False), (True, True)],
                         ids=["adamw", "adamw-amsgrad-clip"])
def test_training_matches_torch(fused_training, torch_oracle, amsgrad, clip):
    ref, model = _models(torch_oracle)
    with _kernels.disabled():
        composed = build_gpt(torchlite, VOCAB, LAYERS, HEADS, WIDTH, CONTEXT)
        composed.load_state_dict(model.state_dict())
    want_losses, want_norms = _train(torch_oracle, ref, amsgrad, clip)
    if clip:
        assert max(want_norms) > CLIP, "clip_grad_norm_ never clipped"

    losses, norms = _train(torchlite, model, amsgrad, clip)
    launched = _kernel_names(fused_training.launches)
    for family, kernels in KERNELS.items():
        assert kernels <= launched, f"{family}: {sorted(kernels - launched)} never launched"
    assert all(e.endswith("<float>") for e in fused_training.launches
               if not e.startswith("embedding")), "a float32 run launched another dtype"
    np.testing.assert_allclose(losses, want_losses, **LOSS_TOL)
    np.testing.assert_allclose(norms, want_norms, **LOSS_TOL)
    _compare_weights(_state(model), _state(ref), "fused vs torch")

    count = len(fused_training.launches)
    with _kernels.disabled():
        composed_losses, composed_norms = _train(torchlite, composed, amsgrad, clip)
    assert len(fused_training.launches) == count, "kernels launched while disabled"
    np.testing.assert_allclose(composed_losses, want_losses, **LOSS_TOL)
    np.testing.assert_allclose(composed_norms, want_norms, **LOSS_TOL)
    _compare_weights(_state(composed), _state(ref), "composed vs torch")


def _autocast_step(lib, model):
    """(loss, {name: grad}, {name: weight change}) of one AdamW step whose forward runs under
    bfloat16 autocast on the CPU."""
    optimizer = _optimizer(lib, model, amsgrad=False)
    before = _state(model)
    x, y = _batches()[0]
    with lib.autocast("cpu", dtype=lib.bfloat16):
        loss = model(lib.tensor(x), lib.tensor(y))
    loss.backward()
    grads = {name: p.grad.float().numpy().copy() for name, p in model.named_parameters()}
    optimizer.step()
    after = _state(model)
    return loss.item(), grads, {name: after[name] - before[name] for name in grads}


def _relative_error(got, want):
    return np.linalg.norm(got - want) / np.linalg.norm(want)


@pytest.mark.parametrize("sdpa", ["cpu", "cuda"])
def test_bfloat16_autocast_step_matches_torch(fused_training, torch_oracle, monkeypatch, sdpa):
    """On the CPU, autocast runs linear, sdpa and gelu in bfloat16 and layer_norm and
    cross_entropy in float32 (PyTorch's CPU policy), and sdpa's fused node takes float32 and
    float64 only, so bfloat16 attention is composed (its softmax on the softmax kernels);
    ``sdpa="cuda"`` lets the fused node take bfloat16 as on cuda, so its kernels run too."""
    if sdpa == "cuda":
        monkeypatch.setitem(_attention._FUSED_DTYPES, "cpu", (torchlite.float32,
                                                              torchlite.bfloat16))
    ref, model = _models(torch_oracle)
    want_loss, want_grads, want_steps = _autocast_step(torch_oracle, ref)
    loss, grads, steps = _autocast_step(torchlite, model)

    bf16 = {"gelu_forward", "gelu_backward"} | (
        {"attention_softmax", "attention_score_grad"} if sdpa == "cuda" else
        {"softmax_forward", "softmax_backward"})
    float32 = KERNELS["layer_norm"] | KERNELS["softmax"] | KERNELS["adam"]
    launched = set(fused_training.launches)
    assert {f"{k}<__nv_bfloat16>" for k in bf16} <= launched
    assert {f"{k}<float>" for k in float32} <= launched
    np.testing.assert_allclose(loss, want_loss, rtol=1e-3)
    for name, want in want_grads.items():
        assert _relative_error(grads[name], want) < 3e-2, name
        # a first Adam step is -LR * sign(grad) (weight decay aside): compared where the
        # gradient's sign is clear of bfloat16 noise
        clear = np.abs(want) > 0.1 * np.sqrt(np.mean(want ** 2))
        np.testing.assert_allclose(steps[name][clear], want_steps[name][clear], rtol=0,
                                   atol=LR / 100, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_embedding_backward_adds_repeated_rows(fused_training, torch_oracle, dtype):
    """Many lookups of a few rows (and one row once) add up in the weight's gradient: against
    float64 sums (16-bit gradients accumulate in float32 and round once) and PyTorch's."""
    rng = np.random.default_rng(3)
    idx = rng.choice([0, 5, VOCAB - 1], (BATCH, 4 * CONTEXT))
    idx[0, 0] = 7
    weight = rng.standard_normal((VOCAB, WIDTH))
    grad = rng.standard_normal(idx.shape + (WIDTH,))
    want = np.zeros_like(weight)
    np.add.at(want, idx, grad.astype(getattr(ml_dtypes, dtype, np.float32)).astype(np.float64))

    w = torchlite.tensor(weight, dtype=getattr(torchlite, dtype), requires_grad=True)
    torchlite.nn.functional.embedding(torchlite.tensor(idx), w).backward(
        torchlite.tensor(grad, dtype=w.dtype))
    got = w.grad.double().numpy()
    assert "embedding_check_indices<long long>" in fused_training.launches
    rtol = {"float32": 1e-5, "bfloat16": 2.0 ** -8}[dtype]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6)
    if dtype == "float32":
        w_ref = torch_oracle.tensor(weight, dtype=torch_oracle.float32, requires_grad=True)
        torch_oracle.nn.functional.embedding(torch_oracle.tensor(idx), w_ref).backward(
            torch_oracle.tensor(grad, dtype=torch_oracle.float32))
        np.testing.assert_allclose(got, w_ref.grad.double().numpy(), rtol=1e-5, atol=1e-6)
