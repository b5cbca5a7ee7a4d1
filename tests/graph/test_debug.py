"""first_nonfinite, gradient_flow and explain()."""
import subprocess
import sys

import pytest

import torchlite as torch
import torchlite.graph as G
from torchlite import nn


@pytest.mark.parametrize("make, op", [
    (lambda x: torch.log(x - 1.0) * 2, "LogBackward0"),            # log(0) = -inf
    (lambda x: (x - 1.0) / (x - 1.0) + 1, "DivBackward0"),          # 0 / 0 = nan
    (lambda x: torch.exp(x * 100.0).sum(), "ExpBackward0"),         # overflow to inf
])
def test_first_nonfinite_finds_the_origin(make, op):
    x = torch.tensor([1.0, 2.0])
    with G.record(values="stats") as g:
        y = make(x)
        (y * 3).sum()
    found = g.first_nonfinite()
    assert found["op"] == op and found["phase"] == "forward"
    assert found["source"]["file"] == __file__
    st = found["outputs"][0]["stats"]
    assert st["nan"] + st["inf"] >= 1
    assert all(r["stats"]["nan"] == 0 and r["stats"]["inf"] == 0
               for r in found["inputs"] if "tensor" in r)
    assert op in found["text"] and "input 0" in found["text"]


def test_first_nonfinite_none_and_needs_values():
    with G.record(values="stats") as g:
        torch.ones(2) * 2
    assert g.first_nonfinite() is None
    with G.record() as g:
        torch.ones(2) * 2
    with pytest.raises(ValueError, match="values='stats'"):
        g.first_nonfinite()


def test_first_nonfinite_reports_a_bad_input_as_a_leaf():
    x = torch.tensor([float("nan"), 1.0])
    with G.record(values="stats") as g:
        x * 2
    assert g.first_nonfinite()["op"] == "leaf"


def test_gradient_flow_finds_dead_relus():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every hidden unit is dead
    before = G.snapshot(model)
    model(torch.randn(16, 4)).pow(2).mean().backward()
    flow = G.gradient_flow(model, lr=0.1)
    assert flow["0.weight"]["zero_frac"] == 1.0 and "dead" in flow["0.weight"]["flags"]
    assert flow["0.bias"]["zero_frac"] == 1.0
    assert flow["2.bias"]["grad_norm"] > 0 and flow.flagged("dead") == ["0.weight", "0.bias",
                                                                         "2.weight"]
    r = flow["2.bias"]
    assert r["update_ratio"] == pytest.approx(0.1 * r["grad_norm"] / r["weight_norm"])
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    stepped = G.gradient_flow(model, before=before)
    assert stepped["2.bias"]["update_ratio"] == pytest.approx(r["update_ratio"], rel=1e-5)
    assert stepped["0.weight"]["update_ratio"] == 0.0
    assert "parameter" in repr(flow)


def test_gradient_flow_shows_vanishing_gradients_in_a_deep_sigmoid_net():
    torch.manual_seed(0)
    layers = []
    for _ in range(12):
        layers += [nn.Linear(8, 8), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(8, 1))
    model(torch.randn(32, 8)).sum().backward()
    flow = G.gradient_flow(model)
    norms = [flow[f"{2 * i}.weight"]["grad_norm"] for i in range(12)]
    assert norms[0] < 1e-3 * norms[-1]
    assert "0.weight" in flow.flagged("vanishing")
    assert "22.weight" not in flow.flagged("vanishing")


def test_gradient_flow_without_grads():
    flow = G.gradient_flow({"w": torch.ones(3, requires_grad=True)})
    assert flow["w"]["flags"] == ["no grad"] and flow["w"]["grad_norm"] is None


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
        self.dec = nn.Linear(5, 2)

    def forward(self, x):
        return self.dec(self.enc(x))


