"""Launchers of gelu.cu: GELU (erf or tanh form) and its derivative, elementwise, in the input's
shape and dtype (a contiguous result for any input layout)."""
import numpy as np

from . import _compile

_compile.register("gelu", [f"{kernel}<{t}>" for kernel in ("gelu_forward", "gelu_backward")
                           for t in _compile.CTYPE.values()])

THREADS = 256
MAX_BLOCKS = 1 << 16  # grid-stride beyond this many blocks


def _grid(n):
    return (min(-(-n // THREADS), MAX_BLOCKS),)


def gelu(x, tanh_form):
    """gelu(x): x * Phi(x), or its tanh approximation when ``tanh_form``."""
    xp = _compile.array_module(x)
    y = xp.empty(x.shape, x.dtype)
    x = xp.ascontiguousarray(x)  # 1-D for a 0-d x: y keeps x's shape
    if x.size:
        _compile.launch("gelu", "gelu_forward", x.dtype, _grid(x.size), THREADS,
                        (x, y, np.int64(x.size), np.int32(tanh_form)))
    return y


def gelu_derivative(x, tanh_form, grad=None):
    """gelu'(x), times ``grad`` (x's shape and dtype) when given."""
    xp = _compile.array_module(x)
    out = xp.empty(x.shape, x.dtype)
    x = xp.ascontiguousarray(x)  # 1-D for a 0-d x: out keeps x's shape
    if x.size:
        g = x if grad is None else xp.ascontiguousarray(grad)  # x: never read without grad
        _compile.launch("gelu", "gelu_backward", x.dtype, _grid(x.size), THREADS,
                        (g, x, out, np.int64(x.size), np.int32(tanh_form),
                         np.int32(grad is not None)))
    return out
