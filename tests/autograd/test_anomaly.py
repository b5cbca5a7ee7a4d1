"""Anomaly detection: NaN gradients raise with the op's name and warn with its forward traceback."""
import warnings

import pytest

import torchlite
from .helpers import leaf, same_program

NAN = float("nan")


def _nan_backward(lib, order="input_first"):
    """A MulBackward0 whose gradient for ``a`` (input 0 or 1) is NaN."""
    a = leaf(lib, [0.0, 1.0])
    c = lib.tensor([NAN, 2.0], dtype=lib.float64)
    product = a * c if order == "input_first" else c * a  # the line the warning must show
    return a, product.sum()


def _backward_catching(lib, fn):
    """Run ``fn`` and return (error message or None, list of warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
            error = None
        except RuntimeError as e:
            error = str(e)
    return error, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("order, index", [("input_first", 0), ("input_second", 1)])
def test_nan_in_backward_raises_and_warns_with_forward_traceback(torch_oracle, order, index):
    for lib in (torchlite, torch_oracle):
        def run():
            with lib.autograd.detect_anomaly():
                _, loss = _nan_backward(lib, order)
                loss.backward()
        error, warned = _backward_catching(lib, run)
        assert error == f"Function 'MulBackward0' returned nan values in its {index}th output."
        assert any(w.startswith("Anomaly Detection has been enabled.") for w in warned)
        trace = [w for w in warned if w.startswith("Error detected in MulBackward0. Traceback "
                                                   "of forward call that caused the error:\n")]
        assert len(trace) == 1, warned
        assert "product = a * c if order" in trace[0]
        assert 'test_anomaly.py", line' in trace[0]
        assert "torchlite/" not in trace[0].replace("tests/autograd", "")


def test_check_nan_false_lets_nan_through(torch_oracle):
    def program(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly(check_nan=False):
                a, loss = _nan_backward(lib)
                loss.backward()
        return a.grad
    same_program(program, torch_oracle)


def test_without_anomaly_mode_nan_passes_silently(torch_oracle):
    def program(lib):
        a, loss = _nan_backward(lib)
        loss.backward()
        return a.grad
    same_program(program, torch_oracle)


def test_set_detect_anomaly_as_call_and_context_manager(torch_oracle):
    for lib in (torchlite, torch_oracle):
        lib.autograd.set_detect_anomaly(True)
        try:
            error, _ = _backward_catching(lib, lambda: _nan_backward(lib)[1].backward())
        finally:
            lib.autograd.set_detect_anomaly(False)
        assert error == "Function 'MulBackward0' returned nan values in its 0th output."
        with lib.autograd.set_detect_anomaly(True):
            with lib.autograd.set_detect_anomaly(False):
                error, _ = _backward_catching(lib, lambda: _nan_backward(lib)[1].backward())
            assert error is None
            error, _ = _backward_catching(lib, lambda: _nan_backward(lib)[1].backward())
        assert error is not None
        error, _ = _backward_catching(lib, lambda: _nan_backward(lib)[1].backward())
        assert error is None


def test_node_made_outside_anomaly_mode_has_no_forward_trace(torch_oracle):
    for lib in (torchlite, torch_oracle):
        _, loss = _nan_backward(lib)

        def run():
            with lib.autograd.set_detect_anomaly(True):
                loss.backward()
        error, warned = _backward_catching(lib, run)
        assert error == "Function 'MulBackward0' returned nan values in its 0th output."
        assert any(w.startswith("Error detected in MulBackward0. No forward pass information "
                                "available. Enable detect anomaly during forward pass for more "
                                "information.") for w in warned), warned


def test_anomaly_flags(torch_oracle):
    def program(lib):
        flags = lambda: (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled())
        seen = [flags()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly(check_nan=False):
                seen.append(flags())
        seen.append(flags())
        return seen
    same_program(program, torch_oracle)


def test_anomaly_flags_in_autograd_namespace():
    autograd = torchlite.autograd
    assert not autograd.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True, check_nan=False):
        assert autograd.is_anomaly_enabled() and not autograd.is_anomaly_check_nan_enabled()
    assert not autograd.is_anomaly_enabled() and autograd.is_anomaly_check_nan_enabled()


def test_clean_backward_under_anomaly_mode_matches(torch_oracle):
    def program(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                x = leaf(lib, [0.5, 2.0])
                (x.exp() * x / (x + 1)).sum().backward()
        return x.grad
    same_program(program, torch_oracle)


def test_any_backward_error_warns_with_forward_traceback(torch_oracle):
    for lib in (torchlite, torch_oracle):
        def run():
            with lib.autograd.detect_anomaly():
                x = leaf(lib, [1.0, 2.0])
                y = x.exp()
                loss = (y * 1).sum()
                y.zero_()
                loss.backward()
        error, warned = _backward_catching(lib, run)
        assert error.startswith("one of the variables needed for gradient computation")
        assert any(w.startswith("Error detected in ExpBackward0. Traceback of forward call that "
                                "caused the error:\n") and "y = x.exp()" in w for w in warned)
