"""Attention against PyTorch: scaled_dot_product_attention (masks, causal, scale, GQA, fully
masked rows) and nn.MultiheadAttention (every constructor option, masks, need_weights,
batch_first, unbatched inputs): outputs, weights, gradients, reprs, init and errors."""
import numpy as np
import pytest

import torchlite
from torchlite.autograd import gradcheck, gradgradcheck

from ._layers import TOL, as_tensor, fill_params, values
from .helpers import outcome, same_program

DTYPES = ("float32", "float64")
# float32 attention sums many products of O(1) values: gradients that are zero in exact
# arithmetic (the key bias) come out as rounding noise of ~1e-6 in both libraries
TOLERANCE = {**TOL, "float32": dict(rtol=1e-4, atol=1e-5)}


def same(program, dtype):
    return same_program(program, **TOLERANCE[dtype])


def _mask(lib, kind, shape, seed=3):
    """A bool keep-mask (True = attend; every row keeps its first key) or a float mask."""
    keep = values(shape, seed) > -0.5
    keep[..., 0] = True
    if kind == "bool":
        return lib.tensor(keep)
    return lib.tensor(np.where(keep, values(shape, seed + 1, -1, 1), -np.inf))


# ---- scaled_dot_product_attention ----------------------------------------------------------

SDPA_CASES = [
    ("plain", {}),
    ("bool mask", {"mask": ("bool", (5, 7))}),
    ("float mask", {"mask": ("float", (5, 7))}),
    ("broadcast mask", {"mask": ("bool", (3, 1, 5, 7))}),
    ("3-D mask", {"mask": ("float", (2, 5, 7))}),
    ("causal", {"is_causal": True}),
    ("causal and mask", {"is_causal": True, "mask": ("bool", (5, 7))}),
    ("scale", {"scale": 0.3}),
]


def _sdpa_program(dtype, q_shape=(3, 2, 5, 4), kv_shape=(3, 2, 7, 4), mask=None, **kwargs):
    def program(lib):
        q, k, v = (as_tensor(lib, values(s, seed), dtype)
                   for s, seed in ((q_shape, 1), (kv_shape, 2), (kv_shape, 3)))
        m = None if mask is None else _mask(lib, *mask)
        if m is not None and m.dtype.is_floating_point:
            m = m.to(getattr(lib, dtype))
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)
        out.backward(lib.tensor(values(tuple(out.shape), 9), dtype=out.dtype))
        return out, q.grad, k.grad, v.grad
    return program


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,case", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_matches_torch(name, case, dtype):
    same(_sdpa_program(dtype, **case), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_unbatched_and_gqa(dtype):
    same(_sdpa_program(dtype, q_shape=(5, 4), kv_shape=(7, 4)), dtype)
    same(_sdpa_program(dtype, q_shape=(2, 6, 5, 4), kv_shape=(2, 3, 7, 4), enable_gqa=True),
         dtype)


def test_sdpa_fully_masked_rows_give_zeros_as_torch():
    def program(lib):
        q = as_tensor(lib, values((2, 4, 3), 1), "float64")
        keep = np.ones((4, 6), dtype=bool)
        keep[1] = False
        out = lib.nn.functional.scaled_dot_product_attention(q, q[:, :1].expand(2, 6, 3),
                                                             q[:, :1].expand(2, 6, 3),
                                                             attn_mask=lib.tensor(keep))
        out.sum().backward()
        return out, q.grad
    out = same_program(program, rtol=1e-12, atol=1e-12)
    assert not np.isnan(np.asarray(out[1][0][4])).any()


def test_sdpa_errors_match_torch():
    def mask_program(lib):
        q = lib.zeros(2, 3, 4, dtype=lib.float64)
        return lib.nn.functional.scaled_dot_product_attention(
            q, q, q, attn_mask=lib.zeros(3, 3, dtype=lib.float16))

    def program(shapes, dtypes=("float32",) * 3):
        def run(lib):
            q, k, v = (lib.zeros(s, dtype=getattr(lib, d)) for s, d in zip(shapes, dtypes))
            return lib.nn.functional.scaled_dot_product_attention(q, k, v)
        return run
    for prog in (program([(4,)] * 3), program([(2, 3, 4)] * 3, ("float32", "float64",
                                                                 "float64")), mask_program):
        ours = outcome(prog, torchlite)
        assert ours[0] == "raised"
        same_program(prog)


def test_sdpa_gradcheck_and_gradgradcheck():
    q = as_tensor(torchlite, values((2, 3, 4), 1), "float64")
    k = as_tensor(torchlite, values((2, 5, 4), 2), "float64")
    v = as_tensor(torchlite, values((2, 5, 4), 3), "float64")
    mask = _mask(torchlite, "bool", (3, 5))
    fn = (lambda a, b, c: torchlite.nn.functional.scaled_dot_product_attention(
        a, b, c, attn_mask=mask))
    assert gradcheck(fn, (q, k, v))
    assert gradgradcheck(fn, (q, k, v))


def _fused_program(dtype, batch, heads, length, keys, dim, mask=None, **kwargs):
    """sdpa on q, k, v that are head views of one packed projection (as in a GPT block, so
    non-contiguous), with a fixed cotangent: output and the packed input's gradient."""
    def program(lib):
        packed = as_tensor(lib, values((batch, max(length, keys), 3, heads, dim), 1), dtype)
        q, k, v = (packed[:, :n, i].transpose(1, 2) for i, n in enumerate((length, keys, keys)))
        m = None
        if mask is not None:
            kind, shape = mask
            m = _mask(lib, kind, shape)
            if m.dtype.is_floating_point:
                m = m.to(getattr(lib, dtype))
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)
        out.backward(lib.tensor(values(tuple(out.shape), 9), dtype=out.dtype))
        return out, packed.grad, out.grad_fn.name(), len(out.grad_fn.next_functions)
    return program


