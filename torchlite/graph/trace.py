"""trace(tensor): the autograd graph behind a tensor as a Graph (like torchviz's make_dot,
but data). Nodes are the grad_fn nodes and the leaves that require grad, inputs before their
consumers; tensor ids are "n<node id>:<output index>"."""
from .._tensor import Tensor
from .graph import Graph
from .recorder import _saved_bytes, make_document
from .values import FULL_LIMIT, array_stats


def trace(tensor, params=None, values=False):
    """The autograd graph behind ``tensor``. ``params`` ({name: tensor}, e.g.
    ``dict(model.named_parameters())``) names parameter leaves; ``values`` ("stats" or
    "full") adds value and gradient statistics of the leaves and the root."""
    names = {id(p): name for name, p in (params or {}).items()}
    root = tensor._grad_fn if tensor._grad_fn is not None else tensor
    order = _postorder(root)
    ids = {id(x): i for i, x in enumerate(order)}
    consumers_meta = {}  # (node id, output index) -> (shape, dtype) seen on a consumer edge
    nodes, edges = [], []
    for nid, x in enumerate(order):
        if isinstance(x, Tensor):
            nodes.append(_leaf_node(nid, x, names.get(id(x)), values))
            continue
        inputs = []
        for e in getattr(x, "_edges", ()):
            if e is None:
                continue
            src = ids[id(e[0])]
            out_index = 0 if isinstance(e[0], Tensor) else e[1]
            consumers_meta[(src, out_index)] = (e[2], e[3])
            edges.append({"src": src, "src_output": out_index, "dst": nid,
                          "dst_input": len(inputs), "tensor": f"n{src}:{out_index}",
                          "requires_grad": True})
            inputs.append(_ref(f"n{src}:{out_index}", e[2], e[3], x.device))
        cls = type(x)
        nodes.append({"id": nid, "kind": "op", "op": x.name(),
                      "label": getattr(cls, "label", None) or cls.__name__.lower(),
                      "backward_rule": getattr(cls, "backward_rule", "") or "",
                      "phase": "forward", "scope": "", "status": "ok", "source": None,
                      "saved_bytes": _saved_bytes(x, ())[0], "inputs": inputs, "outputs": []})
    used = {}  # node id -> how many of its outputs consumers reach
    for src, i in consumers_meta:
        used[src] = max(used.get(src, 0), i + 1)
    for n, x in zip(nodes, order):
        if n["kind"] == "op":
            n["outputs"] = _outputs(n["id"], x, consumers_meta, used, tensor, root, values)
    meta = {"values": values or False, "backward": False, "max_nodes": None, "dropped": 0,
            "timing": False, "status": "ok", "error": None}
    return Graph(make_document("trace", meta, nodes, edges, {}))


def _postorder(root):
    """Graph nodes reachable from ``root``, each after all of its inputs (iterative DFS)."""
    order, seen, stack = [], {id(root)}, [(root, False)]
    while stack:
        x, expanded = stack.pop()
        if expanded:
            order.append(x)
            continue
        stack.append((x, True))
        for e in reversed(getattr(x, "_edges", ())):
            if e is not None and id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append((e[0], False))
    return order


def _ref(tid, shape, dtype, device, requires_grad=True):
    return {"tensor": tid, "shape": list(shape), "dtype": getattr(dtype, "name", str(dtype)),
            "device": str(device), "requires_grad": requires_grad}


def _stats(t, values):
    return array_stats(t._data, t._device.xp, values == "full", full_limit=FULL_LIMIT)


def _leaf_node(nid, t, name, values):
    ref = _ref(f"n{nid}:0", t._data.shape, t._data.dtype, t._device, t._requires_grad)
    if name is not None:
        ref["name"] = name
    if values:
        ref["stats"] = _stats(t, values)
        ref["grad_stats"] = _stats(t._grad, values) if t._grad is not None else None
    return {"id": nid, "kind": "param" if name is not None else "leaf", "op": "leaf",
            "label": name or "leaf", "backward_rule": "", "phase": "forward", "scope": "",
            "status": "ok", "inputs": [], "outputs": [ref], "saved_bytes": 0}


def _outputs(nid, node, consumers_meta, used, tensor, root, values):
    """Output refs of an op node: shapes from its consumers' edges, its recorded output
    metadata, or the traced tensor itself for the root."""
    meta = getattr(node, "_out_meta", None) or []
    n = max(getattr(node, "num_outputs", 1), len(meta), used.get(nid, 0))
    refs = []
    for i in range(n):
        if node is root and i == tensor._output_nr:
            ref = _ref(f"n{nid}:{i}", tensor._data.shape, tensor._data.dtype, tensor._device)
            if values:
                ref["stats"] = _stats(tensor, values)
        else:
            shape, dtype = consumers_meta.get((nid, i)) or (meta[i] if i < len(meta) and
                                                             meta[i] else ((), "unknown"))
            ref = _ref(f"n{nid}:{i}", shape, dtype, node.device)
        refs.append(ref)
    return refs
