"""Fused Adam / AdamW (adam.cu): the update of every tensor of one dtype in a few launches.

``adam_`` takes CuPy arrays (parameters, gradients, state buffers) and packs up to MAX_TENSORS of
them per launch into an ``AdamTensors`` struct passed by value (PyTorch's multi-tensor apply does
the same): building it reads only host-side metadata (pointers, sizes), so a step copies nothing
between host and device and works the same when gradients are reallocated every step.
"""
import math

import numpy as np

from . import _compile

MAX_TENSORS = 48  # ADAM_MAX_TENSORS in adam.cu
CHUNK = 16384     # ADAM_CHUNK: elements per block
BLOCK = 256
AMSGRAD, MAXIMIZE, DECOUPLED = 1, 2, 4

_POINTERS = ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step")
# adam.cu's struct AdamTensors, field by field (C layout: align=True)
TENSORS_DTYPE = np.dtype(
    [(name, np.uint64, (MAX_TENSORS,)) for name in _POINTERS]
    + [("numel", np.int64, (MAX_TENSORS,)), ("step_size", np.float64, (MAX_TENSORS,)),
       ("bias_correction2_sqrt", np.float64, (MAX_TENSORS,)),
       ("chunk_start", np.int32, (MAX_TENSORS + 1,))], align=True)

_compile.register("adam", [f"adam_multi_tensor<{c}>" for c in _compile.CTYPE.values()]
                  + ["adam_count_steps"])


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2,
          eps, weight_decay, amsgrad, maximize, decoupled, grad_scale=None, found_inf=None):
    """One Adam step, in place, of CuPy arrays of one dtype (C-contiguous, nonempty).

    ``steps`` are either the counters after this step as Python numbers (PyTorch keeps them on the
    CPU by default: the bias corrections are computed here) or float32 0-d CuPy arrays (fused=True),
    which the device increments (unless ``found_inf``) and reads. ``grad_scale`` / ``found_inf``
    (float32 0-d CuPy arrays, GradScaler's) unscale the gradients in place and skip the step.
    """
    on_device = not isinstance(steps[0], (int, float))
    flags = (AMSGRAD if amsgrad else 0) | (MAXIMIZE if maximize else 0) | (
        DECOUPLED if decoupled else 0)
    scalars = (np.float64(lr), np.float64(beta1), np.float64(beta2), np.float64(eps),
               np.float64(weight_decay), np.int32(flags), grad_scale, found_inf)
    lists = (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else None, steps)
    for start in range(0, len(params), MAX_TENSORS):
        batch = slice(start, start + MAX_TENSORS)
        tl, count, chunks = _pack(lists, batch, on_device, lr, beta1, beta2)
        if on_device:
            _compile.LAUNCHER("adam", "adam_count_steps", (1,), (64,),
                              (tl, np.int32(count), found_inf), 0)
        _compile.launch("adam", "adam_multi_tensor", params[0].dtype, chunks, BLOCK,
                        (tl, np.int32(count)) + scalars)


def _pack(lists, batch, on_device, lr, beta1, beta2):
    """The AdamTensors argument (a 1-element structured array, passed by value) of one launch,
    its tensor count and its number of chunks (= blocks)."""
    tl = np.zeros(1, TENSORS_DTYPE)
    for name, arrays in zip(_POINTERS, lists):
        if arrays is not None and (name != "step" or on_device):
            chosen = arrays[batch]
            tl[name][0, :len(chosen)] = [_compile.data_pointer(a) for a in chosen]
    sizes = [a.size for a in lists[0][batch]]
    count = len(sizes)
    tl["numel"][0, :count] = sizes
    tl["chunk_start"][0, 1:count + 1] = np.cumsum([-(-n // CHUNK) for n in sizes])
    if not on_device:
        steps = lists[5][batch]
        tl["step_size"][0, :count] = [lr / (1 - beta1 ** s) for s in steps]
        tl["bias_correction2_sqrt"][0, :count] = [math.sqrt(1 - beta2 ** s) for s in steps]
    return tl, count, int(tl["chunk_start"][0, count])
