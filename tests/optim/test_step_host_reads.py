"""A training step reads no tensor value on the host (the CPU proxy of
tests/gpu/test_no_host_sync_cuda).

The same tiny GPT step runs on the CPU with Tensor.item / __bool__ / __float__ / __int__ / tolist
made to raise: on cuda each of those is a device-to-host sync, so the step's tensor-level code
(modules, autograd, clip_grad_norm_, the optimizers, GradScaler, schedulers) must not call them.
Reads of raw arrays inside ops are only caught by the GPU test."""
import pytest

import torchlite

from ..gpu import test_no_host_sync_cuda as gpu_case
from benchmarks.gpt_model import build_gpt

# the GPU case's autocast("cuda") blocks are no-ops on CPU tensors
pytestmark = pytest.mark.filterwarnings("ignore:CUDA is not available")
READS = ("item", "__bool__", "__float__", "__int__", "tolist")


def _forbid_reads(monkeypatch):
    def read(self, *args, **kwargs):
        raise AssertionError("a training step read a tensor value on the host")

    for name in READS:
        monkeypatch.setattr(torchlite.Tensor, name, read)


def _setup(fused):
    torchlite.manual_seed(0)
    model = build_gpt(torchlite, gpu_case.VOCAB, gpu_case.LAYERS, gpu_case.HEADS, gpu_case.WIDTH,
                      gpu_case.CONTEXT)
    opt = torchlite.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, fused=fused)
    sched = torchlite.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    idx = torchlite.randint(0, gpu_case.VOCAB, (gpu_case.BATCH, gpu_case.CONTEXT))
    targets = torchlite.randint(0, gpu_case.VOCAB, (gpu_case.BATCH, gpu_case.CONTEXT))
    return model, opt, sched, idx, targets


@pytest.mark.parametrize("step,fused", [(gpu_case._plain_step, None),
                                        (gpu_case._plain_step, True),
                                        (gpu_case._scaled_step, True)])
def test_training_step_reads_no_tensor_value(monkeypatch, step, fused):
    model, opt, sched, idx, targets = _setup(fused)
    scaler = torchlite.amp.GradScaler("cpu")
    step(model, opt, sched, idx, targets, scaler)
    before = [p.detach().clone() for p in model.parameters()]
    _forbid_reads(monkeypatch)
    step(model, opt, sched, idx, targets, scaler)
    monkeypatch.undo()
    assert any(not torchlite.equal(a, p) for a, p in zip(before, model.parameters()))


def test_the_guard_catches_a_read(monkeypatch):
    _forbid_reads(monkeypatch)
    with pytest.raises(AssertionError, match="read a tensor value"):
        float(torchlite.ones(()))
    with pytest.raises(AssertionError, match="read a tensor value"):
        bool(torchlite.ones(()) > 0)


def test_grad_scaler_step_with_an_unfused_optimizer_reads_as_pytorch(monkeypatch):
    """Without fused=True, GradScaler.step must read whether an inf was found (PyTorch too)."""
    model, opt, sched, idx, targets = _setup(None)
    scaler = torchlite.amp.GradScaler("cpu")
    gpu_case._scaled_step(model, opt, sched, idx, targets, scaler)
    _forbid_reads(monkeypatch)
    with pytest.raises(AssertionError, match="read a tensor value"):
        gpu_case._scaled_step(model, opt, sched, idx, targets, scaler)
