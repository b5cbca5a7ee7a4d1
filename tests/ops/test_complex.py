"""Complex parts and the complex gradient of abs, against PyTorch."""
import numpy as np
import pytest

import torchlite

Z = np.array([1 + 2j, -3 + 0.5j, 0.25 - 1j])


@pytest.mark.parametrize("program", [
    lambda lib, z: z.abs().sum(),
    lambda lib, z: (z.real * 2 + z.imag * 3).sum(),
    lambda lib, z: (lib.conj(z) * z).real.sum(),
    lambda lib, z: (lib.real(z) - lib.imag(z)).sum(),
], ids=["abs", "real_imag", "conj", "functions"])
def test_values_and_gradients_match_torch(program, torch_oracle):
    results = []
    for lib in (torchlite, torch_oracle):
        z = lib.tensor(Z, dtype=lib.complex128, requires_grad=True)
        out = program(lib, z)
        out.backward()
        results.append((np.asarray(out.detach().numpy()), np.asarray(z.grad.detach().numpy())))
    (v, g), (tv, tg) = results
    np.testing.assert_allclose(v, tv, rtol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12)


def test_real_part_is_a_view_and_imag_of_real_raises(torch_oracle):
    z = torchlite.tensor(Z)
    z.real[0] = 7.0
    assert z[0].item() == 7 + 2j
    r = torchlite.tensor([1.0, 2.0])
    assert r.real is r and torchlite.conj(r) is r
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        r.imag
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        torch_oracle.tensor([1.0]).imag


@pytest.mark.parametrize("ord", [2, 1, 0, 3, float("inf"), -float("inf")])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_vector_norm_of_complex_is_real(torch_oracle, ord, dtype):
    """The norm of complex elements is real (their moduli's norm), as in PyTorch."""
    results = []
    for lib in (torchlite, torch_oracle):
        z = lib.tensor(np.stack([Z, Z[::-1] * 2]), dtype=getattr(lib, dtype))
        results.append([lib.linalg.vector_norm(z, ord), lib.linalg.vector_norm(z, ord, dim=1)])
    for ours, theirs in zip(*results):
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
