"""Optimizer: the base of every torch.optim optimizer (param groups, state, state_dict, hooks).

Subclasses keep per-parameter state as Tensors under PyTorch's names ('step', 'exp_avg', ...) so
state_dicts line up with PyTorch's, and compute their updates with a pure function over the raw
arrays of a whole group: no graph nodes, in place, then each parameter's version is bumped.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

from .. import _dtype
from .._creation import tensor
from .._device import device
from .._tensor import Tensor, _make, typename as _typename
from ..autograd import enable_grad
from ..nn.modules.module import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


class _RequiredParameter:
    """Singleton marking an option that every param group must give (SGD's old ``lr``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook):
    """A hook ``hook(optimizer, args, kwargs)`` run before every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """A hook ``hook(optimizer, args, kwargs)`` run after every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _to_scalar(x):
    """A 1-element Tensor option (betas) as a 0-d Tensor, as PyTorch keeps it in defaults."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _value(x):
    """An option (lr, betas, weight_decay) as a Python number for the update arithmetic."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _scalar_dtype():
    """PyTorch's dtype for 'step'-like scalar state: float64 under that default, else float32."""
    return _dtype.float64 if _dtype.get_default_dtype() == _dtype.float64 else _dtype.float32


def _scalar_state(value):
    """A 0-d CPU tensor holding scalar state ('step', 'mu_product'), as PyTorch keeps it."""
    return tensor(float(value), dtype=_scalar_dtype())


def _zeros_like(p, fill=0):
    """A state buffer shaped like parameter ``p`` (same dtype and device)."""
    xp = p._device.xp
    return _make(xp.full(p._data.shape, fill, dtype=p._data.dtype), p._device)


def _real(a):
    """A real array view of ``a`` (complex values as interleaved pairs, as view_as_real)."""
    if a.dtype.kind == "c":
        return a.view(a.real.dtype)
    return a


_CPU_XP = device("cpu").xp


def _xp(a):
    """The array module (numpy or cupy) of raw array ``a``."""
    return _CPU_XP if isinstance(a, _CPU_XP.ndarray) else device("cuda").xp


def _lerp_(a, end, weight, scratch=None):
    """``a.lerp_(end, weight)`` on raw arrays, with PyTorch's two formulas for accuracy;
    returns its temporary (``scratch`` when given) for reuse."""
    diff = _xp(a).subtract(end, a, out=scratch)
    if abs(weight) < 0.5:
        diff *= weight
        a += diff
    else:
        diff *= 1 - weight
        _xp(a).subtract(end, diff, out=a)
    return diff


def _begin_update(param, grad, step_t, lr, weight_decay, maximize, decoupled=False):
    """The start of an Adam-family update of one parameter (raw arrays, in place): its step
    counter bumped, the gradient negated under ``maximize``, and weight decay applied, decoupled
    (the parameter shrinks) or L2 (added to the gradient). Returns (gradient, step)."""
    if maximize:
        grad = -grad
    step_t += 1
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad, float(step_t)


def _closure_loss(closure):
    """The closure's loss, evaluated with gradients enabled (None without a closure)."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _hook_step(step):
    """Wrap a subclass's ``step`` so the global and per-optimizer step hooks run around it."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(self, *args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


class Optimizer:
    """Base class for all optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of Tensors, of (name, Tensor) pairs or of dicts (param groups with
    their own options); ``defaults`` holds the options a group does not give.
    """

    # Options a state_dict saved by an older version may lack, added on load (as PyTorch's
    # per-class ``__setstate__``); and the state entries kept as 0-d float tensors.
    _group_fallbacks = {}
    _tensor_scalars = ("step",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hook_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hooks(self):
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hooks()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_fallbacks.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p)
                for key in self._tensor_scalars if p_state else ():
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _scalar_state(p_state[key])

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ---- hooks ---------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`` before step."""
        return self._add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after step."""
        return self._add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _add_hook(hooks, hook, prepend=False):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # ---- state_dict ----------------------------------------------------------------------
    def state_dict(self):
        """{'state': {param index: state}, 'param_groups': [options with 'params': indices]}.

        Parameters are numbered in group order; the state tensors are the live ones (as
        PyTorch: save or deepcopy the result to keep a snapshot)."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        mapping = {}
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                mapping.setdefault(id(p), len(mapping))
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            param_groups.append(packed)
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state_dict from :meth:`state_dict` (parameters matched by position)."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, _saved_group_of(k, state_dict["param_groups"]))
            else:
                state[k] = v
        param_groups = []
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            param_groups.append(new_group)
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ---- gradients and groups ------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors (to None by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def step(self, closure=None):
        """Perform a single optimization step (subclasses)."""
        raise NotImplementedError

    def add_param_group(self, param_group):
        """Add a param group (a dict with 'params' and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        param_set = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not param_set.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- helpers for subclasses ----------------------------------------------------------
    def _group_arrays(self, group, init_state, *keys):
        """The group's parameters that have a gradient, their raw arrays, their raw gradients
        and the raw arrays of their state entries ``keys`` (one list per key; complex arrays as
        real views); ``init_state(state, p)`` fills a parameter's empty state on first use."""
        params, arrays, grads = [], [], []
        columns = [[] for _ in keys]
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            params.append(p)
            arrays.append(_real(p._data))
            grads.append(_real(grad._data))
            state = self.state[p]
            if not state:
                init_state(state, p)
            for column, key in zip(columns, keys):
                value = state.get(key)
                column.append(_real(value._data) if isinstance(value, Tensor) else value)
        return (params, arrays, grads, *columns)

    @staticmethod
    def _bump(params):
        """Record that the parameters changed in place (their version counters)."""
        for p in params:
            p._vc[0] += 1


def _saved_group_of(param_id, param_groups):
    for group in param_groups:
        if param_id in group["params"]:
            return group
    return {}


def _cast(param, value, group, key=None):
    """A loaded state value for ``param``: tensors moved to its device (and floating dtype),
    except 'step', which keeps its own dtype unless the group is fused or capturable."""
    if isinstance(value, Tensor):
        if key == "step":
            if group.get("capturable", False) or group.get("fused", False):
                return value.to(dtype=_dtype.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast(param, v, group, key=k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v, group) for v in value)
    return value


# ---- argument checks shared by the optimizers (PyTorch's messages) ---------------------------
def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_fused(fused, foreach, differentiable):
    """PyTorch's refusals of ``fused`` with ``differentiable`` or ``foreach``."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_nonnegative(value, what):
    """``Invalid <what> value: <value>`` unless value >= 0."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what} value: {value}")


def _check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
