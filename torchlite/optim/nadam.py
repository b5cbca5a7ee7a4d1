"""NAdam: Adam with Nesterov momentum (momentum_decay schedule, decoupled weight decay)."""
from .optimizer import (Optimizer, _begin_update, _check_betas, _check_lr, _check_nonnegative,
                        _closure_loss, _lerp_, _scalar_state, _value, _xp, _zeros_like)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    """NAdam, ``torch.optim.NAdam``; state: 'step', 'mu_product', 'exp_avg', 'exp_avg_sq'.

    'mu_product' is a 0-d float tensor multiplied in its own precision, as PyTorch's."""

    _group_fallbacks = {"maximize": False, "foreach": None, "capturable": False,
                        "differentiable": False, "decoupled_weight_decay": False}
    _tensor_scalars = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_betas(betas)
        _check_nonnegative(weight_decay, "weight_decay")
        _check_nonnegative(momentum_decay, "momentum_decay")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p):
        state["step"] = _scalar_state(0.0)
        state["mu_product"] = _scalar_state(1.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def step(self, closure=None):
        """One NAdam update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, mu_products, exp_avgs, exp_avg_sqs = \
                self._group_arrays(group, self._init_state, "step", "mu_product", "exp_avg",
                                   "exp_avg_sq")
            beta1, beta2 = group["betas"]
            nadam(arrays, grads, exp_avgs, exp_avg_sqs, mu_products, steps, beta1=beta1,
                  beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                  momentum_decay=group["momentum_decay"], eps=group["eps"],
                  maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"])
            self._bump(params)
        return loss


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *, beta1, beta2, lr,
          weight_decay, momentum_decay, eps, maximize, decoupled_weight_decay=False):
    """The NAdam update on raw arrays, in place."""
    lr = _value(lr)
    for i, param in enumerate(params):
        xp = _xp(param)
        exp_avg, exp_avg_sq, mu_product = exp_avgs[i], exp_avg_sqs[i], mu_products[i]
        grad, step = _begin_update(param, grads[i], state_steps[i], lr, weight_decay, maximize,
                                   decoupled_weight_decay)
        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = xp.sqrt(exp_avg_sq / bias_correction2)
        denom += eps
        mu_product = float(mu_product)
        update = grad * (-lr * (1.0 - mu) / (1.0 - mu_product))
        update /= denom
        param += update
        update = exp_avg * ((-lr * mu_next) / (1.0 - mu_product * mu_next))
        update /= denom
        param += update