FUSED_CASES = [
    # batch rows that fill several chunks and a partial last one
    ("causal, many batch rows", (13, 4, 24, 24, 8), {"is_causal": True}),
    ("cross attention, per-batch mask", (9, 3, 16, 40, 8), {"mask": ("bool", (9, 1, 16, 40))}),
    ("float mask per head", (5, 3, 16, 20, 4), {"mask": ("float", (1, 3, 16, 20))}),
    # one batch row larger than a chunk: chunks of heads, each batch row on its own
    ("long causal rows, head chunks", (2, 3, 200, 200, 4), {"is_causal": True}),
    ("long rows, head chunks, per-batch mask", (2, 3, 150, 220, 4),
     {"mask": ("bool", (2, 1, 150, 220)), "scale": 0.7}),
    ("causal and a 2-D mask", (3, 2, 12, 12, 4), {"is_causal": True,
                                                  "mask": ("bool", (12, 12))}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,shape,case", FUSED_CASES, ids=[c[0] for c in FUSED_CASES])
def test_sdpa_fused_node_matches_torch(name, shape, case, dtype):
    """Where PyTorch's fused kernel runs, torchlite's is one node of the same name with three
    edges, and the same values and gradients."""
    same(_fused_program(dtype, *shape, **case), dtype)


def test_sdpa_fused_fully_masked_rows_give_zeros_as_torch():
    keep = np.ones((2, 1, 6, 5), dtype=bool)
    keep[0, 0, 2] = False
    keep[1, 0, 4] = False

    def program(lib):
        q, k, v = (as_tensor(lib, values((2, 3, n, 4), seed), "float64")
                   for seed, n in ((1, 6), (2, 5), (3, 5)))
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(keep))
        out.sum().backward()
        return out, q.grad, k.grad, v.grad
    out = np.asarray(same_program(program, rtol=1e-12, atol=1e-12)[1][0][4])
    assert not np.isnan(out).any() and not out[0, :, 2].any() and out[0, :, 3].all()


def test_sdpa_fused_gradgradcheck():
    """Under create_graph the fused node differentiates its gradient formula (PyTorch's fused
    kernel has no double backward; finite differences are the reference)."""
    q, k, v = (as_tensor(torchlite, values((2, 2, n, 3), seed), "float64")
               for seed, n in ((1, 4), (2, 5), (3, 5)))
    mask = _mask(torchlite, "bool", (4, 5))
    for kwargs in ({"attn_mask": mask}, {"is_causal": True}):
        fn = (lambda a, b, c: torchlite.nn.functional.scaled_dot_product_attention(
            a, b, c, **kwargs))
        assert fn(q, k, v).grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
        assert gradcheck(fn, (q, k, v))
        assert gradgradcheck(fn, (q, k, v))


def test_sdpa_recorded_as_one_node():
    import torchlite.graph as G
    q = torchlite.randn(2, 3, 8, 4, requires_grad=True)
    with G.record() as g:
        torchlite.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).sum()\
            .backward()
    assert g.op_names("forward") == ["ScaledDotProductFlashAttentionForCpuBackward0",
                                     "SumBackward0"]
    assert "ScaledDotProductFlashAttentionForCpuBackwardBackward0" in g.op_names("backward")


