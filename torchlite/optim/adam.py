"""Adam (amsgrad, L2 or decoupled weight decay, maximize)."""
from .._tensor import Tensor
from .optimizer import (Optimizer, _begin_update, _check_betas, _check_fused, _check_lr,
                        _check_nonnegative, _closure_loss, _lerp_, _scalar_state, _to_scalar,
                        _value, _xp, _zeros_like)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    """Adam, ``torch.optim.Adam``; state: 'step', 'exp_avg', 'exp_avg_sq' ('max_exp_avg_sq').

    ``foreach``, ``fused`` and ``capturable`` are accepted and change nothing: every group is
    updated by one loop of in-place array operations."""

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

    def _init_state(self, group):
        def init(state, p):
            state["step"] = _scalar_state(0.0)
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
                 decoupled_weight_decay=group["decoupled_weight_decay"])
            self._bump(params)
        return loss


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
         beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay=False):
    """The Adam update on raw arrays, in place (``state_steps``: 0-d step counters)."""
    lr, beta1, beta2 = _value(lr), _typed_scalar(beta1), _typed_scalar(beta2)
    for i, param in enumerate(params):
        xp = _xp(param)
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
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


def _typed_scalar(x):
    """A Tensor beta as a NumPy scalar of its dtype, so that ``1 - beta`` and ``beta ** step``
    round in that dtype as PyTorch's 0-d tensor arithmetic does; floats unchanged."""
    if isinstance(x, Tensor):
        return x._data.dtype.type(x.item())
    return x
