"""A whole training step of a small GPT on cuda never waits for the device on the host.

The step (embedding, layer_norm, causal scaled_dot_product_attention, gelu MLP, cross_entropy,
backward, clip_grad_norm_, AdamW, zero_grad, a scheduler step; and a GradScaler + float16
autocast variant with fused=True, the combination PyTorch runs without a sync) runs while a CUDA
stream captures it, after one ordinary warm-up step. CuPy documents that during a stream capture a
synchronous device-to-host transfer is not allowed and raises (a capture may not synchronize or
copy into pageable host memory), so any ``.item()``, ``float()`` / ``bool()`` / ``int()`` of a
device array, ``asnumpy`` / ``.get()`` or a stream / device synchronize inside the step fails the
test at the line that did it. The capturing stream is a blocking one, so work sent to the legacy
default stream (an implicit synchronisation) fails too, and so does CuPy's staged copy of host
data to the device (it queries an event of the capture): the step must create nothing from host
values either. ``cupyx.allow_synchronize(False)``, the older detector, is not used:
CuPy deprecated it in v10 and CuPy 14 no longer calls its check (its hooks are gone from
``ndarray.get``), so it would catch nothing. ``test_the_detector_catches_syncs`` shows that this
one does.
"""
import contextlib

import numpy as np
import pytest

import torchlite
from benchmarks.gpt_model import build_gpt
from torchlite import nn

from ._gpu import gpu_reason

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

VOCAB, CONTEXT, WIDTH, HEADS, LAYERS, BATCH = 61, 16, 32, 4, 2, 3


@contextlib.contextmanager
def no_host_sync():
    """Run the block while a fresh stream captures it (nothing executes): a host
    synchronisation or device-to-host copy inside raises at its call site."""
    import cupy

    stream = cupy.cuda.Stream()
    with stream:
        stream.begin_capture()
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                stream.end_capture()
            raise
        stream.end_capture()  # raises if something invalidated the capture


def _setup(fused):
    torchlite.manual_seed(0)
    model = build_gpt(torchlite, VOCAB, LAYERS, HEADS, WIDTH, CONTEXT).to("cuda")
    opt = torchlite.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, fused=fused)
    sched = torchlite.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    rng = np.random.default_rng(0)
    idx = torchlite.tensor(rng.integers(0, VOCAB, (BATCH, CONTEXT)), device="cuda")
    targets = torchlite.tensor(rng.integers(0, VOCAB, (BATCH, CONTEXT)), device="cuda")
    return model, opt, sched, idx, targets


def _plain_step(model, opt, sched, idx, targets, scaler):
    model(idx, targets).backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    sched.step()


def _bf16_step(model, opt, sched, idx, targets, scaler):
    with torchlite.autocast("cuda", dtype=torchlite.bfloat16):
        loss = model(idx, targets)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    sched.step()


def _scaled_step(model, opt, sched, idx, targets, scaler):
    with torchlite.autocast("cuda", dtype=torchlite.float16):
        loss = model(idx, targets)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(opt)
    scaler.update()
    opt.zero_grad(set_to_none=True)
    sched.step()


STEPS = [pytest.param(_plain_step, None, id="fp32-adamw"),
         pytest.param(_plain_step, True, id="fp32-adamw-fused"),
         pytest.param(_bf16_step, None, id="bf16-autocast"),
         pytest.param(_scaled_step, True, id="fp16-gradscaler-fused")]


@pytest.mark.parametrize("step,fused", STEPS)
def test_training_step_never_syncs(step, fused):
    if step is _bf16_step and not torchlite.cuda.is_bf16_supported():
        pytest.skip("this GPU / CuPy has no bfloat16")
    model, opt, sched, idx, targets = _setup(fused)
    scaler = torchlite.amp.GradScaler("cuda") if step is _scaled_step else None
    step(model, opt, sched, idx, targets, scaler)  # warm-up: kernels compiled, state created
    torchlite.cuda.synchronize()
    with no_host_sync():
        step(model, opt, sched, idx, targets, scaler)


@pytest.mark.parametrize("sync", [
    lambda t: t.item(), lambda t: float(t), lambda t: bool(t > 0), lambda t: t.cpu(),
    lambda t: t.tolist(), lambda t: torchlite.cuda.synchronize()],
    ids=["item", "float", "bool", "cpu", "tolist", "synchronize"])
def test_the_detector_catches_syncs(sync):
    t = torchlite.ones((), device="cuda")
    with no_host_sync():
        (t * 2).sum()  # device work alone is fine
    with pytest.raises(RuntimeError), no_host_sync():  # CuPy's CUDA errors are RuntimeErrors
        sync(t * 2)
