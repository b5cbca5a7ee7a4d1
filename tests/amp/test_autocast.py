"""torchlite.autocast("cpu") against PyTorch's CPU autocast: the same ops change dtype, values
agree to bfloat16 / float16 precision, and gradients come back in the parameters' dtypes."""
import numpy as np
import pytest

import torchlite

RNG = np.random.default_rng(5)


def _data(*shape, positive=False):
    x = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(x) + 0.1 if positive else x


A, B, W, BIAS = _data(4, 6), _data(4, 6), _data(5, 6), _data(5)
IMG, KER = _data(2, 3, 6), _data(4, 3, 3)
TARGET = np.array([0, 2, 1, 4])
SQ = _data(4, 4) @ _data(4, 4).T + 4 * np.eye(4, dtype=np.float32)



def _low(module, x):
    """``x`` in the region's low-precision dtype (for the promote ops)."""
    return x.to(module.get_autocast_dtype(x.device.type))


# name -> f(module, tensor) ; every array above becomes a float32 tensor (inputs require grad)
OPS = {
    "mm": lambda m, t: m.mm(t(A), t(B).t()),
    "matmul_op": lambda m, t: t(A) @ t(W).t(),
    "bmm": lambda m, t: m.bmm(t(A)[None], t(B).t()[None]),
    "baddbmm": lambda m, t: m.baddbmm(t(A @ B.T)[None], t(A)[None], t(B).t()[None]),
    "addmm": lambda m, t: m.addmm(t(BIAS), t(A), t(W).t()),
    "linear": lambda m, t: m.nn.functional.linear(t(A), t(W), t(BIAS)),
    "conv1d": lambda m, t: m.nn.functional.conv1d(t(IMG), t(KER)),
    "conv_transpose1d": lambda m, t: m.nn.functional.conv_transpose1d(t(IMG),
                                                                      t(KER).transpose(0, 1)),
    "sdpa": lambda m, t: m.nn.functional.scaled_dot_product_attention(
        t(A)[None], t(B)[None], t(B)[None], is_causal=True),
    "einsum": lambda m, t: m.einsum("ij,kj->ik", t(A), t(B)),
    "tensordot": lambda m, t: m.tensordot(t(A), t(B).t(), 1),
    "mv_not_listed": lambda m, t: m.mv(t(A), t(B)[0]),
    "softmax_not_listed": lambda m, t: m.softmax(t(A), -1),
    "layer_norm_not_listed": lambda m, t: m.nn.functional.layer_norm(t(A), (6,)),
    "exp_not_listed": lambda m, t: t(A).exp(),
    "mse_loss": lambda m, t: m.nn.functional.mse_loss(t(A), t(B)),
    "cross_entropy": lambda m, t: m.nn.functional.cross_entropy(t(A), t(TARGET)),
    "nll_loss": lambda m, t: m.nn.functional.nll_loss(t(A), t(TARGET)),
    "l1_loss": lambda m, t: m.nn.functional.l1_loss(t(A), t(B)),
    "smooth_l1_loss": lambda m, t: m.nn.functional.smooth_l1_loss(t(A), t(B)),
    "bce_with_logits": lambda m, t: m.nn.functional.binary_cross_entropy_with_logits(
        t(A), t(B).sigmoid()),
    "kl_div": lambda m, t: m.nn.functional.kl_div(t(A).log_softmax(-1), t(B).softmax(-1),
                                                  reduction="batchmean"),
    "prod": lambda m, t: t(A).prod(),
    "trace": lambda m, t: t(A).trace(),
    "inverse": lambda m, t: m.inverse(t(SQ)),
    "cat_promote": lambda m, t: m.cat([_low(m, t(A)), t(B)]),
    "stack_promote": lambda m, t: m.stack([_low(m, t(A)), _low(m, t(B))]),
    "linear_then_softmax": lambda m, t: m.nn.functional.linear(t(A), t(W)).softmax(-1),
    "linear_then_mse": lambda m, t: m.nn.functional.mse_loss(
        m.nn.functional.linear(t(A), t(W)), t(A)[:, :5]),
    "float64_not_cast": lambda m, t: m.mm(t(A).double(), t(B).double().t()),
}


