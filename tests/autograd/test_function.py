"""Custom autograd.Function subclasses, gradcheck and gradgradcheck, against PyTorch."""
import importlib

import pytest

import torchlite
from .helpers import leaf, raises_alike, same_program


def functions(lib):
    """The same custom Functions, written against ``lib``."""
    F = lib.autograd.Function

    class Cube(F):
        """x ** 3 with a differentiable backward; also records needs_input_grad."""
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x * x * x * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            Cube.seen = ctx.needs_input_grad
            return grad * 3 * x * x * ctx.scale, None

    class ScaledMul(F):
        """a * b * k, in setup_context style."""
        @staticmethod
        def forward(a, b, k):
            return a * b * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            a, b, k = inputs
            ctx.save_for_backward(a, b)
            ctx.k = k

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return (grad * b * ctx.k if ctx.needs_input_grad[0] else None,
                    grad * a * ctx.k if ctx.needs_input_grad[1] else None, None)

    class SplitSign(F):
        """(x * 2, x * 3, a non-differentiable mask-like output)."""
        @staticmethod
        def forward(ctx, x):
            mask = (x * 0 + 1)
            ctx.mark_non_differentiable(mask)
            return x * 2, x * 3, mask

        @staticmethod
        def backward(ctx, g2, g3, gmask):
            SplitSign.seen = (g2 is None, g3 is None, gmask is None)
            return g2 * 2 + g3 * 3

    class Unmaterialized(F):
        """Two outputs; backward sees None for the unused one."""
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g2, g3):
            Unmaterialized.seen = (g2 is None, g3 is None)
            total = None
            for g, k in ((g2, 2), (g3, 3)):
                if g is not None:
                    total = g * k if total is None else total + g * k
            return total

    class WrongCube(F):
        """A wrong backward: 2 x^2 instead of 3 x^2."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x * x

    class DetachedCube(F):
        """A right first derivative whose backward is not differentiable (detached)."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            x = x.detach()
            return grad * 3 * x * x

    class Identity(F):
        """Returns its input; its gradient is doubled to show that backward ran."""
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class ExpInplace(F):
        """exp written in place, with mark_dirty."""
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            x.exp_()
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    return {c.__name__: c for c in (Cube, ScaledMul, SplitSign, Unmaterialized, WrongCube,
                                      DetachedCube, Identity, ExpInplace)}


def test_save_for_backward_and_non_tensor_args(torch_oracle):
    def program(lib):
        Cube = functions(lib)["Cube"]
        x = leaf(lib, [1.0, -2.0])
        y = Cube.apply(x, 0.5)
        y.sum().backward()
        return y, x.grad, Cube.seen, y.grad_fn.name(), y.requires_grad
    same_program(program, torch_oracle)


def test_custom_function_double_backward(torch_oracle):
    def program(lib):
        Cube = functions(lib)["Cube"]
        x = leaf(lib, [1.0, -2.0])
        (g,) = lib.autograd.grad(Cube.apply(x, 2.0).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g, gg
    same_program(program, torch_oracle)


def test_needs_input_grad_reflects_inputs(torch_oracle):
    def program(lib):
        ScaledMul = functions(lib)["ScaledMul"]
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0], requires_grad=False)
        y = ScaledMul.apply(a, b, 2.0)
        y.sum().backward()
        return y, a.grad, b.grad, y.grad_fn.name()
    same_program(program, torch_oracle)


def test_setup_context_style(torch_oracle):
    def program(lib):
        ScaledMul = functions(lib)["ScaledMul"]
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        ScaledMul.apply(a, b, -1.5).sum().backward()
        return a.grad, b.grad
    same_program(program, torch_oracle)


def test_multiple_outputs_and_mark_non_differentiable(torch_oracle):
    def program(lib):
        SplitSign = functions(lib)["SplitSign"]
        x = leaf(lib, [1.0, 2.0])
        two, three, mask = SplitSign.apply(x)
        (two * three).sum().backward()
        return (two.requires_grad, three.requires_grad, mask.requires_grad, mask.grad_fn is None,
                SplitSign.seen, x.grad)
    same_program(program, torch_oracle)


