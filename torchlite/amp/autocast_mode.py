"""torchlite.autocast: regions where listed ops run in float16 / bfloat16 or float32.

As in PyTorch, autocast wraps the public ops named in ``op_lists`` (its autocast_mode.cpp
registers wrappers over the same ops): inside an enabled region, a wrapper casts the op's
floating inputs on the region's device type (float64 is never cast) to the dtype its policy
picks, then runs the op with autocast suspended, so the ops it is built from are not cast again.
The casts are ordinary recorded ops (``to``), so gradients flow back in the inputs' dtypes, and
casts of leaf float32 weights are cached for the region, as PyTorch does.

The wrappers are installed once, when torchlite is imported (``install``): every reference to a
listed function in torchlite's modules and on ``Tensor`` is rebound to its wrapper. Outside
autocast, a wrapper costs one thread-local flag check.
"""
import functools
import sys
import threading
import types
import warnings

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import ENGINE_STATE
from ..autograd.grad_mode import STATE as GRAD_STATE
from . import op_lists

_DEVICE_TYPES = ("cpu", "cuda")


class _State(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}
        self.live = False  # some device type enabled and not inside a listed op

    def refresh(self):
        self.live = any(self.enabled.values())


STATE = _State()


def _check_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def is_autocast_available(device_type):
    """Whether autocast supports ``device_type`` ("cpu" and "cuda" in torchlite)."""
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (without one: for "cuda", as PyTorch)."""
    device_type = "cuda" if device_type is None else device_type
    _check_type(device_type)
    return STATE.enabled[device_type]


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:  # the legacy form set_autocast_enabled(enabled) means cuda
        device_type, enabled = "cuda", device_type
    _check_type(device_type)
    STATE.enabled[device_type] = bool(enabled)
    STATE.refresh()


def get_autocast_dtype(device_type):
    _check_type(device_type)
    return STATE.dtype[device_type]


def set_autocast_dtype(device_type, dtype):
    _check_type(device_type)
    STATE.dtype[device_type] = dtype


def is_autocast_cache_enabled():
    return STATE.cache_enabled


def set_autocast_cache_enabled(enabled):
    STATE.cache_enabled = bool(enabled)


def clear_autocast_cache():
    STATE.cache.clear()


def autocast_increment_nesting():
    STATE.nesting += 1
    return STATE.nesting


def autocast_decrement_nesting():
    STATE.nesting -= 1
    return STATE.nesting


class autocast:
    """Context manager and decorator: ``with torchlite.autocast("cuda", dtype=torch.bfloat16):``.

    ``dtype`` defaults to float16 on cuda and bfloat16 on cpu. A cuda region without a usable GPU
    warns and is disabled, as in PyTorch; a cpu region accepts bfloat16 and float16 only."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_type(device_type)
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if enabled:
            if device_type == "cuda":
                from .. import cuda
                if not cuda.is_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                                  "autocast.", stacklevel=2)
                    enabled = False
                elif self.fast_dtype is _dtype.bfloat16 and not cuda.is_bf16_supported():
                    raise RuntimeError("Current CUDA Device does not support bfloat16. Please "
                                       "switch dtype to float16.")
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                warnings.warn("In CPU autocast, but the target dtype is not supported. "
                              "Disabling autocast.\nCPU Autocast only supports dtypes of "
                              "torch.bfloat16, torch.float16 currently.", stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)
        self._saved = []

    def __enter__(self):
        self._saved.append((STATE.cache_enabled, STATE.enabled[self.device],
                            STATE.dtype[self.device]))
        STATE.enabled[self.device] = self._enabled
        STATE.dtype[self.device] = self.fast_dtype
        STATE.nesting += 1
        STATE.cache_enabled = self._cache_enabled
        STATE.refresh()
        return self

    def __exit__(self, *exc):
        STATE.nesting -= 1
        if STATE.nesting == 0:  # leaving the outermost region drops the cached weight casts
            STATE.cache.clear()
        STATE.cache_enabled, STATE.enabled[self.device], STATE.dtype[self.device] = \
            self._saved.pop()
        STATE.refresh()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


