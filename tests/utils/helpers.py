"""Shared helpers for the torch.utils.data tests: one library-neutral view of batches."""
import numpy as np


def plain(obj):
    """A structure comparable across torchlite and torch: tensors become
    ("tensor", dtype, shape, values); containers keep their kind (namedtuples their name)."""
    if hasattr(obj, "dtype") and hasattr(obj, "tolist") and not isinstance(obj, np.ndarray):
        return ("tensor", str(obj.dtype), tuple(obj.shape), obj.tolist())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__,) + tuple(plain(v) for v in obj)
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
    return obj


def from_numpy(lib, array):
    return lib.as_tensor(array)
