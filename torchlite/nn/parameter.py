"""Parameter: a leaf Tensor that a Module registers as one of its parameters."""
from .._tensor import Tensor, _make


class Parameter(Tensor):
    """``nn.Parameter(data, requires_grad=True)``: shares ``data``'s memory, prints as PyTorch."""

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not "
                            f"{type(data).__name__}")
        p = object.__new__(cls)
        p._data = data._data
        p._device = data._device
        p._vc = data._vc
        p.requires_grad = requires_grad
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (_make(self._data, self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(_make(self._data.copy(), self._device), self._requires_grad)
        if self._grad is not None:
            result._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)``: marks a tensor to be registered as a buffer."""

    def __new__(cls, data, *, persistent=True):
        b = object.__new__(cls)
        b._data, b._device, b._vc = data._data, data._device, data._vc
        b.persistent = persistent
        return b

    def __init__(self, data, *, persistent=True):
        pass
