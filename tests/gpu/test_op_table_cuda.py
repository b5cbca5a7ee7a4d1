"""The op-spec table on cuda: every op's forward and gradients equal the CPU results.

Skips (with the reason) on machines without CuPy or a GPU; the lent GPU machine runs it.
"""
import numpy as np
import pytest

import torchlite

from ..ops.opspec import outputs_of
from ..ops.specs import all_specs
from ._gpu import gpu_reason


REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))
SPECS = [pytest.param(s, id=s.name) for s in all_specs() if not s.nondeterministic]


def _to(x, device, grad):
    if isinstance(x, np.ndarray):
        t = torchlite.tensor(x, device=device)
        return t.requires_grad_(True) if grad and x.dtype.kind == "f" else t
    if isinstance(x, (list, tuple)) and x and any(isinstance(v, np.ndarray) for v in x):
        return type(x)(_to(v, device, grad) for v in x)
    return x


def _host(t):
    return np.asarray(t.cpu().detach().numpy()) if isinstance(t, torchlite.Tensor) else \
        np.asarray(t)


@pytest.mark.parametrize("spec", SPECS)
def test_cuda_matches_cpu(spec):
    rng = np.random.default_rng(7)
    dtype = "float64" if "float64" in spec.dtypes else spec.dtypes[0]
    for sample in spec.get_samples(rng, np.dtype(dtype)):
        results = {}
        for device in ("cpu", "cuda"):
            args = [_to(a, device, spec.grad) for a in sample.args]
            outs = outputs_of(spec.op(*args, **sample.kwargs))
            for o in outs:
                if isinstance(o, torchlite.Tensor):
                    assert o.device.type == device, f"{spec.name}: output on {o.device}"
            grads = []
            diff = [o for o in outs if isinstance(o, torchlite.Tensor) and o.requires_grad]
            leaves = [a for a in args if isinstance(a, torchlite.Tensor) and a.requires_grad]
            if diff and leaves:
                seeds = [torchlite.ones(o.shape, dtype=o.dtype, device=device) for o in diff]
                grads = torchlite.autograd.grad(diff, leaves, seeds, allow_unused=True)
            results[device] = ([_host(o) for o in outs],
                               [None if g is None else _host(g) for g in grads])
        (cpu_out, cpu_g), (gpu_out, gpu_g) = results["cpu"], results["cuda"]
        for a, b in zip(cpu_out, gpu_out):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6, equal_nan=True,
                                       err_msg=f"{spec.name}[{sample.name}] forward")
        for a, b in zip(cpu_g, gpu_g):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6, equal_nan=True,
                                           err_msg=f"{spec.name}[{sample.name}] grad")


def test_mixed_devices_error_names_both():
    a = torchlite.ones(3, device="cuda")
    b = torchlite.ones(3)
    with pytest.raises(RuntimeError, match="cuda:0 and cpu|cpu and cuda:0"):
        a + b
