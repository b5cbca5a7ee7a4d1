"""torchlite.autograd.functional against torch.autograd.functional on the same functions."""
import pytest

from .helpers import leaf, raises_alike, same_program


def _x(lib):
    return leaf(lib, [0.5, -1.0, 2.0], requires_grad=False)


def _pair(lib):
    return (leaf(lib, [[0.3, 1.2, -0.4], [2.0, 0.1, -1.5]], requires_grad=False),
            leaf(lib, [1.5, -0.5, 0.25], requires_grad=False))


def _elementwise(x):
    return x.exp() * x - x / (x * x + 1)


def _two_in_two_out(a, b):
    return (a * b).exp() / (b * b + 1), (a * a * b).sum(0)


def _scalar_of_one(x):
    return (x * x * x).sum() + (x.exp() * x).mean()


def _scalar_of_two(a, b):
    return (a * a * b).sum() + (b * b * b).sum() - (a.exp() * b).mean()


def _vector_like(lib, t, scale=1.0):
    return lib.ones(tuple(t.shape), dtype=lib.float64) * scale


CASES = {
    "jacobian_one": lambda lib: lib.autograd.functional.jacobian(_elementwise, _x(lib)),
    "jacobian_tuple": lambda lib: lib.autograd.functional.jacobian(_two_in_two_out, _pair(lib)),
    "jacobian_reshape": lambda lib: lib.autograd.functional.jacobian(
        lambda a: a.reshape(3, 2).permute(1, 0).exp().sum(1), _pair(lib)[0]),
    "jacobian_vectorize": lambda lib: lib.autograd.functional.jacobian(
        _two_in_two_out, _pair(lib), vectorize=True),
    "jacobian_tuple_of_one": lambda lib: lib.autograd.functional.jacobian(
        lambda x: (x.exp(),), (_x(lib),)),
    "hessian_one": lambda lib: lib.autograd.functional.hessian(_scalar_of_one, _x(lib)),
    "hessian_tuple": lambda lib: lib.autograd.functional.hessian(_scalar_of_two, _pair(lib)),
    "hessian_linear_is_zero": lambda lib: lib.autograd.functional.hessian(
        lambda x: (x * 3).sum(), _x(lib)),
    "vjp_scalar_v_none": lambda lib: lib.autograd.functional.vjp(_scalar_of_one, _x(lib)),
    "vjp_one": lambda lib: lib.autograd.functional.vjp(
        _elementwise, _x(lib), _vector_like(lib, _x(lib), 0.5)),
    "vjp_tuple": lambda lib: lib.autograd.functional.vjp(
        _two_in_two_out, _pair(lib), tuple(_vector_like(lib, t) for t in
                                           _two_in_two_out(*_pair(lib)))),
    "jvp_one": lambda lib: lib.autograd.functional.jvp(
        _elementwise, _x(lib), _vector_like(lib, _x(lib), -2.0)),
    "jvp_tuple": lambda lib: lib.autograd.functional.jvp(
        _two_in_two_out, _pair(lib), tuple(_vector_like(lib, t, 0.5) for t in _pair(lib))),
    "hvp_one": lambda lib: lib.autograd.functional.hvp(
        _scalar_of_one, _x(lib), _vector_like(lib, _x(lib), 2.0)),
    "hvp_tuple": lambda lib: lib.autograd.functional.hvp(
        _scalar_of_two, _pair(lib), tuple(_vector_like(lib, t) for t in _pair(lib))),
    "vhp_one": lambda lib: lib.autograd.functional.vhp(
        _scalar_of_one, _x(lib), _vector_like(lib, _x(lib), 2.0)),
    "vhp_tuple": lambda lib: lib.autograd.functional.vhp(
        _scalar_of_two, _pair(lib), tuple(_vector_like(lib, t) for t in _pair(lib))),
    "unused_input_gives_zeros": lambda lib: lib.autograd.functional.jacobian(
        lambda a, b: a.exp(), _pair(lib)),
    "constant_output_gives_zeros": lambda lib: lib.autograd.functional.jacobian(
        lambda x: lib.ones(2, dtype=lib.float64), _x(lib)),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(torch_oracle, case):
    def program(lib):
        result = CASES[case](lib)
        return result, _requires_grad(result)
    same_program(program, torch_oracle, rtol=1e-10, atol=1e-12)


def _requires_grad(result):
    if isinstance(result, tuple):
        return [_requires_grad(r) for r in result]
    return result.requires_grad


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_create_graph_results_are_differentiable(torch_oracle, name):
    def program(lib):
        x = leaf(lib, [0.5, -1.0, 2.0])
        v = _vector_like(lib, x, 0.5)
        fn = getattr(lib.autograd.functional, name)
        if name in ("jacobian", "hessian"):
            func = _elementwise if name == "jacobian" else _scalar_of_one
            result = fn(func, x, create_graph=True)
        else:
            func = _elementwise if name in ("vjp", "jvp") else _scalar_of_one
            result = fn(func, x, v, create_graph=True)[1]
        flag = result.requires_grad
        (result * result).sum().backward()
        return result, flag, x.grad
    same_program(program, torch_oracle, rtol=1e-10, atol=1e-12)


def test_inputs_are_left_alone(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, -1.0])
        hess = lib.autograd.functional.hessian(_scalar_of_one, x)
        return hess, x.grad, x.requires_grad, x.is_leaf
    same_program(program, torch_oracle)


def test_strict_mode_passes_on_a_dependent_function(torch_oracle):
    def program(lib):
        return (lib.autograd.functional.jacobian(_two_in_two_out, _pair(lib), strict=True),
                lib.autograd.functional.hessian(_scalar_of_one, _x(lib), strict=True))
    same_program(program, torch_oracle, rtol=1e-10, atol=1e-12)


def test_strict_create_graph_rejects_a_linear_jacobian(torch_oracle):
    raises_alike(lambda lib: lib.autograd.functional.hessian(
        lambda x: (x * 3).sum(), _x(lib), strict=True), torch_oracle, RuntimeError,
        "jacobian of the user-provided function with respect to input 0 is independent of the "
        "input")
