"""Helpers for the layer tests: run one program with torch and with torchlite on the same
NumPy-generated inputs and weights, and compare outputs and gradients (see helpers.same_program).
"""
import numpy as np

from .helpers import same_program

TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-9, atol=1e-11)}


def values(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def as_tensor(lib, a, dtype, requires_grad=True):
    """A lib tensor from a NumPy array: float arrays in ``dtype`` (leaves that require grad),
    integer arrays unchanged."""
    if np.asarray(a).dtype.kind in "iub":
        return lib.tensor(a)
    return lib.tensor(np.asarray(a), dtype=getattr(lib, dtype), requires_grad=requires_grad)


def fill_params(lib, module, seed=0):
    """Write deterministic values into every parameter (by name), as copied weights."""
    with lib.no_grad():
        for i, (_, p) in enumerate(sorted(module.named_parameters())):
            p.copy_(lib.tensor(values(tuple(p.shape), seed + 100 + i, -1.0, 1.0)))
    return module


def forward_backward(lib, fn, arrays, dtype, grad_seed=7):
    """out = fn(*tensors); backward a fixed random cotangent; (out, input grads)."""
    inputs = [as_tensor(lib, a, dtype) for a in arrays]
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    first = outs[0]
    if first.requires_grad:
        g = lib.tensor(values(tuple(first.shape), grad_seed), dtype=first.dtype)
        first.backward(g)
    return outs, [x.grad for x in inputs if x.is_floating_point()]


def run_module(lib, build, arrays, dtype, seed=0, train=True):
    """Build the module (in ``dtype``), fill its weights, run forward/backward; return
    output, input grads and named parameter grads."""
    module = build(lib).to(getattr(lib, dtype))
    fill_params(lib, module, seed)
    module.train(train)
    outs, grads = forward_backward(lib, module, arrays, dtype)
    params = [(n, p.grad) for n, p in sorted(module.named_parameters())]
    return outs, grads, params


def same(program, dtype):
    return same_program(program, **TOL[dtype])
