"""BackpropStepper: the step list of micrograd's example (order, numbers against hand values and
finite differences), accumulation into leaves, small tensors, and the widget's stepping."""
import numpy as np
import pytest

import torchlite as torch
from torchlite.viz import BackpropStepper
from torchlite.viz._backprop import backprop_steps, format_number, format_value
from torchlite.viz._static import STEPPER_BUNDLE

from .frontend import WIDGETS


@pytest.fixture(scope="module", autouse=True)
def stepper_bundle():
    """The stepper's bundle (built with the others by `npm run build`)."""
    if not STEPPER_BUNDLE.is_file():
        import shutil
        import subprocess
        if shutil.which("npm") is None:
            pytest.skip("the stepper bundle is not built and npm is not installed")
        subprocess.run(["npm", "run", "-s", "build"], cwd=WIDGETS, check=True)


def micrograd(a=2.0, b=-3.0, c=10.0, f=-2.0, requires_grad=True, dtype=None):
    leaves = {k: torch.tensor(v, requires_grad=requires_grad, dtype=dtype)
              for k, v in dict(a=a, b=b, c=c, f=f).items()}
    e = leaves["a"] * leaves["b"]
    d = e + leaves["c"]
    return d * leaves["f"], leaves


def values(step, key):
    return [g["values"] if g is not None else None for g in step[key]]


def test_micrograd_steps_order_and_numbers():
    L, leaves = micrograd()
    doc, steps, leaf_list = backprop_steps(L, names=leaves)
    ops = {str(n["id"]): n for n in doc["nodes"]}
    assert [s["op"] for s in steps] == ["MulBackward0", "AddBackward0", "MulBackward0"]
    # L = d * f first, then d = e + c, then e = a * b: consumers before producers
    assert [values(s, "grad_in") for s in steps] == [[1.0], [-2.0], [-2.0]]
    names = lambda s: [ops[g["to"]]["label"] if g["leaf"] else g["name"]  # noqa: E731
                       for g in s["grad_out"]]
    assert names(steps[0]) == ["Add #4", "f"]
    assert values(steps[0], "grad_out") == [-2.0, 4.0]       # dL/dd = f, dL/df = d
    assert names(steps[1]) == ["Mul #2", "c"]
    assert values(steps[1], "grad_out") == [-2.0, -2.0]
    assert names(steps[2]) == ["a", "b"]
    assert values(steps[2], "grad_out") == [6.0, -4.0]       # dL/da = b*f, dL/db = a*f
    assert steps[0]["rule"] == type(L.grad_fn).backward_rule
    assert "grad * b" in steps[2]["rule"]
    # leaves accumulate as the steps proceed
    by_name = {leaf["id"]: leaf["name"] for leaf in leaf_list}
    running = [{by_name[k]: v["values"] for k, v in s["leaf_grads"].items()} for s in steps]
    assert running == [{"f": 4.0}, {"f": 4.0, "c": -2.0},
                       {"f": 4.0, "c": -2.0, "a": 6.0, "b": -4.0}]
    # against finite differences and against L.backward()
    base = dict(a=2.0, b=-3.0, c=10.0, f=-2.0)
    for name, grad in running[-1].items():
        h = 1e-4
        up = micrograd(**{**base, name: base[name] + h}, requires_grad=False,
                       dtype=torch.float64)[0].item()
        down = micrograd(**{**base, name: base[name] - h}, requires_grad=False,
                       dtype=torch.float64)[0].item()
        assert grad == pytest.approx((up - down) / (2 * h), rel=1e-6)
    L.backward()
    assert {k: t.grad.item() for k, t in leaves.items()} == running[-1]


def test_leaf_used_twice_accumulates():
    a = torch.tensor(3.0, requires_grad=True)
    y = a * a + a
    _, steps, leaf_list = backprop_steps(y, names={"a": a})
    final = steps[-1]["leaf_grads"][leaf_list[0]["id"]]["values"]
    y.backward()
    assert final == a.grad.item() == 7.0
    firsts = [s["leaf_grads"].get(leaf_list[0]["id"]) for s in steps]
    assert firsts[0]["values"] == 1.0     # the "+ a" edge arrives first


def test_small_tensors_match_backward():
    torch.manual_seed(0)
    x = torch.randn(2, 3, requires_grad=True)
    w = torch.randn(3, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    loss = ((x * w).sum(1) + b).tanh().pow(2).mean()
    _, steps, leaf_list = backprop_steps(loss, names=dict(x=x, w=w, b=b))
    assert [s["op"] for s in steps][:3] == ["MeanBackward0", "PowBackward0", "TanhBackward0"]
    final = {leaf["name"]: np.array(steps[-1]["leaf_grads"][leaf["id"]]["values"])
             for leaf in leaf_list}
    loss.backward()
    for name, t in dict(x=x, w=w, b=b).items():
        np.testing.assert_allclose(final[name], t.grad.detach().numpy(), rtol=1e-6)
        assert final[name].shape == tuple(t.shape)   # broadcast gradients reduced to the leaf
    mean = steps[0]
    assert mean["grad_out"][0]["shape"] == [2]
    assert mean["grad_out"][0]["text"] == "[0.5, 0.5]"


def test_formatting_small_full_large_summarized():
    assert format_number(-2.0) == "-2"
    assert format_number(0.123456) == "0.1235"
    assert format_number(1.5e-7) == "1.5e-7"          # as the front end's formatNumber
    assert format_number(123456789.5) == "1.235e+8"
    assert format_number(float("nan")) == "nan"
    assert format_value(np.array(4.0)) == "4"
    assert format_value(np.arange(16.0).reshape(4, 4)).startswith("[[0, 1, 2, 3], [4,")
    big = format_value(np.arange(17.0))
    assert big == "shape (17,) min 0 mean 8 max 16"
    x = torch.randn(5, 5, requires_grad=True)
    _, steps, _ = backprop_steps((x * 2).sum())
    sent = steps[-1]["grad_out"][0]
    assert "values" not in sent and sent["summary"]["norm"] == pytest.approx(10.0)


def test_widget_stepping():
    L, leaves = micrograd()
    w = BackpropStepper(L, names=leaves)
    assert w.step == 0 and w.current is None and w.leaf_grads == {}
    assert len(w.steps) == 3 and w.graph["nodes"]
    assert w.next()["op"] == "MulBackward0"
    assert w.leaf_grads == {"f": "4"}
    w.next()
    w.next()
    assert w.next() is w.steps[-1]          # clamped at the end
    assert w.step == 3
    assert w.leaf_grads == {"a": "6", "b": "-4", "c": "-2", "f": "4"}
    assert w.prev()["op"] == "AddBackward0"
    w.reset()
    assert w.step == 0 and w.prev() is None and w.step == 0
    assert STEPPER_BUNDLE.read_text("utf-8") == w._esm


def test_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        backprop_steps(torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        backprop_steps(torch.ones(2, requires_grad=True) * 2)
    with pytest.raises(TypeError, match="expects a Tensor"):
        backprop_steps(3.0)


def test_after_backward_leaf_output_and_grad_output():
    a = torch.tensor(2.0, requires_grad=True)
    y = (a * a).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        backprop_steps(y)                    # saved tensors already freed
    _, steps, leaf_list = backprop_steps(a, names={"a": a})
    assert steps == [] and [leaf["name"] for leaf in leaf_list] == ["a"]
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    _, steps, _ = backprop_steps(x * 3, grad_output=torch.tensor([1.0, -1.0]))
    assert steps[0]["grad_in"][0]["values"] == [1.0, -1.0]
    assert steps[0]["grad_out"][0]["values"] == [3.0, -3.0]
