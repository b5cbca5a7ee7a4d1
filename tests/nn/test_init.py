"""nn.init against torch.nn.init: statistics of large fills, exact fills, fans, gains, errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import torchlite
from torchlite.nn import init

from .helpers import to_torch

GAIN_CASES = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
              ("conv_transpose1d", None), ("conv_transpose2d", None),
              ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
              ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None),
              ("linear", 5)]


@pytest.mark.parametrize("nonlinearity, param", GAIN_CASES)
def test_calculate_gain(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == expected


@pytest.mark.parametrize("nonlinearity, param", [("leaky_relu", True), ("leaky_relu", "x"),
                                                 ("gelu", None), ("Relu", None)])
def test_calculate_gain_errors(nonlinearity, param):
    with pytest.raises(ValueError) as ours:
        init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError) as theirs:
        torch.nn.init.calculate_gain(nonlinearity, param)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 3, 1, 2, 2), (0, 3)])
def test_fans(shape):
    ours = init._calculate_fan_in_and_fan_out(torchlite.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("fn", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                "kaiming_normal_", "_calculate_fan_in_and_fan_out"])
@pytest.mark.parametrize("shape", [(), (5,)])
def test_fan_errors_below_2d(fn, shape):
    with pytest.raises(ValueError) as ours:
        getattr(init, fn)(torchlite.empty(shape))
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn.init, fn)(torch.empty(shape))
    assert str(ours.value) == str(theirs.value)


def test_kaiming_mode_error():
    with pytest.raises(ValueError) as ours:
        init.kaiming_uniform_(torchlite.empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError) as theirs:
        torch.nn.init.kaiming_uniform_(torch.empty(3, 4), mode="fan_avg")
    assert str(ours.value) == str(theirs.value)


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


# (call, expected mean, expected std, lower bound, upper bound) for a (400, 500) tensor:
# fan_in = 500, fan_out = 400.
_U = 1 / math.sqrt(3)
STAT_CASES = [
    ("uniform_", dict(a=-2.0, b=3.0), 0.5, 5 * math.sqrt(1 / 12), -2.0, 3.0),
    ("normal_", dict(mean=1.5, std=0.5), 1.5, 0.5, None, None),
    ("xavier_uniform_", dict(gain=2.0), 0.0, 2 * math.sqrt(2 / 900),
     -2 * math.sqrt(6 / 900), 2 * math.sqrt(6 / 900)),
    ("xavier_normal_", dict(), 0.0, math.sqrt(2 / 900), None, None),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), 0.0, math.sqrt(1 / 3) / math.sqrt(500) * 1,
     -1 / math.sqrt(500), 1 / math.sqrt(500)),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), 0.0,
     math.sqrt(2) / math.sqrt(400), -math.sqrt(6 / 400), math.sqrt(6 / 400)),
    ("kaiming_normal_", dict(nonlinearity="relu"), 0.0, math.sqrt(2 / 500), None, None),
    ("kaiming_normal_", dict(a=0.2, mode="FAN_OUT"), 0.0,
     math.sqrt(2 / 1.04) / math.sqrt(400), None, None),
    ("trunc_normal_", dict(mean=0.0, std=1.0, a=-2.0, b=2.0), 0.0, 0.8796, -2.0, 2.0),
    ("trunc_normal_", dict(mean=1.0, std=0.5, a=0.0, b=1.5), None, None, 0.0, 1.5),
]


@pytest.mark.parametrize("name, kwargs, mean, std, lo, hi", STAT_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distribution_statistics(name, kwargs, mean, std, lo, hi, dtype):
    ours = torchlite.empty(400, 500, dtype=getattr(torchlite, dtype))
    out = getattr(init, name)(ours, **kwargs)
    assert out is ours and ours.dtype == getattr(torchlite, dtype)
    theirs = getattr(torch.nn.init, name)(torch.empty(400, 500, dtype=getattr(torch, dtype)),
                                          **kwargs)
    o_mean, o_std, o_min, o_max = _stats(ours)
    t_mean, t_std, t_min, t_max = _stats(theirs)
    # against torch's sample (both are 200k draws: sampling error is ~0.5% of std)
    scale = t_std
    assert abs(o_mean - t_mean) < 0.02 * scale
    assert abs(o_std - t_std) < 0.02 * scale
    # against the formula
    if mean is not None:
        assert abs(o_mean - mean) < 0.01 * std + 1e-12
        assert abs(o_std - std) < 0.01 * std
    if lo is not None:
        assert o_min >= lo - 1e-6 and o_max <= hi + 1e-6
        # the fill reaches close to its bounds, as torch's does
        assert abs(o_min - t_min) < 0.01 * (hi - lo) and abs(o_max - t_max) < 0.01 * (hi - lo)


def test_init_on_parameter_is_not_recorded():
    p = torchlite.nn.Parameter(torchlite.empty(30, 20))
    for name in ("uniform_", "normal_", "xavier_uniform_", "kaiming_normal_", "trunc_normal_",
                 "orthogonal_", "zeros_", "ones_", "eye_"):
        out = getattr(init, name)(p)
        assert out is p and p.grad_fn is None and p.is_leaf and p.requires_grad
    init.constant_(p, 0.25)
    assert p.grad_fn is None and bool((p == 0.25).all())


@pytest.mark.parametrize("name, args", [("constant_", (0.3,)), ("ones_", ()), ("zeros_", ())])
def test_exact_fills(name, args):
    ours = getattr(init, name)(torchlite.empty(3, 4), *args)
    theirs = getattr(torch.nn.init, name)(torch.empty(3, 4), *args)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye(shape):
    ours = init.eye_(torchlite.empty(*shape))
    np.testing.assert_array_equal(ours.numpy(), torch.nn.init.eye_(torch.empty(*shape)).numpy())


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2),
                                           ((4, 2, 3, 3), 1), ((2, 4, 3, 3, 3), 1),
                                           ((3, 5, 4, 2), 1)])
def test_dirac(shape, groups):
    ours = init.dirac_(torchlite.empty(*shape), groups)
    theirs = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("fn, args", [("eye_", ((3,),)), ("eye_", ((2, 2, 2),)),
                                      ("dirac_", ((3, 3),)), ("dirac_", ((3, 2, 2), 2)),
                                      ("orthogonal_", ((3,),)), ("sparse_", ((3,), 0.5))])
def test_shape_errors(fn, args):
    shape, rest = args[0], args[1:]
    with pytest.raises(ValueError) as ours:
        getattr(init, fn)(torchlite.empty(*shape), *rest)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn.init, fn)(torch.empty(*shape), *rest)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(6, 6), (3, 7), (7, 3), (4, 2, 3)])
@pytest.mark.parametrize("gain", [1, 2.5])
def test_orthogonal(shape, gain):
    t = init.orthogonal_(torchlite.empty(*shape, dtype=torchlite.float64), gain=gain)
    m = t.numpy().reshape(shape[0], -1)
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(small, gain**2 * np.eye(small.shape[0]), atol=1e-10)


def test_orthogonal_empty_is_noop():
    t = torchlite.empty(0, 3)
    assert init.orthogonal_(t) is t


def test_sparse():
    t = init.sparse_(torchlite.empty(10, 200), sparsity=0.3, std=0.5)
    zeros = (t.numpy() == 0).sum(axis=0)
    assert (zeros == 3).all()
    nz = t.numpy()[t.numpy() != 0]
    assert abs(nz.std() - 0.5) < 0.05


@pytest.mark.parametrize("name, kwargs", [("uniform_", {}), ("normal_", {}),
                                          ("xavier_uniform_", {}), ("xavier_normal_", {}),
                                          ("kaiming_uniform_", {}), ("kaiming_normal_", {}),
                                          ("trunc_normal_", {}), ("orthogonal_", {}),
                                          ("sparse_", {"sparsity": 0.5})])
def test_generator_reproducible(name, kwargs):
    fills = []
    for _ in range(2):
        g = torchlite.Generator().manual_seed(7)
        fills.append(getattr(init, name)(torchlite.empty(8, 6), generator=g, **kwargs).numpy())
    np.testing.assert_array_equal(fills[0], fills[1])
    other = getattr(init, name)(torchlite.empty(8, 6), generator=torchlite.Generator()
                                .manual_seed(8), **kwargs).numpy()
    assert not np.array_equal(fills[0], other)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_zero_element_warns(name):
    t = torchlite.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert getattr(init, name)(t) is t


def test_trunc_normal_far_mean_warns():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(torchlite.empty(10), mean=10.0)


def test_deprecated_aliases():
    with pytest.warns(FutureWarning, match=r"`nn.init.uniform` is now deprecated in favor of "
                                           r"`nn.init.uniform_`"):
        init.uniform(torchlite.empty(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = init.constant(torchlite.empty(2), 3.0)
    assert t.tolist() == [3.0, 3.0]


def test_same_values_as_torch_for_exact_formula():
    # eye_ then mul through to_torch: checks the tensor round-trip used by other nn tests
    t = init.eye_(torchlite.empty(3, 3))
    assert torch.equal(to_torch(t), torch.eye(3))


@pytest.mark.skipif(not torchlite.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name, kwargs", [("kaiming_uniform_", {"a": math.sqrt(5)}),
                                          ("xavier_normal_", {}), ("trunc_normal_", {}),
                                          ("orthogonal_", {}), ("eye_", {}), ("zeros_", {})])
def test_init_on_cuda(name, kwargs):
    t = torchlite.nn.Parameter(torchlite.empty(64, 32, device="cuda"))
    assert getattr(init, name)(t, **kwargs) is t
    assert t.is_cuda and t.is_leaf and t.grad_fn is None
    ref = getattr(torch.nn.init, name)(torch.empty(64, 32), **kwargs)
    assert abs(float(t.std()) - float(ref.std())) < 0.2 * float(ref.std()) + 1e-6
