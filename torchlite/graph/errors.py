"""Which op an exception came from, and the debugger's account of it.

``failing_op(tb)`` reads a traceback: the op that raised (named as its graph node would be,
"MmBackward0", with its label "a @ b"), its operand tensors, the user's line, and, in a
backward pass, the autograd node whose backward was running. ``extend_message`` appends
that account to a shape-like error's message:

    [torchlite.graph] while running op MmBackward0 (a @ b) during backward of MyFnBackward
      operands: Tensor[3] float32 on cpu, Tensor[2, 2] float32 on cpu
      module scope: model.fc
      source: train.py:12 in backward
        return g @ torch.ones(2, 2)
"""
import os
import re

from .._tensor import Tensor
from ..autograd import engine as E
from ..autograd import function as F
from .sources import PKG_DIR, frame_source, in_torchlite, source_location

_APPLY_CODES = (F.Function.apply.__func__.__code__, F._apply_tensor_function.__code__)
_NODE_NAME = re.compile(r"[A-Z]\w*Backward\d*$")
_NOT_OPS = tuple(os.path.join(PKG_DIR, d) + os.sep for d in ("autograd", "graph",
                                                                os.path.join("nn", "modules")))


class FailingOp:
    """What ``failing_op`` found. ``name`` is None when the error came from the autograd
    engine around a backward rule (a wrong gradient count or shape), not from an op;
    ``backward_of`` the autograd Node whose backward was running (None in forward)."""

    def __init__(self, name, cls, operands, source, backward_of):
        self.name, self.cls, self.operands = name, cls, operands
        self.source, self.backward_of = source, backward_of
        self.phase = "forward" if backward_of is None else "backward"

    @property
    def label(self):
        """The op's display label ("a @ b"), or None when it has none of its own."""
        if self.cls is None:
            return None if self.name is not None else _label(type(self.backward_of))
        return _label(self.cls)

    def describe(self):
        """"while running op MmBackward0 (a @ b)", followed by " during backward of
        XBackward (its label)" in a backward pass; "during backward of XBackward" alone for
        an error of the backward pass itself."""
        parts = []
        if self.name is not None:
            parts.append(f"while running op {_named(self.name, self.label)}")
        if self.backward_of is not None:
            node = self.backward_of
            parts.append(f"during backward of {_named(node.name(), _label(type(node)))}")
        return " ".join(parts)


def _label(cls):
    return getattr(cls, "label", None)


def _named(name, label):
    return f"{name} ({label})" if label and label != name else name


def failing_op(tb):
    """The FailingOp an exception's traceback ``tb`` points to, or None when the error did
    not come from torchlite. The op is the innermost ``Function.apply`` or, failing that,
    the function of the innermost torchlite frame with Tensor arguments (an argument check
    before the op), named by the Function it applies."""
    entries = []
    while tb is not None:
        entries.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    frames = [f for f, _ in entries]
    backward_of = _running_node(frames)
    found = _applied(frames) or _checked(frames, backward_of)
    if found is None:
        return None
    k, name, cls, operands = found
    if name is None and backward_of is None:
        return None
    source = next((frame_source(*entries[j]) for j in range(k, -1, -1)
                   if not in_torchlite(frames[j])), None)
    return FailingOp(name, cls, operands, source, backward_of)


def _applied(frames):
    """(frame index, node name, Function class, operands) of the innermost apply, or None."""
    for k in range(len(frames) - 1, -1, -1):
        f = frames[k]
        if f.f_code in _APPLY_CODES:
            cls = f.f_locals.get("cls")
            ctx = f.f_locals.get("ctx")
            name = ctx.name() if isinstance(ctx, cls) else cls._node_name
            return k, name, cls, tuple(f.f_locals.get("args", ()))
    return None


def _checked(frames, node):
    """The innermost torchlite frame with Tensor arguments: an op's argument check, or the
    backward of ``node`` failing in its rule itself (reading a modified saved tensor) or in
    the engine checking what the rule returned (then the op name is None). An op is named
    by the outermost op function around it that applies a Function (F.linear, not the mm it
    falls back to), as PyTorch names the op the user called."""
    for k in range(len(frames) - 1, -1, -1):
        f = frames[k]
        operands = _tensor_args(f) if in_torchlite(f) else ()
        if not operands:
            continue
        if f.f_code.co_filename == E.__file__ or _runs_rule_of(f, node):
            return k, None, None, operands
        outer = k
        while outer > 0 and _in_op_layer(frames[outer - 1]):
            outer -= 1
        for j in range(outer, k + 1):
            found = _function_applied_by(frames[j])
            if found is not None:
                return (k,) + found + (operands,)
        return k, f.f_code.co_name, None, operands
    return None


def _runs_rule_of(frame, node):
    """Whether ``frame`` runs ``node``'s backward rule (or a helper given the node as ctx)."""
    if node is None:
        return False
    code = frame.f_code
    return any(frame.f_locals.get(name) is node for name in code.co_varnames[:code.co_argcount])


def _in_op_layer(frame):
    """A frame of an op function (not of a module, the autograd engine or the user)."""
    return in_torchlite(frame) and not frame.f_code.co_filename.startswith(_NOT_OPS)


def _function_applied_by(frame):
    """(node name, Function class) of the primitive a torchlite function applies, read from
    its code: a Function class it names, and a node name it passes ("MmBackward0")."""
    code, space = frame.f_code, frame.f_globals
    for name in code.co_names:
        obj = space.get(name)
        if isinstance(obj, type) and issubclass(obj, F.Function) and obj.raw:
            node = next((c for c in code.co_consts if isinstance(c, str) and
                         _NODE_NAME.match(c)), None)
            return node or obj._node_name, obj
    return None


def _running_node(frames):
    """The autograd Node of the innermost engine frame running a backward rule, or None."""
    for f in reversed(frames):
        node = f.f_locals.get("node") if f.f_code.co_filename == E.__file__ else None
        if isinstance(node, F.Node):
            return node
    return None


def _tensor_args(frame):
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04)
    found = []
    for name in code.co_varnames[:n]:
        v = frame.f_locals.get(name)
        for x in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(x, Tensor):
                found.append(x)
    return tuple(found)


def describe_operands(node):
    parts = []
    for ref in node["inputs"]:
        if "tensor" in ref:
            parts.append(f"Tensor{ref['shape']} {ref['dtype']} on {ref['device']}")
        else:
            parts.append(repr(ref["scalar"]))
    return ", ".join(parts) or "none"


def extend_message(exc, op, node):
    """Append the account of failing op ``op`` (recorded as ``node``) to ``exc``'s message,
    once."""
    src = node.get("source")
    where = f"{source_location(src)} in {src['function']}" if src else "unknown"
    code = f"\n    {src['code']}" if src and src.get("code") else ""
    extra = (f"\n\n[torchlite.graph] {op.describe()}"
             f"\n  operands: {describe_operands(node)}"
             f"\n  module scope: {node['scope'] or '(top level)'}"
             f"\n  source: {where}{code}")
    exc.args = (f"{exc.args[0] if exc.args else ''}{extra}",) + tuple(exc.args[1:])
    exc.__dict__["_torchlite_explained"] = True
