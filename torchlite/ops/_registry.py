"""Where op functions are published: ``torchlite.<name>`` and ``Tensor.<name>`` from one function.

Each public op is written once, as a function whose first argument is the input tensor; the
decorators below expose it at the top level of torchlite, as a Tensor method, or both.
"""
from .._tensor import Tensor

EXPORTS = {}


def export(fn=None, *, name=None, method=True, function=True, aliases=()):
    """Publish ``fn`` as ``torchlite.<name>`` (``function``) and ``Tensor.<name>`` (``method``)."""
    def register(f):
        for n in (name or f.__name__, *aliases):
            if function:
                EXPORTS[n] = f
            if method:
                setattr(Tensor, n, f)
        return f
    return register(fn) if fn is not None else register


def method(fn=None, *, name=None, aliases=()):
    """Publish ``fn`` only as a Tensor method."""
    return export(fn, name=name, function=False, aliases=aliases)


def function(fn=None, *, name=None, aliases=()):
    """Publish ``fn`` only as ``torchlite.<name>``."""
    return export(fn, name=name, method=False, aliases=aliases)
