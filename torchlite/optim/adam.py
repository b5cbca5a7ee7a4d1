"""Adam (amsgrad, L2 or decoupled weight decay, maximize); fused on cuda."""
from .. import _dtype, _kernels
from .._creation import zeros
from .._kernels import _compile, adam as _adam_kernel
from .._tensor import Tensor
from .optimizer import (_CPU_XP, Optimizer, _begin_update, _check_betas, _check_fused, _check_lr,
                        _check_nonnegative, _closure_loss, _lerp_, _scalar_dtype, _scalar_state,
                        _to_scalar, _value, _xp, _zeros_like)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    """Adam, ``torch.optim.Adam``; state: 'step', 'exp_avg', 'exp_avg_sq' ('max_exp_avg_sq').

    On cuda the update of a whole group runs in one fused kernel launch per dtype (per 48
    tensors), whatever ``foreach`` / ``fused`` say; elsewhere (and for what the kernel does not
    take) a loop of in-place array operations. As in PyTorch, 'step' is a CPU tensor unless
    ``fused`` or ``capturable``, which keep it on the parameter's device (float32 when fused), and
    ``fused=True`` lets GradScaler hand the scale and the inf flag to the step (no host sync)."""

    _group_fallbacks = {"amsgrad": False, "maximize": False, "foreach": None,
                        "capturable": False, "differentiable": False,
                        "decoupled_weight_decay": False, "fused": None}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay, foreach and not capturable)
        defaults = {"lr": lr, "betas": tuple(map(_to_scalar, betas)), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        if fused:
            self._step_supports_amp_scaling = True

    def _init_state(self, group):
        def init(state, p):
            if group["fused"]:
                _check_fused_param(p)
            state["step"] = (_device_step(p, group["fused"])
                             if group["capturable"] or group["fused"] else _scalar_state(0.0))
            state["exp_avg"] = _zeros_like(p)
            state["exp_avg_sq"] = _zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _zeros_like(p)
        return init

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns the closure's loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, exp_avgs, exp_avg_sqs, max_sqs = self._group_arrays(
                group, self._init_state(group), "step", "exp_avg", "exp_avg_sq",
                "max_exp_avg_sq")
            beta1, beta2 = group["betas"]
            adam(arrays, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, amsgrad=group["amsgrad"],
                 beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                 eps=group["eps"], maximize=group["maximize"],
                 decoupled_weight_decay=group["decoupled_weight_decay"],
                 grad_scale=_raw(getattr(self, "grad_scale", None)),
                 found_inf=_raw(getattr(self, "found_inf", None)))
            self._bump(params)
        return loss


def _raw(t):
    """The raw array of GradScaler's tensor (None, or 0 when no gradient was checked, stays)."""
    return t._data if isinstance(t, Tensor) else t


def _device_step(p, fused):
    """A 0-d 'step' on ``p``'s device, as PyTorch keeps it when fused or capturable."""
    dtype = _dtype.float32 if fused else _scalar_dtype()
    return zeros((), dtype=dtype, device=p.device)


def _check_fused_param(p):
    if not p.is_floating_point():
        raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of "
                           f"supported devices: {_FUSED_DEVICES} but {p.dtype} and "
                           f"{p.device.type}")


# PyTorch's list in that message (torch.utils._foreach_utils)
_FUSED_DEVICES = ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone']


