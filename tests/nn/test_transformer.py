"""Transformers against PyTorch: encoder/decoder layers (post/pre-norm, activations, bias,
batch_first, masks), the stacks (deep-copied layers, final norm, causal detection, the
nested-tensor zeros of inference with a padding mask) and nn.Transformer: outputs, gradients,
reprs, errors, and a 2-layer encoder trained with SGD in both libraries."""
import warnings

import numpy as np
import pytest

import torchlite

from ._layers import TOL, as_tensor, fill_params, values
from .helpers import outcome, same_program

DTYPES = ("float32", "float64")
TOLERANCE = {**TOL, "float32": dict(rtol=1e-4, atol=2e-5)}
D, HEADS, FF, S, L, N = 8, 2, 16, 5, 4, 3


def same(program, dtype):
    return same_program(program, **TOLERANCE[dtype])


def _activation(lib, name):
    return {"relu": "relu", "gelu": "gelu", "F.gelu": lib.nn.functional.gelu,
            "module": lib.nn.GELU(approximate="tanh"),
            "callable": lambda x: lib.tanh(x) * 2}[name]


def _seq(lib, length, batch_first, seed, dtype):
    shape = (N, length, D) if batch_first else (length, N, D)
    return as_tensor(lib, values(shape, seed), dtype)


def _padding(lib, length, dtype=None):
    """A key padding mask: bool, or the float -inf/0 form in ``dtype``."""
    pad = np.zeros((N, length), dtype=bool)
    pad[0, -2:] = True
    pad[2, -1] = True
    if dtype is None:
        return lib.tensor(pad)
    return lib.tensor(np.where(pad, -np.inf, 0.0), dtype=getattr(lib, dtype))


def _run(lib, module, inputs, kwargs, dtype, train=False):
    module = module.to(getattr(lib, dtype))
    fill_params(lib, module)
    module.train(train)
    out = module(*inputs, **kwargs)
    out.backward(lib.tensor(values(tuple(out.shape), 9), dtype=out.dtype))
    grads = [(n, p.grad) for n, p in sorted(module.named_parameters())]
    return out, [x.grad for x in inputs], grads


def _masks(lib, names, length, dtype, prefix=""):
    out = {}
    if "causal" in names:
        out[prefix + "mask"] = lib.nn.Transformer.generate_square_subsequent_mask(
            length, dtype=getattr(lib, dtype))
    if "padding" in names:  # of the causal mask's type (mixing them is deprecated)
        out[prefix + "key_padding_mask"] = _padding(lib, length,
                                                    dtype if "causal" in names else None)
    return out


LAYER_CASES = [
    ("post-norm relu", {}, ()),
    ("pre-norm gelu", {"norm_first": True, "activation": "gelu"}, ()),
    ("batch first masks", {"batch_first": True}, ("causal", "padding")),
    ("F.gelu", {"activation": "F.gelu"}, ("padding",)),
    ("module activation", {"activation": "module", "norm_first": True}, ("causal",)),
    ("callable activation", {"activation": "callable"}, ()),
    ("no bias", {"bias": False, "layer_norm_eps": 1e-3}, ("causal",)),
]


