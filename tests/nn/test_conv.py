"""Convolutions vs PyTorch: F.conv*/conv_transpose* and the Conv / ConvTranspose layers.

Outputs and gradients (input, weight, bias) in float64 and float32, gradcheck and gradgradcheck
of the primitives, error types and messages, repr strings and default-init statistics.
``compare_functional`` / ``compare_module`` / ``same_error`` are shared with test_pooling and
test_vision.
"""
import math

import numpy as np
import pytest
import torch

import torchlite
import torchlite.nn.functional as F
from torchlite.autograd import gradcheck, gradgradcheck

from .helpers import copy_weights, from_torch, outcome

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

TOL = {torch.float64: dict(rtol=1e-9, atol=1e-10), torch.float32: dict(rtol=1e-4, atol=1e-4)}


def _assert_close(ours, theirs, dtype, what):
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: {ours.shape} != {theirs.shape}"
    assert str(ours.dtype) == str(theirs.dtype), f"{what}: {ours.dtype} != {theirs.dtype}"
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), err_msg=what,
                               **TOL.get(dtype, TOL[torch.float64]))


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def _backward(outs, lib, seed):
    """Backward of sum(out * fixed random weights) over the floating outputs."""
    gen = np.random.default_rng(seed)
    total = None
    for o in outs:
        if o.is_floating_point():
            w = gen.standard_normal(tuple(o.shape))
            term = (o * lib.tensor(w, dtype=o.dtype)).sum()
            total = term if total is None else total + term
    total.backward()


def compare_functional(name, shapes, *args, dtype=torch.float64, grad=True, seed=0, **kwargs):
    """Run F.<name>(tensors of ``shapes``, *args, **kwargs) in torch and torchlite; compare
    every output and the gradients of every input."""
    gen = np.random.default_rng(seed)
    theirs_in = [torch.tensor(gen.standard_normal(s), dtype=dtype).requires_grad_(grad)
                 for s in shapes]
    ours_in = [from_torch(t) for t in theirs_in]
    theirs = _outputs(getattr(torch.nn.functional, name)(*theirs_in, *args, **kwargs))
    ours = _outputs(getattr(F, name)(*ours_in, *args, **kwargs))
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _assert_close(a, b, dtype, f"{name} output {i}")
    if grad:
        _backward(theirs, torch, seed)
        _backward(ours, torchlite, seed)
        for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
            _assert_close(a.grad, b.grad, dtype, f"{name} grad of input {i}")


def compare_module(spec, shape, dtype=torch.float64, seed=0, call=None):
    """Build nn.<spec> in both libraries, copy the weights, compare outputs, input gradients,
    parameter gradients and repr."""
    theirs_m = eval(spec, dict(vars(torch.nn))).to(dtype)
    ours_m = eval(spec, dict(vars(torchlite.nn))).to(getattr(torchlite, str(dtype)[6:]))
    assert repr(ours_m) == repr(theirs_m)
    assert [n for n, _ in ours_m.named_parameters()] == [n for n, _ in theirs_m.named_parameters()]
    copy_weights(theirs_m, ours_m)
    gen = np.random.default_rng(seed)
    x = torch.tensor(gen.standard_normal(shape), dtype=dtype, requires_grad=True)
    xl = from_torch(x)
    call = call or (lambda m, inp: m(inp))
    theirs = _outputs(call(theirs_m, x))
    ours = _outputs(call(ours_m, xl))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _assert_close(a, b, dtype, f"{spec} output {i}")
    _backward(theirs, torch, seed)
    _backward(ours, torchlite, seed)
    _assert_close(xl.grad, x.grad, dtype, f"{spec} input grad")
    theirs_p = dict(theirs_m.named_parameters())
    for n, p in ours_m.named_parameters():
        _assert_close(p.grad, theirs_p[n].grad, dtype, f"{spec} grad of {n}")


