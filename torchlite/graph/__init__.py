"""torchlite.graph: the autograd graph as data, the op recorder and debugging helpers.

- ``trace(tensor)``: the autograd graph behind a tensor.
- ``with record() as g:``: every op run inside, forward and backward.
- ``Graph``: the plain-data document (``schema.py``) with JSON, DOT, subgraph and diff.
- ``explain()``, ``Graph.first_nonfinite()``, ``gradient_flow(model)``: debugging helpers.
"""
from . import schema
from .debug import GradientFlow, first_nonfinite, gradient_flow, snapshot
from .graph import Graph
from .recorder import explain, record
from .trace import trace

__all__ = ["Graph", "GradientFlow", "explain", "first_nonfinite", "gradient_flow", "record",
           "schema", "snapshot", "trace"]