def test_explain_extends_shape_errors_and_keeps_the_partial_graph():
    model = Two()
    with pytest.raises(RuntimeError) as info, G.explain(model=model) as g:
        model(torch.randn(2, 4))
    msg = str(info.value)
    assert msg.startswith("mat1 and mat2 shapes cannot be multiplied (2x3 and 5x2)")
    # named as PyTorch names nn.Linear's node, with its label (once, not "mm (mm)")
    assert "[torchlite.graph] while running op AddmmBackward0 (x @ W.T + b)\n" in msg
    assert "operands: Tensor[2, 3] float32 on cpu, Tensor[5, 2] float32 on cpu" in msg
    assert "module scope: model.dec" in msg
    assert f"{__file__}:" in msg and "in forward\n    return self.dec(self.enc(x))" in msg
    bad = g.error_node()
    assert bad["status"] == "error" and bad["scope"] == "model.dec"
    assert g.meta["status"] == "error" and g.meta["error"]["node"] == bad["id"]
    assert [n["scope"] for n in g.ops][0] == "model.enc.0"
    assert info.value.torchlite_graph is g
    G.schema.validate(g.doc)


def test_explain_broadcast_error_in_a_function_apply():
    a, b = torch.ones(2, 3), torch.ones(4)
    with pytest.raises(RuntimeError, match=r"(?s)must match.*op AddBackward0 \(a \+ alpha \* b\)"
                                           r".*Tensor\[2, 3\].*Tensor\[4\].*top level"):
        with G.explain():
            a + b


def test_record_extends_messages_once_and_keeps_other_errors_unchanged():
    with pytest.raises(RuntimeError) as info, G.record(), G.explain():
        torch.ones(6).view(4)
    assert str(info.value).count("[torchlite.graph]") == 1
    assert "while running op ViewBackward0 (view)\n" in str(info.value)
    with pytest.raises(KeyError) as info, G.explain() as g:
        {}["x"]
    assert "torchlite" not in str(info.value) and g.meta["error"]["type"] == "KeyError"


def test_error_in_a_backward_rule_names_the_node():
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as info, G.record() as g:
        Bad.apply(x).sum().backward()
    msg = str(info.value)
    assert msg.startswith("function BadBackward returned an incorrect number of gradients")
    assert "\n\n[torchlite.graph] during backward of BadBackward\n" in msg
    assert "Bad.apply(x).sum().backward()" in msg
    bad = g.error_node()
    assert bad["phase"] == "backward" and bad["op"] == "BadBackward"
    assert g.node(bad["grad_of"])["op"] == "BadBackward"


def test_error_of_an_op_inside_a_backward_rule_names_both():
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.view(4)

    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as info, G.record() as g:
        Bad.apply(x).sum().backward()
    msg = str(info.value)
    assert ("[torchlite.graph] while running op ViewBackward0 (view) during backward of "
            "BadBackward\n") in msg
    assert "return g.view(4)" in msg
    assert g.error_node()["op"] == "ViewBackward0" and g.error_node()["phase"] == "backward"


def test_messages_name_notebook_cells_as_ipython_does():
    """Code typed in an IPython cell lives in a temporary file: the graph records it as
    "Cell In[N]" and the debugger's messages say "Cell In[N], line L" like IPython's own
    tracebacks (a real shell, in a subprocess)."""
    pytest.importorskip("IPython")
    cells = ["import torchlite as torch, torchlite.graph as G",
             "x = torch.tensor([0.0, 1.0])\nwith G.record(values='stats') as g:\n"
             "    y = torch.log(x)\nprint(g.first_nonfinite()['text'])\n"
             "print('recorded file:', g.ops[0]['source']['file'])",
             "try:\n    with G.explain():\n        torch.ones(2, 3) @ torch.ones(2, 3)\n"
             "except RuntimeError as e:\n    print(e)"]
    script = ("from IPython.core.interactiveshell import InteractiveShell\n"
              "shell = InteractiveShell.instance(history_length=0)\n"
              f"for cell in {cells!r}:\n"
              "    shell.run_cell(cell, store_history=True).raise_error()\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "at Cell In[2], line 3 in <module>: y = torch.log(x)" in out
    assert "source: Cell In[3], line 3 in <module>\n" in out
    assert "recorded file: Cell In[2]\n" in out
    assert "ipykernel" not in out and ".py:" not in out


def test_error_in_a_primitive_backward_rule_names_its_node():
    """A saved tensor modified in place: the rule of the node reading it fails."""
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info, \
            G.record() as g:
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    bad = g.error_node()
    assert bad["op"] == "ExpBackward0" and bad["phase"] == "backward"
    assert g.node(bad["grad_of"])["op"] == "ExpBackward0"
    assert "during backward of ExpBackward0 (exp(a))\n" in str(info.value)
