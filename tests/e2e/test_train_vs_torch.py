"""Training runs compared with PyTorch: same init, same data, same optimizer, 50 steps each.

Every model is written once against the PyTorch API (``lib`` is torch or torchlite); the torch
model's initial weights are copied into the torchlite one through state_dict, both then train on
the same NumPy-generated batches, and the loss curves and final weights must agree (float64 to
1e-6 relative, float32 loosely). Dropout is 0 everywhere so the runs are deterministic.
"""
import numpy as np
import pytest

import torchlite

pytest.importorskip("torch", reason="PyTorch 2.13 (CPU) is the oracle of these comparisons")
from tests.nn.helpers import copy_weights  # noqa: E402  (imports torch)

STEPS = 50
TOL = {"float64": dict(rtol=1e-6, atol=1e-9), "float32": dict(rtol=2e-3, atol=1e-4)}
VOCAB, SEQ = 12, 10


# ---- models and their data, written once against the PyTorch API --------------------------------
def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 5))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, stride=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 3 * 3, 5))


def lstm(lib):
    nn = lib.nn

    class TokenLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, 8)
            self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
            self.head = nn.Linear(16, VOCAB)

        def forward(self, x):
            out, _ = self.lstm(self.embed(x))
            return self.head(out)
    return TokenLSTM()


def transformer(lib):
    nn = lib.nn

    class TinyTransformer(nn.Module):
        def __init__(self, d_model=32):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, d_model)
            self.pos = nn.Parameter(lib.randn(SEQ, d_model) * 0.1)
            layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, VOCAB)

        def forward(self, x):
            mask = nn.Transformer.generate_square_subsequent_mask(x.size(1), dtype=self.pos.dtype)
            return self.head(self.encoder(self.embed(x) + self.pos, mask=mask, is_causal=True))
    return TinyTransformer()


def image_batches(shape, seed, classes=5, batch=16):
    """Noisy copies of one random prototype per class."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((classes, *shape))
    for _ in range(STEPS):
        y = rng.integers(0, classes, batch)
        yield prototypes[y] + rng.standard_normal((batch, *shape)), y


def token_batches(seed, batch=8):
    """Sequences whose next token is (previous + 3) mod VOCAB, with occasional random jumps."""
    rng = np.random.default_rng(seed)
    for _ in range(STEPS):
        seq = np.zeros((batch, SEQ + 1), np.int64)
        seq[:, 0] = rng.integers(0, VOCAB, batch)
        for t in range(1, SEQ + 1):
            jump = rng.random(batch) < 0.1
            seq[:, t] = np.where(jump, rng.integers(0, VOCAB, batch), (seq[:, t - 1] + 3) % VOCAB)
        yield seq[:, :-1], seq[:, 1:]


CASES = {
    "mlp": (mlp, lambda: image_batches((20,), 0),
            lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
    "cnn": (cnn, lambda: image_batches((3, 16, 16), 1),
            lambda lib, ps: lib.optim.SGD(ps, lr=0.02, momentum=0.9, weight_decay=1e-4)),
    "lstm": (lstm, lambda: token_batches(2), lambda lib, ps: lib.optim.Adam(ps, lr=1e-2)),
    "transformer": (transformer, lambda: token_batches(3),
                    lambda lib, ps: lib.optim.AdamW(ps, lr=3e-3, weight_decay=0.01)),
}


def train(lib, model, make_optimizer, batches, dtype):
    """Loss after each of the steps over ``batches`` (a list of floats)."""
    F = lib.nn.functional
    optimizer = make_optimizer(lib, model.parameters())
    losses = []
    for x, y in batches:
        x = lib.tensor(x, dtype=getattr(lib, dtype)) if x.dtype.kind == "f" else lib.tensor(x)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), lib.tensor(y).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_loss_curve_matches_torch(case, dtype, torch_oracle):
    build, batches, make_optimizer = CASES[case]
    torch_oracle.manual_seed(0)
    ref_model = build(torch_oracle).to(getattr(torch_oracle, dtype))
    model = build(torchlite).to(getattr(torchlite, dtype))
    copy_weights(ref_model, model)

    ref = train(torch_oracle, ref_model, make_optimizer, batches(), dtype)
    got = train(torchlite, model, make_optimizer, batches(), dtype)

    np.testing.assert_allclose(got, ref, **TOL[dtype])
    final = np.mean(ref[-5:])
    assert final < 0.6 * ref[0], f"{case} did not learn: {ref[0]:.3f} -> {final:.3f}"
    if dtype == "float32":
        # Adam turns the rounding noise in gradients that are zero in exact arithmetic (the
        # attention key bias) into lr-sized steps: float32 weights are compared through the losses.
        return
    ref_state = ref_model.state_dict()
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value.numpy(), ref_state[name].numpy(), err_msg=name,
                                   **TOL[dtype])