def _check_adam_args(lr, betas, eps, weight_decay, uncaptured_foreach):
    """Adam's argument checks, in PyTorch's order and words (Tensor options are refused with
    foreach=True, capturable=False, as PyTorch refuses them)."""
    if isinstance(lr, Tensor) and uncaptured_foreach:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
    _check_lr(lr)
    _check_nonnegative(eps, "epsilon")
    _check_betas(betas)
    _check_nonnegative(weight_decay, "weight_decay")
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i in (0, 1):
        if isinstance(betas[i], Tensor):
            if uncaptured_foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, amsgrad, beta1,
         beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay=False, grad_scale=None,
         found_inf=None):
    """The Adam update on raw arrays, in place (``state_steps``: 0-d step counters). GradScaler's
    ``grad_scale`` / ``found_inf`` (0-d arrays) unscale the gradients in place / skip the step.

    Arrays the fused CUDA kernel takes are updated by it; the rest by the loop below."""
    lr, beta1, beta2 = _value(lr), _typed_scalar(beta1), _typed_scalar(beta2)
    fused = _fused_indices(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                           amsgrad)
    if fused:
        _fused_adam(fused, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                    amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay,
                    eps=eps, maximize=maximize, decoupled=decoupled_weight_decay,
                    grad_scale=grad_scale, found_inf=found_inf)
    rest = [i for i in range(len(params)) if i not in fused] if fused else range(len(params))
    if not rest or (found_inf is not None and float(found_inf) != 0):
        return
    for i in rest:
        param = params[i]
        xp = _xp(param)
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        if grad_scale is not None:
            xp.divide(grads[i], grad_scale, out=grads[i], casting="unsafe")
        grad, step = _begin_update(param, grads[i], state_steps[i], lr, weight_decay, maximize,
                                   decoupled_weight_decay)
        scratch = _lerp_(exp_avg, grad, 1 - float(beta1))
        exp_avg_sq *= beta2
        xp.multiply(grad, 1 - beta2, out=scratch)
        scratch *= grad
        exp_avg_sq += scratch
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / (1 - beta1 ** step)
        if amsgrad:
            xp.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=max_exp_avg_sqs[i])
            denom = xp.sqrt(max_exp_avg_sqs[i], out=scratch)
        else:
            denom = xp.sqrt(exp_avg_sq, out=scratch)
        denom /= bias_correction2_sqrt
        denom += eps
        update = exp_avg * -step_size
        update /= denom
        param += update


def _fused_indices(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, amsgrad):
    """The positions (a set) whose arrays the fused kernel takes: CuPy arrays while fused kernels
    are enabled, of a kernel dtype, nonempty and C-contiguous, with a gradient of the parameter's
    dtype and shape, and a step counter on the CPU or a float32 one on the parameter's device."""
    if not params or not _kernels.fused(_xp(params[0])):
        return set()
    chosen = set()
    for i, param in enumerate(params):
        arrays = (param, grads[i], exp_avgs[i], exp_avg_sqs[i]) + (
            (max_exp_avg_sqs[i],) if amsgrad else ())
        step = state_steps[i]
        if (param.size and param.dtype.name in _compile.CTYPE and _kernels.fused(_xp(param))
                and all(a.dtype == param.dtype and a.shape == param.shape
                        and a.flags.c_contiguous for a in arrays)
                and (_xp(step) is _CPU_XP or step.dtype.name == "float32")):
            chosen.add(i)
    return chosen


def _fused_adam(indices, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                **options):
    """The positions ``indices`` updated by the fused kernel, one launch sequence per (dtype,
    where the step counters live). CPU counters are advanced here, so a GradScaler inf flag is
    read on the host for them (with fused=True on cuda the counters live on the device)."""
    batches = {}
    for i in sorted(indices):
        on_device = _xp(state_steps[i]) is not _CPU_XP
        batches.setdefault((params[i].dtype, on_device), []).append(i)
    found_inf = options["found_inf"]
    for (_, on_device), chosen in batches.items():
        if on_device:
            steps = [state_steps[i] for i in chosen]
        elif found_inf is not None and float(found_inf) != 0:
            continue
        else:
            for i in chosen:
                state_steps[i] += 1
            steps = [float(state_steps[i]) for i in chosen]
        _adam_kernel.adam_([params[i] for i in chosen], [grads[i] for i in chosen],
                           [exp_avgs[i] for i in chosen], [exp_avg_sqs[i] for i in chosen],
                           [max_exp_avg_sqs[i] for i in chosen] if options["amsgrad"] else None,
                           steps, **options)


def _typed_scalar(x):
    """A Tensor beta as a NumPy scalar of its dtype, so that ``1 - beta`` and ``beta ** step``
    round in that dtype as PyTorch's 0-d tensor arithmetic does; floats unchanged."""
    if isinstance(x, Tensor):
        return x._data.dtype.type(x.item())
    return x
