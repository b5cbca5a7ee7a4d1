"""Bytes saved for backward, per recorded node and in Graph.summary(), against what PyTorch's
nodes save (counted with torch.autograd.graph.saved_tensors_hooks). PyTorch saves only what
the gradients needed will read: for x @ w with only w requiring grad, x alone."""
import pytest

import torchlite
import torchlite.graph as G

GRAD = {"requires_grad": True}


def _programs(lib):
    """name -> (function, its inputs) written once for torchlite and PyTorch."""
    gen = lib.Generator().manual_seed(0)

    def t(*shape, **kw):
        return lib.randn(*shape, generator=gen).requires_grad_(kw.get("requires_grad", False))

    return {
        "mm, both need grad": (lambda a, b: a @ b, (t(5, 4, **GRAD), t(4, 3, **GRAD))),
        "mm, only the weight needs grad": (lambda a, b: a @ b, (t(5, 4), t(4, 3, **GRAD))),
        "mm, only the input needs grad": (lambda a, b: a @ b, (t(5, 4, **GRAD), t(4, 3))),
        "linear, input needs no grad": (lib.nn.functional.linear,
                                        (t(5, 4), t(3, 4, **GRAD), t(3, **GRAD))),
        "linear, all need grad": (lib.nn.functional.linear,
                                  (t(5, 4, **GRAD), t(3, 4, **GRAD), t(3, **GRAD))),
        "mul, one needs grad": (lambda a, b: a * b, (t(5, 4, **GRAD), t(5, 4))),
        "exp": (lambda a: a.exp(), (t(5, 4, **GRAD),)),
        "relu": (lambda a: a.relu(), (t(5, 4, **GRAD),)),
    }


CASES = ["mm, both need grad", "mm, only the weight needs grad", "mm, only the input needs grad",
         "linear, input needs no grad", "linear, all need grad", "mul, one needs grad", "exp",
         "relu"]


def _torch_saved_bytes(torch, fn, args):
    sizes = []

    def pack(t):
        sizes.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return sum(sizes)


@pytest.mark.parametrize("case", CASES)
def test_saved_bytes_match_pytorch(case, torch_oracle):
    fn, args = _programs(torchlite)[case]
    with G.record(backward=False) as g:
        fn(*args)
    expected = _torch_saved_bytes(torch_oracle, *_programs(torch_oracle)[case])
    assert sum(n["saved_bytes"] for n in g.ops) == expected


def test_summary_counts_saved_bytes_and_leaf_kinds():
    model = torchlite.nn.Sequential(torchlite.nn.Linear(4, 3), torchlite.nn.BatchNorm1d(3))
    with G.record(model=model) as g:
        model(torchlite.randn(5, 4)).sum().backward()
    lines = g.summary().splitlines()
    leaves = [n for n in g.nodes if n["kind"] != "op"]
    assert f"{len(leaves)} leaves (4 params, 3 buffers" in lines[0]
    saving = [n["saved_bytes"] for n in g.ops if n["saved_bytes"]]
    assert lines[1] == f"  saved for backward: {sum(saving):,} bytes by {len(saving)} ops"
