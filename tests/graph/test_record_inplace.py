"""record() around in-place ops: the in-place op sits between the producer of the tensor it
overwrote and the ops that read the tensor afterwards, as in PyTorch's autograd graph."""
import pytest

import torchlite
import torchlite.graph as G


def _program(lib):
    """sigmoid, an in-place normalisation of its output, then a consumer of the result."""
    x = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    w = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.1, -0.3], [0.2, 0.4, 0.6]], requires_grad=True)
    p = lib.sigmoid(x @ w)
    p /= p.sum(dim=1, keepdim=True)
    return lib.log(p).sum()


def _recorded_chain(g):
    """Op names from the last forward op back along input 0, by the recorded edges."""
    into = {(e["dst"], e["dst_input"]): e["src"] for e in g.edges}
    node, names = g.ops[-1], []
    while node["kind"] == "op":
        names.append(node["op"])
        node = g.node(into[node["id"], 0])
    return names


def _autograd_chain(fn):
    names = []
    while fn is not None and fn.next_functions:
        names.append(fn.name())
        fn = fn.next_functions[0][0]
    return names


def test_in_place_op_is_linked_to_producer_and_consumer_as_in_torch(torch_oracle):
    with G.record() as g:
        loss = _program(torchlite)
    expected = _autograd_chain(_program(torch_oracle).grad_fn)
    assert _recorded_chain(g) == _autograd_chain(loss.grad_fn) == expected
    assert "DivBackward0" in expected and "SigmoidBackward0" in expected


@pytest.mark.parametrize("grad_mode", [True, False])
def test_reader_of_an_overwritten_tensor_takes_the_in_place_result(grad_mode):
    a = torchlite.tensor([1.0, 2.0, 3.0], requires_grad=grad_mode)
    with torchlite.set_grad_enabled(grad_mode), G.record() as g:
        b = a * 2
        b.add_(1)
        b.exp()
    mul, add, exp = g.ops
    assert [mul["op"], add["op"], exp["op"]] == ["MulBackward0", "AddBackward0", "ExpBackward0"]
    into = {(e["dst"], e["dst_input"]): e["src"] for e in g.edges}
    assert into[add["id"], 0] == mul["id"]
    assert into[exp["id"], 0] == add["id"]
    assert exp["inputs"][0]["tensor"] == add["outputs"][0]["tensor"]


def test_in_place_write_through_a_view_links_the_base():
    a = torchlite.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    with G.record() as g:
        b = a * 1
        b[:2].mul_(3)
        b.sum()
    into = {(e["dst"], e["dst_input"]): e["src"] for e in g.edges}
    total = g.ops[-1]
    assert total["op"] == "SumBackward0"
    assert g.node(into[total["id"], 0])["op"] == "torch::autograd::CopySlices"
