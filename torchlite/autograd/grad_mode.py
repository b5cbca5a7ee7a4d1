"""Thread-local grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each is a context manager and a decorator, as in PyTorch. The state lives in one thread-local
object that Function.apply reads once per op.
"""
import functools
import inspect
import threading


class _State(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _State()


def is_grad_enabled():
    return STATE.enabled


def is_inference_mode_enabled():
    return STATE.inference


class _Mode:
    """Base of the grad-mode context managers; also usable as a decorator."""

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        gen.close()
                        raise
                    with self.clone():
                        response = gen.send(request)
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        self._set()
        return None

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False


class _NoParamMode(_Mode):
    """A mode that also decorates without parentheses: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Disable gradient recording inside the block or the decorated function."""

    def _set(self):
        STATE.enabled = False


class enable_grad(_NoParamMode):
    """Enable gradient recording inside a no_grad block."""

    def _set(self):
        STATE.enabled = True


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect at once, and restores on exit when used in with."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self.mode

    def clone(self):
        return self.__class__(self.mode)

    def __call__(self, fn):
        STATE.enabled = self._prev[0]  # decorating must not leave the mode changed
        return super().__call__(fn)

    def _set(self):
        STATE.enabled = self.mode

    def __enter__(self):
        return None


class inference_mode(_Mode):
    """Like no_grad; tensors made inside are inference tensors (no autograd later either)."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def clone(self):
        return self.__class__(self.mode)

    def _set(self):
        STATE.enabled = not self.mode
        STATE.inference = self.mode
