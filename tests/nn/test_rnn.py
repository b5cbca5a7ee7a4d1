"""Recurrent layers against PyTorch: RNN/LSTM/GRU (layers, directions, batch_first, bias,
proj_size, initial states, unbatched and packed inputs, dropout) and the cells: outputs, final
states, gradients of inputs, states and parameters; names, reprs, init, errors; training."""
import itertools
import warnings

import numpy as np
import pytest

import torchlite

from ._layers import TOL, as_tensor, fill_params, values
from .helpers import copy_weights, from_torch, outcome, same_program

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

DTYPES = ("float32", "float64")
TOLERANCE = {**TOL, "float32": dict(rtol=1e-4, atol=1e-5)}
IN, HID, T, B = 4, 5, 6, 3


def same(program, dtype):
    return same_program(program, **TOLERANCE[dtype])


def _loss_terms(out, hidden):
    """Tensors whose weighted sums make the loss: the output and every final state."""
    return [out, *(hidden if isinstance(hidden, tuple) else (hidden,))]


def _backward(lib, tensors):
    loss = sum((t * lib.tensor(values(tuple(t.shape), 20 + i), dtype=t.dtype)).sum()
               for i, t in enumerate(tensors))
    loss.backward()


def _states(lib, cls, shape, dtype, proj=0):
    """Initial state(s) of ``shape`` (c0 of an LSTM with projection has HID features)."""
    h0 = as_tensor(lib, values(shape, 11), dtype)
    if cls != "LSTM":
        return h0, [h0]
    c0 = as_tensor(lib, values(shape[:-1] + (HID,), 12), dtype)
    return (h0, c0), [h0, c0]


def _rnn_program(cls, kwargs, dtype, with_state=False, unbatched=False, train=False):
    def program(lib):
        m = getattr(lib.nn, cls)(IN, HID, **kwargs).to(getattr(lib, dtype))
        fill_params(lib, m)
        m.train(train)
        bf = kwargs.get("batch_first", False)
        shape = (T, IN) if unbatched else ((B, T, IN) if bf else (T, B, IN))
        x = as_tensor(lib, values(shape, 1), dtype)
        args, leaves = [x], [x]
        if with_state:
            layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
            size = kwargs.get("proj_size") or HID
            state, more = _states(lib, cls, (layers, size) if unbatched else (layers, B, size),
                                  dtype)
            args.append(state)
            leaves += more
        out, hidden = m(*args)
        _backward(lib, _loss_terms(out, hidden))
        grads = [(n, p.grad) for n, p in sorted(m.named_parameters())]
        return out, hidden, [t.grad for t in leaves], grads
    return program


RNN_CONFIGS = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {}),
    ("LSTM", {"proj_size": 3}),
]
VARIANTS = [dict(zip(("num_layers", "bidirectional", "batch_first", "bias"), v))
            for v in itertools.product((1, 2), (False, True), (False, True), (True, False))]


def _ids(configs):
    return [f"{c}{''.join(f'-{k}={v}' for k, v in kw.items())}" for c, kw in configs]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", VARIANTS, ids=_ids([("", v) for v in VARIANTS]))
