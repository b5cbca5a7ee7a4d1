"""Full backward hooks of a Module: identity nodes around its inputs and outputs (PyTorch's
``torch.utils.hooks.BackwardHook``).

The identity on the outputs sees ``grad_output`` (None for outputs that got no gradient) and runs
the backward pre-hooks, which may replace it; the identity on the inputs sees ``grad_input``
(one entry per positional argument, None for non-tensors and inputs without gradient) and calls
the backward hooks with both, letting them replace ``grad_input``.
"""
import warnings

from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled


class BackwardHookFunction(Function):
    raw = True
    node_name = "BackwardHookFunctionBackward"
    label = "backward hook"
    backward_rule = "grad passes through; module backward hooks see it"

    @staticmethod
    def forward(ctx, *arrays, hook, phase):
        ctx.hook, ctx.phase = hook, phase
        # PyTorch shows grad_output None for outputs that got no gradient, but zeros in
        # grad_input (its identity node materializes them)
        ctx.set_materialize_grads(phase == "input")
        frozen = [a for a, needs in zip(arrays, ctx.needs_input_grad) if not needs]
        if frozen:
            ctx.mark_non_differentiable(*frozen)
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        if ctx.phase == "output":
            grads = ctx.hook.on_grad_output(grads)
        else:
            grads = ctx.hook.on_grad_input(grads)
        return tuple(g if needs else None for g, needs in zip(grads, ctx.needs_input_grad))


class BackwardHook:
    """Per-call state linking a module's output gradients to its input gradients."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for idx, val in zip(indices, values):
            res[idx] = val
        return tuple(res)

    def _apply_on_tensors(self, args, phase):
        """Route the tensors of ``args`` through one identity node; (new args, their indices),
        or (args, None) when none of them requires grad."""
        tensors_idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (any(args[i].requires_grad for i in tensors_idx) and is_grad_enabled()):
            return args, None
        new_tensors = BackwardHookFunction.apply(*(args[i] for i in tensors_idx), hook=self,
                                                 phase=phase)
        arg_list = list(args)
        for idx, val in zip(tensors_idx, new_tensors):
            arg_list[idx] = val
        out = tuple(arg_list) if type(args) is tuple else type(args)(*arg_list)
        return out, tensors_idx

    def setup_input_hook(self, args):
        res, self.input_tensors_index = self._apply_on_tensors(args, "input")
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        args = result if is_tuple else (result,)
        res, self.output_tensors_index = self._apply_on_tensors(args, "output")
        self.n_outputs = len(args)
        return res if is_tuple else res[0]

    def on_grad_output(self, grads):
        self.grad_outputs = self._pack_with_none(self.output_tensors_index, grads,
                                                 self.n_outputs)
        expected = len(self.grad_outputs)
        for hook in self.user_pre_hooks:
            out = hook(self.module, self.grad_outputs)
            if out is None:
                continue
            if len(out) != expected:
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(out)}, but expected {expected}")
            self.grad_outputs = out
        local = self.grad_outputs
        if self.input_tensors_index is None:
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module "
                "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/"
                "main/generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook"
                " for more details.", stacklevel=5)
            grad_inputs = self._pack_with_none([], [], self.n_inputs)
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(el is None for el in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_tensors_index)

    def on_grad_input(self, grads):
        if self.grad_outputs is None:
            return grads
        res = self._pack_with_none(self.input_tensors_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_tensors_index)
