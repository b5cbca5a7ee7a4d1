"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_.

All run under ``no_grad`` and scale ``.grad`` in place, as PyTorch's do; ``foreach`` is accepted
for compatibility (every device takes the same path here).
"""
import functools
import math
import types
import warnings

from ... import _creation
from ..._tensor import Tensor, _make
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _no_grad(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with no_grad():
            return fn(*args, **kwargs)
    return wrapper


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


_FAST_DTYPE_CHARS = "fd"  # float32, float64


def _raw_norm(xp, a, norm_type):
    """The ``norm_type``-norm of a nonempty real array as a 0-d array of its dtype, with
    one reduction pass (a dot product for the 2-norm)."""
    if norm_type == 2.0:
        flat = a.reshape(-1)
        return xp.sqrt(xp.dot(flat, flat))
    if norm_type == math.inf:
        return xp.abs(a).max()
    if norm_type == -math.inf:
        return xp.abs(a).min()
    if norm_type == 0.0:
        return xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    if norm_type == 1.0:
        return xp.abs(a).sum()
    return (xp.abs(a) ** norm_type).sum() ** (1.0 / norm_type)


def _fast_total_norm(tensors, norm_type):
    """The total norm on raw arrays (no graph nodes), as PyTorch's foreach path: one norm per
    tensor, then the norm of those norms; None where the generic path must serve (several
    devices, low-precision or complex dtypes, empty tensors)."""
    device = tensors[0]._device
    for t in tensors:
        data = t._data
        if t._device != device or data.dtype.char not in _FAST_DTYPE_CHARS or data.size == 0:
            return None
    xp = device.xp
    norms = xp.stack([_raw_norm(xp, t._data, norm_type) for t in tensors])
    return _make(_raw_norm(xp, norms, norm_type), device)


@_no_grad
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` viewed as one vector (a 0-d tensor)."""
    from ... import linalg, stack
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _creation.tensor(0.0)
    total_norm = _fast_total_norm(tensors, norm_type)
    if total_norm is None:
        first_device = tensors[0].device
        norms = [linalg.vector_norm(t, norm_type) for t in tensors]
        total_norm = linalg.vector_norm(stack([n.to(first_device) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(total_norm.isfinite()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every ``.grad`` by ``min(max_norm / (total_norm + 1e-6), 1)``, in place on the
    raw arrays (each grad owns its array; its version counter is bumped)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
    coefs = {}
    for g in grads:
        data = g._data
        key = (g._device, data.dtype)
        c = coefs.get(key)
        if c is None:
            c = coefs[key] = coef.to(g._device)._data.astype(data.dtype, copy=False)
        if data.flags.writeable and data.dtype.char in _FAST_DTYPE_CHARS:
            g._device.xp.multiply(data, c, out=data)
            g._vc[0] += 1
        else:
            g.mul_(_make(c, g._device))


@_no_grad
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clip the gradients' total norm to ``max_norm``; returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every ``.grad`` into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
