"""The JSON contract between the recorder (Python) and the widgets (torchlite.viz, widgets/).

A graph document is plain JSON: a header, a list of nodes (ops, leaves and parameters) and a
list of edges (one per tensor flowing from a producer node into an input slot of a consumer).
``SCHEMA`` describes it as data; ``validate(d)`` checks a document and raises ``ValueError``
naming the path of the first problem ("nodes[3].inputs[0].shape[1]: expected int, got str").
Changes are additive only: new optional fields may appear, existing ones keep their meaning;
a breaking change bumps ``VERSION``. Version 2 (from 1): node kinds "buffer" and "constant",
the node field ``saved``, the edge fields ``kind`` and ``src_saved`` (an edge has
``src_output`` or ``src_saved``). Version 1 documents are valid version 2 documents.

Example (``(a * b).sum()`` recorded with ``values="stats"``, abridged; ``EXAMPLE`` below is a
complete valid document)::

    {"schema": "torchlite.graph", "version": 2, "kind": "record",
     "meta": {"values": "stats", "backward": true, "max_nodes": 100000, "dropped": 0,
              "timing": false, "status": "ok", "error": null},
     "nodes": [
       {"id": 0, "kind": "leaf", "op": "leaf", "label": "a", "backward_rule": "",
        "phase": "forward", "scope": "", "status": "ok",
        "inputs": [],
        "outputs": [{"tensor": "t0", "shape": [3], "dtype": "float32", "device": "cpu",
                     "requires_grad": true, "stats": {...}, "grad_stats": {...}}]},
       {"id": 2, "kind": "op", "op": "MulBackward0", "label": "a * b",
        "backward_rule": "grad_a = grad * b; grad_b = grad * a", "phase": "forward",
        "scope": "model.fc", "status": "ok", "saved_bytes": 24,
        "source": {"file": "train.py", "line": 12, "function": "main",
                   "code": "y = (a * b).sum()"},
        "inputs": [{"tensor": "t0", "shape": [3], "dtype": "float32", "device": "cpu",
                    "requires_grad": true},
                   {"scalar": 2.0}],
        "outputs": [{"tensor": "t2", ...}]}],
     "edges": [{"src": 0, "src_output": 0, "dst": 2, "dst_input": 0, "tensor": "t0",
                "requires_grad": true, "kind": "data"}],
     "scopes": {"model": {"type": "MLP", "saved_bytes": 24, "nodes": 3},
                "model.fc": {"type": "Linear", "saved_bytes": 24, "nodes": 3}}}

Field meanings:

- ``kind`` (document): "trace" (the autograd graph behind a tensor) or "record" (ops run).
- node ``id``: unique int within the document, increasing in execution order for records (a
  ring buffer keeps the latest ``max_nodes``; ``meta.dropped`` counts the dropped ones).
- node ``kind``: "op"; "leaf" (a tensor with no recorded producer: an input or a tensor made
  before recording, ``label`` "input" or "tensor"; or, ``label`` "grad", a gradient reaching
  the outputs of node ``grad_of`` that no recorded op made: the one ``backward()`` starts
  from, or a sum of several the engine made); "param" / "buffer" (a leaf that is a module's
  parameter / buffer; ``label`` is its name, e.g. "fc.weight", "bn.running_mean", in the
  scope of the module using it); "constant" (a tensor with no history first used by the
  backward of node ``grad_of``: made inside its backward rule, e.g. the ones of a bias
  gradient; a view can hide or fold these).
- ``op``: PyTorch's node name ("MulBackward0"); ``label`` short display text ("a * b");
  ``backward_rule`` the gradient formula as text; ``phase`` "forward" or "backward" (ops run by
  the backward pass, themselves real ops).
- ``scope``: dotted module path ("model.blocks.0.attn"), "" outside any module.
- ``source``: the user's line that called the op (first frame outside torchlite) or null.
- ``time_ms``: wall time attributed to the op (``timing=True``), else absent or null.
- ``saved_bytes``: bytes of the tensors the op saved for backward (0 when none); an input
  or output ref with ``saved: true`` is one of them; ``saved`` lists the others (tensor refs
  of intermediate results the op saved, e.g. cross_entropy's exponentials), which backward
  ops read through edges with ``src_saved``.
- ``grad_of`` (backward-phase ops, constants and "grad" leaves): the id of the forward node
  whose backward ran this op (its gradient computation), when known.
- ``params``: the op's keyword parameters (dims, flags) as JSON values or short reprs.
- ``status``: "ok" or "error" (the op that raised; ``error`` holds the message).
- input slots: a tensor reference (``tensor`` id, shape, dtype, device, requires_grad) or
  ``{"scalar": value}`` for a Python number / None operand.
- ``stats`` / ``grad_stats`` (on tensor references, when values were recorded): min, max,
  mean, std over the finite entries (null when there are none), ``numel``, ``nan``, ``inf``,
  ``zeros`` counts, ``hist`` ({"edges": [...k+1 floats], "counts": [...k ints]} over the finite
  range) and ``value`` (nested lists, only for small tensors with ``values="full"``; non-finite
  entries are the strings "nan", "inf", "-inf"; complex entries are [re, im] pairs).
- edges: ``src``/``dst`` are node ids; ``src_output`` the output slot of ``src`` carried, or
  ``src_saved`` the index in its ``saved`` list; ``dst_input`` the input slot of ``dst``;
  ``tensor`` the tensor id carried; ``requires_grad`` whether the tensor requires grad;
  ``kind`` "data" (the default when absent) or "saved": a tensor of the forward pass read by
  a backward op, saved for backward by its forward op (an input, output or intermediate).
- ``scopes``: per module path, its class name, the bytes saved for backward by ops inside it
  (including nested scopes) and its node count.
"""