@pytest.mark.parametrize("cls,kwargs", RNN_CONFIGS, ids=_ids(RNN_CONFIGS))
def test_rnn_matches_torch(cls, kwargs, variant, dtype):
    same(_rnn_program(cls, {**kwargs, **variant}, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,kwargs", RNN_CONFIGS, ids=_ids(RNN_CONFIGS))
def test_rnn_initial_state_matches_torch(cls, kwargs, dtype):
    same(_rnn_program(cls, {**kwargs, "num_layers": 2, "bidirectional": True}, dtype,
                      with_state=True), dtype)


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("cls,kwargs", RNN_CONFIGS, ids=_ids(RNN_CONFIGS))
def test_rnn_unbatched_matches_torch(cls, kwargs, with_state):
    same(_rnn_program(cls, {**kwargs, "num_layers": 2}, "float64", with_state=with_state,
                      unbatched=True), "float64")


def _packed_program(cls, kwargs, dtype, lengths, enforce_sorted, with_state):
    def program(lib):
        rnn_utils = lib.nn.utils.rnn
        m = getattr(lib.nn, cls)(IN, HID, batch_first=True, **kwargs).to(getattr(lib, dtype))
        fill_params(lib, m)
        x = as_tensor(lib, values((len(lengths), T, IN), 1), dtype)
        packed = rnn_utils.pack_padded_sequence(x, lib.tensor(lengths), batch_first=True,
                                                enforce_sorted=enforce_sorted)
        leaves, args = [x], [packed]
        if with_state:
            layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
            state, more = _states(lib, cls, (layers, len(lengths),
                                             kwargs.get("proj_size") or HID), dtype)
            args.append(state)
            leaves += more
        out, hidden = m(*args)
        padded, out_lengths = rnn_utils.pad_packed_sequence(out, batch_first=True)
        _backward(lib, _loss_terms(padded, hidden))
        grads = [(n, p.grad) for n, p in sorted(m.named_parameters())]
        return padded, out_lengths, out.batch_sizes, hidden, [t.grad for t in leaves], grads
    return program


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [6, 4, 4, 1]),
                                                    (False, [4, 6, 1, 4])])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("cls,kwargs", RNN_CONFIGS, ids=_ids(RNN_CONFIGS))
def test_rnn_packed_sequence_matches_torch(cls, kwargs, with_state, enforce_sorted, lengths,
                                           dtype):
    kwargs = {**kwargs, "num_layers": 2, "bidirectional": True}
    same(_packed_program(cls, kwargs, dtype, lengths, enforce_sorted, with_state), dtype)


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
def test_dropout_between_layers_in_training_only(cls):
    # p = 1 zeroes the input of the second layer: deterministic, so torch can check it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(_rnn_program(cls, {"num_layers": 3, "dropout": 1.0}, "float64", train=True),
             "float64")
    torchlite.manual_seed(0)
    m = getattr(torchlite.nn, cls)(IN, HID, num_layers=2, dropout=0.5)
    x = torchlite.randn(T, B, IN)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert torchlite.equal(a, b)
    m.train()
    assert not torchlite.allclose(m(x)[0], a)


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
         ("GRUCell", {}), ("GRUCell", {"bias": False}), ("LSTMCell", {}),
         ("LSTMCell", {"bias": False})]


def _cell_program(cls, kwargs, dtype, with_state, unbatched):
    def program(lib):
        m = getattr(lib.nn, cls)(IN, HID, **kwargs).to(getattr(lib, dtype))
        fill_params(lib, m)
        x = as_tensor(lib, values((IN,) if unbatched else (B, IN), 1), dtype)
        leaves, args = [x], [x]
        if with_state:
            shape = (HID,) if unbatched else (B, HID)
            h0 = as_tensor(lib, values(shape, 11), dtype)
            c0 = as_tensor(lib, values(shape, 12), dtype)
            args.append((h0, c0) if cls == "LSTMCell" else h0)
            leaves += [h0, c0] if cls == "LSTMCell" else [h0]
        out = m(*args)
        _backward(lib, list(out) if isinstance(out, tuple) else [out])
        grads = [(n, p.grad) for n, p in sorted(m.named_parameters())]
        return out, [t.grad for t in leaves], grads
    return program


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_state,unbatched", [(False, False), (True, False), (True, True),
                                                  (False, True)])
@pytest.mark.parametrize("cls,kwargs", CELLS, ids=_ids(CELLS))
def test_cells_match_torch(cls, kwargs, with_state, unbatched, dtype):
    same(_cell_program(cls, kwargs, dtype, with_state, unbatched), dtype)


# ---- structure: names, reprs, init ---------------------------------------------------------

