"""layer_norm against PyTorch: double backward when the first gradient is taken for some
parameters only (the bias's gradient then depends on no input needing grad), and the error for
an empty normalized_shape."""
import numpy as np
import pytest


def _second_order(lib, x, w, b, g, v, create_first_for):
    xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    y = lib.nn.functional.layer_norm(xt, (x.shape[-1],), wt, bt)
    wrt = {"x": [xt], "x,w": [xt, wt], "w": [wt]}[create_first_for]
    firsts = lib.autograd.grad(y, wrt, lib.tensor(g), create_graph=True)
    second = sum((f * lib.tensor(v if f.shape == v.shape else v[0])).sum() for f in firsts)
    grads = lib.autograd.grad(second, [xt, wt, bt], allow_unused=True)
    return [None if t is None else t.detach().numpy() for t in grads]


@pytest.mark.parametrize("create_first_for", ["x", "x,w", "w"])
def test_double_backward_with_unused_bias_matches_torch(torch_oracle, create_first_for):
    import torchlite
    rng = np.random.default_rng(0)
    x, g, v = (rng.standard_normal((4, 7)) for _ in range(3))
    w, b = rng.standard_normal(7), rng.standard_normal(7)
    got = _second_order(torchlite, x, w, b, g, v, create_first_for)
    want = _second_order(torch_oracle, x, w, b, g, v, create_first_for)
    for a, e in zip(got, want):
        assert (a is None) == (e is None)
        if a is not None:
            np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(), (3,)])
def test_empty_normalized_shape_is_an_error(torch_oracle, shape):
    import torchlite
    for lib in (torch_oracle, torchlite):
        with pytest.raises(RuntimeError, match=r"Expected normalized_shape to be at least "
                           r"1-dimensional, i\.e\., containing at least one element, but got "
                           r"normalized_shape = \[\]"):
            lib.nn.functional.layer_norm(lib.ones(shape), ())
