"""Parameter and Buffer: the tensor kinds a Module registers (``torch.nn.Parameter``/``Buffer``)."""
from collections import OrderedDict

from .._tensor import Tensor, _make


class Parameter(Tensor):
    """``nn.Parameter(data, requires_grad=True)``: a leaf sharing ``data``'s memory, that a Module
    registers as a parameter when assigned as an attribute."""

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            data.detach()  # PyTorch's error for non-tensors: "'list' object has no attribute ..."
        p = object.__new__(cls)
        p._data = data._data
        p._device = data._device
        p._vc = data._vc
        p.requires_grad = requires_grad
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (_make(self._data, self._device), self._requires_grad,
                                     OrderedDict()))

    def __deepcopy__(self, memo):
        """A new Parameter with a copy of the data; like PyTorch, ``.grad`` is not copied."""
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_make(self._data.copy(), self._device), self._requires_grad)
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` is true for tensors made by ``Buffer(...)`` (as in PyTorch)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """``nn.Buffer(data, persistent=True)``: a plain tensor marked to be registered as a buffer
    when assigned to a Module attribute (``persistent=False`` keeps it out of state_dict)."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
