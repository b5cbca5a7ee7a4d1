"""Tensor.backward and autograd.grad: the same programs on torchlite and PyTorch."""
import sys
import time

import pytest

import torchlite
from .helpers import leaf, raises_alike, same_program

SECOND_BACKWARD = "Trying to backward through the graph a second time"


def test_backward_with_gradient_argument(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, -2.0, 3.0])
        y = x * x * 3
        y.backward(gradient=lib.tensor([1.0, 0.5, -2.0], dtype=lib.float64))
        return x.grad
    same_program(program, torch_oracle)


def test_retain_graph_allows_a_second_backward_and_accumulates(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, 1.5])
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward()
        return first, x.grad
    same_program(program, torch_oracle)


def test_second_backward_without_retain_graph_raises(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, 1.5])
        y = x.exp().sum()
        y.backward()
        y.backward()
    raises_alike(program, torch_oracle, RuntimeError, SECOND_BACKWARD)


def test_second_backward_through_nodes_without_saved_tensors_is_allowed(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, 1.5])
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    same_program(program, torch_oracle)


def test_third_derivative_of_cube_with_create_graph(torch_oracle):
    def program(lib):
        x = leaf(lib, 2.0)
        y = x * x * x
        (d1,) = lib.autograd.grad(y, x, create_graph=True)
        (d2,) = lib.autograd.grad(d1, x, create_graph=True)
        (d3,) = lib.autograd.grad(d2, x)
        return d1, d2, d3, d1.requires_grad, d3.requires_grad
    d1, d2, d3, *_ = same_program(program, torch_oracle)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


def test_backward_create_graph_gives_differentiable_grad(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        (x * x * x).sum().backward(create_graph=True)
        g = x.grad
        was = g.requires_grad
        x.grad = None
        g.sum().backward()
        return was, x.grad
    same_program(program, torch_oracle)


def test_grad_accumulates_over_two_backward_calls(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        (x * x).sum().backward()
        (x * 3).sum().backward()
        return x.grad
    same_program(program, torch_oracle)


def test_backward_inputs_restricts_accumulation(torch_oracle):
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0])
        (a * b).sum().backward(inputs=[a])
        return a.grad, b.grad
    same_program(program, torch_oracle)


def test_backward_inputs_can_name_a_non_leaf(torch_oracle):
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        h = a * 2
        (h * h).sum().backward(inputs=[h])
        return h.grad, a.grad
    same_program(program, torch_oracle)


def test_autograd_grad_with_grad_outputs(torch_oracle):
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, -1.0])
        y = a * b + a.exp()
        v = lib.tensor([1.0, -0.5], dtype=lib.float64)
        ga, gb = lib.autograd.grad([y], [a, b], grad_outputs=[v])
        return ga, gb, a.grad, b.grad
    same_program(program, torch_oracle)


def test_autograd_grad_several_outputs(torch_oracle):
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        return lib.autograd.grad([(a * a).sum(), a.exp().sum()], a)
    same_program(program, torch_oracle)


def test_autograd_grad_unused_input_raises_by_default(torch_oracle):
    def program(lib):
        a, b = leaf(lib, [1.0]), leaf(lib, [2.0])
        lib.autograd.grad((a * 2).sum(), [a, b])
    raises_alike(program, torch_oracle, RuntimeError,
                 "The differentiated Tensor at index 1 appears to not have been used in the "
                 "graph. Set allow_unused=True if this is the desired behavior.")


def test_autograd_grad_allow_unused_gives_none(torch_oracle):
    def program(lib):
        a, b = leaf(lib, [1.0]), leaf(lib, [2.0])
        return lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    ga, gb = same_program(program, torch_oracle)
    assert gb is None


def test_autograd_grad_materialize_grads_gives_zeros(torch_oracle):
    def program(lib):
        a, b = leaf(lib, [1.0]), leaf(lib, [2.0, 3.0])
        return lib.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)
    same_program(program, torch_oracle)


def test_autograd_grad_create_graph_then_grad_of_grad(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, -1.0])
        (g,) = lib.autograd.grad((x.exp() * x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g, gg
    same_program(program, torch_oracle)


def test_non_scalar_backward_without_gradient_raises(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        (x * 2).backward()
    raises_alike(program, torch_oracle, RuntimeError,
                 "grad can be implicitly created only for scalar outputs")


def test_backward_on_tensor_without_grad_raises(torch_oracle):
    def program(lib):
        lib.tensor([1.0, 2.0]).sum().backward()
    raises_alike(program, torch_oracle, RuntimeError,
                 "element 0 of tensors does not require grad and does not have a grad_fn")


def test_broadcast_gradients_are_reduced_to_input_shapes(torch_oracle):
    def program(lib):
        a = leaf(lib, [[1.0], [2.0], [3.0]])               # (3, 1)
        b = leaf(lib, [[0.5, -1.0, 2.0, 4.0]])              # (1, 4)
        c = leaf(lib, [1.0, 2.0, 3.0, 4.0])                 # (4,)
        s = leaf(lib, 2.0)                                  # ()
        y = (a * b + c) / s - a.exp()
        y.backward(lib.ones(3, 4, dtype=lib.float64))
        return a.grad, b.grad, c.grad, s.grad
    same_program(program, torch_oracle)


def test_expand_and_reshape_gradients(torch_oracle):
    def program(lib):
        x = leaf(lib, [[1.0, 2.0, 3.0]])
        y = x.expand(4, 3).reshape(2, 6).permute(1, 0).transpose(0, 1)
        (y * y).mean().backward()
        return x.grad
    same_program(program, torch_oracle)


def test_mixed_float32_float64_inputs_get_grads_of_their_own_dtype(torch_oracle):
    def program(lib):
        a = leaf(lib, [1.0, 2.0], dtype="float32")
        b = leaf(lib, [3.0, 4.0], dtype="float64")
        y = a * b
        y.sum().backward()
        return y.dtype == lib.float64, a.grad, b.grad
    same_program(program, torch_oracle, rtol=1e-6)


def test_long_chain_backward_has_no_recursion_error_and_is_fast():
    n = 100_000
    x = torchlite.tensor(1.0, dtype=torchlite.float64, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(n):
        y = y * 1.000001
    y.backward()
    elapsed = time.perf_counter() - start
    assert n > sys.getrecursionlimit()
    assert x.grad.item() == pytest.approx(1.000001 ** n, rel=1e-9)
    assert elapsed < 30, f"a {n}-op chain took {elapsed:.1f}s forward+backward"


def test_autograd_backward_with_several_roots(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        a, b = x * x, x.exp().sum()
        lib.autograd.backward([a, b], [lib.tensor([1.0, -1.0], dtype=lib.float64), None])
        return x.grad
    same_program(program, torch_oracle)


def test_graph_structure_survives_backward(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = (x.exp() * x).sum()
        y.backward()
        fn = y.grad_fn
        return fn.name(), [n.name() for n, _ in fn.next_functions[0][0].next_functions]
    same_program(program, torch_oracle)


def test_shared_subexpression_gradients_add_up(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, 1.5])
        h = x.exp()
        y = (h * h + h / x - h.log()).sum()
        y.backward()
        return x.grad
    same_program(program, torch_oracle)
