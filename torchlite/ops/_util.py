"""Small helpers shared by op modules: dim normalisation, argument checks, node naming."""
import operator

import functools

from .._tensor import Tensor, _wrap_dim


def normalize_dims(dim, ndim):
    """``dim`` (None, int, or sequence; negative allowed) as a sorted tuple of axes, or None."""
    if dim is None:
        return None
    if not isinstance(dim, (tuple, list)):
        return (_wrap_dim(operator.index(dim), ndim),)
    dims = tuple(_wrap_dim(operator.index(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def keepdim_shape(shape, dims):
    """The shape a reduction over ``dims`` has with keepdim=True."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def shape_arg(size):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` / torch.Size alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def check_tensor(op, x, pos=1, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def infer_shape(shape, numel):
    """Resolve one -1 in ``shape`` against ``numel`` elements, with PyTorch's errors."""
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of "
                               f"size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of "
                           f"size {numel}")
    return tuple(shape)


def dim_alias(fn):
    """Accept NumPy's ``axis=`` for ``dim=``, as every PyTorch function with a ``dim`` does."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        return fn(*args, **kwargs)
    return wrapper


def named(out, node_name):
    """``out`` with its grad_fn (if any) named ``node_name``: PyTorch's name for an op that
    torchlite computes through another op or as a composite of several (whose gradients, and
    double gradients, equal PyTorch's)."""
    if out.grad_fn is not None:
        out.grad_fn.node_name = node_name
    return out
