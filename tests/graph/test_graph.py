"""trace(), DOT export, subgraph, diff and the notebook display."""
import re
import shutil

import pytest

import torchlite as torch
import torchlite.graph as G
from torchlite import nn
from torchlite.graph import dot as dot_mod


def test_trace_leaves_params_ops_and_edges():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    loss = (model(x) * 2).sum()
    g = G.trace(loss, params=dict(model.named_parameters()))
    kinds = {n["label"]: n["kind"] for n in g.nodes if n["kind"] != "op"}
    assert kinds == {"weight": "param", "bias": "param"}
    assert g.op_names()[-2:] == ["MulBackward0", "SumBackward0"]
    root = g.nodes[-1]
    assert root["outputs"][0]["shape"] == [] and root["op"] == "SumBackward0"
    ids = [n["id"] for n in g.nodes]
    assert all(ids.index(e["src"]) < ids.index(e["dst"]) for e in g.edges)
    assert all(e["requires_grad"] for e in g.edges)
    G.schema.validate(g.doc)


def test_trace_of_a_leaf_and_values():
    w = torch.tensor([1., -2.], requires_grad=True)
    assert [n["kind"] for n in G.trace(w).nodes] == ["leaf"]
    (w * w).sum().backward()
    g = G.trace((w * 3).sum(), params={"w": w}, values="full")
    leaf = g.nodes[0]["outputs"][0]
    assert leaf["stats"]["value"] == [1.0, -2.0] and leaf["grad_stats"]["value"] == [2.0, -4.0]


def _model_graph():
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    with G.record(model=model) as g:
        model(torch.randn(2, 3)).sum().backward()
    return g


def test_to_dot_structure():
    g = _model_graph()
    d = g.to_dot()
    src = d if isinstance(d, str) else d.source
    assert src.startswith('digraph "torchlite" {') or src.startswith("digraph torchlite {")
    node_ids = set(re.findall(r"^\s*n(\d+) \[label=", src, re.M))
    assert node_ids == {str(n["id"]) for n in g.nodes}
    assert len(re.findall(r"^\s*n\d+ -> n\d+", src, re.M)) == len(g.edges)
    for scope in ("model.0", "model.1", "model.2"):
        assert f'subgraph "cluster_{scope}"' in src
    assert 'label="model.0 (Linear)"' in src
    assert src.count("{") == src.count("}")
    fwd = g.to_dot(phase="forward")
    fwd = fwd if isinstance(fwd, str) else fwd.source
    assert "fdf0d5" not in fwd and "fdf0d5" in src  # backward nodes' fill colour


def test_to_dot_without_the_graphviz_package(monkeypatch):
    import builtins
    real = builtins.__import__

    def fake(name, *a, **kw):
        if name == "graphviz":
            raise ImportError(name)
        return real(name, *a, **kw)
    monkeypatch.setattr(builtins, "__import__", fake)
    assert isinstance(_model_graph().to_dot(), str)


def test_quote_escapes():
    assert dot_mod.quote('a "b"\nc\\') == '"a \\"b\\"\\nc\\\\"'


def test_svg_needs_dot_binary(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz 'dot' binary"):
        _model_graph().to_svg()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' binary not installed")
def test_svg_renders():
    assert "<svg" in _model_graph().to_svg()


def test_subgraph_by_scope():
    g = _model_graph()
    sub = g.subgraph("model.0")
    ops = [n for n in sub.ops]
    assert ops and all(n["scope"] == "model.0" for n in ops)
    assert set(sub.doc["scopes"]) == {"model.0"}
    G.schema.validate(sub.doc)


def test_subgraph_by_phase_keeps_the_forward_pass_and_its_gradient_stats():
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    with G.record(model=model, values="stats") as g:
        model(torch.randn(2, 3)).sum().backward()
    fwd = g.subgraph(phase="forward")
    assert fwd.op_names() == g.op_names("forward") == [
        "AddmmBackward0", "TanhBackward0", "AddmmBackward0", "SumBackward0"]
    assert {n["phase"] for n in fwd.nodes} == {"forward"}
    assert {n["label"] for n in fwd.nodes if n["kind"] == "param"} == {
        "0.weight", "0.bias", "2.weight", "2.bias"}
    kept = {n["id"] for n in fwd.nodes}
    assert fwd.edges and all(e["src"] in kept and e["dst"] in kept for e in fwd.edges)
    assert all(n["outputs"][0]["grad_stats"] for n in fwd.ops)
    grads = g.subgraph("model.2", phase="backward").op_names()
    assert grads and grads == [n["op"] for n in g.ops
                               if n["phase"] == "backward" and n["scope"] == "model.2"]
    G.schema.validate(fwd.doc)
    with pytest.raises(ValueError, match="phase must be"):
        g.subgraph(phase="both")


def test_diff_between_steps():
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
    with G.record(model=model, backward=False) as a:
        model(torch.randn(2, 3))
    with G.record(model=model, backward=False) as b:
        model(torch.randn(5, 3)).exp()
    d = a.diff(b)
    assert [n["op"] for n in d["added"]] == ["ExpBackward0"] and d["removed"] == []
    assert d["changed"] and all("outputs" in c["fields"] for c in d["changed"])
    assert a.diff(a) == {"added": [], "removed": [], "changed": []}


def test_repr_and_mimebundle_outside_a_notebook():
    g = _model_graph()
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"].startswith("Graph (record):")
    assert "<pre>" in bundle["text/html"] and "model.0" in repr(g)


def test_mimebundle_falls_back_when_the_widget_fails(monkeypatch):
    import sys
    import types
    class ZMQInteractiveShell:
        pass
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = ZMQInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    broken = types.ModuleType("torchlite.viz")
    monkeypatch.setitem(sys.modules, "torchlite.viz", broken)
    monkeypatch.setattr(torch, "viz", broken, raising=False)
    assert "text/plain" in _model_graph()._repr_mimebundle_()


def test_graph_module_imports_no_jupyter():
    import subprocess
    import sys
    code = ("import sys, torchlite.graph, torchlite.viz; "
            "print([m for m in ('ipywidgets', 'anywidget', 'IPython', 'traitlets') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
