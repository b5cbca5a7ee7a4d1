"""record(): exact node lists, phases, scopes, values, saved bytes, bounded memory."""
import gc
import sys
import tracemalloc

import numpy as np
import pytest

import torchlite as torch
import torchlite.graph as G
from torchlite import nn
from torchlite.autograd import function as F
from torchlite.nn.modules import module as M


def _abc():
    a = torch.tensor([1., 2., 3.], requires_grad=True)
    b = torch.tensor([4., 5., 6.], requires_grad=True)
    c = torch.tensor([1., -1., 0.5])
    return a, b, c


def test_expression_forward_and_backward_nodes_in_order():
    a, b, c = _abc()
    with G.record() as g:
        (a * b + c).sum().backward()
    assert g.op_names("forward") == ["MulBackward0", "AddBackward0", "SumBackward0"]
    assert g.op_names("backward") == ["ViewBackward0", "ExpandBackward0", "MulBackward0",
                                      "MulBackward0"]
    assert [n["kind"] for n in g.nodes][:3] == ["leaf", "leaf", "op"]
    mul = g.ops[0]
    assert mul["label"] == "a * b" and "grad * b" in mul["backward_rule"]
    assert [r["shape"] for r in mul["inputs"]] == [[3], [3]]
    assert mul["outputs"][0]["dtype"] == "float32" and mul["outputs"][0]["device"] == "cpu"
    assert mul["saved_bytes"] == 24 and all(r["saved"] for r in mul["inputs"])
    assert mul["source"]["file"] == __file__ and "backward()" in mul["source"]["code"]
    backward = [n for n in g.ops if n["phase"] == "backward"]
    ids = {n["op"]: n["id"] for n in g.ops if n["phase"] == "forward"}
    assert [n["grad_of"] for n in backward] == [ids["SumBackward0"]] * 2 + [ids["MulBackward0"]] * 2
    G.schema.validate(g.doc)


def test_edges_and_requires_grad():
    a, b, c = _abc()
    with G.record(backward=False) as g:
        (a * b + c).sum()
    ids = {n["op"]: n["id"] for n in g.nodes if n["kind"] == "op"}
    into_add = [e for e in g.edges if e["dst"] == ids["AddBackward0"]]
    assert [(e["src"], e["dst_input"], e["requires_grad"]) for e in into_add] == [
        (ids["MulBackward0"], 0, True), (into_add[1]["src"], 1, False)]
    assert g.node(into_add[1]["src"])["kind"] == "leaf"


def test_ops_without_grad_are_recorded():
    x = torch.tensor([1., 2.])
    with G.record() as g:
        y = (x * 2).exp()
        with torch.no_grad():
            y.argmax()
    assert g.op_names() == ["MulBackward0", "ExpBackward0", "ArgMaxBackward0"]
    assert g.ops[0]["inputs"][1] == {"scalar": 2}


def test_listeners_only_inside_record():
    before = (list(F.OP_LISTENERS), list(M.SCOPE_LISTENERS))
    with G.record():
        assert len(F.OP_LISTENERS) == len(before[0]) + 1
    assert (F.OP_LISTENERS, M.SCOPE_LISTENERS) == before
    with pytest.raises(ZeroDivisionError), G.record():
        1 / 0
    assert (F.OP_LISTENERS, M.SCOPE_LISTENERS) == before


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.blocks(x))


def test_nested_module_scopes_and_param_names():
    m = Net()
    with G.record(model=m) as g:
        m(torch.randn(3, 4)).sum().backward()
    fwd = [n for n in g.ops if n["phase"] == "forward"]
    runs = [s for i, s in enumerate(n["scope"] for n in fwd)
            if i == 0 or fwd[i - 1]["scope"] != s]  # consecutive equal scopes collapsed
    assert runs == ["model.blocks.0.fc", "model.blocks.0.act", "model.blocks.1.fc",
                    "model.blocks.1.act", "model.head", ""]
    params = {n["label"]: n["scope"] for n in g.nodes if n["kind"] == "param"}
    assert params == {f"{p}.{w}": "model." + p for p in ("blocks.0.fc", "blocks.1.fc", "head")
                      for w in ("weight", "bias")}
    assert g.doc["scopes"]["model.blocks.0"]["type"] == "Block"
    assert g.doc["scopes"]["model.head"]["type"] == "Linear"
    bwd_scopes = {n["scope"] for n in g.ops if n["phase"] == "backward"}
    assert {"model.head", "model.blocks.0.fc", "model.blocks.1.act"} <= bwd_scopes
    total = sum(n["saved_bytes"] for n in g.ops)
    assert g.doc["scopes"]["model"]["saved_bytes"] == total - sum(
        n["saved_bytes"] for n in g.ops if not n["scope"].startswith("model"))


def test_scopes_without_model_use_class_names():
    m = Net()
    with G.record() as g:
        m(torch.randn(2, 4))
    assert g.ops[0]["scope"] == "Net.blocks.0.fc"
    assert any(n["label"] == "Net.head.weight" for n in g.nodes)


def _np_stats(a):
    a = np.asarray(a, dtype=np.float64)
    f = a[np.isfinite(a)]
    return {"min": f.min(), "max": f.max(), "mean": f.mean(), "std": f.std(),
            "nan": int(np.isnan(a).sum()), "inf": int(np.isinf(a).sum())}


