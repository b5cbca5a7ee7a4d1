"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
from .._tensor import _make
from .optimizer import (Optimizer, _check_fused, _check_lr, _check_nonnegative, _closure_loss,
                        _value)

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """Stochastic gradient descent, ``torch.optim.SGD``; state: 'momentum_buffer'."""

    _group_fallbacks = {"nesterov": False, "maximize": False, "foreach": None,
                        "differentiable": False, "fused": False}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_lr(lr)
        _check_nonnegative(momentum, "momentum")
        _check_nonnegative(weight_decay, "weight_decay")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def step(self, closure=None):
        """One SGD update of every parameter that has a gradient; returns the closure's loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, arrays, grads = [], [], []
            for p in group["params"]:
                if p._grad is not None:
                    params.append(p)
                    arrays.append(p._data)
                    grads.append(p._grad._data)
            momentum = group["momentum"]
            bufs = []
            if momentum != 0:
                bufs = [self.state[p].get("momentum_buffer") for p in params]
                bufs = [None if b is None else b._data for b in bufs]
            sgd(arrays, grads, bufs, weight_decay=group["weight_decay"], momentum=momentum,
                lr=group["lr"], dampening=group["dampening"], nesterov=group["nesterov"],
                maximize=group["maximize"])
            if momentum != 0:
                for p, buf in zip(params, bufs):
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = _make(buf, p._device)
            self._bump(params)
        return loss


def sgd(params, grads, momentum_buffer_list, *, weight_decay, momentum, lr, dampening,
        nesterov, maximize):
    """The SGD update on raw arrays, in place; a None momentum buffer is created (stored back
    into ``momentum_buffer_list``) from the first gradient."""
    lr, weight_decay = _value(lr), _value(weight_decay)
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            grad = grad + weight_decay * param
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = momentum_buffer_list[i] = grad.copy()
            else:
                buf *= momentum
                buf += (1 - dampening) * grad
            grad = grad + momentum * buf if nesterov else buf
        param -= lr * grad
