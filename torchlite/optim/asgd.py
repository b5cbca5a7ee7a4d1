"""ASGD: averaged stochastic gradient descent (the average is kept in state 'ax')."""
from .optimizer import (Optimizer, _check_lr, _check_nonnegative, _closure_loss, _scalar_state,
                        _value, _zeros_like)

__all__ = ["ASGD", "asgd"]


class ASGD(Optimizer):
    """Averaged SGD, ``torch.optim.ASGD``; state: 'step', 'eta', 'mu' (0-d float tensors, so
    eta and mu round to their dtype as PyTorch's do) and 'ax'."""

    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "capturable": False}
    _tensor_scalars = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonnegative(weight_decay, "weight_decay")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(group):
        def init(state, p):
            state["step"] = _scalar_state(0.0)
            state["eta"] = _scalar_state(_value(group["lr"]))
            state["mu"] = _scalar_state(1.0)
            state["ax"] = _zeros_like(p)
        return init

    def step(self, closure=None):
        """One ASGD update of every parameter that has a gradient."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads, steps, etas, mus, axs = self._group_arrays(
                group, self._init_state(group), "step", "eta", "mu", "ax")
            asgd(arrays, grads, axs, mus, etas, steps, lambd=group["lambd"], lr=group["lr"],
                 t0=group["t0"], alpha=group["alpha"], weight_decay=group["weight_decay"],
                 maximize=group["maximize"])
            self._bump(params)
        return loss


def asgd(params, grads, axs, mus, etas, state_steps, *, lambd, lr, t0, alpha, weight_decay,
         maximize):
    """The ASGD update on raw arrays, in place (``mus``, ``etas``: 0-d state arrays)."""
    lr = _value(lr)
    for param, grad, ax, mu, eta, step_t in zip(params, grads, axs, mus, etas, state_steps):
        grad = -grad if maximize else grad
        step_t += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param
        eta_value = float(eta)
        param *= 1 - lambd * eta_value
        param += -eta_value * grad
        mu_value = float(mu)
        if mu_value != 1:
            diff = param - ax
            diff *= mu_value
            ax += diff
        else:
            ax[...] = param
        step = float(step_t)
        eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu[...] = 1 / max(1, step - t0)