def test_sdpa_dropout_drops_weights():
    torchlite.manual_seed(0)
    q = torchlite.randn(2, 4, 8)
    F = torchlite.nn.functional
    ref = F.scaled_dot_product_attention(q, q, q)
    assert torchlite.allclose(F.scaled_dot_product_attention(q, q, q, dropout_p=0.0), ref)
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert not torchlite.allclose(dropped, ref)


# ---- MultiheadAttention -------------------------------------------------------------------

MHA_CASES = [
    ("default", {}, {}),
    ("no bias", {"bias": False}, {}),
    ("bias kv", {"add_bias_kv": True}, {}),
    ("zero attn", {"add_zero_attn": True}, {}),
    ("bias kv, zero attn, masks", {"add_bias_kv": True, "add_zero_attn": True},
     {"key_padding_mask": "bool", "attn_mask": "bool2d"}),
    ("kdim vdim", {"kdim": 5, "vdim": 3}, {}),
    ("kdim vdim masks", {"kdim": 5, "vdim": 3}, {"key_padding_mask": "bool"}),
    ("batch first", {"batch_first": True}, {}),
    ("batch first masks", {"batch_first": True},
     {"key_padding_mask": "float", "attn_mask": "float2d"}),
    ("bool masks", {}, {"key_padding_mask": "bool", "attn_mask": "bool2d"}),
    ("float masks", {}, {"key_padding_mask": "float", "attn_mask": "float2d"}),
    ("3d mask", {}, {"attn_mask": "bool3d"}),
    ("no weights", {}, {"need_weights": False, "attn_mask": "bool2d"}),
    ("no weights padding", {}, {"need_weights": False, "key_padding_mask": "bool"}),
    ("per-head weights", {}, {"average_attn_weights": False, "attn_mask": "float2d"}),
    ("causal", {}, {"is_causal": True, "attn_mask": "causal", "need_weights": False}),
    ("causal with weights", {}, {"is_causal": True, "attn_mask": "causal"}),
]

E, HEADS, L, S, N = 8, 2, 4, 6, 3


def _mha_masks(lib, call, dtype, self_attention):
    """Build the masks named in ``call`` for (N, L) queries over S keys."""
    src = L if self_attention else S
    out = dict(call)
    kinds = {"bool2d": ("bool", (L, src)), "float2d": ("float", (L, src)),
             "bool3d": ("bool", (N * HEADS, L, src))}
    if "attn_mask" in call:
        if call["attn_mask"] == "causal":
            out["attn_mask"] = lib.nn.Transformer.generate_square_subsequent_mask(
                L, dtype=getattr(lib, dtype))
        else:
            out["attn_mask"] = _mask(lib, *kinds[call["attn_mask"]])
    if "key_padding_mask" in call:
        pad = np.zeros((N, src), dtype=bool)
        pad[0, -2:] = True
        mask = lib.tensor(pad)
        out["key_padding_mask"] = mask if call["key_padding_mask"] == "bool" else \
            lib.zeros((N, src), dtype=getattr(lib, dtype)).masked_fill(mask, float("-inf"))
    for key in ("attn_mask",):
        if key in out and out[key].dtype.is_floating_point:
            out[key] = out[key].to(getattr(lib, dtype))
    return out


