"""The backward pass of a tensor computed node by node, as plain data for ``BackpropStepper``.

Each op node of the autograd graph runs its own backward rule (the engine's ``_call_backward``,
so the numbers are exactly those of ``loss.backward()``), in a topological order from the
output to the leaves; every step records the incoming gradient, the rule text, the gradient sent
along each input edge and the leaves' gradients accumulated so far. Node ids are those of
``torchlite.graph.trace`` so the front end can highlight them in the drawn graph.
"""
import math
import re

import numpy as np

from .._tensor import Tensor
from ..autograd.engine import _call_backward, _fit
from ..autograd.grad_mode import no_grad
from ..graph.trace import _postorder, trace
from ..graph.values import host_floats, to_host

FULL_LIMIT = 16  # tensors with at most this many elements are shown in full


def format_number(x):
    """A number in at most 4 significant digits; integers as they are; nan/inf spelled out."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        mantissa, exp = f"{x:.3e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exp):+d}"
    return f"{x:.4g}"


def format_value(arr):
    """Compact text of an array: the number for a scalar, nested lists up to ``FULL_LIMIT``
    elements, else shape with min/mean/max."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 1 and arr.ndim == 0:
        return format_number(arr)
    if arr.size <= FULL_LIMIT:
        return _nested(arr)
    return _summary_text(arr.shape, arr.min(), arr.mean(), arr.max())


def _summary_text(shape, lo, mean, hi):
    return (f"shape {tuple(shape)} min {format_number(lo)} mean {format_number(mean)} "
            f"max {format_number(hi)}")


def _nested(arr):
    if arr.ndim == 0:
        return format_number(arr)
    return "[" + ", ".join(_nested(a) for a in arr) + "]"


def value_data(arr, xp=np):
    """A float64 value (on the host, or on the device of array module ``xp``) as JSON data:
    {shape, text, values (nested lists, small tensors only), summary (min/mean/max/norm, large
    tensors only)}. Only a small value, or the four numbers of a large one's summary, is
    copied to the host."""
    data = {"shape": list(arr.shape)}
    if arr.size <= FULL_LIMIT:
        host = np.asarray(to_host(arr), dtype=np.float64)
        data.update(text=format_value(host), values=_json_values(host))
    else:
        lo, mean, hi, norm = host_floats(xp, [arr.min(), arr.mean(), arr.max(),
                                              xp.linalg.norm(arr)])
        data.update(text=_summary_text(arr.shape, lo, mean, hi),
                    summary={"min": lo, "mean": mean, "max": hi, "norm": norm})
    return data


def _json_values(arr):
    """Nested lists of floats; nan/inf become the strings "nan"/"inf"/"-inf" (valid JSON)."""
    if arr.ndim == 0:
        x = float(arr)
        return x if math.isfinite(x) else format_number(x)
    return [_json_values(a) for a in arr]


def _float64(t):
    """A Tensor's array module and its values as float64 on its device."""
    xp = t._device.xp
    return xp, t._data.astype(xp.float64)


def _tensor_data(t):
    """``value_data`` of a Tensor, computed on its device."""
    xp, value = _float64(t)
    return value_data(value, xp)


def backprop_steps(output, names=None, grad_output=None):
    """The backward pass of ``output`` step by step. Returns ``(graph document, steps,
    leaves)``: ``steps`` a list of dicts (node, op, label, rule, grad_in, grad_out, leaf_grads)
    in execution order, ``leaves`` the leaves that require grad ({id, name, shape, value}).
    ``names`` ({name: tensor}) labels leaves. Call it before ``output.backward()`` (which frees
    what the backward rules need unless ``retain_graph=True``)."""
    if not isinstance(output, Tensor):
        raise TypeError(f"BackpropStepper expects a Tensor, got {type(output).__name__}")
    if not output.requires_grad:
        raise RuntimeError("the output does not require grad: nothing to backpropagate")
    doc = trace(output, params=names).to_dict()
    root = output.grad_fn if output.grad_fn is not None else output
    order = _postorder(root)   # the same walk as trace(): list index == node id
    ids = {id(x): i for i, x in enumerate(order)}
    leaves = [{"id": str(i), "name": _leaf_name(doc["nodes"][i]), "shape": list(x.shape),
               "value": _tensor_data(x)} for i, x in enumerate(order) if isinstance(x, Tensor)]
    if grad_output is None:
        if output.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        grad_output = output.detach().new_ones(output.shape)
    if root is output:   # a leaf: no node to step through
        return doc, [], leaves
    leaf_grads = {}
    buffers = {root: [None] * getattr(root, "num_outputs", 1)}
    buffers[root][output._output_nr] = grad_output
    steps = []
    with no_grad():
        for node in reversed(order):
            grads = buffers.pop(node, None)
            if isinstance(node, Tensor) or grads is None:
                continue
            out = _call_backward(node, list(grads))
            sent = []
            for k, e in enumerate(node._edges):
                if e is None or out[k] is None:
                    continue
                g = out[k]
                if g.shape != e[2] or g._data.dtype != e[3]:
                    g = _fit(g, e, node, k)
                src = str(ids[id(e[0])])
                if isinstance(e[0], Tensor):
                    xp, value = _float64(g)
                    prev = leaf_grads.get(src)
                    leaf_grads[src] = (xp, value if prev is None else prev[1] + value)
                else:
                    buf = buffers.setdefault(e[0], [None] * getattr(e[0], "num_outputs", 1))
                    buf[e[1]] = g if buf[e[1]] is None else buf[e[1]] + g
                sent.append({"input": k, "to": src, "name": _node_name(doc["nodes"][int(src)]),
                             "leaf": isinstance(e[0], Tensor), **_tensor_data(g)})
            steps.append(_step(doc, ids[id(node)], node, grads, sent, leaf_grads))
    return doc, steps, leaves


def _leaf_name(n):
    return n["label"] if n["kind"] == "param" else f"leaf #{n['id']}"


def _node_name(n):
    """How the panel names a node: a leaf's name, else "Mul #2" (op without "Backward0")."""
    if n["kind"] != "op":
        return _leaf_name(n)
    return f"{re.sub(r'Backward[0-9]*$', '', n['op']) or n['op']} #{n['id']}"


def _step(doc, nid, node, grads, sent, leaf_grads):
    n = doc["nodes"][nid]
    return {"node": str(nid), "op": n["op"], "label": n["label"],
            "rule": type(node).backward_rule or "",
            "grad_in": [_tensor_data(g) if g is not None else None for g in grads],
            "grad_out": sent,
            "leaf_grads": {k: value_data(v, xp) for k, (xp, v) in leaf_grads.items()}}
