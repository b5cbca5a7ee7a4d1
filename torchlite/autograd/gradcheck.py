"""gradcheck / gradgradcheck: analytical gradients against central finite differences.

Both follow torch.autograd.gradcheck: inputs that require grad should be float64; on a mismatch
they raise GradcheckError (or return False with ``raise_exception=False``) and print the numerical
and analytical Jacobians.
"""
import numpy as np

from .._tensor import Tensor
from .engine import grad as autograd_grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,) if isinstance(x, Tensor) else tuple(x)


def _differentiable_outputs(outputs):
    return [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]


def _numerical_jacobian(fn, inputs, wrt, eps):
    """J[j][i]: d(output j, flattened) / d(input wrt[i], flattened), by central differences."""
    with no_grad():
        base = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in wrt] for o in base]
    for col, i in enumerate(wrt):
        data = inputs[i]._data
        # Index the array itself (not a reshape of it, which copies a non-contiguous input).
        for k, idx in enumerate(np.ndindex(data.shape)):
            orig = data[idx].copy()
            data[idx] = orig + eps
            plus = _flat_outputs(fn, inputs)
            data[idx] = orig - eps
            minus = _flat_outputs(fn, inputs)
            data[idx] = orig
            for j in range(len(base)):
                jac[j][col][:, k] = (plus[j] - minus[j]) / (2 * eps)
    return jac


def _flat_outputs(fn, inputs):
    with no_grad():
        return [o._host().astype(np.float64).reshape(-1) for o in _as_tuple(fn(*inputs))
                if isinstance(o, Tensor)]


def _analytical_jacobian(fn, inputs, wrt):
    with enable_grad():
        outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in wrt] for o in outputs]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for r in range(out.numel()):
            seed = np.zeros(out.numel(), dtype=out._data.dtype)
            seed[r] = 1
            g_out = _seed(seed.reshape(out._data.shape), out)
            grads = autograd_grad([out], [inputs[i] for i in wrt], [g_out], retain_graph=True,
                                  allow_unused=True)
            for col, g in enumerate(grads):
                if g is not None:
                    jac[j][col][r, :] = g._host().astype(np.float64).reshape(-1)
    return jac


def _seed(arr, like):
    from .._tensor import _make
    return _make(like.device.xp.asarray(arr), like.device)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **kwargs):
    """True when ``func``'s analytical Jacobian matches finite differences at ``inputs``."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for i in wrt:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex.", stacklevel=2)
    numerical = _numerical_jacobian(func, inputs, wrt, eps)
    analytical = _analytical_jacobian(func, inputs, wrt)
    for j, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for col, (n, a) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                return _fail(f"Jacobian mismatch for output {j} with respect to input "
                             f"{wrt[col]},\nnumerical:{_as_tensor(n)}\n"
                             f"analytical:{_as_tensor(a)}\n", raise_exception)
    again = _analytical_jacobian(func, inputs, wrt)
    for row, row_again in zip(analytical, again):
        for a, b in zip(row, row_again):
            if np.abs(a - b).max(initial=0.0) > nondet_tol:
                return _fail("Backward is not reentrant, i.e., running backward with same input "
                             "and grad_output multiple times gives different values, although "
                             "analytical gradient matches numerical gradient.The tolerance for "
                             f"nondeterminism was {nondet_tol}.", raise_exception)
    return True


def _as_tensor(jacobian):
    """A Jacobian (a float64 NumPy array) as a CPU tensor, printed as PyTorch prints it."""
    from .._creation import from_numpy
    return from_numpy(jacobian)


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs):
    """gradcheck of the function ``(inputs, grad_outputs) -> d(outputs)/d(inputs) . grad_outputs``.

    Checks that backward is itself correctly differentiable (double backward)."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outputs:
            g = _seed(rng.standard_normal(o._data.shape).astype(o._data.dtype), o)
            g.requires_grad_(True)
            grad_outputs.append(g)
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_derivative(*args):
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():
            outs = _differentiable_outputs(_as_tuple(func(*ins)))
            grads = autograd_grad(outs, [ins[i] for i in wrt], list(gos), create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