STRUCTURES = [
    ("RNN", (10, 20), {}), ("RNN", (10, 20), {"nonlinearity": "relu", "num_layers": 3}),
    ("LSTM", (10, 20), {"num_layers": 2, "batch_first": True}),
    ("LSTM", (10, 20), {"proj_size": 5, "num_layers": 2, "bidirectional": True,
                        "bias": False, "dropout": 0.5}),
    ("GRU", (3, 4), {"bidirectional": True, "num_layers": 2}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}), ("LSTMCell", (3, 4), {}),
    ("GRUCell", (3, 4), {"bias": False}),
]


@pytest.mark.parametrize("cls,args,kwargs", STRUCTURES, ids=_ids([(c, k) for c, _, k in
                                                                   STRUCTURES]))
def test_structure_matches_torch(cls, args, kwargs):
    import torch
    ours = getattr(torchlite.nn, cls)(*args, **kwargs)
    theirs = getattr(torch.nn, cls)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    if not cls.endswith("Cell"):
        assert ours._flat_weights_names == theirs._flat_weights_names
        assert [[tuple(p.shape) for p in ws] for ws in ours.all_weights] == \
            [[tuple(p.shape) for p in ws] for ws in theirs.all_weights]


def test_lstm_repr():
    m = torchlite.nn.LSTM(10, 20, num_layers=2, batch_first=True)
    assert repr(m) == "LSTM(10, 20, num_layers=2, batch_first=True)"


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU", "LSTMCell"])
def test_default_init_is_uniform_over_inverse_sqrt_hidden(cls):
    hidden = 64
    m = getattr(torchlite.nn, cls)(32, hidden)
    bound = 1 / np.sqrt(hidden)
    w = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(w).max() <= bound
    assert w.mean() == pytest.approx(0, abs=0.02 * bound)
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.03)


def test_state_dict_round_trip_with_torch():
    import torch
    theirs = torch.nn.LSTM(IN, HID, num_layers=2, bidirectional=True, proj_size=2)
    ours = torchlite.nn.LSTM(IN, HID, num_layers=2, bidirectional=True, proj_size=2)
    copy_weights(theirs, ours)
    x = torch.randn(T, B, IN)
    out, (h, c) = theirs(x)
    ours_out, (ours_h, ours_c) = ours(from_torch(x))
    for a, b in ((out, ours_out), (h, ours_h), (c, ours_c)):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


# ---- errors ----------------------------------------------------------------------------------

def _raises_as_torch(program):
    assert outcome(program, torchlite)[0] == "raised"
    same_program(program)


@pytest.mark.parametrize("cls,make", [
    ("LSTM", lambda lib: [lib.zeros(T, B, IN + 1)]),
    ("GRU", lambda lib: [lib.zeros(T, B, IN, 2)]),
    ("RNN", lambda lib: [lib.zeros(T, B, IN), lib.zeros(2, B, HID)]),
    ("RNN", lambda lib: [lib.zeros(T, B, IN), lib.zeros(B, HID)]),
    ("GRU", lambda lib: [lib.zeros(T, IN), lib.zeros(1, 1, HID)]),
    ("LSTM", lambda lib: [lib.zeros(T, B, IN), (lib.zeros(1, B, HID), lib.zeros(1, B + 1,
                                                                                HID))]),
    ("LSTM", lambda lib: [lib.zeros(T, B, IN), (lib.zeros(1, B, HID + 1),
                                                lib.zeros(1, B, HID))]),
    ("LSTM", lambda lib: [lib.zeros(T, B, IN), (lib.zeros(B, HID), lib.zeros(B, HID))]),
    ("LSTM", lambda lib: [lib.zeros(T, B, IN, dtype=lib.float64)]),
])
def test_forward_errors_match_torch(cls, make):
    _raises_as_torch(lambda lib: getattr(lib.nn, cls)(IN, HID)(*make(lib)))