def _run(module, name, dtype, device="cpu"):
    """``OPS[name]`` in an autocast region of ``device``; returns its output and input leaves."""
    leaves = []

    def t(x):
        if x.dtype.kind != "f":
            return module.tensor(x, device=device)
        leaf = module.tensor(x, requires_grad=True, device=device)
        leaves.append(leaf)
        return leaf
    with module.autocast(device, dtype=getattr(module, dtype)):
        out = OPS[name](module, t)
    out.float().sum().backward()
    return out, leaves


PARAMS = [pytest.param(n, d) for n in OPS for d in ("bfloat16", "float16")]


@pytest.mark.parametrize("name, dtype", PARAMS)
def test_op_under_cpu_autocast_matches_torch(torch_oracle, name, dtype):
    out, leaves = _run(torchlite, name, dtype)
    ref, ref_leaves = _run(torch_oracle, name, dtype)
    assert str(out.dtype) == str(ref.dtype)
    tol = 3e-2 if str(ref.dtype) in ("torch.bfloat16", "torch.float16") else 1e-2
    np.testing.assert_allclose(out.detach().float().numpy(), ref.detach().float().numpy(),
                               rtol=tol, atol=tol)
    for leaf, ref_leaf in zip(leaves, ref_leaves):
        assert (leaf.grad is None) == (ref_leaf.grad is None)
        if leaf.grad is not None:
            assert str(leaf.grad.dtype) == str(ref_leaf.grad.dtype)
            np.testing.assert_allclose(leaf.grad.float().numpy(), ref_leaf.grad.float().numpy(),
                                       rtol=5e-2, atol=5e-2)


def _model(module):
    module.manual_seed(0)
    return module.nn.Sequential(module.nn.Linear(6, 8), module.nn.GELU(),
                                module.nn.LayerNorm(8), module.nn.Linear(8, 3))


def test_model_under_autocast_gives_float32_grads_like_torch(torch_oracle):
    tl, tr = _model(torchlite), _model(torch_oracle)
    tl.load_state_dict({k: torchlite.tensor(v.detach().numpy()) for k, v in
                        tr.state_dict().items()})
    for module, model in ((torchlite, tl), (torch_oracle, tr)):
        with module.autocast("cpu", dtype=module.bfloat16):
            out = model(module.tensor(A))
            loss = module.nn.functional.cross_entropy(out, module.tensor(TARGET[:4] % 3))
        assert str(out.dtype) == "torch.bfloat16" and str(loss.dtype) == "torch.float32"
        loss.backward()
    for (name, p), q in zip(tl.named_parameters(), tr.parameters()):
        assert str(p.grad.dtype) == "torch.float32", name
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=5e-2, atol=5e-2,
                                   err_msg=name)


def test_state_nesting_decorator_and_disabled_subregion():
    assert not torchlite.is_autocast_enabled("cpu")
    a, b = torchlite.tensor(A), torchlite.tensor(B)

    @torchlite.amp.autocast("cpu")
    def product():
        assert torchlite.is_autocast_enabled("cpu")
        assert torchlite.get_autocast_dtype("cpu") is torchlite.bfloat16
        return a @ b.t()
    assert product().dtype is torchlite.bfloat16
    with torchlite.autocast("cpu", dtype=torchlite.float16):
        assert (a @ b.t()).dtype is torchlite.float16
        with torchlite.autocast("cpu", enabled=False):
            assert (a @ b.t()).dtype is torchlite.float32
        assert torchlite.is_autocast_enabled("cpu")
    assert not torchlite.is_autocast_enabled("cpu")
    assert torchlite.get_autocast_dtype("cpu") is torchlite.bfloat16


def test_weight_casts_are_cached_within_a_region():
    w = torchlite.tensor(W, requires_grad=True)
    x = torchlite.tensor(A)
    with torchlite.autocast("cpu"):
        first = torchlite.nn.functional.linear(x, w)
        second = torchlite.nn.functional.linear(x, w)
        # both products read the same bfloat16 copy of w: one cast node feeds both
        assert first.grad_fn.next_functions[1][0] is second.grad_fn.next_functions[1][0]
    with torchlite.autocast("cpu"):
        third = torchlite.nn.functional.linear(x, w)
    assert third.grad_fn.next_functions[1][0] is not first.grad_fn.next_functions[1][0]


def test_argument_errors_match_torch(torch_oracle):
    for module in (torchlite, torch_oracle):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            module.autocast(module.device("cpu"))
        with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not "
                                             "supported. Disabling autocast."):
            ctx = module.autocast("cpu", dtype=module.float64)
        with ctx:
            assert not module.is_autocast_enabled("cpu")
