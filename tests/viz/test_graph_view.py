"""Python side of the GraphView: model state, inputs accepted, selection round trip."""
import json

import pytest
import traitlets

import torchlite
import torchlite.viz
from torchlite.graph import Graph
from torchlite.graph.schema import validate
from torchlite.viz import GraphView, graph_document
from torchlite.viz._data import default_collapsed


def test_sample_document_follows_the_schema(doc):
    validate(doc)


def test_view_state(doc):
    view = GraphView(doc)
    assert view.graph == doc
    assert (view.phase, view.color_by, view.collapsed, view.selected) == ("both", "family", [], "")
    assert "torchlite-graph" not in view._esm and len(view._esm) > 100_000  # the ES bundle
    assert view.selected_node is None


def test_accepts_json_text_and_graph_objects(doc):
    class FakeGraph:
        def to_dict(self):
            return doc

    assert GraphView(json.dumps(doc)).graph == doc
    assert GraphView(FakeGraph()).graph == doc
    graph = Graph.from_dict(doc)
    assert graph_document(graph) is graph.doc    # valid by construction: not copied again
    with pytest.raises(TypeError, match="expected a Graph, a graph document"):
        graph_document(42)


def test_invalid_document_names_the_problem(doc):
    doc["nodes"][2]["outputs"][0]["shape"] = ["three"]
    with pytest.raises(ValueError, match=r"nodes\[2\]\.outputs\[0\]\.shape\[0\]"):
        GraphView(doc)


def test_traits_validate(doc):
    view = GraphView(doc)
    view.phase, view.color_by = "backward", "grad"
    with pytest.raises(traitlets.TraitError):
        view.phase = "sideways"
    with pytest.raises(traitlets.TraitError):
        view.color_by = "rainbow"


def test_selection_from_the_front_end(doc):
    view = GraphView(doc)
    seen = []
    view.on_select(seen.append)
    view.selected = "2"                     # what the page's click syncs
    view._on_front_end_msg(view, {"event": "select", "node": "2"}, [])
    assert view.selected_node["op"] == "MulBackward0"
    assert seen == [view.selected_node]
    view._on_front_end_msg(view, {"event": "other"}, [])
    assert len(seen) == 1


def test_set_graph_resets_selection(doc):
    view = GraphView(doc, selected="2", collapsed=["model"])
    view.set_graph(doc)
    assert (view.selected, view.collapsed) == ("", [])


def _big_doc(blocks, ops_per_block):
    nodes = [{"id": i, "scope": f"model.blocks.{i // ops_per_block}.attn"}
             for i in range(blocks * ops_per_block)]
    return {"nodes": nodes + [{"id": -1, "scope": ""}]}


def test_large_graphs_start_collapsed():
    assert default_collapsed(_big_doc(2, 10)) == []                 # small: all expanded
    deep = default_collapsed(_big_doc(12, 20), limit=150)          # 240 ops in 12 blocks
    assert deep == sorted(f"model.blocks.{i}.attn" for i in range(12))
    assert default_collapsed(_big_doc(200, 2), limit=150) == ["model.blocks"]


def test_missing_bundle_says_how_to_build(doc, monkeypatch, tmp_path):
    import torchlite.viz._graph_view as gv
    monkeypatch.setattr(gv, "WIDGET_BUNDLE", tmp_path / "graph_view.js")
    with pytest.raises(FileNotFoundError, match=r"cd widgets && npm ci && npm run build"):
        GraphView(doc)


def test_tensor_is_traced():
    x = torchlite.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    view = GraphView(y)
    ops = [n["op"] for n in view.graph["nodes"]]
    assert "MulBackward0" in ops and "SumBackward0" in ops


def test_show_displays_the_view_once(doc, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    # None: a cell ending in show(...) must not display the view a second time
    assert torchlite.viz.show(doc, phase="forward") is None
    [view] = shown
    assert isinstance(view, GraphView) and view.phase == "forward"


def test_text_reprs_summarise_the_widget_not_its_address():
    """The text/plain of a widget's display (what static pages and consoles show)."""
    x = torchlite.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    view = GraphView(y, phase="forward")
    data = view._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert data["text/plain"] == "GraphView(2 ops, 1 leaves, phase='forward')"
    stepper = torchlite.viz.BackpropStepper(y)
    assert repr(stepper) == f"BackpropStepper(step 0 of {len(stepper.steps)})"
    dash = torchlite.viz.TrainingDashboard(torchlite.nn.Linear(2, 1))
    dash.log(0, loss=1.0)
    data = dash._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert data["text/plain"] == repr(dash) and "0x" not in repr(dash)
