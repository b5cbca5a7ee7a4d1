"""The first-order backward pass on raw arrays (Function.array_backward) against the Tensor pass.

Without create_graph, with no recorder and no anomaly mode, the engine runs the rules of
``array_backward`` Functions on raw arrays. The same rules run on Tensors when create_graph=True;
both passes must give bit-identical gradients for every differentiable op of the op table.
"""
import numpy as np
import pytest

import torchlite
from torchlite import Tensor
from torchlite.autograd.function import Function

from ..ops.opspec import outputs_of, rand, to_torchlite
from ..ops.specs import all_specs

GRAD = [pytest.param(s, id=s.name) for s in all_specs() if s.grad]


def _grads(outs, inputs, seeds, create_graph):
    """(gradients, None) or (None, exception type) of one pass."""
    try:
        got = torchlite.autograd.grad(outs, inputs, seeds, retain_graph=True,
                                      create_graph=create_graph, allow_unused=True)
    except Exception as e:  # the two passes must fail alike, too
        return None, type(e)
    return got, None


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("spec", GRAD)
def test_array_pass_matches_tensor_pass(spec, dtype, rng):
    for sample in spec.get_samples(rng, np.dtype(dtype)):
        args = [to_torchlite(a, requires_grad=True) for a in sample.args]
        inputs = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        try:
            outs = [o for o in outputs_of(spec.op(*args, **sample.kwargs))
                    if isinstance(o, Tensor) and o.requires_grad]
        except (RuntimeError, NotImplementedError, TypeError):
            continue  # no kernel for this dtype: nothing to differentiate
        if not inputs or not outs:
            continue
        seeds = [torchlite.tensor(rand(rng, tuple(o.shape), o._data.dtype)) for o in outs]
        by_arrays, err_arrays = _grads(outs, inputs, seeds, create_graph=False)
        by_tensors, err_tensors = _grads(outs, inputs, seeds, create_graph=True)
        assert err_arrays == err_tensors, f"{spec.name}[{sample.name}]"
        if err_arrays is not None:
            continue
        for k, (a, t) in enumerate(zip(by_arrays, by_tensors)):
            assert (a is None) == (t is None), f"{spec.name}[{sample.name}] input {k}"
            if a is not None:
                assert a.dtype == t.dtype and a.shape == t.shape
                np.testing.assert_array_equal(a._data, t._data,
                                              err_msg=f"{spec.name}[{sample.name}] input {k}")


class _Probe(Function):
    """A primitive whose rule records what it is given (arrays or Tensors)."""

    raw = True
    array_backward = True
    seen = []

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * 2

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        _Probe.seen.append((type(grad), type(a)))
        return grad * 2


def _probe_backward(**kwargs):
    _Probe.seen.clear()
    x = torchlite.ones(3, requires_grad=True)
    _Probe.apply(x).sum().backward(**kwargs)
    return _Probe.seen, x.grad


def test_plain_backward_runs_array_rules_on_arrays():
    seen, grad = _probe_backward()
    assert seen == [(np.ndarray, np.ndarray)]
    assert type(grad) is Tensor and grad.tolist() == [2.0, 2.0, 2.0]


def test_create_graph_runs_array_rules_on_tensors():
    seen, _ = _probe_backward(create_graph=True)
    assert seen == [(Tensor, Tensor)]


def test_recording_runs_array_rules_on_tensors():
    with torchlite.graph.record() as g:
        seen, _ = _probe_backward()
    assert seen == [(Tensor, Tensor)]
    assert any(n["phase"] == "backward" and n["op"] == "MulBackward0" for n in g.to_dict()["nodes"])


def test_anomaly_mode_runs_array_rules_on_tensors():
    with torchlite.autograd.detect_anomaly():
        seen, _ = _probe_backward()
    assert seen == [(Tensor, Tensor)]


def test_a_node_with_hooks_sees_tensors():
    _Probe.seen.clear()
    x = torchlite.ones(3, requires_grad=True)
    y = _Probe.apply(x)
    hooked = []
    y.register_hook(lambda g: hooked.append(type(g)) or g * 10)
    y.sum().backward()
    assert hooked == [Tensor] and _Probe.seen == [(Tensor, Tensor)]
    assert x.grad.tolist() == [20.0, 20.0, 20.0]


def test_zero_dim_rules_may_return_numpy_scalars():
    x = torchlite.tensor(3.0, requires_grad=True)
    (x * x * x).backward()  # 0-d NumPy products are NumPy scalars, not arrays
    assert type(x.grad) is Tensor and x.grad.shape == () and x.grad.item() == 27.0


def test_a_rule_returning_a_python_number_is_an_error_in_both_passes():
    class Bad(Function):
        raw = True
        array_backward = True

        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, grad):
            return 1.0

    for create_graph in (False, True):
        x = torchlite.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="expected Variable or None"):
            Bad.apply(x).sum().backward(create_graph=create_graph)


def test_a_failing_array_rule_leaves_the_node_usable_by_a_tensor_pass():
    class FailsOnce(Function):
        raw = True
        array_backward = True
        failed = []

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 3

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            if not FailsOnce.failed:
                FailsOnce.failed.append(True)
                raise ValueError("first try")
            return grad * 3 + a * 0

    x = torchlite.ones(2, requires_grad=True)
    y = FailsOnce.apply(x).sum()
    with pytest.raises(ValueError, match="first try"):
        y.backward(retain_graph=True)
    (g,) = torchlite.autograd.grad(y, x, create_graph=True)
    assert type(g) is Tensor and g.tolist() == [3.0, 3.0]