def same_error(program):
    """``program(lib, F)`` raises the same exception type and message in both libraries."""
    theirs = outcome(program, torch, torch.nn.functional)
    ours = outcome(program, torchlite, F)
    assert theirs[0] == "raised", f"torch did not raise: {theirs}"
    assert ours == theirs


# ---- functional --------------------------------------------------------------------------------
CONV_CASES = [
    ("conv1d", [(2, 3, 9), (4, 3, 3), (4,)], {}),
    ("conv1d", [(3, 9), (4, 3, 3)], dict(stride=2, padding=1)),
    ("conv1d", [(2, 4, 11), (6, 2, 4)], dict(groups=2, dilation=2, padding="same")),
    ("conv2d", [(2, 3, 7, 6), (5, 3, 3, 3), (5,)], {}),
    ("conv2d", [(2, 4, 7, 6), (6, 2, 3, 2), (6,)], dict(stride=(2, 1), padding=1,
                                                        dilation=(1, 2), groups=2)),
    ("conv2d", [(1, 3, 8, 7), (4, 3, 4, 2), (4,)], dict(padding="same", dilation=(2, 1))),
    ("conv2d", [(2, 3, 6, 5), (4, 3, 2, 2)], dict(padding="valid", stride=3)),
    ("conv2d", [(3, 6, 5), (6, 1, 3, 3), (6,)], dict(groups=3, padding=(2, 0))),
    ("conv2d", [(2, 6, 9, 9), (6, 2, 3, 3)], dict(groups=3, stride=[2], dilation=[2])),
    ("conv2d", [(2, 6, 7, 6), (2, 6, 3, 3), (2,)], dict(padding=(2, 1), dilation=(1, 2))),
    ("conv2d", [(2, 8, 5, 5), (4, 2, 3, 3)], dict(groups=4, padding=1)),
    ("conv3d", [(2, 2, 5, 4, 6), (3, 2, 2, 3, 2), (3,)], dict(stride=2, padding=1)),
    ("conv3d", [(1, 4, 4, 5, 3), (4, 2, 3, 1, 2)], dict(groups=2, padding="same")),
    ("conv_transpose1d", [(2, 4, 5), (4, 3, 3), (3,)], dict(stride=3, padding=2,
                                                            output_padding=1)),
    ("conv_transpose2d", [(2, 4, 5, 4), (4, 3, 3, 2), (6,)],
     dict(stride=(2, 3), padding=1, output_padding=(1, 2), groups=2, dilation=(1, 2))),
    ("conv_transpose2d", [(2, 3, 4, 4), (3, 2, 3, 3)], {}),
    ("conv_transpose2d", [(3, 4, 4), (3, 2, 2, 2), (2,)], dict(stride=2)),
    ("conv_transpose2d", [(1, 2, 3, 5), (2, 5, 3, 3)], dict(padding=1, dilation=2)),
    ("conv_transpose2d", [(1, 2, 4, 4), (2, 3, 3, 3)], dict(dilation=2, output_padding=1)),
    ("conv_transpose3d", [(1, 2, 3, 4, 3), (2, 3, 2, 2, 3), (3,)], dict(stride=2, padding=1)),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,shapes,kwargs", CONV_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_conv_functional_vs_torch(name, shapes, kwargs, dtype):
    compare_functional(name, shapes, dtype=dtype, **kwargs)


def _f64(*shape, seed=0):
    gen = np.random.default_rng(seed)
    return torchlite.tensor(gen.standard_normal(shape), requires_grad=True)


GRADCHECK_CASES = [
    (F.conv2d, [(2, 4, 5, 6), (6, 2, 3, 2), (6,)], dict(stride=2, padding=1, groups=2,
                                                        dilation=(2, 1))),
    (F.conv1d, [(2, 3, 7), (2, 3, 2), (2,)], dict(padding="same", dilation=3)),
    (F.conv_transpose2d, [(2, 4, 3, 3), (4, 1, 3, 2), (2,)], dict(stride=2, padding=1,
                                                                  output_padding=1, groups=2)),
    (F.conv_transpose2d, [(1, 2, 3, 4), (2, 3, 2, 2)], dict(padding=1)),
    (F.conv_transpose2d, [(1, 2, 3, 3), (2, 3, 2, 2), (3,)], dict(dilation=2, output_padding=1)),
    (F.conv_transpose1d, [(2, 3, 4), (3, 2, 3)], dict(stride=3, output_padding=2)),
    (F.conv3d, [(1, 2, 3, 4, 3), (2, 2, 2, 2, 2)], dict(stride=(1, 2, 1))),
    (F.conv2d, [(2, 4, 5, 4), (4, 2, 3, 2), (4,)], dict(padding=(1, 2), dilation=(1, 2),
                                                        groups=2)),
    (F.conv3d, [(1, 2, 3, 4, 3), (3, 2, 2, 3, 2)], dict(padding=1)),
    (F.conv_transpose2d, [(1, 3, 3, 4), (3, 2, 2, 3), (2,)], dict(padding=(0, 1))),
]


@pytest.mark.parametrize("fn,shapes,kwargs", GRADCHECK_CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(GRADCHECK_CASES)])
def test_conv_gradcheck_and_gradgradcheck(fn, shapes, kwargs):
    inputs = [_f64(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(lambda *a: fn(*a, **kwargs), inputs)
    assert gradgradcheck(lambda *a: fn(*a, **kwargs), inputs)


def test_conv_double_backward_matches_torch():
    """The gradient of a gradient (e.g. a gradient penalty) agrees with PyTorch."""
    def penalty(lib, fn, x, w):
        y = fn.conv2d(x, w, stride=2, padding=1)
        gx, gw = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        return (gx * gx).sum() + (gw ** 3).sum()
    gen = np.random.default_rng(1)
    x = torch.tensor(gen.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = torch.tensor(gen.standard_normal((4, 3, 3, 3)), requires_grad=True)
    xl, wl = from_torch(x), from_torch(w)
    penalty(torch, torch.nn.functional, x, w).backward()
    penalty(torchlite, F, xl, wl).backward()
    np.testing.assert_allclose(xl.grad.numpy(), x.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(wl.grad.numpy(), w.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_conv_grad_fn_and_no_grad():
    x, w = _f64(1, 2, 4, 4), _f64(3, 2, 2, 2, seed=1)
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    with torchlite.no_grad():
        y = F.conv2d(x, w)
    assert not y.requires_grad
    assert F.conv2d(x.detach(), w.detach()).grad_fn is None


CONV_ERRORS = [
    lambda t, f: f.conv2d(t.ones(2, 4, 5, 5), t.ones(8, 3, 3, 3)),
    lambda t, f: f.conv2d(t.ones(5, 5), t.ones(8, 3, 3, 3)),
    lambda t, f: f.conv2d(t.ones(1, 2, 3, 5, 5), t.ones(8, 3, 3, 3)),
    lambda t, f: f.conv1d(t.ones(5), t.ones(3, 3, 3)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), groups=2),
    lambda t, f: f.conv2d(t.ones(2, 6, 5, 5), t.ones(3, 3, 3, 3), groups=2),
    lambda t, f: f.conv2d(t.ones(2, 3, 2, 2), t.ones(8, 3, 3, 3)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), bias=t.ones(4)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), stride=0),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), padding=-1),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), dilation=0),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), groups=0),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), padding="foo"),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), padding="same", stride=2),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), stride=(1, 1, 1)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), padding=(1, 2, 3)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5, dtype=t.float64), t.ones(8, 3, 3, 3)),
    lambda t, f: f.conv2d(t.ones(2, 3, 5, 5), t.ones(8, 3, 3, 3), t.ones(8, dtype=t.float64)),
    lambda t, f: f.conv_transpose2d(t.ones(2, 3, 5, 5), t.ones(4, 3, 3, 3)),
    lambda t, f: f.conv_transpose2d(t.ones(2, 3, 5, 5), t.ones(3, 3, 3, 3), output_padding=1),
    lambda t, f: f.conv_transpose2d(t.ones(2, 3, 5, 5), t.ones(3, 3, 3, 3), stride=2,
                                    output_padding=2),
    lambda t, f: f.conv_transpose2d(t.ones(5, 5), t.ones(3, 3, 3, 3)),
    lambda t, f: f.conv_transpose2d(t.ones(2, 3, 5, 5), t.ones(3, 3, 3, 3), padding="same"),
]


