"""TrainingDashboard: logged data, per-parameter stats vs NumPy, alerts, throttled appends."""
import math

import numpy as np
import pytest

import torchlite as torch
from torchlite import nn
from torchlite.viz import TrainingDashboard


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))


def _train(dash, model, opt, steps):
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    for step in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        dash.log(step, loss=loss, acc=step / 10)
        opt.step()


def _norm(a):
    return float(np.linalg.norm(np.asarray(a, np.float64)))


def test_logged_series_and_stats_every():
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    dash = TrainingDashboard(model, opt, every=3)
    _train(dash, model, opt, 7)
    h = dash.history
    assert [s for s, _ in h["series"]["loss"]] == list(range(7))
    assert h["series"]["acc"][4] == (4, 0.4)
    assert h["params"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [r[0] for r in h["layers"]] == [0, 3, 6]
    assert all(len(r) == 1 + 2 * 4 for r in h["layers"])
    assert dash.alerts == []


def test_grad_norm_and_sgd_ratio_match_numpy():
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    dash = TrainingDashboard(model, opt, every=1)
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    ((model(x) - y) ** 2).mean().backward()
    dash.log(0, loss=1.0)
    row = dash.history["layers"][0]
    for i, (_, p) in enumerate(model.named_parameters()):
        g, w = p.grad.numpy(), p.detach().numpy()
        assert row[1 + i] == pytest.approx(_norm(g), rel=1e-5)
        assert row[5 + i] == pytest.approx(0.05 * _norm(g) / _norm(w), rel=1e-5)


def test_update_ratio_from_parameter_change_with_adam():
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    dash = TrainingDashboard(model, opt, every=2)
    before, after = {}, {}
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    for step in range(3):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        if step == 1:
            before = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
        dash.log(step, loss=0.0)
        if step == 2:
            after = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
        opt.step()
    # the ratio logged at step 2 is the change made by the optimizer step in between
    row = dash.history["layers"][1]
    assert row[0] == 2 and math.isnan(dash.history["layers"][0][5])
    for i, name in enumerate(dash.names):
        w = after[name]
        assert row[5 + i] == pytest.approx(_norm(w - before[name]) / _norm(w), rel=1e-5)
    assert dash._snapshot is None           # the copy is dropped once used


def test_alert_nonfinite_loss_once_per_episode():
    model = _mlp()
    dash = TrainingDashboard(model, every=100)
    for step, loss in enumerate([1.0, math.nan, math.nan, 2.0, math.inf]):
        dash.log(step, loss=loss)
    assert [(a["step"], a["kind"], a["name"], a["value"]) for a in dash.alerts] == [
        (1, "nonfinite", "loss", "nan"), (4, "nonfinite", "loss", "inf")]


def test_alert_nonfinite_grad():
    model = _mlp()
    x = torch.randn(16, 4)
    x[0, 0] = math.nan
    model(x).sum().backward()
    dash = TrainingDashboard(model, every=1)
    dash.log(0, loss=1.0)
    kinds = {(a["kind"], a["name"]) for a in dash.alerts}
    assert ("nonfinite_grad", "0.weight") in kinds


def test_alert_vanishing_and_exploding():
    model = _mlp()
    dash = TrainingDashboard(model, every=1)
    for p, scale in zip(model.parameters(), [1e-9, 1.0, 1e5, 0.0]):
        p.grad = torch.ones(*p.shape) * scale
    dash.log(0, loss=1.0)
    got = {(a["kind"], a["name"]) for a in dash.alerts}
    assert got == {("vanishing", "0.weight"), ("exploding", "2.weight"),
                   ("vanishing", "2.bias")}


def test_activation_stats_match_numpy():
    model = _mlp()
    dash = TrainingDashboard(model, every=2, activations=True)
    x = torch.randn(16, 4)
    with torch.no_grad():
        h = model[1](model[0](x)).numpy()
        model(x)
    dash.log(0, loss=0.0)
    model(x)
    dash.log(1, loss=0.0)     # not a statistics step: nothing recorded
    dash.log(2, loss=0.0)     # a statistics step without a forward since: no row either
    acts = dash.history["activations"]
    assert acts["names"] == ["0", "1", "2"] and len(acts["rows"]) == 1
    row = acts["rows"][0]
    assert row[4:7] == pytest.approx((h.mean(), h.std(), float((h == 0).mean())), rel=1e-5)
    dash.remove_hooks()
    assert not model[0]._forward_hooks


class _FakeWidget:
    def __init__(self):
        self.sent = []

    def send(self, content, buffers):
        self.sent.append((content, [np.frombuffer(b, np.float64) for b in buffers]))


def test_throttled_appends_carry_only_new_points(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("torchlite.viz.dashboard.time.monotonic", lambda: clock[0])
    dash = TrainingDashboard(_mlp(), every=1000, interval=0.25)
    dash._widget = w = _FakeWidget()
    dash.log(0, loss=1.0)                     # first call: interval since 0 passed -> sent
    for step in range(1, 5):
        clock[0] += 0.05
        dash.log(step, loss=float(step))
    assert len(w.sent) == 1                   # 0.2 s later: nothing sent yet
    clock[0] += 0.1
    dash.log(5, loss=math.nan)
    assert len(w.sent) == 2
    content, bufs = w.sent[1]
    part = content["parts"][0]
    assert (part["kind"], part["start"], part["width"]) == ("series", 1, 2)
    np.testing.assert_array_equal(bufs[0].reshape(-1, 2)[:, 0], [1, 2, 3, 4, 5])
    assert math.isnan(bufs[0][-1])
    assert content["alerts"] == {"start": 0, "items": [
        {"step": 5, "kind": "nonfinite", "name": "loss", "value": "nan"}]}
    dash.log(6, loss=6.0)
    dash.flush()                              # flush sends the rest at once
    assert w.sent[-1][0]["parts"][0]["start"] == 6


def test_sync_request_sends_full_history():
    dash = TrainingDashboard(_mlp(), every=2)
    for step in range(3):
        dash.log(step, loss=step)
    w = dash.widget
    sent = []
    w.send = lambda content, buffers: sent.append((content, buffers))
    dash._on_front_end_msg(w, {"event": "sync"}, [])
    content, buffers = sent[0]
    assert content["event"] == "full"
    assert [(p["kind"], p["start"]) for p in content["parts"]] == [("series", 0), ("layers", 0)]
    assert np.frombuffer(buffers[0], np.float64).tolist() == [0, 0, 1, 1, 2, 2]
    assert w.params == dash.names and "render" in w._esm


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="every must be >= 1"):
        TrainingDashboard(_mlp(), every=0)