def test_materialized_grads_for_an_unused_output(torch_oracle):
    def program(lib):
        SplitSign = functions(lib)["SplitSign"]
        x = leaf(lib, [1.0, 2.0])
        two, _, _ = SplitSign.apply(x)
        two.sum().backward()
        return SplitSign.seen, x.grad
    same_program(program, torch_oracle)


def test_set_materialize_grads_false_passes_none(torch_oracle):
    def program(lib):
        Unmaterialized = functions(lib)["Unmaterialized"]
        x = leaf(lib, [1.0, 2.0])
        _, three = Unmaterialized.apply(x)
        three.sum().backward()
        return Unmaterialized.seen, x.grad
    same_program(program, torch_oracle)


def test_forward_runs_without_recording(torch_oracle):
    def program(lib):
        F = lib.autograd.Function
        seen = {}

        class Probe(F):
            @staticmethod
            def forward(ctx, x):
                inner = x * 2
                seen["inner"] = (inner.requires_grad, lib.is_grad_enabled())
                return inner

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        y = Probe.apply(leaf(lib, [1.0]))
        return seen, y.requires_grad, y.grad_fn.name()
    same_program(program, torch_oracle)


def test_no_graph_when_no_input_requires_grad(torch_oracle):
    def program(lib):
        Cube = functions(lib)["Cube"]
        y = Cube.apply(leaf(lib, [1.0], requires_grad=False), 1.0)
        with lib.no_grad():
            z = Cube.apply(leaf(lib, [1.0]), 1.0)
        return y.requires_grad, y.grad_fn is None, z.requires_grad
    same_program(program, torch_oracle)


def test_returning_an_input(torch_oracle):
    def program(lib):
        Identity = functions(lib)["Identity"]
        x = leaf(lib, [1.0, 2.0])
        y = Identity.apply(x)
        y.sum().backward()
        return y is x, y.grad_fn.name(), x.grad
    same_program(program, torch_oracle)


def test_mark_dirty_in_place_function(torch_oracle):
    def program(lib):
        ExpInplace = functions(lib)["ExpInplace"]
        x = leaf(lib, [0.5, 1.0])
        y = x * 1
        z = ExpInplace.apply(y)
        (z * 2).sum().backward()
        return z is y, y.grad_fn.name(), x.grad
    same_program(program, torch_oracle)


def test_mark_dirty_bumps_the_version(torch_oracle):
    def program(lib):
        y = leaf(lib, [0.5, 1.0]) * 1
        functions(lib)["ExpInplace"].apply(y)
        return y._version
    same_program(program, torch_oracle)


def test_saved_tensors_are_freed_after_backward(torch_oracle):
    def program(lib):
        Cube = functions(lib)["Cube"]
        y = Cube.apply(leaf(lib, [1.0]), 1.0)
        y.backward(lib.ones(1, dtype=lib.float64))
        y.backward(lib.ones(1, dtype=lib.float64))
    raises_alike(program, torch_oracle, RuntimeError,
                 "Trying to backward through the graph a second time")


@pytest.mark.parametrize("which, expected, got", [("few", 2, 1), ("many", 1, 2)])
def test_wrong_number_of_gradients(torch_oracle, which, expected, got):
    def program(lib):
        F = lib.autograd.Function

        class Few(F):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, grad):
                return grad

        class Many(F):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad, grad

        fn = {"few": lambda: Few.apply(leaf(lib, [1.0]), leaf(lib, [2.0])),
              "many": lambda: Many.apply(leaf(lib, [1.0]))}[which]
        fn().sum().backward()
    name = {"few": "Few", "many": "Many"}[which]
    raises_alike(program, torch_oracle, RuntimeError,
                 f"function {name}Backward returned an incorrect number of gradients "
                 rf"\(expected {expected}, got {got}\)")


