"""Generic tests run on every row of the op-spec table (tests/ops/specs/)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import torchlite
from torchlite.autograd import gradcheck, gradgradcheck

from .opspec import outputs_of, rand, to_torch, to_torchlite
from .specs import all_specs

SPECS = all_specs()
NUMPY = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes
         if s.ref is not None and not s.nondeterministic]
GRAD = [pytest.param(s, id=s.name) for s in SPECS if s.grad]
GRADGRAD = [pytest.param(s, id=s.name) for s in SPECS if s.grad and s.gradgrad]
TORCH = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes
         if s.torch_op is not None]
BROADCAST = [pytest.param(s, id=s.name) for s in SPECS if s.broadcast]
ERRORS = [pytest.param(s, e, id=f"{s.name}-{i}") for s in SPECS for i, e in enumerate(s.errors)]


def _host(t):
    if isinstance(t, torchlite.Tensor):
        return np.asarray(t._host())
    if hasattr(t, "detach"):
        return t.detach().numpy(force=True)
    return np.asarray(t)


def _assert_close(actual, expected, atol, rtol, what):
    a, e = _host(actual), _host(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a.astype(np.complex128 if a.dtype.kind == "c" else
                                            np.float64), e, atol=atol, rtol=rtol,
                                   equal_nan=True, err_msg=what)


@pytest.mark.parametrize("spec,dtype", NUMPY)
def test_forward_matches_numpy(spec, dtype, rng):
    atol, rtol = spec.tolerances(dtype)
    for sample in spec.get_samples(rng, np.dtype(dtype)):
        args = [to_torchlite(a) for a in sample.args]
        got = outputs_of(spec.op(*args, **sample.kwargs))
        want = outputs_of(spec.ref(*sample.args, **sample.kwargs))
        assert len(got) == len(want), f"{spec.name}: {len(got)} outputs, expected {len(want)}"
        for g, w in zip(got, want):
            _assert_close(g, w, atol, rtol, f"{spec.name}[{sample.name}]")


def _grad_inputs(spec, rng):
    for sample in spec.get_samples(rng, np.dtype("float64")):
        args = [to_torchlite(a, requires_grad=True) for a in sample.args]
        if not any(isinstance(a, torchlite.Tensor) and a.requires_grad for a in args):
            continue
        yield sample, args


@pytest.mark.parametrize("spec", GRAD)
def test_gradcheck(spec, rng):
    for sample, args in _grad_inputs(spec, rng):
        assert gradcheck(lambda *a: spec.op(*a, **sample.kwargs), tuple(args),
                         atol=spec.grad_atol, rtol=spec.grad_rtol), sample.name


@pytest.mark.parametrize("spec", GRADGRAD)
def test_gradgradcheck(spec, rng):
    for sample, args in _grad_inputs(spec, rng):
        assert gradgradcheck(lambda *a: spec.op(*a, **sample.kwargs), tuple(args),
                             atol=spec.grad_atol, rtol=spec.grad_rtol), sample.name


def _run_both(spec, torch, sample, grad):
    tl_args = [to_torchlite(a, requires_grad=grad) for a in sample.args]
    th_args = [to_torch(torch, a, requires_grad=grad) for a in sample.args]
    return (tl_args, outputs_of(spec.op(*tl_args, **sample.kwargs)),
            th_args, outputs_of(spec.torch_fn(torch)(*th_args, **sample.kwargs)))


@pytest.mark.parametrize("spec,dtype", TORCH)
def test_matches_torch(spec, dtype, rng, torch_oracle):
    """Values, result dtypes and gradients agree with PyTorch 2.13 on the same inputs."""
    atol, rtol = spec.tolerances(dtype)
    torch = torch_oracle
    grad = spec.grad and np.dtype(dtype).kind == "f"
    for sample in spec.get_samples(rng, np.dtype(dtype)):
        tl_args, got, th_args, want = _run_both(spec, torch, sample, grad)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            if spec.check_dtype and isinstance(w, torch.Tensor):
                assert str(g.dtype) == str(w.dtype), f"{spec.name}[{sample.name}] dtype"
            if not spec.nondeterministic:
                _assert_close(g, w, atol, rtol, f"{spec.name}[{sample.name}] value")
        if not grad:
            continue
        diff = [(g, w) for g, w in zip(got, want)
                if isinstance(w, torch.Tensor) and w.requires_grad]
        if not diff:
            continue
        seeds = [rand(rng, tuple(w.shape), np.dtype(dtype)) for _, w in diff]
        tl_in = [a for a in tl_args if isinstance(a, torchlite.Tensor) and a.requires_grad]
        th_in = [a for a in th_args if isinstance(a, torch.Tensor) and a.requires_grad]
        tl_g = torchlite.autograd.grad([g for g, _ in diff], tl_in,
                                       [torchlite.tensor(s) for s in seeds], allow_unused=True)
        th_g = torch.autograd.grad([w for _, w in diff], th_in,
                                   [torch.tensor(s) for s in seeds], allow_unused=True)
        for a, b in zip(tl_g, th_g):
            assert (a is None) == (b is None), f"{spec.name}: gradient presence differs"
            if a is not None:
                _assert_close(a, b, atol * 10, rtol * 10, f"{spec.name}[{sample.name}] grad")


@st.composite
def _broadcast_case(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                     max_side=3))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    seed = draw(st.integers(0, 2**16))
    return shapes.input_shapes, dtype, seed


@pytest.mark.parametrize("spec", BROADCAST)
@settings(max_examples=25, deadline=None)
@given(case=_broadcast_case())
def test_broadcast_shapes(spec, case):
    """Hypothesis-drawn broadcastable shapes: values vs NumPy, gradients vs finite differences."""
    (sa, sb), dtype, seed = case
    rng = np.random.default_rng(seed)
    lo, hi = spec.domain
    a, b = rand(rng, sa, dtype, lo, hi), rand(rng, sb, dtype, lo, hi)
    ta, tb = to_torchlite(a, True), to_torchlite(b, True)
    out = spec.op(ta, tb)
    if spec.ref is not None:
        atol, rtol = spec.tolerances(dtype)
        _assert_close(out, spec.ref(a, b), atol, rtol, spec.name)
    if spec.grad and dtype == "float64":
        assert gradcheck(spec.op, (ta, tb), atol=spec.grad_atol, rtol=spec.grad_rtol)


@pytest.mark.parametrize("spec,error", ERRORS)
def test_error_inputs(spec, error):
    """Wrong calls raise PyTorch's exception type with a message naming the problem."""
    args = [to_torchlite(a) for a in error.args]
    with pytest.raises(error.exc, match=error.match):
        spec.op(*args, **error.kwargs)


@pytest.mark.parametrize("spec,error", [p for p in ERRORS if p.values[0].torch_op is not None])
def test_error_inputs_match_torch(spec, error, torch_oracle):
    """PyTorch raises the same exception type on the same wrong call."""
    args = [to_torch(torch_oracle, a) for a in error.args]
    with pytest.raises(error.exc):
        spec.torch_fn(torch_oracle)(*args, **error.kwargs)
