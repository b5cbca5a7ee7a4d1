"""The backward engine: dependency-counted, non-recursive traversal of the autograd graph.

Backward rules return gradients in the broadcast output's shape; the engine reduces them to each
input's shape and dtype, once, for all ops. Saved tensors are released after a node runs unless
``retain_graph``; graph metadata (names, shapes) stays for the debugger.

A first-order pass (no ``create_graph``, no recorder listening, no anomaly mode) passes raw
arrays between nodes and runs the rules of ``array_backward`` Functions on them directly; the
other rules, hooks, captured and accumulated gradients see Tensors wrapping those arrays.
"""
import itertools

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from . import function as F
from .grad_mode import STATE


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """torch.autograd.backward: accumulate gradients of ``tensors`` into leaves' ``.grad``."""
    tensors = _as_tuple(tensors)
    edges, grads = _roots(tensors, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        got = _run(edges, grads, retain_graph, create_graph, captures=inputs)
        for t, g in zip(inputs, got):
            if g is not None:
                _accumulate(t, g, create_graph)
        return
    _run(edges, grads, retain_graph, create_graph, captures=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of ``outputs`` with respect to ``inputs``."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if allow_unused is None:
        allow_unused = materialize_grads
    edges, grads = _roots(outputs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    got = _run(edges, grads, retain_graph, create_graph, captures=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is "
                                   "the desired behavior.")
            if materialize_grads:
                g = t.new_zeros(t.shape)
        result.append(g)
    return tuple(result)


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _edge(t):
    """The graph edge into a tensor: (grad_fn, output index), or (the leaf itself, 0)."""
    if t._base is not None and t._view_version != t._vc[0]:
        F.refresh_view(t)
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (t, 0)


def _roots(tensors, grad_tensors, create_graph):
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    else:
        grad_tensors = _as_tuple(grad_tensors) if not isinstance(grad_tensors, (list, tuple)) \
            else tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} tensors and {len(tensors)} gradients")
    edges, grads = [], []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: expected Tensor, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind not in "fV":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {t.dtype}")
            g = _make(t._device.xp.ones(t._data.shape, t._data.dtype), t._device)
        elif not isinstance(g, Tensor):
            g = _make(t._device.xp.asarray(g, dtype=t._data.dtype), t._device)
        elif g._data.shape != t._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {t.shape}.")
        edges.append(_edge(t))
        grads.append(g)
    return edges, grads


def _collect(edges, want_parents):
    """Dependency counts of every node reachable from the roots (and each node's parents)."""
    deps, parents = {}, {}
    stack = list({n: None for n, _ in edges})
    roots = set(stack)
    while stack:
        node = stack.pop()
        if isinstance(node, Tensor):
            continue
        for e in node._edges:
            if e is None:
                continue
            nxt = e[0]
            count = deps.get(nxt)
            if count is None:
                deps[nxt] = 1
                if nxt not in roots:
                    stack.append(nxt)
            else:
                deps[nxt] = count + 1
            if want_parents:
                parents.setdefault(nxt, []).append(node)
    return deps, parents


def _needed(capture_nodes, parents):
    """Nodes from which a captured node is reachable: the only ones autograd.grad must run."""
    needed = set(capture_nodes)
    stack = list(capture_nodes)
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def _run(edges, root_grads, retain_graph, create_graph, captures):
    deps, parents = _collect(edges, captures is not None)
    capture_at = {}
    needed = None
    if captures is not None:
        for i, t in enumerate(captures):
            capture_at.setdefault(_edge(t), []).append(i)
        needed = _needed({n for n, _ in capture_at}, parents)
    results = [None] * (len(captures) if captures is not None else 0)
    claimed = {id(g._data) for g in root_grads}  # arrays already owned by someone
    anomaly = F._ANOMALY
    # buffers hold raw arrays in a first-order pass with nothing watching, else Tensors
    arrays = not create_graph and not F.OP_LISTENERS and not anomaly["enabled"]
    buffers = {}
    for (node, nr), g in zip(edges, root_grads):
        _add_to_buffer(buffers, node, nr, g._data if arrays else g)
    ready = [n for n in buffers if deps.get(n, 0) == 0]
    prev_mode, prev_phase = STATE.enabled, F.ENGINE_STATE["phase"]
    STATE.enabled = bool(create_graph)
    F.ENGINE_STATE["phase"] = "backward"
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if isinstance(node, Tensor):  # a leaf: its hooks, then capture or accumulate
                if grads is not None and grads[0] is not None:
                    g = _make(grads[0], node._device) if arrays else grads[0]
                    if node._hooks:
                        g = _pre_hooks(node, [g])[0]
                    if captures is None:
                        _accumulate(node, g, create_graph, claimed)
                    else:
                        for i in capture_at.get((node, 0), ()):
                            results[i] = g
                continue
            hooked = node._has_hooks
            if grads is not None:
                if hooked:
                    grads = _array_pre_hooks(node, grads) if arrays else _pre_hooks(node, grads)
                if capture_at:
                    for j, g in enumerate(grads):
                        for i in capture_at.get((node, j), ()):
                            results[i] = _make(g, node.device) if arrays and g is not None \
                                else g
            if needed is not None and node not in needed:
                continue
            node_edges = node._edges
            if grads is None:
                in_grads = _NO_GRADS
            elif len(grads) == 1 and not hooked and not anomaly["enabled"] and (
                    not arrays or node.array_backward and grads[0].dtype is not _BFLOAT16):
                if arrays:  # the rule's saved_tensors are arrays now
                    node._on_arrays = True
                    try:
                        in_grads = type(node).backward(node, grads[0])
                    finally:
                        node._on_arrays = False
                else:
                    in_grads = type(node).backward(node, grads[0])  # the common case, inline
                if type(in_grads) is not tuple:
                    in_grads = (in_grads,)
                if len(in_grads) != len(node_edges):
                    in_grads = _fix_count(node, in_grads)
            elif arrays:
                in_grads = _backward_on_tensors(node, grads)
            else:
                in_grads = _call_backward(node, grads)
            if not retain_graph:
                node._released = True
                node._saved = None
            for k, (e, g) in enumerate(zip(node_edges, in_grads)):
                if e is None:
                    continue
                nxt = e[0]
                if g is not None:
                    if arrays:
                        if g.__class__ is not _NDARRAY:
                            g = _grad_array(node, k, g)
                        if g.shape != e[2] or g.dtype is not e[3] and g.dtype != e[3]:
                            g = _fit(_make(g, node.device), e, node, k)._data
                    else:
                        if g.__class__ is not Tensor and not isinstance(g, Tensor):
                            _bad_grad(node, k, g)
                        data = g._data
                        if data.shape != e[2] or data.dtype != e[3]:
                            g = _fit(g, e, node, k)
                    buf = buffers.get(nxt)
                    if buf is None:
                        buffers[nxt] = [g] if isinstance(nxt, Tensor) or nxt.num_outputs == 1 \
                            else _first_buffer(nxt, e[1], g)
                    elif buf[e[1]] is None:
                        buf[e[1]] = g
                    elif arrays or create_graph:
                        buf[e[1]] = buf[e[1]] + g
                    else:  # plain sum of arrays: no graph to record, no op to dispatch
                        nr = e[1]
                        buf[nr] = _make(g._device.xp.add(buf[nr]._data, g._data), g._device)
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
    finally:
        STATE.enabled = prev_mode
        F.ENGINE_STATE["phase"] = prev_phase
    return results


_NDARRAY = np.ndarray  # the class check of the common case; other array types take _grad_array
_NO_GRADS = itertools.repeat(None)  # a node reached without gradients passes None on
_BFLOAT16 = _dtype.bfloat16.np  # NumPy widens bfloat16 with Python floats: rules see Tensors


def _first_buffer(node, nr, g):
    """The gradient buffer of a node with several outputs, holding ``g`` at output ``nr``."""
    buf = [None] * node.num_outputs
    buf[nr] = g
    return buf


def _grad_array(node, k, g):
    """A gradient returned by a rule run on arrays, as an array of the node's device."""
    if isinstance(g, Tensor):
        return g._data
    xp = node.xp
    if isinstance(g, xp.ndarray):
        return g
    if hasattr(g, "dtype") and hasattr(g, "shape"):  # a NumPy scalar, from 0-d operands
        return xp.asarray(g)
    _bad_grad(node, k, g)


def _array_pre_hooks(node, grads):
    """A node's hooks in an array pass: they see (and may replace) Tensors."""
    device = node.device
    wrapped = _pre_hooks(node, [None if g is None else _make(g, device) for g in grads])
    return [None if g is None else g._data for g in wrapped]


def _backward_on_tensors(node, grads):
    """In an array pass, a rule written for Tensors only (or a node with hooks, several
    outputs, bfloat16 gradients): run on Tensors wrapping the arrays, under no_grad."""
    device = node.device
    out = _call_backward(node, [None if g is None else _make(g, device) for g in grads])
    return tuple([g if g is None else g._data if isinstance(g, Tensor) else _bad_grad(node, k, g)
                  for k, g in enumerate(out)])


_HOOK_KEYS = frozenset(("_pre_hooks", "_node_pre_hooks", "_retained", "_hooks"))


def _add_to_buffer(buffers, node, nr, g):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * getattr(node, "num_outputs", 1)
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def _pre_hooks(node, grads):
    """Tensor hooks (may replace the gradient), then retain_grad, for each output."""
    if isinstance(node, Tensor):
        hooks = node._hooks
        if hooks:
            g = grads[0]
            for h in hooks:
                out = h(g)
                if out is not None:
                    g = out
            grads = [g]
        return grads
    d = node.__dict__
    pre = d.get("_pre_hooks")
    if pre:
        for j, hooks in pre.items():
            for h in hooks:
                if grads[j] is not None:
                    out = h(grads[j])
                    if out is not None:
                        grads[j] = out
    for h in d.get("_node_pre_hooks", ()):
        out = h(tuple(grads))
        if out is not None:
            grads = list(out)
    retained = d.get("_retained")
    if retained:
        for j, ref in retained.items():
            t = ref()
            if t is not None and grads[j] is not None:
                g = grads[j] if create_graph_enabled() else grads[j].detach()
                t._grad = g if t._grad is None else t._grad + g
    return grads


def create_graph_enabled():
    return STATE.enabled


def _call_backward(node, grads):
    if len(grads) > 1 and node._materialize_grads and any(g is None for g in grads):
        grads = [g if g is not None or meta is None else
                 _make(node.xp.zeros(meta[0], meta[1]), node.device)
                 for g, meta in zip(grads, node._out_meta)]
    if F._ANOMALY["enabled"]:
        try:
            out = type(node).backward(node, *grads)
        except Exception:
            from .anomaly import warn_forward_stack
            warn_forward_stack(node)
            raise
    else:
        out = type(node).backward(node, *grads)
    if type(out) is not tuple:
        out = (out,)
    if len(out) != len(node._edges):
        out = _fix_count(node, out)
    if F._ANOMALY["enabled"]:
        from .anomaly import check_backward_output
        check_backward_output(node, out)
    hooks = node.__dict__.get("_post_hooks")
    if hooks:
        for h in hooks:
            replaced = h(out, tuple(grads))
            if replaced is not None:
                out = tuple(replaced)
    return out


def _fix_count(node, out):
    """Trailing None gradients beyond the inputs are dropped; any other count is an error."""
    n_in = len(node._edges)
    if len(out) > n_in and all(g is None for g in out[n_in:]):
        return out[:n_in]
    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                       f"(expected {n_in}, got {len(out)})")


def _bad_grad(node, k, g):
    raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")


def _fit(g, edge, node, k):
    """Reduce a broadcast gradient to its input's shape and cast it to the input's dtype."""
    shape, dtype = edge[2], edge[3]
    if g._data.shape != shape:
        try:
            g = g.sum_to_size(shape)
        except RuntimeError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {k} - got "
                f"{list(g._data.shape)} but expected shape compatible with {list(shape)}"
            ) from None
    if g._data.dtype != dtype:
        g = g.to(_dtype.from_numpy_dtype(dtype))
    return g


def _accumulate(var, g, create_graph, claimed=None):
    """Add a gradient into ``var.grad`` (in place unless building a graph of the gradient).

    A stored ``.grad`` must own its array: gradients that are views (of a broadcast, say) or
    that were already handed to another leaf in this pass are copied first."""
    if var._grad is None:
        if create_graph:
            var._grad = g
            return
        data = g._data
        if data.base is not None or claimed is None or id(data) in claimed:
            data = data.copy()
        if claimed is not None:
            claimed.add(id(data))
        var._grad = _make(data, g._device)
        return
    if create_graph or var._grad._requires_grad:
        var._grad = var._grad + g
    else:
        xp = var._device.xp
        xp.add(var._grad._data, g._data, out=var._grad._data)
