"""Per-node history over training steps: TrainingDashboard(record_graph_every=N) records every
N-th step; the statistics GraphView.history_of gives for a node equal NumPy's on the arrays of
those steps (parameters, an op's output, the gradient reaching it)."""
import numpy as np
import pytest

import torchlite as torch
from torchlite import nn
from torchlite.autograd import function as F
from torchlite.viz import GraphView, TrainingDashboard
from torchlite.viz._history import NodeHistory


def _setup(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.1), torch.randn(16, 4), torch.randn(
        16, 1)


def _stats(a):
    a = np.asarray(a, np.float64).ravel()
    return {"mean": a.mean(), "std": a.std(), "min": a.min(), "max": a.max(),
            "norm": np.linalg.norm(a)}


def _train(dash, model, opt, x, y, steps, seen=None):
    """Trains; for each step keeps NumPy copies of what the dashboard should have recorded."""
    hidden = {}
    model[0].register_forward_hook(lambda m, a, out: hidden.update(h=out))
    for step in range(steps):
        opt.zero_grad()
        w0 = model[0].weight.detach().numpy().copy()
        out = model(x)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        if seen is not None:
            h = hidden["h"].detach().numpy()
            w2 = model[2].weight.detach().numpy()
            # d loss / d h for loss = mean((relu(h) @ w2.T + b2 - y) ** 2), by hand
            dout = 2 * (out.detach().numpy() - y.numpy()) / out.numel()
            seen[step] = {"w0": w0, "w0_grad": model[0].weight.grad.numpy().copy(), "h": h,
                          "h_grad": (dout @ w2) * (h > 0)}
        dash.log(step, loss=loss)
        opt.step()


def _node(view, **match):
    return next(n for n in view.graph["nodes"] if all(n[k] == v for k, v in match.items()))


def test_history_of_parameter_and_op_matches_numpy():
    model, opt, x, y = _setup()
    dash = TrainingDashboard(model, opt, record_graph_every=2)
    seen = {}
    _train(dash, model, opt, x, y, 5, seen)
    assert dash.node_history.steps == [0, 2, 4]
    view = dash.graph_view()
    weight = view.history_of(_node(view, kind="param", label="0.weight")["id"])
    linear = view.history_of(_node(view, kind="op", scope="model.0", phase="forward")["id"])
    for hist, value, grad in ((weight, "w0", "w0_grad"), (linear, "h", "h_grad")):
        assert hist["steps"] == [0, 2, 4]
        for i, step in enumerate(hist["steps"]):
            for part, array in (("value", seen[step][value]), ("grad", seen[step][grad])):
                for stat, expected in _stats(array).items():
                    assert hist[part][stat][i] == pytest.approx(expected, rel=1e-5, abs=1e-7), (
                        value, part, stat, step)
            assert hist["value"]["nonfinite"][i] == 0
    # the weights change from step to step, and so does their history
    assert len(set(weight["value"]["mean"])) == 3


def test_any_graph_of_the_model_recorded_the_same_way_finds_the_history():
    model, opt, x, y = _setup()
    dash = TrainingDashboard(model, opt, record_graph_every=1)
    _train(dash, model, opt, x, y, 3)
    with torch.graph.record(values="stats", model=model) as g:
        ((model(x) - y) ** 2).mean().backward()
    mine = GraphView(g, history=dash)
    theirs = dash.graph_view()
    for match in ({"kind": "param", "label": "2.bias"},
                  {"kind": "op", "op": "ReluBackward0", "phase": "forward"}):
        ours = mine.history_of(_node(mine, **match)["id"])
        assert ours == theirs.history_of(_node(theirs, **match)["id"])
        assert ours["steps"] == [0, 1, 2]
    backward_op = _node(mine, phase="backward")["id"]
    assert mine.history_of(backward_op) is None       # backward ops are not followed
    assert mine.history_of(str(_node(mine, label="2.bias")["id"])) is not None  # page's ids


def test_history_is_bounded_and_recording_stops_at_the_step():
    model, opt, x, y = _setup()
    dash = TrainingDashboard(model, opt, record_graph_every=1, history_points=2)
    _train(dash, model, opt, x, y, 4)
    assert not F.OP_LISTENERS                      # no recorder left running between steps
    view = dash.graph_view()
    hist = view.history_of(_node(view, label="0.weight")["id"])
    assert hist["steps"] == [2, 3]
    assert dash.node_history.steps == [0, 1, 2, 3]
    with torch.no_grad():                          # an evaluation forward records nothing
        model(x)
    assert not F.OP_LISTENERS
    model(x).sum().backward()                      # a training forward starts a recording...
    assert F.OP_LISTENERS
    opt.step()                                     # ...that the optimizer's step ends,
    assert not F.OP_LISTENERS
    dash.log(4, loss=0.0)                          # and log files under its step
    assert dash.node_history.steps == [0, 1, 2, 3, 4]
    with torch.graph.record():                     # inside the user's own recording: no
        model(x)                                   # second recorder
        assert len(F.OP_LISTENERS) == 1
    model(x)
    dash.remove_hooks()                            # drops a recording in progress
    assert not F.OP_LISTENERS and dash.node_history.steps == [0, 1, 2, 3, 4]


def test_nonfinite_values_are_counted():
    model, opt, x, y = _setup()
    dash = TrainingDashboard(model, opt, record_graph_every=1)
    x = x.clone()
    x[0, 0] = float("nan")
    _train(dash, model, opt, x, y, 1)
    view = dash.graph_view()
    hist = view.history_of(_node(view, kind="op", scope="model.0", phase="forward")["id"])
    assert hist["value"]["nonfinite"] == [8.0]     # one NaN input row -> 8 NaN outputs


def test_errors():
    model, opt, _, _ = _setup()
    with pytest.raises(ValueError, match="record_graph_every must be >= 1"):
        TrainingDashboard(model, opt, record_graph_every=0)
    dash = TrainingDashboard(model, opt, record_graph_every=5)
    with pytest.raises(RuntimeError, match="no graph recorded yet"):
        dash.graph_view()
    with torch.graph.record() as g:
        model(torch.randn(2, 4))
    with pytest.raises(ValueError, match="keeps no node history"):
        GraphView(g, history=TrainingDashboard(model, opt))
    with pytest.raises(TypeError, match="history must be a TrainingDashboard or a NodeHistory"):
        GraphView(g, history=object())
    with pytest.raises(ValueError, match="has no value statistics"):
        NodeHistory().add(0, g)
    with pytest.raises(ValueError, match="max_points"):
        NodeHistory(max_points=0)
    assert GraphView(g).history_of(0) is None and not GraphView(g).has_history
