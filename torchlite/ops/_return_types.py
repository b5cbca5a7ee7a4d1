"""Named tuples returned by ops with several outputs, like ``torch.return_types.max``.

``return_type("max", ("values", "indices"))`` makes (once, then caches) a tuple subclass whose
fields are attributes, which unpacks, indexes and pickles like a tuple and prints like
PyTorch's:

    torch.return_types.max(
    values=tensor([3., 2.]),
    indices=tensor([1, 0]))
"""
from collections import namedtuple

_TYPES = {}


def _repr(self):
    body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{body})"


def return_type(name, fields=("values", "indices")):
    """The named-tuple class ``torch.return_types.<name>`` with ``fields``."""
    cls = _TYPES.get(name)
    if cls is None:
        base = namedtuple(name, fields)
        cls = type(name, (base,), {"__slots__": (), "__repr__": _repr, "__module__": __name__,
                                   "n_fields": len(fields), "n_sequence_fields": len(fields)})
        _TYPES[name] = globals()[name] = cls  # a module attribute, so instances pickle
    elif cls._fields != tuple(fields):
        raise ValueError(f"return type {name} already has fields {cls._fields}")
    return cls


def values_indices(name, values, indices):
    """``torch.return_types.<name>(values=..., indices=...)``."""
    return return_type(name)(values, indices)
