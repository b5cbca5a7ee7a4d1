"""Embedding on cuda (torchlite/_kernels/embedding.py): the atomic scatter-add backward and the
device-side bounds check against the CPU path, the composed cuda path and PyTorch's behaviour."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import torchlite
from torchlite import _kernels

from ._gpu import gpu_reason

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))
TOL = {"float32": 1e-5, "float64": 1e-12, "float16": 2e-3, "bfloat16": 1e-2}


def _grad(device, dtype, idx, num, dim, fused=True, **options):
    rng = np.random.default_rng(4)
    weight = torchlite.tensor(rng.standard_normal((num, dim)).astype(np.float32),
                              device=device).to(getattr(torchlite, dtype)).requires_grad_()
    indices = torchlite.tensor(idx, device=device)
    upstream = torchlite.tensor(rng.standard_normal(idx.shape + (dim,)).astype(np.float32),
                                device=device).to(weight.dtype)
    if fused:
        out = torchlite.nn.functional.embedding(indices, weight, **options)
        out.backward(upstream)
    else:
        with _kernels.disabled():
            out = torchlite.nn.functional.embedding(indices, weight, **options)
            out.backward(upstream)
    return (out.detach().cpu().float().numpy(), weight.grad.cpu().float().numpy(),
            str(weight.grad.dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape,num,dim", [((7,), 5, 3), ((4, 33), 10, 17), ((8, 1000), 50, 65),
                                           ((3, 5), 50257, 8)])
@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True}],
                         ids=str)
def test_backward_matches_cpu_and_composed(dtype, shape, num, dim, options):
    if dtype == "bfloat16" and not torchlite.cuda.is_bf16_supported():
        pytest.skip("this GPU / CuPy has no bfloat16")
    idx = np.random.default_rng(len(shape) + num).integers(0, num, shape).astype(np.int64)
    out, grad, grad_dtype = _grad("cuda", dtype, idx, num, dim, **options)
    ref_out, ref_grad, ref_dtype = _grad("cpu", dtype, idx, num, dim, **options)
    composed_out, composed_grad, _ = _grad("cuda", dtype, idx, num, dim, fused=False, **options)
    assert grad_dtype == ref_dtype
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(out, composed_out)
    # many repeats of few rows: tolerance relative to the number of summed rows
    atol = TOL[dtype] * max(1, idx.size / num)
    np.testing.assert_allclose(grad, ref_grad, rtol=TOL[dtype], atol=atol)
    np.testing.assert_allclose(grad, composed_grad, rtol=TOL[dtype], atol=atol)


@pytest.mark.parametrize("index_dtype,bad", [("int64", -1), ("int32", 5)])
def test_out_of_range_index_is_a_device_side_assert(index_dtype, bad):
    """As in PyTorch on CUDA the failure is asynchronous and leaves the CUDA context unusable,
    so it runs in a child process; on the CPU it is PyTorch's IndexError."""
    script = textwrap.dedent(f"""
        import torchlite
        w = torchlite.ones(5, 3, device="cuda")
        i = torchlite.tensor([0, {bad}, 2], dtype=torchlite.{index_dtype}, device="cuda")
        out = torchlite.nn.functional.embedding(i, w)
        torchlite.cuda.synchronize()
        print("no error")
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=120, check=False)
    assert child.returncode != 0, child.stdout
    assert "no error" not in child.stdout
    assert "index out of range in self" in child.stderr or "assert" in child.stderr.lower()
    with pytest.raises(IndexError, match="index out of range in self"):
        torchlite.nn.functional.embedding(torchlite.tensor([0, bad]), torchlite.ones(5, 3))