def _mha_program(ctor, call, dtype, unbatched=False):
    self_attention = "kdim" not in ctor and "is_causal" in call

    def program(lib):
        m = lib.nn.MultiheadAttention(E, HEADS, **ctor).to(getattr(lib, dtype))
        fill_params(lib, m)
        m.eval()
        bf = ctor.get("batch_first", False)

        def seq(length, dim, seed):
            shape = (length, dim) if unbatched else ((N, length, dim) if bf else
                                                      (length, N, dim))
            return as_tensor(lib, values(shape, seed), dtype)
        q = seq(L, E, 1)
        if self_attention:
            k = v = q
        else:
            k, v = seq(S, ctor.get("kdim", E), 2), seq(S, ctor.get("vdim", E), 3)
        kwargs = _mha_masks(lib, call, dtype, self_attention)
        if unbatched and "key_padding_mask" in kwargs:
            kwargs["key_padding_mask"] = kwargs["key_padding_mask"][0]
        out, weights = m(q, k, v, **kwargs)
        out.backward(lib.tensor(values(tuple(out.shape), 9), dtype=out.dtype))
        grads = [(n, p.grad) for n, p in sorted(m.named_parameters())]
        return out, weights, q.grad, grads
    return program


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ctor,call", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(name, ctor, call, dtype):
    same(_mha_program(ctor, call, dtype), dtype)


@pytest.mark.parametrize("call", [{}, {"key_padding_mask": "bool", "attn_mask": "bool2d"}])
def test_multihead_attention_unbatched(call):
    same(_mha_program({}, call, "float64", unbatched=True), "float64")


@pytest.mark.parametrize("ctor", [{}, {"bias": False}, {"add_bias_kv": True},
                                  {"kdim": 5, "vdim": 3, "batch_first": True}])
def test_multihead_attention_parameters_and_repr(ctor):
    import torch
    ours = torchlite.nn.MultiheadAttention(E, HEADS, **ctor)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **ctor)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_multihead_attention_init_statistics():
    m = torchlite.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6.0 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) packed weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and w.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    assert not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()
    assert m.bias_k.detach().numpy().std() > 0


def test_multihead_attention_dropout_only_in_training():
    torchlite.manual_seed(0)
    m = torchlite.nn.MultiheadAttention(E, HEADS, dropout=0.5)
    x = torchlite.randn(L, N, E)
    m.eval()
    a, b = m(x, x, x)[0], m(x, x, x)[0]
    assert torchlite.equal(a, b)
    m.train()
    assert not torchlite.allclose(m(x, x, x)[0], a)


def lib_mask(shape):
    return lambda lib: lib.zeros(shape, dtype=lib.bool)


@pytest.mark.parametrize("ctor,make_inputs,call", [
    ({}, lambda lib: [lib.zeros(L, N, E), lib.zeros(S, N, E), lib.zeros(S, N)], {}),
    ({}, lambda lib: [lib.zeros(L, N, E)] * 3, {"is_causal": True}),
    ({}, lambda lib: [lib.zeros(L, N, E)] * 3, {"attn_mask": lib_mask((L, L + 1))}),
    ({}, lambda lib: [lib.zeros(L, N, E)] * 3,
     {"key_padding_mask": lib_mask((N + 1, L))}),
    ({}, lambda lib: [lib.zeros(L, N, E + 1)] * 3, {}),
    ({}, lambda lib: [lib.zeros(L, N, E), lib.zeros(S, N, E), lib.zeros(S + 1, N, E)], {}),
    ({}, lambda lib: [lib.zeros(N, L, N, E)] * 3, {}),
])
def test_multihead_attention_errors_match_torch(ctor, make_inputs, call):
    def program(lib):
        kwargs = {k: v(lib) for k, v in call.items() if callable(v)}
        kwargs.update({k: v for k, v in call.items() if not callable(v)})
        return lib.nn.MultiheadAttention(E, HEADS, **ctor)(*make_inputs(lib), **kwargs)
    assert outcome(program, torchlite)[0] == "raised"
    same_program(program)


def test_multihead_attention_constructor_errors():
    same_program(lambda lib: lib.nn.MultiheadAttention(8, 3))
    same_program(lambda lib: lib.nn.MultiheadAttention(0, 2))


def test_mismatched_mask_types_warn_as_torch():
    import torch
    for lib in (torch, torchlite):
        m = lib.nn.MultiheadAttention(E, HEADS)
        x = lib.zeros(L, N, E)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            m(x, x, x, key_padding_mask=lib.zeros(N, L, dtype=lib.bool),
              attn_mask=lib.zeros(L, L))
