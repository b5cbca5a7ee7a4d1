"""bfloat16 ops that autocast relies on keep bfloat16 (NumPy's ml_dtypes matmul returns float32,
and a Python float would widen a bfloat16 array), with PyTorch's values."""
import numpy as np
import pytest

import torchlite

F = torchlite.nn.functional


def _pair(torch, rng, *shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return torchlite.tensor(x).bfloat16(), torch.tensor(x).bfloat16()


CASES = {
    "mm": lambda m, a, b: m.mm(a, b.t()),
    "matmul_batched": lambda m, a, b: m.matmul(a.unsqueeze(0), b.t()),
    "bmm": lambda m, a, b: m.bmm(a.unsqueeze(0), b.t().unsqueeze(0)),
    "linear": lambda m, a, b: m.nn.functional.linear(a, b),
    "einsum": lambda m, a, b: m.einsum("ij,kj->ik", a, b),
    "tensordot": lambda m, a, b: m.tensordot(a, b.t(), 1),
    "conv1d": lambda m, a, b: m.nn.functional.conv1d(a.t().unsqueeze(0), b.unsqueeze(-1)),
    "conv_transpose1d": lambda m, a, b: m.nn.functional.conv_transpose1d(
        a.t().unsqueeze(0), b.t().unsqueeze(-1)),
}
# a Python float would widen a bfloat16 array to float32 in NumPy (ml_dtypes does not treat it
# as weak); PyTorch keeps bfloat16
SCALAR_CASES = {
    "mul_python_float": lambda m, a, b: a * 0.3,
    "div_python_float": lambda m, a, b: 1.7 / (a.abs() + 1),
    "sub_python_float": lambda m, a, b: a - 0.5,
    "pow_python_float": lambda m, a, b: a.abs() ** 1.5,
    "lerp_python_float": lambda m, a, b: a.lerp(b, 0.3),
    "where_python_float": lambda m, a, b: m.where(a > 0, a, 0.1),
}
PARAMS = list(CASES) + list(SCALAR_CASES)
CASES.update(SCALAR_CASES)


@pytest.mark.parametrize("name", PARAMS)
def test_bfloat16_op_keeps_dtype_and_matches_torch(torch_oracle, rng, name):
    a, ta = _pair(torch_oracle, rng, 6, 5)
    b, tb = _pair(torch_oracle, rng, 6, 5)
    a.requires_grad_(True)
    ta.requires_grad_(True)
    out, ref = CASES[name](torchlite, a, b), CASES[name](torch_oracle, ta, tb)
    assert str(out.dtype) == str(ref.dtype) == "torch.bfloat16"
    np.testing.assert_allclose(out.float().detach().numpy(), ref.float().detach().numpy(),
                               rtol=2e-2, atol=2e-2)
    out.float().sum().backward()
    ref.float().sum().backward()
    assert str(a.grad.dtype) == "torch.bfloat16"
    np.testing.assert_allclose(a.grad.float().numpy(), ta.grad.float().numpy(),
                               rtol=2e-2, atol=2e-2)
