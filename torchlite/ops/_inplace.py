"""In-place ops: run the out-of-place op, write its result into the tensor's memory, rebase history.

``inplace(self, fn, *args)`` is the one mechanism every ``op_`` variant uses:

- outside autograd (no_grad, or nothing requires grad) it writes ``fn(self, *args)`` into
  ``self``'s array and bumps the version counter, so saved tensors see the change;
- under autograd it computes on a snapshot of ``self`` (the value before the write), writes the
  result, and makes the result's graph node ``self``'s ``grad_fn``;
- when ``self`` is a view, the base's history is rebased as well (PyTorch's CopySlices): the base
  gets a node that scatters the new view value into the old base, and the view is re-derived.
"""
from .. import _device, _dtype
from .._tensor import Tensor, _make
from ..autograd.function import Function, replay_view
from ..autograd.grad_mode import STATE
from ._registry import method
from ._util import named


def _check_leaf(t):
    if t._requires_grad and t._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is not None and base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _check_multi_output_view(t):
    """PyTorch refuses in-place writes (under grad) into outputs of split/chunk/unbind."""
    vf = t._view_fn
    if vf is not None and getattr(vf[1], "multi_output_view", False) and t._requires_grad:
        name = vf[1]._node_name.rpartition("Backward")[0]  # "Split", "SplitWithSizes", ...
        raise RuntimeError(
            f"Output {vf[4]} of {name} is a view and is being modified inplace. This "
            "view is the output of a function that returns multiple views. Such functions do "
            "not allow the output views to be modified inplace. You should replace the "
            "inplace operation by an out-of-place one.")


def _check_cast(result, self):
    if result._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    if not _dtype.can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {result.dtype._short} can't be cast to the desired "
                           f"output type {self.dtype._short}")


def write(self, value_array):
    """Copy an array into ``self``'s memory (with broadcasting and casting) and bump its version."""
    data = self._data
    if not getattr(data.flags, "writeable", True):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    if data.ndim == 0:
        data[()] = value_array
    else:
        data[...] = value_array
    self._vc[0] += 1


def _snapshot(t):
    """A tensor holding ``t``'s current value and autograd identity (the input of the op)."""
    snap = _make(t._data.copy(), t._device, t._requires_grad, t._grad_fn, t._output_nr)
    _take_graph_id(snap, t)
    return snap


def inplace(self, fn, *args, **kwargs):
    """``self.op_(*args)``: write ``fn(self, *args, **kwargs)`` into ``self`` (see module doc)."""
    needs_graph = STATE.enabled and (self._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    if not needs_graph:
        result = fn(self, *args, **kwargs)
        _check_cast(result, self)
        write(self, result._data)
        _take_graph_id(self, result)
        return self
    _check_leaf(self)
    _check_multi_output_view(self)
    base = self._base
    base_before = _snapshot(base) if base is not None else None
    result = fn(_snapshot(self), *args, **kwargs)
    _check_cast(result, self)
    if result.dtype is not self.dtype:
        result = result.to(self.dtype)
    write(self, result._data)
    if base is None:
        _rebase(self, result)
    else:
        new_base = CopySlices.apply(base_before, result, view_fn=self._view_fn)
        _rebase(base, new_base)
        _rebase(self, replay_view(self._view_fn, base))
        self._view_version = self._vc[0]
    return self


def _rebase(t, result):
    """Give ``t`` the autograd history and recorded identity of ``result`` (same value, already
    written into ``t``). A result outside autograd leaves ``t``'s history as it was, as PyTorch
    does for its non-differentiable in-place ops (logical_and_, ...)."""
    _take_graph_id(t, result)
    if not result._requires_grad:
        return
    t._requires_grad = True
    t._grad_fn = result._grad_fn
    t._output_nr = result._output_nr
    if t._retains_grad:
        t._retains_grad = False
        t.retain_grad()


def _take_graph_id(t, other):
    """Give ``t`` the id that a running ``torchlite.graph.record()`` knows ``other`` by (a mark
    on the tensor object): the snapshot stands for the tensor before the write, the tensor for
    the op's result after it, so the recorded graph links the in-place op between its
    producer and its consumers."""
    mark = other.__dict__.get("_graph_tid")
    if mark is not None:
        t.__dict__["_graph_tid"] = mark


def _replay_array(view_fn, arr):
    """Apply a chain of view ops (recorded by Function.apply) to a raw array."""
    if view_fn is None:
        return arr
    parent, cls, extra_args, params, index = view_fn
    src = _replay_array(parent, arr)
    ctx = cls.__new__(cls)
    ctx.xp = _device.of_array(arr).xp
    out = cls.forward(ctx, src, *extra_args, **params)
    return out[index] if type(out) is tuple else out


class CopySlices(Function):
    """An in-place write through a view, seen from the base: scatter the view's new value."""

    raw = True
    promote = "promote"
    node_name = "torch::autograd::CopySlices"
    label = "base[view] = value"
    backward_rule = "grad_base = grad with the view's region zeroed; grad_value = grad[view]"

    @staticmethod
    def forward(ctx, base, value, view_fn):
        ctx.view_fn = view_fn
        out = base.copy()
        region = _replay_array(view_fn, out)
        region[...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_base = grad_value = None
        if ctx.needs_input_grad[0]:
            mask = ctx.xp.ones(grad.shape, dtype=grad._data.dtype)
            _replay_array(ctx.view_fn, mask)[...] = 0
            grad_base = grad * _make(mask, grad._device)
        if ctx.needs_input_grad[1]:
            grad_value = replay_view(ctx.view_fn, grad)
        return grad_base, grad_value


class Fill(Function):
    raw = True
    node_name = "FillBackward2"
    label = "fill"
    backward_rule = "grad_a = 0"

    @staticmethod
    def forward(ctx, a, value):
        return ctx.xp.full_like(a, value)

    @staticmethod
    def backward(ctx, grad):
        return _zeros_like(grad)


class Copy(Function):
    """``dst.copy_(src)`` seen out of place: ``src`` broadcast and cast to ``dst``."""

    raw = True
    node_name = "torch::autograd::CopyBackwards"
    label = "copy"
    backward_rule = "grad_dst = 0; grad_src = grad (summed over broadcast dims)"

    @staticmethod
    def forward(ctx, dst, src):
        return ctx.xp.broadcast_to(src, dst.shape).astype(dst.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (_zeros_like(grad) if ctx.needs_input_grad[0] else None), grad


class FillTensor(Copy):
    """fill_ with a tensor (0-d) value, or a Python scalar PyTorch wraps as one: a Copy of the
    value broadcast over the tensor, so the value gets a gradient."""

    node_name = "FillBackward3"
    label = "fill"


def _zeros_like(t):
    """The gradient of an overwritten value: zeros (PyTorch passes zeros, not nothing)."""
    return _make(t._device.xp.zeros(t._data.shape, t._data.dtype), t._device)


@method
def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast and moved as needed) into ``self``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    if src._device is not self._device:
        src = src.to(self._device)
    return inplace(self, Copy.apply, src)


@method
def fill_(self, value):
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if isinstance(value, Tensor):
        return inplace(self, FillTensor.apply, value)
    return inplace(self, lambda old: Fill.apply(old, value=value))


@method
def zero_(self):
    return inplace(self, lambda old: _zero(old))


def _zero(t):
    return named(Fill.apply(t, value=0), "ZeroBackward0")