def _layer_kwargs(lib, kwargs):
    out = dict(kwargs)
    if "activation" in out:
        out["activation"] = _activation(lib, out["activation"])
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs,masks", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_encoder_layer_matches_torch(name, kwargs, masks, dtype):
    def program(lib):
        bf = kwargs.get("batch_first", False)
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF, **_layer_kwargs(lib, kwargs))
        m = _masks(lib, masks, S, dtype)
        call = {"src_mask": m.get("mask"), "src_key_padding_mask": m.get("key_padding_mask")}
        return _run(lib, layer, [_seq(lib, S, bf, 1, dtype)], call, dtype)
    same(program, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs,masks", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_decoder_layer_matches_torch(name, kwargs, masks, dtype):
    def program(lib):
        bf = kwargs.get("batch_first", False)
        layer = lib.nn.TransformerDecoderLayer(D, HEADS, FF, **_layer_kwargs(lib, kwargs))
        tgt = _masks(lib, masks, L, dtype)
        call = {"tgt_mask": tgt.get("mask"), "tgt_key_padding_mask": tgt.get("key_padding_mask")}
        if "padding" in masks:
            call["memory_key_padding_mask"] = _padding(lib, S)
        inputs = [_seq(lib, L, bf, 1, dtype), _seq(lib, S, bf, 2, dtype)]
        return _run(lib, layer, inputs, call, dtype)
    same(program, dtype)


def _quiet(fn):
    """Run ``fn`` without the nested-tensor advice both libraries print for these stacks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("masks", [(), ("causal",), ("causal", "padding")])
def test_encoder_stack_matches_torch(masks, norm, dtype):
    def program(lib):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True)
        enc = _quiet(lambda: lib.nn.TransformerEncoder(
            layer, 2, norm=lib.nn.LayerNorm(D) if norm else None))
        m = _masks(lib, masks, S, dtype)
        call = {"mask": m.get("mask"), "src_key_padding_mask": m.get("key_padding_mask")}
        return _run(lib, enc, [_seq(lib, S, True, 1, dtype)], call, dtype)
    same(program, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_decoder_stack_and_transformer_match_torch(dtype):
    def decoder(lib):
        layer = lib.nn.TransformerDecoderLayer(D, HEADS, FF)
        dec = lib.nn.TransformerDecoder(layer, 2, norm=lib.nn.LayerNorm(D))
        call = _masks(lib, ("causal",), L, dtype, prefix="tgt_")
        return _run(lib, dec, [_seq(lib, L, False, 1, dtype), _seq(lib, S, False, 2, dtype)],
                    call, dtype)

    def transformer(lib):
        model = _quiet(lambda: lib.nn.Transformer(D, HEADS, 2, 2, FF, batch_first=True))
        call = {"tgt_mask": lib.nn.Transformer.generate_square_subsequent_mask(
            L, dtype=getattr(lib, dtype)), "src_key_padding_mask": _padding(lib, S),
            "memory_key_padding_mask": _padding(lib, S)}
        return _run(lib, model, [_seq(lib, S, True, 1, dtype), _seq(lib, L, True, 2, dtype)],
                    call, dtype)
    same(decoder, dtype)
    same(transformer, dtype)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_inference_with_padding_mask_zeroes_padded_positions_as_torch():
    """PyTorch runs this case on nested tensors: padded outputs come back as zeros."""
    def program(lib):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True)
        enc = lib.nn.TransformerEncoder(layer, 2).double()
        fill_params(lib, enc)
        enc.eval()
        x = lib.tensor(values((N, S, D), 1))
        with lib.no_grad():
            return enc(x, src_key_padding_mask=_padding(lib, S))
    out = same_program(program, rtol=1e-9, atol=1e-11)
    assert not np.asarray(out[4])[0, -2:].any()


def test_generate_square_subsequent_mask_matches_torch():
    same_program(lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(4))
    same_program(lambda lib: lib.nn.Transformer.generate_square_subsequent_mask(
        3, dtype=lib.float64))


def test_stack_layers_are_deep_copies():
    layer = torchlite.nn.TransformerEncoderLayer(D, HEADS, FF)
    enc = _quiet(lambda: torchlite.nn.TransformerEncoder(layer, 3))
    params = [p for p in enc.parameters()]
    assert len({id(p) for p in params}) == len(params) == 3 * len(list(layer.parameters()))
    assert all(p is not q for p, q in zip(enc.layers[0].parameters(), layer.parameters()))
    with torchlite.no_grad():
        enc.layers[0].linear1.weight.fill_(1.0)
    assert not torchlite.equal(enc.layers[1].linear1.weight, enc.layers[0].linear1.weight)
    assert torchlite.equal(enc.layers[1].linear1.weight, layer.linear1.weight)


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF, norm_first=True, bias=False),
    lambda lib: lib.nn.TransformerDecoderLayer(D, HEADS, activation="gelu"),
    lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, HEADS, FF), 2,
                                          norm=lib.nn.LayerNorm(D)),
    lambda lib: lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, HEADS, FF), 3),
    lambda lib: lib.nn.Transformer(D, HEADS, 2, 1, FF, dropout=0.2),
])
def test_repr_and_parameter_names_match_torch(build):
    import torch
    ours, theirs = _quiet(lambda: build(torchlite)), _quiet(lambda: build(torch))
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]


def test_nested_tensor_warning_matches_torch():
    import torch
    for lib in (torch, torchlite):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF)
        with pytest.warns(UserWarning, match=r"enable_nested_tensor is True, but "
                          r"self.use_nested_tensor is False because encoder_layer.self_attn."
                          r"batch_first was not True"):
            lib.nn.TransformerEncoder(layer, 2)


def test_transformer_init_is_xavier_for_matrices():
    model = _quiet(lambda: torchlite.nn.Transformer(64, 4, 1, 1, 128))
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6.0 / (64 + 128))
    assert np.abs(w).max() <= bound
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Transformer(D, HEADS, 1, 1, FF)(lib.zeros(S, N, D),
                                                      lib.zeros(L, N + 1, D)),
    lambda lib: lib.nn.Transformer(D, HEADS, 1, 1, FF)(lib.zeros(S, N, D),
                                                      lib.zeros(L, N, D + 1)),
    lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF, activation="tanh"),
    lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, FF)(lib.zeros(S, N, D),
                                                             src_mask=lib.zeros(S, S + 1)),
])
def test_errors_match_torch(make):
    assert outcome(lambda lib: _quiet(lambda: make(lib)), torchlite)[0] == "raised"
    same_program(lambda lib: _quiet(lambda: make(lib)))


def _train_encoder(lib, steps=20):
    """A 2-layer causal encoder + head on a regression target, SGD; the loss curve."""
    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True)
            self.encoder = lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(D))
            self.head = lib.nn.Linear(D, 1)

        def forward(self, x):
            mask = lib.nn.Transformer.generate_square_subsequent_mask(x.size(1),
                                                                      dtype=x.dtype)
            return self.head(self.encoder(x, mask=mask, is_causal=True))

    model = Model().double()
    fill_params(lib, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.05)
    x = lib.tensor(values((N, S, D), 1))
    y = lib.tensor(values((N, S, 1), 2))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_encoder_trains_like_torch():
    import torch
    ours, theirs = _train_encoder(torchlite), _train_encoder(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    assert ours[-1] < ours[0]
