"""record() of a backward pass: every tensor a backward op reads is linked to where it came
from (a forward node's saved input, output or intermediate; a constant made inside a
backward rule; the gradient backward() starts from), module buffers are named, and the ops
of a custom Function's forward sit in a scope named after it."""
import numpy as np
import pytest

import torchlite as torch
import torchlite.graph as G
from torchlite import nn
from torchlite.nn import functional as F


def _nodes(g):
    """(id, kind, op name or leaf label, phase, scope, grad_of) of every node."""
    return [(n["id"], n["kind"], n["op"] if n["kind"] == "op" else n["label"], n["phase"],
             n["scope"], n.get("grad_of")) for n in g.nodes]


def _edges(g):
    """(src, src slot, dst, dst input, kind); a saved intermediate's slot is ("saved", k)."""
    return [(e["src"], e["src_output"] if "src_output" in e else ("saved", e["src_saved"]),
             e["dst"], e["dst_input"], e["kind"]) for e in g.edges]


def test_saved_input_and_output_link_to_their_forward_nodes():
    x = torch.tensor([1.0, 2.0])
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    with G.record() as g:
        (w * x).exp().sum().backward()
    assert _nodes(g) == [
        (0, "leaf", "input", "forward", "", None),      # w
        (1, "leaf", "input", "forward", "", None),      # x
        (2, "op", "MulBackward0", "forward", "", None),
        (3, "op", "ExpBackward0", "forward", "", None),
        (4, "op", "SumBackward0", "forward", "", None),
        (5, "leaf", "grad", "backward", "", 4),          # the ones backward() starts from
        (6, "op", "ViewBackward0", "backward", "", 4),
        (7, "op", "ExpandBackward0", "backward", "", 4),
        (8, "op", "MulBackward0", "backward", "", 3),    # grad * exp's saved result
        (9, "op", "MulBackward0", "backward", "", 2),    # grad * x (w's gradient)
    ]
    assert _edges(g) == [
        (0, 0, 2, 0, "data"), (1, 0, 2, 1, "data"), (2, 0, 3, 0, "data"), (3, 0, 4, 0, "data"),
        (5, 0, 6, 0, "data"), (6, 0, 7, 0, "data"), (7, 0, 8, 0, "data"),
        (3, 0, 8, 1, "saved"), (8, 0, 9, 0, "data"), (1, 0, 9, 1, "saved")]
    assert g.ops[1]["outputs"][0]["saved"] is True  # exp saved its output
    G.schema.validate(g.doc)


def test_saved_edges_carry_what_pytorch_saves(torch_oracle):
    """The forward tensors the recorded backward reads are the tensors PyTorch's nodes
    save: exp's result and x (mul saves the other operand of the one needing a gradient)."""
    with G.record(values="full") as g:
        w = torch.tensor([0.5, -1.0], requires_grad=True)
        (w * torch.tensor([1.0, 2.0])).exp().sum().backward()
    produced = {r["tensor"]: r for n in g.nodes for r in n["outputs"]}
    recorded = sorted(produced[e["tensor"]]["stats"]["value"] for e in g.edges
                      if e["kind"] == "saved")
    tw = torch_oracle.tensor([0.5, -1.0], requires_grad=True)
    mul = tw * torch_oracle.tensor([1.0, 2.0])
    exp = mul.exp()
    saved = [exp.grad_fn._saved_result, mul.grad_fn._saved_other]
    assert mul.grad_fn._saved_self is None  # x needs no gradient: w is not saved
    np.testing.assert_allclose(recorded, sorted(t.tolist() for t in saved), rtol=1e-6)