@pytest.mark.parametrize("program", CONV_ERRORS, ids=[str(i) for i in range(len(CONV_ERRORS))])
def test_conv_errors_as_torch(program):
    same_error(program)


# ---- layers ------------------------------------------------------------------------------------
LAYERS = [
    ("Conv2d(3, 8, 3, padding=1)", (2, 3, 6, 5)),
    ("Conv2d(3, 8, 3)", (3, 6, 5)),
    ("Conv2d(4, 6, (3, 2), stride=2, bias=False, dilation=2, padding_mode='reflect', "
     "padding=1)", (2, 4, 9, 8)),
    ("Conv2d(4, 8, 3, groups=2, padding='same')", (2, 4, 5, 6)),
    ("Conv2d(4, 8, 4, groups=4, padding='same', padding_mode='circular')", (2, 4, 5, 6)),
    ("Conv2d(2, 3, 3, padding=(1, 2), padding_mode='replicate')", (1, 2, 4, 5)),
    ("Conv1d(3, 4, 3, padding='valid')", (2, 3, 8)),
    ("Conv1d(4, 6, 3, groups=2, padding='same', padding_mode='reflect', dilation=2)",
     (2, 4, 9)),
    ("Conv3d(2, 3, 2, stride=2)", (1, 2, 4, 5, 4)),
    ("ConvTranspose1d(2, 3, 3, dilation=2)", (2, 2, 5)),
    ("ConvTranspose2d(3, 4, 3, stride=2, output_padding=1)", (2, 3, 4, 5)),
    ("ConvTranspose2d(4, 6, (2, 3), stride=(1, 2), padding=(1, 0), groups=2, bias=False)",
     (2, 4, 5, 5)),
    ("ConvTranspose3d(2, 2, 2, stride=2)", (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("spec,shape", LAYERS, ids=[s for s, _ in LAYERS])
def test_conv_layers_vs_torch(spec, shape, dtype):
    compare_module(spec, shape, dtype)


def test_conv_transpose_output_size():
    compare_module("ConvTranspose2d(3, 4, 3, stride=2)", (1, 3, 4, 4),
                   call=lambda m, x: m(x, output_size=[10, 10]))
    same_error(lambda t, f: t.nn.ConvTranspose2d(3, 4, 3, stride=2)(t.ones(1, 3, 4, 4),
                                                                    output_size=[12, 10]))
    same_error(lambda t, f: t.nn.ConvTranspose2d(3, 4, 3)(t.ones(1, 3, 4, 4),
                                                          output_size=[1, 2, 3]))


@pytest.mark.parametrize("spec", [
    "Conv2d(3, 8, 3)", "Conv1d(4, 6, 5, groups=2)", "Conv3d(2, 4, (1, 2, 3), bias=False)",
    "ConvTranspose2d(4, 6, 3, groups=2)", "ConvTranspose1d(3, 5, 2)"])
def test_conv_parameters_shapes_and_default_init(spec):
    """Same parameter names and shapes; weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    theirs = eval(spec, dict(vars(torch.nn)))
    ours = eval(spec, dict(vars(torchlite.nn)))
    shapes = {n: tuple(p.shape) for n, p in theirs.named_parameters()}
    assert {n: tuple(p.shape) for n, p in ours.named_parameters()} == shapes
    fan_in = math.prod(ours.weight.shape[1:])
    bound = 1 / math.sqrt(fan_in)
    samples = {n: [] for n in shapes}
    for _ in range(200):
        ours.reset_parameters()
        for n, p in ours.named_parameters():
            samples[n].append(p.detach().numpy().ravel().copy())
    for n, values in samples.items():
        values = np.concatenate(values)
        assert values.min() >= -bound and values.max() <= bound
        np.testing.assert_allclose(values.std(), bound / math.sqrt(3), rtol=0.05)
        assert abs(values.mean()) < 0.05 * bound


LAYER_ERRORS = [
    lambda t, f: t.nn.Conv2d(3, 8, 3, groups=0),
    lambda t, f: t.nn.Conv2d(3, 8, 3, groups=2),
    lambda t, f: t.nn.Conv2d(4, 6, 3, groups=4),
    lambda t, f: t.nn.Conv2d(3, 8, 3, stride=2, padding="same"),
    lambda t, f: t.nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect"),
    lambda t, f: t.nn.Conv2d(3, 8, 3)(t.ones(2, 4, 5, 5)),
    lambda t, f: t.nn.Conv2d(3, 8, 3)(t.ones(5, 5)),
]


@pytest.mark.parametrize("program", LAYER_ERRORS,
                         ids=[str(i) for i in range(len(LAYER_ERRORS))])
def test_conv_layer_errors_as_torch(program):
    same_error(program)


def test_conv_padding_string_errors():
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        torchlite.nn.Conv2d(3, 8, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        torchlite.nn.Conv2d(3, 8, 3, padding_mode="edge")


def test_conv_net_repr_matches_torch():
    spec = ("Sequential(Conv2d(1, 20, 5), ReLU(), MaxPool2d(2), Conv2d(20, 64, 5, bias=False), "
            "AdaptiveAvgPool2d((1, 1)), Flatten(), Linear(64, 10))")
    if not hasattr(torchlite.nn, "Linear") or not hasattr(torchlite.nn, "ReLU"):
        pytest.skip("Linear / ReLU layers are not in torchlite.nn yet")
    assert repr(eval(spec, dict(vars(torchlite.nn)))) == repr(eval(spec, dict(vars(torch.nn))))


def test_conv_weight_gradient_without_cached_columns(monkeypatch):
    """Columns too large to keep from forward are rebuilt for the weight gradient."""
    import torchlite.nn.functional.conv as conv_module
    monkeypatch.setattr(conv_module, "_CACHE_BYTES", 0)
    compare_functional("conv2d", [(2, 3, 6, 5), (4, 3, 3, 3), (4,)], stride=2, padding=1)
    compare_functional("conv2d", [(2, 3, 6, 5), (4, 3, 3, 2), (4,)], padding=(1, 2),
                       dilation=(2, 1))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_repeated_steps_reuse_scratch_without_aliasing(dtype):
    """Conv temporaries are pooled between calls (``_scratch``): two forwards alive at once,
    backward in the other order, retain_graph, and SGD steps all match PyTorch step by step."""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(4, 4, 3, padding=1)).to(dtype)
    ours = torchlite.nn.Sequential(torchlite.nn.Conv2d(3, 4, 3, padding=1), torchlite.nn.ReLU(),
                                   torchlite.nn.Conv2d(4, 4, 3, padding=1)).to(
        getattr(torchlite, str(dtype).split(".")[1]))
    copy_weights(net, ours)
    opts = [lib.optim.SGD(m.parameters(), lr=0.05) for lib, m in ((torch, net),
                                                                  (torchlite, ours))]
    gen = np.random.default_rng(0)
    for step in range(3):
        xs = [gen.standard_normal((2, 3, 9, 9)) for _ in range(2)]
        for (lib, model), opt in zip(((torch, net), (torchlite, ours)), opts):
            opt.zero_grad()
            a, b = (model(lib.tensor(x, dtype=next(model.parameters()).dtype)) for x in xs)
            (b * b).mean().backward(retain_graph=True)
            a.mean().backward()
            (b * b).mean().backward()
        for (name, p), q in zip(net.named_parameters(), ours.parameters()):
            _assert_close(q.grad, p.grad, dtype, f"step {step} {name}.grad")
        for opt in opts:
            opt.step()
