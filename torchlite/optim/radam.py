"""RAdam: Adam with a rectified adaptive learning rate (decoupled weight decay optional)."""
from .optimizer import (Optimizer, _begin_update, _check_betas, _check_lr, _check_nonnegative,
                        _closure_loss, _lerp_, _scalar_state, _value, _xp, _zeros_like)

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    """RAdam, ``torch.optim.RAdam``; state: 'step', 'exp_avg', 'exp_avg_sq'."""

    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "decoupled_weight_decay": False, "capturable": False}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_betas(betas)
        _check_nonnegative(weight_decay, "weight_decay")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p):
        state["step"] = _scalar_state(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def step(self, closure=None):
        """One RAdam update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, exp_avgs, exp_avg_sqs = self._group_arrays(
                group, self._init_state, "step", "exp_avg", "exp_avg_sq")
            beta1, beta2 = group["betas"]
            radam(arrays, grads, exp_avgs, exp_avg_sqs, steps, beta1=beta1, beta2=beta2,
                  lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                  maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"])
            self._bump(params)
        return loss


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, beta1, beta2, lr, weight_decay,
          eps, maximize, decoupled_weight_decay=False):
    """The RAdam update on raw arrays, in place."""
    lr = _value(lr)
    rho_inf = 2 / (1 - beta2) - 1
    for i, param in enumerate(params):
        xp = _xp(param)
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        grad, step = _begin_update(param, grads[i], state_steps[i], lr, weight_decay, maximize,
                                   decoupled_weight_decay)
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        bias_correction2 = 1 - beta2 ** step
        update = exp_avg / (1 - beta1 ** step)
        update *= lr
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = xp.sqrt(exp_avg_sq)
            adaptive_lr += eps
            xp.divide(bias_correction2 ** 0.5, adaptive_lr, out=adaptive_lr)
            update *= adaptive_lr
            update *= rect
        param -= update
