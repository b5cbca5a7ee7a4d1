"""torchlite.viz: interactive views of torchlite graphs in JupyterLab (anywidget) and as
self-contained HTML pages.

The front end lives in ``widgets/`` (ES modules, Graphviz laid out in the browser from a
WebAssembly build) and is bundled by esbuild into ``torchlite/viz/static/``; nothing is fetched
from a CDN at run time. ``GraphView`` needs the ``lab`` extra (anywidget); ``save_html`` does not.
"""
from ._data import graph_document
from ._export import save_html
from ._history import NodeHistory
from .dashboard import TrainingDashboard
from .tensor_view import TensorView  # also attaches Tensor.viz()

__all__ = ["BackpropStepper", "GraphView", "graph_document", "save_html", "show"]
__all__ += ["NodeHistory", "TensorView", "TrainingDashboard"]


def __getattr__(name):
    if name == "GraphView":  # imported on first use: anywidget is an optional dependency
        from ._graph_view import GraphView
        return GraphView
    if name == "BackpropStepper":
        from .stepper import BackpropStepper
        return BackpropStepper
    raise AttributeError(f"module 'torchlite.viz' has no attribute {name!r}")


def show(graph_or_tensor, **options):
    """Display an interactive ``GraphView`` of a Graph, a graph document (dict or JSON text) or
    a tensor (its autograd graph, ``torchlite.graph.trace``). Returns None, like
    ``matplotlib.pyplot.show``, so that a cell ending in ``show(g)`` displays the view once; to
    keep a handle (``view.selected``, ``phase``, ``color_by``, ``collapsed``) display a
    ``GraphView(g, ...)`` yourself. ``history=dash`` (a TrainingDashboard made with
    ``record_graph_every``) adds each node's statistics over the recorded training steps to the
    inspector."""
    from IPython.display import display

    from ._graph_view import GraphView
    display(GraphView(graph_or_tensor, **options))