@pytest.mark.parametrize("cls,make", [
    ("RNNCell", lambda lib: [lib.zeros(B, IN + 1)]),
    ("GRUCell", lambda lib: [lib.zeros(B, IN), lib.zeros(B + 1, HID)]),
    ("LSTMCell", lambda lib: [lib.zeros(B, IN), (lib.zeros(B, HID), lib.zeros(B, HID + 1))]),
    ("RNNCell", lambda lib: [lib.zeros(B, IN, 1)]),
    ("LSTMCell", lambda lib: [lib.zeros(B, IN), (lib.zeros(B, HID), lib.zeros(1, B, HID))]),
])
def test_cell_errors_match_torch(cls, make):
    _raises_as_torch(lambda lib: getattr(lib.nn, cls)(IN, HID)(*make(lib)))


@pytest.mark.parametrize("cls,args,kwargs", [
    ("RNN", (IN, HID), {"nonlinearity": "sigmoid"}), ("GRU", (IN, HID), {"proj_size": 2}),
    ("LSTM", (IN, HID), {"proj_size": HID}), ("LSTM", (IN, HID), {"dropout": 1.5}),
    ("LSTM", (IN, 0), {}), ("LSTM", (IN, HID), {"num_layers": 0}),
    ("GRU", (IN, HID), {"bias": 1}), ("RNN", (IN, 2.0), {}),
])
def test_constructor_errors_match_torch(cls, args, kwargs):
    _raises_as_torch(lambda lib: getattr(lib.nn, cls)(*args, **kwargs))


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        torchlite.nn.LSTM(IN, HID, dropout=0.2)


# ---- training --------------------------------------------------------------------------------

def _train_lstm(lib, steps=20):
    """An LSTM + linear head regressing a sequence target with SGD; the loss curve."""
    lib.manual_seed(0)

    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lib.nn.LSTM(IN, 16, num_layers=2, batch_first=True)
            self.head = lib.nn.Linear(16, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    model = Model().double()
    fill_params(lib, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = lib.tensor(values((8, T, IN), 1), dtype=lib.float64)
    y = lib.tensor(values((8, 1), 2), dtype=lib.float64)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_lstm_trains_like_torch():
    import torch
    ours, theirs = _train_lstm(torchlite), _train_lstm(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    assert ours[-1] < ours[0]


def test_fused_lstm_cell_gradcheck_and_gradgradcheck():
    from torchlite.autograd import gradcheck, gradgradcheck
    cell = torchlite.nn.LSTMCell(IN, HID).double()
    x = as_tensor(torchlite, values((B, IN), 1), "float64")
    h0 = as_tensor(torchlite, values((B, HID), 2), "float64")
    c0 = as_tensor(torchlite, values((B, HID), 3), "float64")

    def fn(x, h0, c0):
        h, c = cell(x, (h0, c0))
        return h * 2 + c
    assert gradcheck(fn, (x, h0, c0))
    assert gradgradcheck(fn, (x, h0, c0))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_lstm_layer_gradcheck_and_gradgradcheck(bidirectional):
    from torchlite.autograd import gradcheck, gradgradcheck
    lstm = torchlite.nn.LSTM(IN, 3, bidirectional=bidirectional).double()
    layers = 2 if bidirectional else 1
    x = as_tensor(torchlite, values((4, 2, IN), 1), "float64")
    h0 = as_tensor(torchlite, values((layers, 2, 3), 2), "float64")
    c0 = as_tensor(torchlite, values((layers, 2, 3), 3), "float64")
    w = lstm.weight_hh_l0  # checked through the module (gradcheck perturbs it in place)

    def fn(x, h0, c0, w):
        out, (h, c) = lstm(x, (h0, c0))
        return out.sum(-1), h * 2 + c
    assert gradcheck(fn, (x, h0, c0, w))
    assert gradgradcheck(fn, (x, h0, c0, w))