VERSION = 2
SCHEMA_NAME = "torchlite.graph"


class Nullable:
    """A value matching ``spec`` or None."""

    def __init__(self, spec):
        self.spec = spec


class ListOf:
    """A JSON array whose items match ``spec``."""

    def __init__(self, spec):
        self.spec = spec


class MapOf:
    """A JSON object with arbitrary string keys whose values match ``spec``."""

    def __init__(self, spec):
        self.spec = spec


class OneOf:
    """One of the given constant values."""

    def __init__(self, *values):
        self.values = values


class Obj:
    """A JSON object with ``required`` and ``optional`` fields; unknown fields are allowed
    (documents from a newer minor version stay readable)."""

    def __init__(self, required, optional=None):
        self.required, self.optional = required, optional or {}


class Any:
    """Any JSON value (checked only for JSON-ness)."""


class Either:
    """A value matching one of several specs (tried in order)."""

    def __init__(self, *specs):
        self.specs = specs


NUMBER = (int, float)
SHAPE = ListOf(int)
FLOAT_OR_NONE = Nullable(NUMBER)

STATS = Obj(
    {"numel": int, "nan": int, "inf": int, "min": FLOAT_OR_NONE, "max": FLOAT_OR_NONE,
     "mean": FLOAT_OR_NONE, "std": FLOAT_OR_NONE},
    {"zeros": int, "hist": Nullable(Obj({"edges": ListOf(NUMBER), "counts": ListOf(int)})),
     "value": Any()})

TENSOR_REF = Obj(
    {"tensor": str, "shape": SHAPE, "dtype": str, "device": str, "requires_grad": bool},
    {"stats": Nullable(STATS), "grad_stats": Nullable(STATS), "name": Nullable(str),
     "saved": bool})

SCALAR_REF = Obj({"scalar": Any()})

SOURCE = Obj({"file": str, "line": int}, {"function": str, "code": Nullable(str)})

NODE = Obj(
    {"id": int, "kind": OneOf("op", "leaf", "param", "buffer", "constant"), "op": str,
     "label": str,
     "backward_rule": str, "phase": OneOf("forward", "backward"), "scope": str,
     "status": OneOf("ok", "error"), "inputs": ListOf(Either(TENSOR_REF, SCALAR_REF)),
     "outputs": ListOf(TENSOR_REF)},
    {"source": Nullable(SOURCE), "time_ms": FLOAT_OR_NONE, "saved_bytes": int,
     "error": Nullable(str), "params": MapOf(Any()), "grad_of": Nullable(int),
     "saved": ListOf(TENSOR_REF)})

EDGE = Obj({"src": int, "dst": int, "dst_input": int, "tensor": str, "requires_grad": bool},
           {"src_output": int, "src_saved": int, "kind": OneOf("data", "saved")})

