"""Rprop: per-element step sizes grown or shrunk by the sign agreement of successive gradients."""
from .optimizer import (Optimizer, _check_lr, _closure_loss, _scalar_state, _value, _xp,
                        _zeros_like)

__all__ = ["Rprop", "rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation, ``torch.optim.Rprop``; state: 'step', 'prev', 'step_size'."""

    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "capturable": False}

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(group):
        def init(state, p):
            lr = _value(group["lr"])
            state["step"] = _scalar_state(0.0)
            state["prev"] = _zeros_like(p)
            state["step_size"] = _zeros_like(p, complex(lr, lr) if p.is_complex() else lr)
        return init

    def step(self, closure=None):
        """One Rprop update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, prevs, step_sizes = self._group_arrays(
                group, self._init_state(group), "step", "prev", "step_size")
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            rprop(arrays, grads, prevs, step_sizes, steps, step_size_min=step_size_min,
                  step_size_max=step_size_max, etaminus=etaminus, etaplus=etaplus,
                  maximize=group["maximize"])
            self._bump(params)
        return loss


def rprop(params, grads, prevs, step_sizes, state_steps, *, step_size_min, step_size_max,
          etaminus, etaplus, maximize):
    """The Rprop update on raw arrays, in place."""
    for param, grad, prev, step_size, step in zip(params, grads, prevs, step_sizes,
                                                  state_steps):
        xp = _xp(param)
        step += 1
        grad = -grad if maximize else grad.copy()
        sign = xp.sign(grad * prev)
        sign[sign > 0] = etaplus
        sign[sign < 0] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        grad[sign == etaminus] = 0
        update = xp.sign(grad)
        update *= -1
        update *= step_size
        param += update
        prev[...] = grad
