"""The static view in the widgets' display data: what the docs render without a widget manager.

The GraphView's saved state must be exactly what ``save_html`` embeds in its offline page (both
feed the same front end), strict JSON (browsers reject NaN), and absent only when too large.
"""
import base64
import json
import math
import re

import numpy as np

import torchlite as torch
from torchlite.graph import record
from torchlite.viz import BackpropStepper, GraphView, TrainingDashboard, save_html
from torchlite.viz._static import STATIC_VIEWS_BUNDLE
from torchlite.viz._static_repr import MAX_STATIC_BYTES, STATIC_MIME

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def display_data(widget):
    bundle = widget._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle


def saved_page_state(graph, tmp_path, **options):
    page = save_html(graph, tmp_path / "g.html", **options).read_text("utf-8")
    found = re.search(r'<script type="application/json" id="torchlite-graph-data">(.*?)</script>',
                      page, re.S)
    return json.loads(found.group(1))


def mlp_graph():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    with record() as g:
        model(torch.randn(2, 3)).sum().backward()
    return g


def test_graph_view_static_state_is_what_save_html_embeds(tmp_path):
    g = mlp_graph()
    data = display_data(GraphView(g))
    assert WIDGET_MIME in data  # JupyterLab still renders the live widget
    static = json.loads(json.dumps(data[STATIC_MIME]))
    assert static["view"] == "graph"
    assert static["state"] == saved_page_state(g, tmp_path)


def test_graph_view_static_state_follows_the_traits(tmp_path):
    g = mlp_graph()
    view = GraphView(g, phase="forward", color_by="device", collapsed=[])
    assert display_data(view)[STATIC_MIME]["state"] == saved_page_state(
        g, tmp_path, phase="forward", color_by="device", collapsed=[])


def test_nan_values_give_strict_json():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with record(values="full") as g:
        y = (x.log() * x).sum()
        y.backward()
    assert math.isnan(x.grad[0].item())
    payload = display_data(GraphView(g))[STATIC_MIME]
    json.dumps(payload, allow_nan=False)  # raises on NaN/Infinity tokens


def test_stepper_static_state_is_its_traits():
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(-3.0, requires_grad=True)
    stepper = BackpropStepper(a * b + a, names={"a": a, "b": b})
    stepper.next()
    static = display_data(stepper)[STATIC_MIME]
    assert static["view"] == "stepper"
    assert static["state"] == {"graph": stepper.graph, "steps": stepper.steps,
                               "leaves": stepper.leaves, "step": 1}
    json.dumps(static, allow_nan=False)


def test_too_large_a_graph_is_left_out():
    x = torch.ones(3, requires_grad=True)
    with record() as g:
        y = x
        for _ in range(MAX_STATIC_BYTES // 400):
            y = y * 1.0
    assert len(g.to_json()) > MAX_STATIC_BYTES
    data = display_data(GraphView(g))
    assert STATIC_MIME not in data and WIDGET_MIME in data


def test_docs_bundle_is_built():
    assert STATIC_VIEWS_BUNDLE.is_file() and "torchlite-static-view" in \
        STATIC_VIEWS_BUNDLE.read_text("utf-8")


def test_dashboard_static_state_replays_the_logged_history():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    dash = TrainingDashboard(model, every=2)
    for step in range(5):
        loss = model(torch.randn(4, 3)).pow(2).mean()
        loss.backward()
        dash.log(step, loss=loss)
    static = json.loads(json.dumps(display_data(dash)[STATIC_MIME], allow_nan=False))
    assert static["view"] == "dashboard"
    state = static["state"]
    assert state["params"] == ["weight", "bias"]
    content, buffers = state["_sync"]["content"], state["_sync"]["buffers"]
    assert content["event"] == "full"
    rows = {(p["kind"], p["name"]): np.frombuffer(base64.b64decode(b), np.float64).reshape(
        -1, p["width"]) for p, b in zip(content["parts"], buffers)}
    history = dash.history
    np.testing.assert_array_equal(rows[("series", "loss")], np.asarray(history["series"]["loss"]))
    np.testing.assert_array_equal(rows[("layers", "")], np.asarray(history["layers"]))