def _assert_stats(stats, a):
    expected = _np_stats(a)
    for k, v in expected.items():
        assert stats[k] == pytest.approx(v, rel=1e-5, abs=1e-6), k
    counts, edges = np.histogram(np.asarray(a, np.float64)[np.isfinite(a)], bins=16)
    assert stats["hist"]["counts"] == counts.tolist()
    np.testing.assert_allclose(stats["hist"]["edges"], edges, atol=1e-6)


def test_value_and_gradient_stats_match_numpy(rng):
    xa = rng.standard_normal((5, 7)).astype(np.float32)
    wa = rng.standard_normal((7, 3)).astype(np.float32)
    x, w = torch.tensor(xa), torch.tensor(wa, requires_grad=True)
    with G.record(values="stats") as g:
        h = (x @ w).tanh()
        (h * h).sum().backward()
    mm, tanh = g.ops[0], g.ops[1]
    _assert_stats(mm["outputs"][0]["stats"], xa @ wa)
    ha = np.tanh(xa.astype(np.float64) @ wa)
    _assert_stats(tanh["outputs"][0]["stats"], ha)
    _assert_stats(tanh["outputs"][0]["grad_stats"], 2 * ha)
    w_leaf = next(n for n in g.nodes if n["kind"] == "leaf" and n["outputs"][0]["shape"] == [7, 3])
    _assert_stats(w_leaf["outputs"][0]["grad_stats"], w.grad.numpy())
    assert mm["outputs"][0]["stats"]["numel"] == 15 and "value" not in mm["outputs"][0]["stats"]


def test_full_values_for_small_tensors_only():
    with G.record(values="full", full_limit=4) as g:
        torch.tensor([1., float("nan")]) * 2
        torch.ones(5) * 2
    small, big = g.ops[0]["outputs"][0]["stats"], g.ops[1]["outputs"][0]["stats"]
    assert small["value"] == [2.0, "nan"] and small["nan"] == 1 and "value" not in big
    G.Graph.from_json(g.to_json())


def test_timing_and_params():
    with G.record(timing=True) as g:
        torch.ones(2, 3).sum(dim=1)
    op = g.ops[0]
    assert op["time_ms"] >= 0 and op["params"]["dim"] in (1, [1])


def test_ring_buffer_keeps_latest_nodes():
    x = torch.ones(2)
    with G.record(max_nodes=5) as g:
        for _ in range(20):
            x = x + 1
    assert len(g) == 5 and g.meta["dropped"] > 0
    assert [n["id"] for n in g.nodes] == sorted(n["id"] for n in g.nodes)
    G.schema.validate(g.doc)


def _growth(step, steps, traced):
    """Memory growth over the last ``traced`` of ``steps`` calls: (tracemalloc bytes, Python
    allocated blocks from the first 10% of steps on). Tracing starts ``traced`` steps before
    the first snapshot, so what the run replaces (a ring buffer's content) is traced both
    when allocated and when freed."""
    blocks = first = None
    for i in range(steps):
        if i == steps // 10:
            gc.collect()
            blocks = sys.getallocatedblocks()
        if i == steps - 2 * traced:
            tracemalloc.start()
        if i == steps - traced:
            gc.collect()
            first = tracemalloc.take_snapshot()
        step()
    gc.collect()
    traced_growth = sum(s.size_diff for s in
                        tracemalloc.take_snapshot().compare_to(first, "filename"))
    del first
    tracemalloc.stop()
    gc.collect()
    return traced_growth, sys.getallocatedblocks() - blocks


def test_per_step_record_does_not_grow_memory():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(16, 4), torch.randn(16, 1)

    def step():
        with G.record(model=model) as g:
            loss = ((model(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert len(g) > 20

    traced, blocks = _growth(step, 10_000, 500)
    assert traced < 64 * 1024, f"memory grew by {traced} bytes over 500 recorded steps"
    assert blocks < 2_000, f"{blocks} more Python blocks after 9,000 recorded steps"


def test_long_record_is_bounded():
    x = torch.ones(3, requires_grad=True)
    with G.record(max_nodes=100, values="stats") as g:
        traced, blocks = _growth(lambda: (x * 2).sum().backward(), 2_000, 500)
    assert len(g) == 100 and g.meta["dropped"] > 10_000
    assert traced < 64 * 1024 and blocks < 2_000, (traced, blocks)


def test_nested_records_both_see_every_op():
    a = torch.ones(2, requires_grad=True)
    with G.record() as outer:
        b = a * 2
        with G.record() as inner:
            c = (b + a).sum()
        c.backward()
    for g in (outer, inner):
        G.schema.validate(g.doc)
    assert inner.op_names() == ["AddBackward0", "SumBackward0"]
    assert outer.op_names("forward") == ["MulBackward0", "AddBackward0", "SumBackward0"]
    add = outer.ops[1]
    assert {outer.node(e["src"])["op"] for e in outer.edges if e["dst"] == add["id"]} == {
        "MulBackward0", "leaf"}
    with G.record():
        a * 1
    assert len(a.__dict__["_graph_tid"]) == 1  # pruned of finished recorders


def test_saved_outputs_are_marked():
    x = torch.ones(3, requires_grad=True)
    with G.record() as g:
        x.exp()
        torch.ones(3).exp()  # needs no grad: saves nothing
    saved, plain = g.ops
    assert saved["saved_bytes"] == 12 and saved["outputs"][0]["saved"] is True
    assert "saved" not in saved["inputs"][0]
    assert plain["saved_bytes"] == 0 and "saved" not in plain["outputs"][0]