def test_constant_made_in_a_backward_rule_and_custom_function_scope():
    class Triple(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3.0

        @staticmethod
        def backward(ctx, grad):
            return grad * torch.full_like(grad, 3.0)

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with G.record() as g:
        Triple.apply(x).sum().backward()
    assert _nodes(g) == [
        (0, "leaf", "input", "forward", "", None),
        (1, "op", "MulBackward0", "forward", "Triple", None),  # inside Triple's forward
        (2, "op", "TripleBackward", "forward", "Triple", None),
        (3, "op", "SumBackward0", "forward", "", None),
        (4, "leaf", "grad", "backward", "", 3),
        (5, "op", "ViewBackward0", "backward", "", 3),
        (6, "op", "ExpandBackward0", "backward", "", 3),
        (7, "constant", "constant", "backward", "Triple", 2),  # full_like in the rule
        (8, "op", "MulBackward0", "backward", "Triple", 2),
    ]
    assert _edges(g) == [
        (0, 0, 1, 0, "data"), (0, 0, 2, 0, "data"), (2, 0, 3, 0, "data"), (4, 0, 5, 0, "data"),
        (5, 0, 6, 0, "data"), (6, 0, 8, 0, "data"), (7, 0, 8, 1, "data")]
    assert g.doc["scopes"]["Triple"] == {"type": "Triple", "saved_bytes": 0, "nodes": 4}
    assert x.grad.tolist() == [3.0, 3.0]


class Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x.exp() + 1).log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.sigmoid()


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return Softplus.apply(self.fc(x))


def test_custom_function_ops_fold_inside_the_module_scope():
    torch.manual_seed(0)
    model = Head()
    with G.record(model=model) as g:
        model(torch.randn(2, 3)).sum().backward()
    scope = {n["op"]: n["scope"] for n in g.ops if n["phase"] == "forward"}
    assert scope == {"AddmmBackward0": "model.fc", "ExpBackward0": "model.Softplus",
                     "AddBackward0": "model.Softplus", "LogBackward0": "model.Softplus",
                     "SoftplusBackward": "model.Softplus", "SumBackward0": ""}
    sigmoid = next(n for n in g.ops if n["op"] == "SigmoidBackward0")
    assert sigmoid["phase"] == "backward" and sigmoid["scope"] == "model.Softplus"
    into = next(e for e in g.edges if e["dst"] == sigmoid["id"])
    assert g.node(into["src"])["op"] == "AddmmBackward0" and into["kind"] == "saved"


def test_cross_entropy_backward_reads_only_linked_tensors():
    """The reported training step: no anonymous leaf in the backward pass; the loss node's
    saved intermediates are listed on it and linked to the backward op reading them."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 1, 0, 1])
    with G.record(model=model) as g:
        F.cross_entropy(model(x), y).backward()
    G.schema.validate(g.doc)
    backward_leaves = [n for n in g.nodes if n["kind"] != "op" and n["phase"] == "backward"]
    assert {(n["kind"], n["label"]) for n in backward_leaves} <= {("leaf", "grad"),
                                                                  ("constant", "constant")}
    assert sum(n["label"] == "grad" for n in backward_leaves) == 1
    into = {(e["dst"], e["dst_input"]) for e in g.edges}
    for n in g.ops:
        for k, ref in enumerate(n["inputs"]):
            assert "scalar" in ref or (n["id"], k) in into, (n["op"], k)
    loss = next(n for n in g.ops if n["op"] == "NllLossBackward0")
    saved_refs = [r for r in loss["inputs"] + loss["outputs"] if r.get("saved")]
    saved_refs += loss.get("saved", [])
    nbytes = {"float32": 4, "int64": 8}
    assert loss["saved_bytes"] == sum(
        nbytes[r["dtype"]] * _numel(r["shape"]) for r in saved_refs)
    from_saved = [e for e in g.edges if "src_saved" in e]
    assert from_saved and all(e["src"] == loss["id"] and e["kind"] == "saved" and
                              g.node(e["dst"])["grad_of"] == loss["id"] for e in from_saved)
    assert {e["src_saved"] for e in from_saved} == set(range(len(loss["saved"])))


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.fc(x))


@pytest.mark.parametrize("model_arg, prefix", [(True, ""), (False, "Net.")])
def test_buffers_are_named_like_parameters(model_arg, prefix):
    torch.manual_seed(0)
    model = Net()
    with G.record(model=model if model_arg else None) as g:
        model(torch.randn(4, 3))
    buffers = {n["label"]: n["scope"] for n in g.nodes if n["kind"] == "buffer"}
    scope = "model.bn" if model_arg else "Net.bn"
    # PyTorch's names for a BatchNorm1d's buffers (model.named_buffers())
    assert buffers == {prefix + "bn.running_mean": scope, prefix + "bn.running_var": scope,
                       prefix + "bn.num_batches_tracked": scope}
    assert all(n["outputs"][0]["name"] == n["label"] for n in g.nodes if n["kind"] == "buffer")
    assert [n["label"] for n in g.nodes if n["kind"] == "leaf"] == ["input"]
