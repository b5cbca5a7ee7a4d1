"""Dropout (torch.nn.functional): element-wise, channel-wise (1d/2d/3d) and alpha dropout.

Each draws a Bernoulli keep-mask (one value per element, or per channel broadcast over the
spatial dims) and multiplies: the gradient is the same mask, as in PyTorch.
"""
import math
import warnings

from ..._creation import empty
from ...ops._inplace import inplace as _inplace

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766  # SELU's scale * alpha: the negative saturation value


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, shape):
    """Bernoulli(1 - p) in ``input``'s dtype and device, of ``shape``."""
    return empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)


def _apply(input, inplace, fn, *args):
    return _inplace(input, fn, *args) if inplace else fn(input, *args)


def _mask_shape(input, feature):
    """Per element, or per (batch, channel) for feature dropout."""
    if not feature:
        return input.shape
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def _dropout(input, p, feature):
    if p == 1:
        return input * 0
    mask = _keep_mask(input, p, _mask_shape(input, feature))
    return input * mask.div_(1 - p)


def _alpha_dropout(input, p, feature):
    if p == 1:
        return input * 0
    mask = _keep_mask(input, p, _mask_shape(input, feature))
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = (mask + (p - 1)) * (_ALPHA * a)
    return input * mask.mul_(a) + shift


def _run(fn, input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0:
        return input
    return _apply(input, inplace, fn, p, feature)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p)."""
    return _run(_dropout, input, p, training, inplace, False)


def _feature_dropout(input, p, training, inplace, batched_dims):
    """Channel-wise dropout; an unbatched input (one dim fewer) gets a batch dim of 1."""
    unbatched = input.ndim == batched_dims - 1
    if unbatched:
        input = input.unsqueeze(0)
    out = _run(_dropout, input, p, training, inplace, True)
    return out.squeeze(0) if unbatched else out


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _feature_dropout(input, p, training, inplace, 3)


def _warn_feature_dims(name, input, spatial):
    lo, hi = spatial + 1, spatial + 2
    if input.ndim not in (lo, hi):
        warnings.warn(
            f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {name} exists to provide "
            f"channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            f"dimension, and an optional batch dimension (i.e. {lo}D or {hi}D inputs).",
            stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input (a 3-D input is taken as (N, C, L))."""
    _check_p(p)
    _warn_feature_dims("dropout2d", input, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _run(_dropout, input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p)
    _warn_feature_dims("dropout3d", input, 3)
    if input.ndim in (4, 5):
        return _feature_dropout(input, p, training, inplace, 5)
    return _run(_dropout, input, p, training, inplace, True)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's zero mean and unit variance."""
    return _run(_alpha_dropout, input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    return _run(_alpha_dropout, input, p, training, inplace, True)