SCOPE = Obj({"type": str, "saved_bytes": int, "nodes": int})

ERROR = Obj({"type": str, "message": str}, {"node": Nullable(int)})

META = Obj(
    {"values": OneOf(False, "stats", "full"), "backward": bool, "max_nodes": Nullable(int),
     "dropped": int, "timing": bool, "status": OneOf("ok", "error"), "error": Nullable(ERROR)})

SCHEMA = Obj({"schema": OneOf(SCHEMA_NAME), "version": int, "kind": OneOf("trace", "record"),
              "meta": META, "nodes": ListOf(NODE), "edges": ListOf(EDGE),
              "scopes": MapOf(SCOPE)})


def validate(d):
    """Check a graph document against ``SCHEMA`` and its cross references (unique node ids,
    edges between existing nodes and slots, each from one source slot); raise ValueError
    naming the path of the problem.
    Returns ``d`` so it can wrap a load: ``validate(json.loads(text))``."""
    _check(d, SCHEMA, "$")
    if d["version"] > VERSION:
        raise ValueError(f"$.version: document version {d['version']} is newer than this "
                         f"torchlite's graph schema (version {VERSION})")
    nodes = {}
    for i, n in enumerate(d["nodes"]):
        if n["id"] in nodes:
            raise ValueError(f"$.nodes[{i}].id: duplicate node id {n['id']}")
        nodes[n["id"]] = n
    for i, e in enumerate(d["edges"]):
        if ("src_output" in e) == ("src_saved" in e):
            raise ValueError(f"$.edges[{i}]: expected one of src_output and src_saved")
        src_slot = ("src_output", "outputs") if "src_output" in e else ("src_saved", "saved")
        for end, (slot, field) in (("src", src_slot), ("dst", ("dst_input", "inputs"))):
            node = nodes.get(e[end])
            if node is None:
                raise ValueError(f"$.edges[{i}].{end}: no node with id {e[end]}")
            n_slots = len(node.get(field, ()))
            if not 0 <= e[slot] < n_slots:
                raise ValueError(f"$.edges[{i}].{slot}: node {e[end]} has "
                                 f"{n_slots} {field}, got index {e[slot]}")
    return d


def _fail(path, expected, value):
    raise ValueError(f"{path}: expected {expected}, got {type(value).__name__} {value!r:.60}")


def _type_name(t):
    return "/".join(x.__name__ for x in t) if isinstance(t, tuple) else t.__name__


def _check(value, spec, path):
    if isinstance(spec, (type, tuple)):
        types = spec if isinstance(spec, tuple) else (spec,)
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            _fail(path, _type_name(spec), value)
        if isinstance(value, float) and value != value:
            _fail(path, "a finite number or null (JSON has no NaN)", value)
    elif isinstance(spec, Nullable):
        if value is not None:
            _check(value, spec.spec, path)
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            _fail(path, "list", value)
        for i, item in enumerate(value):
            _check(item, spec.spec, f"{path}[{i}]")
    elif isinstance(spec, MapOf):
        if not isinstance(value, dict):
            _fail(path, "object", value)
        for k, item in value.items():
            if not isinstance(k, str):
                _fail(f"{path} key", "str", k)
            _check(item, spec.spec, f"{path}[{k!r}]")
    elif isinstance(spec, OneOf):
        if not any(value is v or (type(value) is type(v) and value == v) for v in spec.values):
            raise ValueError(f"{path}: expected one of {list(spec.values)}, got {value!r:.60}")
    elif isinstance(spec, Obj):
        if not isinstance(value, dict):
            _fail(path, "object", value)
        for k, sub in spec.required.items():
            if k not in value:
                raise ValueError(f"{path}.{k}: missing required field")
            _check(value[k], sub, f"{path}.{k}")
        for k, sub in spec.optional.items():
            if k in value:
                _check(value[k], sub, f"{path}.{k}")
    elif isinstance(spec, Either):
        errors = []
        for sub in spec.specs:
            try:
                return _check(value, sub, path)
            except ValueError as e:
                errors.append((-_overlap(value, sub), str(e)))
        raise ValueError(min(errors)[1])  # the error of the closest alternative
    elif isinstance(spec, Any):
        _check_json(value, path)


def _overlap(value, spec):
    """How many of an object spec's required fields ``value`` has (picks the error to show)."""
    if isinstance(spec, Obj) and isinstance(value, dict):
        return sum(k in value for k in spec.required)
    return 0


