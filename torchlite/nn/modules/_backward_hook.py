"""Full backward hooks of a Module: identity nodes around its inputs and outputs.

The identity on the outputs sees ``grad_output`` (and runs backward pre-hooks, which may replace
it); the identity on the inputs sees ``grad_input`` and calls the module's backward hooks with
both, letting them replace ``grad_input``, as ``register_full_backward_hook`` does in PyTorch.
"""
from ..._tensor import Tensor
from ...autograd.function import Function


class BackwardHookFunction(Function):
    raw = True
    label = "backward hook"
    backward_rule = "grad passes through; module backward hooks see it"

    @staticmethod
    def forward(ctx, *arrays, hook, phase):
        ctx.hook, ctx.phase = hook, phase
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        if ctx.phase == "output":
            return ctx.hook.on_grad_output(grads)
        return ctx.hook.on_grad_input(grads)


class BackwardHook:
    """Per-call state linking a module's output gradients to its input gradients."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0

    def _wrap(self, values, phase):
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not positions or not any(values[i].requires_grad for i in positions):
            return values, 0
        outs = BackwardHookFunction.apply(*(values[i] for i in positions), hook=self,
                                          phase=phase)
        values = list(values)
        for i, o in zip(positions, outs):
            values[i] = o
        return tuple(values), len(positions)

    def setup_input_hook(self, args):
        args, self.n_inputs = self._wrap(tuple(args), "input")
        return args

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        wrapped, _ = self._wrap((result,) if single else tuple(result), "output")
        if single:
            return wrapped[0]
        return type(result)(wrapped) if isinstance(result, (tuple, list)) else result

    def on_grad_output(self, grads):
        for hook in self.module._backward_pre_hooks.values():
            out = hook(self.module, grads)
            if out is not None:
                grads = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        self.grad_output = grads
        if self.n_inputs == 0:
            self._call_hooks((None,))
        return grads

    def on_grad_input(self, grads):
        return self._call_hooks(grads)

    def _call_hooks(self, grad_input):
        for hook in self.module._backward_hooks.values():
            out = hook(self.module, grad_input, self.grad_output)
            if out is not None:
                grad_input = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        return grad_input
