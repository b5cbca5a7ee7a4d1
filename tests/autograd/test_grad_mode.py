"""no_grad, enable_grad, set_grad_enabled, inference_mode: context managers, decorators, threads."""
import threading

import pytest

import torchlite
from .helpers import leaf, same_program


def _state(lib):
    return lib.is_grad_enabled(), lib.is_inference_mode_enabled()


def _made_under(lib, mode):
    """requires_grad / grad_fn of an op run inside the context ``mode(lib)``."""
    x = leaf(lib, [1.0, 2.0])
    with mode(lib):
        inside = _state(lib)
        y = x * 2
    return inside, _state(lib), y.requires_grad, y.grad_fn is None, y.is_leaf


@pytest.mark.parametrize("mode", [
    lambda lib: lib.no_grad(),
    lambda lib: lib.enable_grad(),
    lambda lib: lib.set_grad_enabled(False),
    lambda lib: lib.set_grad_enabled(True),
    lambda lib: lib.inference_mode(),
    lambda lib: lib.inference_mode(False),
    lambda lib: lib.autograd.no_grad(),
], ids=["no_grad", "enable_grad", "set_false", "set_true", "inference", "inference_false",
        "autograd.no_grad"])
def test_context_managers(torch_oracle, mode):
    same_program(lambda lib: _made_under(lib, mode), torch_oracle)


def test_enable_grad_inside_no_grad(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0])
        with lib.no_grad():
            with lib.enable_grad():
                y = x * 2
            z = x * 2
        return y.requires_grad, z.requires_grad, lib.is_grad_enabled()
    same_program(program, torch_oracle)


def test_inference_mode_false_inside_inference_mode(torch_oracle):
    def program(lib):
        with lib.inference_mode():
            with lib.inference_mode(False):
                return _state(lib)
    same_program(program, torch_oracle)


def test_set_grad_enabled_as_a_function_call(torch_oracle):
    def program(lib):
        lib.set_grad_enabled(False)
        try:
            off = lib.is_grad_enabled()
            y = leaf(lib, [1.0]) * 2
        finally:
            lib.set_grad_enabled(True)
        return off, y.requires_grad, lib.is_grad_enabled()
    same_program(program, torch_oracle)


def test_state_is_restored_after_an_exception(torch_oracle):
    def program(lib):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError
        return lib.is_grad_enabled()
    same_program(program, torch_oracle)


def _decorated(lib, decorate):
    x = leaf(lib, [1.0, 2.0])

    @decorate(lib)
    def f(t):
        return t * 2, lib.is_grad_enabled()

    y, inside = f(x)
    return f.__name__, inside, y.requires_grad, lib.is_grad_enabled()


@pytest.mark.parametrize("decorate", [
    lambda lib: lib.no_grad(),
    lambda lib: lib.no_grad,
    lambda lib: lib.enable_grad(),
    lambda lib: lib.enable_grad,
    lambda lib: lib.set_grad_enabled(False),
    lambda lib: lib.inference_mode(),
    lambda lib: lib.inference_mode,
], ids=["no_grad()", "no_grad", "enable_grad()", "enable_grad", "set_grad_enabled(False)",
        "inference_mode()", "inference_mode"])
def test_decorators(torch_oracle, decorate):
    def program(lib):
        with lib.set_grad_enabled(True):
            return _decorated(lib, decorate)
    same_program(program, torch_oracle)


def test_enable_grad_decorator_inside_no_grad(torch_oracle):
    def program(lib):
        with lib.no_grad():
            return _decorated(lib, lambda lib: lib.enable_grad())
    same_program(program, torch_oracle)


def test_decorated_generator_runs_each_step_under_the_mode(torch_oracle):
    def program(lib):
        @lib.no_grad()
        def gen():
            for i in range(3):
                received = yield (i, lib.is_grad_enabled())
                yield ("got", received, lib.is_grad_enabled())

        g = gen()
        seen = [next(g), lib.is_grad_enabled(), g.send("hello"), lib.is_grad_enabled(), next(g)]
        g.close()
        return seen, lib.is_grad_enabled()
    same_program(program, torch_oracle)


def test_grad_mode_is_thread_local(torch_oracle):
    def program(lib):
        seen = {}

        def worker():
            x = leaf(lib, [1.0])
            seen["enabled"] = lib.is_grad_enabled()
            seen["requires_grad"] = (x * 2).requires_grad

        with lib.no_grad():
            t = threading.Thread(target=worker)
            t.start()
            t.join()
            main = lib.is_grad_enabled()
        return seen, main
    same_program(program, torch_oracle)


def test_no_grad_in_a_thread_does_not_leak_to_main(torch_oracle):
    def program(lib):
        entered, release = threading.Event(), threading.Event()

        def worker():
            with lib.no_grad():
                entered.set()
                release.wait(5)

        t = threading.Thread(target=worker)
        t.start()
        entered.wait(5)
        main = lib.is_grad_enabled()
        release.set()
        t.join()
        return main
    same_program(program, torch_oracle)


def test_results_inside_no_grad_do_not_require_grad(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        with lib.no_grad():
            ops = [x * 2, x + x, x.exp(), x.sum(), x.clone(), x.to(lib.float32)]
        return [(o.requires_grad, o.is_leaf) for o in ops], x.requires_grad
    same_program(program, torch_oracle)


def test_views_made_inside_no_grad_keep_requires_grad(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        with lib.no_grad():
            views = [x.reshape(2, 1), x.view(1, 2), x.expand(3, 2)]
        return [(v.requires_grad, v.is_leaf, v.grad_fn is None) for v in views]
    same_program(program, torch_oracle)


def test_leaf_created_inside_no_grad_can_require_grad(torch_oracle):
    def program(lib):
        with lib.no_grad():
            w = lib.ones(2, dtype=lib.float64, requires_grad=True)
            y = w * 2
        (w * 3).sum().backward()
        return w.requires_grad, y.requires_grad, w.grad
    same_program(program, torch_oracle)


def test_is_grad_enabled_is_exported_everywhere():
    assert torchlite.is_grad_enabled is torchlite.autograd.is_grad_enabled
    assert torchlite.no_grad is torchlite.autograd.no_grad