def _check_json(value, path):
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, item in value.items():
            _check_json(item, f"{path}[{k!r}]")
    elif isinstance(value, float) and (value != value or value in (float("inf"), -float("inf"))):
        _fail(path, "a finite number (write non-finite values as strings)", value)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        _fail(path, "a JSON value", value)


_STATS_EXAMPLE = {"numel": 3, "nan": 0, "inf": 0, "zeros": 0, "min": 1.0, "max": 3.0,
                  "mean": 2.0, "std": 0.8165, "hist": {"edges": [1.0, 2.0, 3.0],
                                                       "counts": [1, 2]},
                  "value": [1.0, 2.0, 3.0]}


def _ref(tid, shape, requires_grad=True, **extra):
    return {"tensor": tid, "shape": shape, "dtype": "float32", "device": "cpu",
            "requires_grad": requires_grad, **extra}


# A complete valid document: ``y = (w * x).sum()`` inside module "model.fc", forward and
# backward, with stats on the outputs (a starting point for widget tests).
EXAMPLE = {
    "schema": SCHEMA_NAME, "version": VERSION, "kind": "record",
    "meta": {"values": "stats", "backward": True, "max_nodes": 100000, "dropped": 0,
             "timing": False, "status": "ok", "error": None},
    "nodes": [
        {"id": 0, "kind": "param", "op": "leaf", "label": "fc.weight", "backward_rule": "",
         "phase": "forward", "scope": "", "status": "ok", "inputs": [],
         "outputs": [_ref("t0", [3], name="fc.weight", stats=_STATS_EXAMPLE,
                          grad_stats=_STATS_EXAMPLE)]},
        {"id": 1, "kind": "leaf", "op": "leaf", "label": "x", "backward_rule": "",
         "phase": "forward", "scope": "", "status": "ok", "inputs": [],
         "outputs": [_ref("t1", [3], False)]},
        {"id": 2, "kind": "op", "op": "MulBackward0", "label": "a * b",
         "backward_rule": "grad_a = grad * b; grad_b = grad * a", "phase": "forward",
         "scope": "model.fc", "status": "ok", "saved_bytes": 24, "time_ms": None,
         "source": {"file": "train.py", "line": 12, "function": "main",
                    "code": "y = (w * x).sum()"},
         "inputs": [_ref("t0", [3]), _ref("t1", [3], False)],
         "outputs": [_ref("t2", [3], stats=_STATS_EXAMPLE)]},
        {"id": 3, "kind": "op", "op": "SumBackward0", "label": "sum",
         "backward_rule": "grad_a = grad.expand(a.shape)", "phase": "forward",
         "scope": "model", "status": "ok", "saved_bytes": 0,
         "source": {"file": "train.py", "line": 12, "function": "main",
                    "code": "y = (w * x).sum()"},
         "inputs": [_ref("t2", [3])], "outputs": [_ref("t3", [])],
         "params": {"dim": None}},
        {"id": 4, "kind": "op", "op": "MulBackward0", "label": "a * b",
         "backward_rule": "grad_a = grad * b; grad_b = grad * a", "phase": "backward",
         "grad_of": 2, "scope": "model.fc", "status": "ok", "saved_bytes": 0, "source": None,
         "inputs": [_ref("t4", [3], False), _ref("t1", [3], False)],
         "outputs": [_ref("t5", [3], False)]},
    ],
    "edges": [
        {"src": 0, "src_output": 0, "dst": 2, "dst_input": 0, "tensor": "t0",
         "requires_grad": True, "kind": "data"},
        {"src": 1, "src_output": 0, "dst": 2, "dst_input": 1, "tensor": "t1",
         "requires_grad": False, "kind": "data"},
        {"src": 2, "src_output": 0, "dst": 3, "dst_input": 0, "tensor": "t2",
         "requires_grad": True, "kind": "data"},
        {"src": 1, "src_output": 0, "dst": 4, "dst_input": 1, "tensor": "t1",
         "requires_grad": False, "kind": "saved"},
    ],
    "scopes": {"model": {"type": "Model", "saved_bytes": 24, "nodes": 3},
               "model.fc": {"type": "Linear", "saved_bytes": 24, "nodes": 2}},
}
