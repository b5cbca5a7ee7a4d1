"""The ops page: ``.. torchlite-ops::`` renders the op-spec table (``tests/ops/specs``) as a table.

For each spec row the first sample runs under ``torchlite.graph.record()``: the recorded nodes
give the graph's node names, forward labels and backward rules, exactly as the debugger shows
them. Dtypes are those the row tests; devices are cpu, plus cuda where the GPU suite runs the row
(every deterministic row: ``tests/gpu/test_op_table_cuda.py``).
"""
import sys
import warnings
from pathlib import Path

import numpy as np
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

import torchlite
from torchlite.graph import record

COLUMNS = [("op", 14), ("graph node", 18), ("forward label", 22), ("backward rule", 40),
           ("dtypes", 14), ("devices", 8)]


def op_specs(root):
    """The spec rows of the repository at ``root`` (its tests/ package)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.ops.specs import all_specs
    return all_specs()


def _tensors(value, grad):
    if isinstance(value, np.ndarray):
        t = torchlite.tensor(value)
        return t.requires_grad_(True) if grad and value.dtype.kind == "f" else t
    if isinstance(value, (list, tuple)) and any(isinstance(v, np.ndarray) for v in value):
        return type(value)(_tensors(v, grad) for v in value)
    return value


def recorded_ops(spec):
    """(node name, label, backward rule) of each distinct op the spec's first sample runs;
    None for a row without samples (it only tests error inputs)."""
    dtype = np.dtype("float64" if "float64" in spec.dtypes else spec.dtypes[0])
    samples = spec.get_samples(np.random.default_rng(0), dtype)
    if not samples:
        return None
    sample = samples[0]
    args = [_tensors(a, spec.grad) for a in sample.args]
    with record(backward=False) as g, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices of aliases (cholesky, ...)
        spec.op(*args, **sample.kwargs)
    seen = {}
    for n in g.to_dict()["nodes"]:
        if n["kind"] == "op" and n["phase"] == "forward":
            seen.setdefault(n["op"], (n["op"], n["label"], n["backward_rule"]))
    return list(seen.values())


def op_rows(specs):
    """One row of cell texts per spec with samples: name, node names, labels, rules, dtypes,
    devices."""
    rows = []
    for spec in specs:
        ops = recorded_ops(spec)
        if ops is None:
            continue
        rule = [r or ("—" if spec.grad else "not differentiable") for _, _, r in ops]
        if not ops:  # returns its input or makes a tensor: nothing is recorded
            ops, rule = [("—", "—", "—")], ["—"]
        rows.append([[spec.name], [o for o, _, _ in ops], [lbl for _, lbl, _ in ops], rule,
                     [", ".join(spec.dtypes)],
                     ["cpu" if spec.nondeterministic else "cpu, cuda"]])
    return rows


def table(rows):
    """A docutils table; each cell holds lines of literal text."""
    tgroup = nodes.tgroup(cols=len(COLUMNS))
    for _, width in COLUMNS:
        tgroup += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    head += nodes.row("", *(nodes.entry("", nodes.paragraph(text=title)) for title, _ in COLUMNS))
    for cells in rows:
        row = nodes.row()
        for i, lines in enumerate(cells):
            entry = nodes.entry()
            for line in lines:
                entry += nodes.paragraph("", "", nodes.literal(text=line) if i < 4 else
                                         nodes.Text(line))
            row += entry
        body += row
    tgroup += head
    tgroup += body
    return nodes.table("", tgroup, classes=["torchlite-ops"])


class OpsDirective(SphinxDirective):
    """``.. torchlite-ops::``: the op table (rows in the spec table's order)."""

    def run(self):
        root = Path(self.env.app.confdir).parent
        specs = op_specs(root)
        for path in [root / "tests/ops/opspec.py", *(root / "tests/ops/specs").glob("*.py")]:
            self.env.note_dependency(str(path))
        rows = op_rows(specs)
        summary = nodes.paragraph(text=f"{len(rows)} ops (rows of the op-spec table that run "
                                       f"samples; {len(specs) - len(rows)} rows test only "
                                       "error inputs).")
        return [summary, table(rows)]


def setup(app):
    app.add_directive("torchlite-ops", OpsDirective)