# ---- the wrappers -------------------------------------------------------------------------
def _device_type(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            return a.device.type
        if isinstance(a, (list, tuple)):
            for t in a:
                if isinstance(t, Tensor):
                    return t.device.type
    return None


def _eligible(t, device_type):
    return isinstance(t, Tensor) and t.device.type == device_type and \
        t.dtype.is_floating_point and t.dtype is not _dtype.float64


def _cast(x, target, device_type, lower):
    if isinstance(x, (list, tuple)):
        return type(x)(_cast(t, target, device_type, lower) for t in x)
    if not _eligible(x, device_type) or x.dtype is target:
        return x
    cache = STATE.cache_enabled and target is lower and x.dtype is _dtype.float32 and \
        x.requires_grad and x.grad_fn is None and x._base is None and GRAD_STATE.enabled
    if not cache:
        return x.to(target)
    hit = STATE.cache.get(id(x))
    if hit is None or hit[0] is not x:
        hit = STATE.cache[id(x)] = (x, x.to(target))
    return hit[1]


def _widest(args, kwargs, device_type, lower):
    """PyTorch's ``promote`` policy: float32 if any eligible input is float32, else ``lower``."""
    current = lower
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if _eligible(t, device_type) and t.dtype is not current:
                if t.dtype is _dtype.float32 or current is _dtype.float32:
                    current = _dtype.float32
                else:
                    raise RuntimeError("Unexpected floating ScalarType in "
                                       "at::autocast::prioritize")
    return current


_BCE_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional."
    "binary_cross_entropy_with_logits\nor torch.nn.BCEWithLogitsLoss.  "
    "binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast.")


def _target(policy, args, kwargs, device_type, lower):
    if policy == op_lists.LOWER:
        return lower
    if policy == op_lists.FP32:
        return _dtype.float32
    if policy == op_lists.PROMOTE:
        return _widest(args, kwargs, device_type, lower)
    if policy == op_lists.FP32_OPT_DTYPE:
        return None if kwargs.get("dtype") is not None else _dtype.float32
    raise RuntimeError(_BCE_MESSAGE)


def _call(name, fn, args, kwargs):
    """The slow path of a wrapper, inside an enabled region: cast, then run with autocast off."""
    device_type = _device_type(args, kwargs)
    policy = op_lists.POLICIES[device_type].get(name) if device_type in _DEVICE_TYPES else None
    if policy is None or not STATE.enabled[device_type] or kwargs.get("out") is not None or \
            ENGINE_STATE["phase"] != "forward":
        return fn(*args, **kwargs)
    lower = STATE.dtype[device_type]
    target = _target(policy, args, kwargs, device_type, lower)
    if target is not None:
        if policy == op_lists.FP32_OPT_DTYPE:  # only the first input decides, and is cast
            if not _eligible(args[0], device_type):
                return fn(*args, **kwargs)
            args = (_cast(args[0], target, device_type, lower),) + args[1:]
        else:
            args = [_cast(a, target, device_type, lower) for a in args]
            kwargs = {k: _cast(v, target, device_type, lower) for k, v in kwargs.items()}
    STATE.live = False
    try:
        return fn(*args, **kwargs)
    finally:
        STATE.refresh()


def _wrap(name, fn):
    @functools.wraps(fn)
    def autocast_wrapper(*args, **kwargs):
        if STATE.live:
            return _call(name, fn, args, kwargs)
        return fn(*args, **kwargs)
    autocast_wrapper.autocast_name = name
    return autocast_wrapper


def _originals():
    """{function object: list name} for every listed name torchlite defines."""
    import torchlite
    from ..nn import functional
    found = {}
    names = set(op_lists.CPU) | set(op_lists.CUDA)
    for name in sorted(names):
        if name.startswith("linalg."):
            spaces, attr = (torchlite.linalg,), name[len("linalg."):]
        else:
            spaces, attr = (torchlite, functional, Tensor), name
        for space in spaces:
            fn = getattr(space, attr, None)
            if isinstance(fn, types.FunctionType) and not hasattr(fn, "autocast_name"):
                found.setdefault(fn, name)
    return found


def install():
    """Rebind every reference to a listed op in torchlite's modules and on Tensor to a wrapper
    (once; later calls find the wrappers already in place)."""
    wrappers = {fn: _wrap(name, fn) for fn, name in _originals().items()}
    if not wrappers:
        return
    spaces = [m.__dict__ for n, m in list(sys.modules.items())
              if (n == "torchlite" or n.startswith("torchlite.")) and m is not None]
    from ..ops import _registry
    for space in spaces + [_registry.EXPORTS]:
        for key, value in list(space.items()):
            if isinstance(value, types.FunctionType) and value in wrappers:
                space[key] = wrappers[value]
    for key, value in list(vars(Tensor).items()):
        if isinstance(value, types.FunctionType) and value in wrappers:
            setattr(Tensor, key, wrappers[value])
