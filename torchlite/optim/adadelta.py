"""Adadelta (rho-averaged squared gradients and updates)."""
from .optimizer import (Optimizer, _check_lr, _check_nonnegative, _closure_loss, _scalar_state,
                        _value, _xp, _zeros_like)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """Adadelta, ``torch.optim.Adadelta``; state: 'step', 'square_avg', 'acc_delta'."""

    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "capturable": False}

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative(eps, "epsilon")
        _check_nonnegative(weight_decay, "weight_decay")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p):
        state["step"] = _scalar_state(0.0)
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def step(self, closure=None):
        """One Adadelta update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, square_avgs, acc_deltas = self._group_arrays(
                group, self._init_state, "step", "square_avg", "acc_delta")
            adadelta(arrays, grads, square_avgs, acc_deltas, steps, lr=group["lr"],
                     rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"])
            self._bump(params)
        return loss


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho, eps,
             weight_decay, maximize):
    """The Adadelta update on raw arrays, in place."""
    lr = _value(lr)
    for param, grad, square_avg, acc_delta, step in zip(params, grads, square_avgs, acc_deltas,
                                                        state_steps):
        xp = _xp(param)
        step += 1
        grad = -grad if maximize else grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        std = square_avg + eps
        xp.sqrt(std, out=std)
        delta = acc_delta + eps
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param += -lr * delta
