"""Adamax: Adam with an infinity-norm second moment."""
from .optimizer import (Optimizer, _begin_update, _check_betas, _check_lr, _check_nonnegative,
                        _closure_loss, _lerp_, _scalar_state, _value, _xp, _zeros_like)

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    """Adamax, ``torch.optim.Adamax``; state: 'step', 'exp_avg', 'exp_inf'."""

    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "capturable": False}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_betas(betas)
        _check_nonnegative(weight_decay, "weight_decay")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p):
        state["step"] = _scalar_state(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    def step(self, closure=None):
        """One Adamax update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, exp_avgs, exp_infs = self._group_arrays(
                group, self._init_state, "step", "exp_avg", "exp_inf")
            beta1, beta2 = group["betas"]
            adamax(arrays, grads, exp_avgs, exp_infs, steps, eps=group["eps"], beta1=beta1,
                   beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                   maximize=group["maximize"])
            self._bump(params)
        return loss


def adamax(params, grads, exp_avgs, exp_infs, state_steps, *, eps, beta1, beta2, lr,
           weight_decay, maximize):
    """The Adamax update on raw arrays, in place."""
    lr = _value(lr)
    for i, param in enumerate(params):
        xp = _xp(param)
        exp_avg, exp_inf = exp_avgs[i], exp_infs[i]
        grad, step = _begin_update(param, grads[i], state_steps[i], lr, weight_decay, maximize)
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        norm = xp.abs(grad)
        norm += eps
        xp.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1 ** step)
        update = exp_avg * -clr
        update /= exp_inf
        param += update
