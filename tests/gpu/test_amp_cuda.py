"""autocast("cuda") and GradScaler("cuda") against PyTorch's on the same GPU (PyTorch's CUDA op
lists: float16/bfloat16 GEMMs, float32 softmax / layer_norm / losses / exp ...)."""
import numpy as np
import pytest

import torchlite

from ..amp import test_autocast as cpu_cases
from ._gpu import gpu_reason, torch_cuda_reason

REASON = gpu_reason() or torch_cuda_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

CUDA_ONLY = {
    "softmax_fp32": lambda m, t: m.softmax(t(cpu_cases.A), -1),
    "layer_norm_fp32": lambda m, t: m.nn.functional.layer_norm(t(cpu_cases.A), (6,)),
    "exp_fp32": lambda m, t: t(cpu_cases.A).exp(),
    "sum_fp32": lambda m, t: t(cpu_cases.A).sum(),
    "mv_lower": lambda m, t: m.mv(t(cpu_cases.A), t(cpu_cases.B)[0]),
    "addcmul_promote": lambda m, t: m.addcmul(t(cpu_cases.A), t(cpu_cases.B).half(),
                                              t(cpu_cases.B).half()),
}


@pytest.fixture(autouse=True)
def _cuda_cases(monkeypatch):
    monkeypatch.setattr(cpu_cases, "OPS", {**cpu_cases.OPS, **CUDA_ONLY})


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", list(cpu_cases.OPS) + list(CUDA_ONLY))
def test_op_under_cuda_autocast_matches_torch(torch_oracle, name, dtype):
    if dtype == "bfloat16" and not torchlite.cuda.is_bf16_supported():
        pytest.skip("this GPU / CuPy has no bfloat16")
    if name == "addcmul_promote" and dtype == "bfloat16":
        pytest.skip("mixes float16 into a bfloat16 region")
    out, leaves = cpu_cases._run(torchlite, name, dtype, device="cuda")
    ref, ref_leaves = cpu_cases._run(torch_oracle, name, dtype, device="cuda")
    assert out.device.type == "cuda"
    assert str(out.dtype) == str(ref.dtype)
    np.testing.assert_allclose(out.detach().float().cpu().numpy(),
                               ref.detach().float().cpu().numpy(), rtol=3e-2, atol=3e-2)
    for leaf, ref_leaf in zip(leaves, ref_leaves):
        assert (leaf.grad is None) == (ref_leaf.grad is None)
        if leaf.grad is not None:
            assert str(leaf.grad.dtype) == str(ref_leaf.grad.dtype)


def test_grad_scaler_cuda_trajectory_matches_torch(torch_oracle):
    from ..amp import test_grad_scaler as cases

    def run(module):
        model = module.nn.Linear(4, 2, bias=False).to("cuda")
        with module.no_grad():
            model.weight.copy_(module.tensor(cases.W0, device="cuda"))
        opt = module.optim.SGD(model.parameters(), lr=0.1)
        scaler = module.amp.GradScaler("cuda", init_scale=2.0 ** 4, growth_interval=2)
        scales = []
        for step in range(6):
            opt.zero_grad()
            with module.autocast("cuda", dtype=module.float16):
                loss = module.nn.functional.mse_loss(model(module.tensor(cases.X, device="cuda")),
                                                     module.tensor(cases.Y, device="cuda"))
            scaler.scale(loss).backward()
            if step == 2:
                model.weight.grad[0, 0] = float("inf")
            scaler.step(opt)
            scaler.update()
            scales.append(scaler.get_scale())
        return scales, model.weight.detach().cpu().numpy()
    scales, w = run(torchlite)
    ref_scales, ref_w = run(torch_oracle)
    assert scales == ref_scales
    np.testing.assert_allclose(w, ref_w, rtol=1e-2, atol=1e-3)
