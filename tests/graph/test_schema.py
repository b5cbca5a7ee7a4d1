"""schema.validate: valid documents pass, invalid ones fail naming the path; JSON round trip."""
import copy
import json

import pytest

import torchlite as torch
import torchlite.graph as G
from torchlite.graph import schema


def test_example_is_valid_and_json_clean():
    schema.validate(schema.EXAMPLE)
    schema.validate(json.loads(json.dumps(schema.EXAMPLE, allow_nan=False)))


def _broken(edit):
    d = copy.deepcopy(schema.EXAMPLE)
    edit(d)
    return d


@pytest.mark.parametrize("edit, path", [
    (lambda d: d.pop("nodes"), r"\$\.nodes: missing required field"),
    (lambda d: d.update(schema="other"), r"\$\.schema: expected one of"),
    (lambda d: d.update(version=99), r"\$\.version: document version 99 is newer"),
    (lambda d: d["nodes"][2]["inputs"][0]["shape"].__setitem__(0, "3"),
     r"\$\.nodes\[2\]\.inputs\[0\]\.shape\[0\]: expected int, got str"),
    (lambda d: d["nodes"][2].update(phase="sideways"), r"\$\.nodes\[2\]\.phase: expected one of"),
    (lambda d: d["nodes"][0]["outputs"][0]["stats"].update(mean=float("nan")),
     r"\$\.nodes\[0\]\.outputs\[0\]\.stats\.mean: expected a finite number"),
    (lambda d: d["nodes"][1].update(id=0), r"\$\.nodes\[1\]\.id: duplicate node id 0"),
    (lambda d: d["edges"][0].update(dst=42), r"\$\.edges\[0\]\.dst: no node with id 42"),
    (lambda d: d["edges"][0].update(dst_input=5), r"\$\.edges\[0\]\.dst_input: node 2 has 2"),
    (lambda d: d["meta"].update(values="all"), r"\$\.meta\.values: expected one of"),
    (lambda d: d["nodes"][2]["inputs"][0].update(requires_grad=1),
     r"\$\.nodes\[2\]\.inputs\[0\]\.requires_grad: expected bool, got int"),
    (lambda d: d["scopes"]["model"].pop("nodes"), r"\$\.scopes\['model'\]\.nodes: missing"),
    (lambda d: d["nodes"][4].update(grad_of="2"), r"\$\.nodes\[4\]\.grad_of: expected int"),
    (lambda d: d["nodes"][1].update(kind="const"), r"\$\.nodes\[1\]\.kind: expected one of"),
    (lambda d: d["edges"][3].update(kind="grad"), r"\$\.edges\[3\]\.kind: expected one of"),
    (lambda d: d["edges"][0].update(src_saved=0),
     r"\$\.edges\[0\]: expected one of src_output and src_saved"),
    (lambda d: d["edges"][0].pop("src_output"),
     r"\$\.edges\[0\]: expected one of src_output and src_saved"),
    (lambda d: (d["edges"][3].pop("src_output"), d["edges"][3].update(src_saved=0)),
     r"\$\.edges\[3\]\.src_saved: node 1 has 0 saved, got index 0"),
    (lambda d: d["nodes"][2].update(saved=[{"tensor": "t9"}]),
     r"\$\.nodes\[2\]\.saved\[0\]\.shape: missing required field"),
])
def test_invalid_documents_name_the_path(edit, path):
    with pytest.raises(ValueError, match=path):
        schema.validate(_broken(edit))


def test_version_1_documents_stay_valid():
    """Version 1 had no edge kinds, saved intermediates, buffers or constants."""
    d = _broken(lambda d: [e.pop("kind") for e in d["edges"]])
    d["version"] = 1
    assert schema.validate(d) is d


def test_edge_from_a_saved_intermediate():
    def saved_edge(d):
        d["nodes"][2]["saved"] = [{"tensor": "t9", "shape": [3], "dtype": "float32",
                                   "device": "cpu", "requires_grad": False}]
        d["edges"].append({"src": 2, "src_saved": 0, "dst": 4, "dst_input": 0, "tensor": "t9",
                           "requires_grad": False, "kind": "saved"})
    d = _broken(saved_edge)
    assert schema.validate(d) is d


def test_unknown_fields_are_allowed():
    d = _broken(lambda d: d["nodes"][0].update(future_field={"x": 1}))
    assert schema.validate(d) is d


def _recorded():
    a = torch.tensor([1., 2.], requires_grad=True)
    with G.record(values="full") as g:
        (a.exp() * 2).sum().backward()
    return g


def test_recorded_and_traced_documents_validate():
    g = _recorded()
    schema.validate(g.doc)
    a = torch.tensor([1., 2.], requires_grad=True)
    schema.validate(G.trace((a.exp() * 2).sum(), values="stats").doc)


def test_json_round_trip():
    g = _recorded()
    text = g.to_json()
    back = G.Graph.from_json(text)
    assert back.to_dict() == json.loads(text) == g.to_dict()
    assert back.op_names() == g.op_names()


def test_from_json_rejects_invalid():
    d = _recorded().to_dict()
    d["edges"][0]["src"] = 10_000
    with pytest.raises(ValueError, match=r"\$\.edges\[0\]\.src: no node"):
        G.Graph.from_json(json.dumps(d))