def test_extra_trailing_none_gradients_are_allowed(torch_oracle):
    def program(lib):
        class ExtraNone(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2, None, None

        x = leaf(lib, [1.0])
        ExtraNone.apply(x).sum().backward()
        return x.grad
    same_program(program, torch_oracle)


def test_gradcheck_and_gradgradcheck_pass_on_a_correct_function():
    fns = functions(torchlite)
    x = leaf(torchlite, [0.3, -1.2, 2.0])
    b = leaf(torchlite, [1.5, 0.5, -0.7])
    assert torchlite.autograd.gradcheck(lambda t: fns["Cube"].apply(t, 0.7), (x,))
    assert torchlite.autograd.gradgradcheck(lambda t: fns["Cube"].apply(t, 0.7), (x,))
    assert torchlite.autograd.gradcheck(lambda s, t: fns["ScaledMul"].apply(s, t, 2.0), (x, b))
    assert torchlite.autograd.gradcheck(lambda t: fns["SplitSign"].apply(t)[:2], (x,))


@pytest.mark.parametrize("lib_name", ["torchlite", "torch"])
def test_gradcheck_catches_a_wrong_backward(torch_oracle, lib_name):
    lib = torchlite if lib_name == "torchlite" else torch_oracle
    wrong = functions(lib)["WrongCube"].apply
    x = leaf(lib, [0.3, -1.2, 2.0])
    assert lib.autograd.gradcheck(wrong, (x,), raise_exception=False) is False
    error = importlib.import_module(f"{lib.__name__}.autograd.gradcheck").GradcheckError
    with pytest.raises(error, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradcheck(wrong, (x,))


def test_gradcheck_prints_the_jacobians_as_pytorch_does(torch_oracle):
    def message(lib):
        x = leaf(lib, [0.3, -1.2, 2.0])
        try:
            lib.autograd.gradcheck(functions(lib)["WrongCube"].apply, (x,), eps=1e-3)
        except RuntimeError as e:
            return str(e)
    assert message(torchlite) == message(torch_oracle)


@pytest.mark.parametrize("lib_name", ["torchlite", "torch"])
def test_gradgradcheck_catches_a_non_differentiable_backward(torch_oracle, lib_name):
    lib = torchlite if lib_name == "torchlite" else torch_oracle
    detached = functions(lib)["DetachedCube"].apply
    x = leaf(lib, [0.3, -1.2, 2.0])
    assert lib.autograd.gradcheck(detached, (x,))
    assert lib.autograd.gradgradcheck(detached, (x,), raise_exception=False) is False


def test_gradcheck_error_is_a_runtime_error():
    assert issubclass(torchlite.autograd.GradcheckError, RuntimeError)


@pytest.mark.parametrize("lib_name", ["torchlite", "torch"])
def test_gradcheck_on_a_non_contiguous_input(torch_oracle, lib_name):
    lib = torchlite if lib_name == "torchlite" else torch_oracle
    x = leaf(lib, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=False)
    x = x.transpose(0, 1).detach().requires_grad_()
    assert not x.is_contiguous()
    assert lib.autograd.gradcheck(lambda a: a * a.exp(), (x,))


@pytest.mark.parametrize("lib_name", ["torchlite", "torch"])
def test_gradcheck_catches_a_non_reentrant_backward(torch_oracle, lib_name):
    lib = torchlite if lib_name == "torchlite" else torch_oracle
    calls = []

    class Drifting(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad * (2 + 1e-3 * (len(calls) > 3))

    x = leaf(lib, [1.0, 2.0, 3.0])
    error = importlib.import_module(f"{lib.__name__}.autograd.gradcheck").GradcheckError
    with pytest.raises(error, match="Backward is not reentrant"):
        lib.autograd.gradcheck(Drifting.apply, (x,))


def test_gradcheck_without_inputs_requiring_grad(torch_oracle):
    def program(lib):
        lib.autograd.gradcheck(lambda x: x * 2, (leaf(lib, [1.0], requires_grad=False),))
    raises_alike(program, torch_oracle, ValueError,
                 "gradcheck expects at least one input tensor to require gradient, but none of "
                 "them have requires_grad=True.")
