"""Adagrad (lr_decay, initial_accumulator_value)."""
from .optimizer import (Optimizer, _check_fused, _check_lr, _check_nonnegative, _closure_loss,
                        _scalar_state, _value, _xp, _zeros_like)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """Adagrad, ``torch.optim.Adagrad``; state: 'step', 'sum' (created for every parameter at
    construction, as PyTorch does)."""

    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "fused": None}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonnegative(lr_decay, "lr_decay")
        _check_nonnegative(weight_decay, "weight_decay")
        _check_nonnegative(initial_accumulator_value, "initial_accumulator_value")
        _check_nonnegative(eps, "epsilon")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p)

    def _init_state(self, state, p):
        value = self.defaults["initial_accumulator_value"]
        state["step"] = _scalar_state(0.0)
        state["sum"] = _zeros_like(p, complex(value, value) if p.is_complex() else value)

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, sums = self._group_arrays(
                group, self._init_state, "step", "sum")
            adagrad(arrays, grads, sums, steps, lr=group["lr"],
                    weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                    eps=group["eps"], maximize=group["maximize"])
            self._bump(params)
        return loss


def adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay, lr_decay, eps,
            maximize):
    """The Adagrad update on raw arrays, in place."""
    lr = _value(lr)
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps):
        step_t += 1
        grad = -grad if maximize else grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = lr / (1 + (float(step_t) - 1) * lr_decay)
        state_sum += grad * grad
        std = _xp(param).sqrt(state_sum)
        std += eps
        update = grad * -clr
        update /= std
        param += update
