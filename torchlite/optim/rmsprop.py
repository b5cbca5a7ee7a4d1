"""RMSprop (centered, momentum, alpha smoothing)."""
from .optimizer import (Optimizer, _check_lr, _check_nonnegative, _closure_loss, _lerp_,
                        _scalar_state, _value, _xp, _zeros_like)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """RMSprop, ``torch.optim.RMSprop``; state: 'step', 'square_avg' ('momentum_buffer',
    'grad_avg')."""

    _group_fallbacks = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                        "differentiable": False, "capturable": False}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_nonnegative(momentum, "momentum")
        _check_nonnegative(weight_decay, "weight_decay")
        _check_nonnegative(alpha, "alpha")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(group):
        def init(state, p):
            state["step"] = _scalar_state(0.0)
            state["square_avg"] = _zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_like(p)
        return init

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, square_avgs, bufs, grad_avgs = self._group_arrays(
                group, self._init_state(group), "step", "square_avg", "momentum_buffer",
                "grad_avg")
            rmsprop(arrays, grads, square_avgs, grad_avgs, bufs, steps, lr=group["lr"],
                    alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum=group["momentum"], centered=group["centered"],
                    maximize=group["maximize"])
            self._bump(params)
        return loss


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps, *, lr,
            alpha, eps, weight_decay, momentum, centered, maximize):
    """The RMSprop update on raw arrays, in place."""
    lr = _value(lr)
    for i, param in enumerate(params):
        xp = _xp(param)
        grad = -grads[i] if maximize else grads[i]
        square_avg, step = square_avgs[i], state_steps[i]
        step += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if centered:
            grad_avg = grad_avgs[i]
            _lerp_(grad_avg, grad, 1 - alpha)
            avg = square_avg + -1 * grad_avg * grad_avg
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = momentum_buffer_list[i]
            buf *= momentum
            buf += grad / avg
            param += -lr * buf
        else:
            update = grad * -lr
            update /= avg
            param += update
