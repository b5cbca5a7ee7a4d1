"""Unary-op behaviour the op-spec table cannot express: in-place variants, clamp's bounds and
their gradients, nan_to_num's defaults, rounding to decimals, half precision, erf accuracy."""
import inspect
import math

import numpy as np
import pytest

import torchlite
from torchlite.ops import unary

# name -> value range the op is defined on (for random inputs)
INPLACE = {
    "abs": (-2, 2), "absolute": (-2, 2), "neg": (-2, 2), "negative": (-2, 2),
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.1, 3), "log2": (0.1, 3),
    "log10": (0.1, 3), "log1p": (-0.5, 3), "sqrt": (0.1, 3), "rsqrt": (0.1, 3),
    "square": (-2, 2), "sin": (-2, 2), "cos": (-2, 2), "tan": (-1, 1), "asin": (-0.9, 0.9),
    "arcsin": (-0.9, 0.9), "acos": (-0.9, 0.9), "arccos": (-0.9, 0.9), "atan": (-2, 2),
    "arctan": (-2, 2), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-2, 2), "asinh": (-2, 2),
    "arcsinh": (-2, 2), "acosh": (1.1, 3), "arccosh": (1.1, 3), "atanh": (-0.9, 0.9),
    "arctanh": (-0.9, 0.9), "sigmoid": (-3, 3), "logit": (0.1, 0.9), "relu": (-2, 2),
    "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.9, 0.9), "floor": (-3, 3), "ceil": (-3, 3),
    "round": (-3, 3), "trunc": (-3, 3), "fix": (-3, 3), "frac": (-3, 3), "sign": (-2, 2),
    "sgn": (-2, 2), "reciprocal": (0.5, 2), "nan_to_num": (-2, 2), "deg2rad": (-90, 90),
    "rad2deg": (-2, 2),
}


def _pair(rng, low, high, shape=(2, 3), dtype=np.float32):
    x = rng.uniform(low, high, size=shape).astype(dtype)
    return x, torchlite.tensor(x)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_bumps_version_and_matches_torch(name, rng, torch_oracle):
    x, t = _pair(rng, *INPLACE[name])
    version = t._version
    out = getattr(t, name + "_")()
    assert out is t
    assert t._version == version + 1
    want = getattr(torch_oracle.tensor(x), name + "_")()
    np.testing.assert_allclose(t.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_top_level_function_exists_where_torch_has_it(name, torch_oracle):
    assert hasattr(torchlite, name + "_") == hasattr(torch_oracle, name + "_")


@pytest.mark.parametrize("method,args,kwargs", [
    ("clamp_", (-0.5, 0.5), {}), ("clip_", (), {"max": 0.1}), ("clamp_min_", (0.3,), {}),
    ("clamp_max_", (0.3,), {}), ("round_", (), {"decimals": 1}), ("logit_", (), {"eps": 0.3}),
    ("nan_to_num_", (), {"nan": 2.0})])
def test_inplace_with_arguments_matches_torch(method, args, kwargs, rng, torch_oracle):
    x, t = _pair(rng, 0.0, 1.0)
    want = torch_oracle.tensor(x)
    getattr(t, method)(*args, **kwargs)
    getattr(want, method)(*args, **kwargs)
    np.testing.assert_allclose(t.numpy(), want.numpy(), rtol=1e-6)
    top = getattr(torchlite, method)(torchlite.tensor(x), *args, **kwargs)
    np.testing.assert_allclose(top.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp", "relu", "clamp", "erf"])
def test_inplace_under_autograd_matches_torch_gradient(name, rng, torch_oracle):
    x, _ = _pair(rng, -2, 2, dtype=np.float64)
    grads = []
    for lib in (torchlite, torch_oracle):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 2
        args = (-1.0, 1.5) if name == "clamp" else ()
        getattr(y, name + "_")(*args)
        (y * y).sum().backward()
        grads.append(np.asarray(leaf.grad.numpy()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_inplace_errors_like_torch():
    ints = torchlite.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        ints.exp_()
    leaf = torchlite.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.sigmoid_()


# ---- clamp --------------------------------------------------------------------------------

def _clamp_grads(lib, x, lo, hi):
    """clamp's value and the gradients of sum(clamp * w) to x and to the tensor bounds."""
    xt = lib.tensor(x, requires_grad=True)
    bounds = [lib.tensor(b, requires_grad=True) if isinstance(b, np.ndarray) else b
              for b in (lo, hi)]
    out = lib.clamp(xt, *bounds)
    w = lib.tensor(np.linspace(1.0, 2.0, out.numel()).reshape(tuple(out.shape)))
    wrt = [xt] + [b for b in bounds if hasattr(b, "requires_grad")]
    return [out] + list(lib.autograd.grad((out * w).sum(), wrt))


CLAMP_CASES = {
    "scalar bounds hit exactly": (np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0]), -0.5, 1.0),
    "min > max": (np.array([-1.0, 0.0, 3.0]), 2.0, 1.0),
    "min == max": (np.array([-1.0, 1.0, 3.0]), 1.0, 1.0),
    "tensor bounds with ties": (np.array([-1.0, 0.0, 1.0, 2.0, 3.0]),
                                np.array([-1.0, 0.5, 0.5, 2.5, 0.0]),
                                np.array([0.0, 0.0, 1.0, 3.0, 3.0])),
    "tensor min > max": (np.array([-1.0, 0.0, 3.0]), np.array([2.0, 2.0, 2.0]),
                         np.array([1.0, -1.0, 1.0])),
    "tensor min == max": (np.array([-1.0, 1.0, 3.0]), np.array([1.0, 1.0, 1.0]),
                          np.array([1.0, 1.0, 1.0])),
    "broadcast tensor bounds": (np.linspace(-2, 2, 6).reshape(2, 3),
                                np.array([-1.0, 0.0, 0.5]), np.array([[0.2], [1.5]])),
    "tensor min only": (np.array([-1.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0]), None),
    "tensor max only": (np.array([-1.0, 0.0, 1.0]), None, np.array([0.0, 0.0, 0.0])),
}


@pytest.mark.parametrize("case", sorted(CLAMP_CASES))
def test_clamp_values_and_gradients_match_torch(case, torch_oracle):
    x, lo, hi = CLAMP_CASES[case]
    got = _clamp_grads(torchlite, x, lo, hi)
    want = _clamp_grads(torch_oracle, x, lo, hi)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(force=True))


def test_clamp_rejects_a_tensor_with_a_number(torch_oracle):
    for lib in (torchlite, torch_oracle):
        with pytest.raises(TypeError, match="clamp"):
            lib.clamp(lib.ones(3), lib.zeros(3), 2.0)


def test_clamp_dtype_promotion_matches_torch(torch_oracle):
    for x, lo, hi in [([1, 5, 9], 2, 6), ([1, 5, 9], 2.5, None),
                      ([1.0, 5.0], None, np.array(3, dtype=np.int64))]:
        a = torchlite.clamp(torchlite.tensor(x), torchlite.tensor(lo) if
                            isinstance(lo, np.ndarray) else lo,
                            torchlite.tensor(hi) if isinstance(hi, np.ndarray) else hi)
        b = torch_oracle.clamp(torch_oracle.tensor(x), torch_oracle.tensor(lo) if
                               isinstance(lo, np.ndarray) else lo,
                               torch_oracle.tensor(hi) if isinstance(hi, np.ndarray) else hi)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_clamp_without_bounds_is_an_error():
    x = torchlite.ones(3)
    for call in (lambda: torchlite.clamp(x), lambda: x.clip(), lambda: x.clamp_(None, None)):
        with pytest.raises(RuntimeError, match="torch.clamp: At least one of 'min' or 'max' "
                                               "must not be None"):
            call()


def test_clamp_propagates_nan(torch_oracle):
    x = [float("nan"), 0.5]
    np.testing.assert_array_equal(torchlite.clamp(torchlite.tensor(x), 0, 1).numpy(),
                                  torch_oracle.clamp(torch_oracle.tensor(x), 0, 1).numpy())


# ---- nan_to_num -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_nan_to_num_defaults_are_the_dtype_extremes(dtype, torch_oracle):
    values = [float("nan"), float("inf"), -float("inf"), 1.5, -0.0]
    got = torchlite.nan_to_num(torchlite.tensor(values, dtype=getattr(torchlite, dtype)))
    want = torch_oracle.nan_to_num(torch_oracle.tensor(values, dtype=getattr(torch_oracle,
                                                                               dtype)))
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


def test_nan_to_num_keeps_integers_and_takes_replacements(torch_oracle):
    ints = torchlite.nan_to_num(torchlite.tensor([1, -2]), nan=5.0)
    assert ints.dtype is torchlite.int64 and ints.tolist() == [1, -2]
    x = [float("nan"), float("inf"), -float("inf")]
    got = torchlite.nan_to_num(torchlite.tensor(x), 1.0, posinf=2.0, neginf=-3.0)
    assert got.tolist() == torch_oracle.nan_to_num(torch_oracle.tensor(x), 1.0, posinf=2.0,
                                                   neginf=-3.0).tolist()


# ---- round ----------------------------------------------------------------------------------

@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_decimals_matches_torch(decimals, dtype, rng, torch_oracle):
    x = np.concatenate([rng.uniform(-1000, 1000, 50), [0.125, 0.375, 2.5, -2.5, 0.5, 1.005,
                                                       250.0, -150.0, 1234.5]]).astype(dtype)
    got = torchlite.round(torchlite.tensor(x), decimals=decimals).numpy()
    want = torch_oracle.round(torch_oracle.tensor(x), decimals=decimals).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == "float32" else 1e-12)


def test_round_rejects_non_int_decimals():
    with pytest.raises(TypeError, match="decimals"):
        torchlite.round(torchlite.ones(2), decimals=1.5)


# ---- gradients that PyTorch defines by convention --------------------------------------------

@pytest.mark.parametrize("name", ["abs", "relu", "floor", "ceil", "round", "trunc", "sign",
                                  "sgn", "frac", "clamp"])
def test_gradient_at_kinks_matches_torch(name, torch_oracle):
    x = [-1.5, -1.0, 0.0, 0.5, 1.0, 2.0]
    grads = []
    for lib in (torchlite, torch_oracle):
        t = lib.tensor(x, requires_grad=True)
        out = lib.clamp(t, 0.0, 1.0) if name == "clamp" else getattr(lib, name)(t)
        (g,) = lib.autograd.grad(out.sum(), t)
        assert g is not None
        grads.append(g.numpy(force=True))  # torch.sgn's gradient is a ZeroTensor
    np.testing.assert_array_equal(grads[0], grads[1])


SPECIAL = [-40.0, -3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 3.7, 40.0, float("nan"),
           float("inf"), -float("inf")]
DIFFERENTIABLE = ["abs", "neg", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
                  "rsqrt", "square", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                  "tanh", "asinh", "acosh", "atanh", "sigmoid", "logit", "relu", "erf", "erfc",
                  "erfinv", "floor", "ceil", "round", "trunc", "frac", "sign", "sgn",
                  "reciprocal", "nan_to_num", "deg2rad", "rad2deg"]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_at_special_values_match_torch(name, torch_oracle):
    """NaN, infinities, zeros and domain edges: the same values and gradients as PyTorch."""
    results = []
    for lib in (torchlite, torch_oracle):
        t = lib.tensor(SPECIAL, dtype=lib.float64, requires_grad=True)
        out = getattr(lib, name)(t)
        (g,) = lib.autograd.grad(out.sum(), t)
        results.append((out.detach().numpy(), g.numpy(force=True)))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf",
                                  "isreal", "signbit", "logical_not"])
def test_predicates_return_bool_and_are_not_differentiable(name):
    x = torchlite.tensor([float("nan"), float("inf"), -1.0, 0.0], requires_grad=True)
    out = getattr(torchlite, name)(x)
    assert out.dtype is torchlite.bool and not out.requires_grad


def test_grad_fn_names_match_torch(torch_oracle):
    names = ["abs", "neg", "exp", "log1p", "sqrt", "rsqrt", "sin", "asin", "sigmoid", "logit",
             "relu", "erf", "erfc", "erfinv", "floor", "round", "sign", "sgn", "frac",
             "reciprocal", "nan_to_num", "deg2rad", "rad2deg", "trunc"]
    for name in names:
        a = getattr(torchlite, name)(torchlite.tensor([0.5], requires_grad=True))
        b = getattr(torch_oracle, name)(torch_oracle.tensor([0.5], requires_grad=True))
        assert a.grad_fn.name() == b.grad_fn.name()


# ---- dtypes ---------------------------------------------------------------------------------

FLOAT_OPS = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
             "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "atanh",
             "sigmoid", "logit", "erf", "erfc", "erfinv", "reciprocal", "deg2rad", "rad2deg"]


@pytest.mark.parametrize("name", FLOAT_OPS + ["abs", "neg", "square", "relu", "floor", "ceil",
                                              "round", "trunc", "frac", "sign"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_computes_in_its_dtype(name, dtype, rng, torch_oracle):
    x = rng.uniform(0.1, 0.9, 8)
    got = getattr(torchlite, name)(torchlite.tensor(x, dtype=getattr(torchlite, dtype)))
    want = getattr(torch_oracle, name)(torch_oracle.tensor(x, dtype=getattr(torch_oracle,
                                                                             dtype)))
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("name", FLOAT_OPS)
def test_integer_inputs_give_the_default_float_dtype(name):
    x = torchlite.tensor([0, 1])
    assert getattr(torchlite, name)(x).dtype is torchlite.float32
    torchlite.set_default_dtype(torchlite.float64)
    try:
        assert getattr(torchlite, name)(x).dtype is torchlite.float64
    finally:
        torchlite.set_default_dtype(torchlite.float32)


@pytest.mark.parametrize("name", ["abs", "neg", "floor", "ceil", "round", "trunc", "sign",
                                  "square", "relu", "bitwise_not", "nan_to_num", "positive"])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_integer_preserving_ops_match_torch(name, dtype, torch_oracle):
    x = [0, 1, 5, 100] if dtype == "uint8" else [-100, -5, -1, 0, 1, 5, 100]
    got = getattr(torchlite, name)(torchlite.tensor(x, dtype=getattr(torchlite, dtype)))
    want = getattr(torch_oracle, name)(torch_oracle.tensor(x, dtype=getattr(torch_oracle,
                                                                            dtype)))
    assert str(got.dtype) == str(want.dtype)
    assert got.tolist() == want.tolist()


def test_bool_inputs_match_torch(torch_oracle):
    x = [True, False]
    for name in ["sign", "sgn", "square", "logical_not", "bitwise_not", "nan_to_num", "exp",
                 "sqrt", "signbit", "isnan"]:
        got = getattr(torchlite, name)(torchlite.tensor(x))
        want = getattr(torch_oracle, name)(torch_oracle.tensor(x))
        assert str(got.dtype) == str(want.dtype), name
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-6)


# ---- operators ------------------------------------------------------------------------------

def test_operators_match_torch(torch_oracle):
    f = torchlite.tensor([-1.5, 0.0, 2.0])
    i = torchlite.tensor([-3, 0, 4])
    assert abs(f).tolist() == [1.5, 0.0, 2.0]
    assert (-f).tolist() == [1.5, -0.0, -2.0]
    assert (+f) is f and torchlite.positive(f) is f
    assert (~i).tolist() == (~torch_oracle.tensor([-3, 0, 4])).tolist()
    assert (~torchlite.tensor([True, False])).tolist() == [False, True]
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer"):
        ~f
    with pytest.raises(RuntimeError, match=r"The `\+` operator, on a bool tensor"):
        +torchlite.tensor([True])
    with pytest.raises(RuntimeError, match=r"Negation, the `-` operator, on a bool tensor"):
        -torchlite.tensor([True])


# ---- numerics -------------------------------------------------------------------------------

def test_erf_and_erfc_are_float64_accurate():
    x = np.concatenate([np.linspace(-8, 8, 20001), np.linspace(-30, 30, 601),
                        [0.46875, -0.46875, 4.0, -4.0, 1e-300, -1e-20, 0.0]])
    erf = torchlite.erf(torchlite.tensor(x)).numpy()
    erfc = torchlite.erfc(torchlite.tensor(x)).numpy()
    want_erf = np.array([math.erf(v) for v in x])
    want_erfc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erf, want_erf, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(erfc, want_erfc, rtol=2e-15, atol=1e-300)


def test_erf_special_values():
    x = torchlite.tensor([float("inf"), -float("inf"), float("nan")], dtype=torchlite.float64)
    assert np.array_equal(torchlite.erf(x).numpy(), [1.0, -1.0, np.nan], equal_nan=True)
    assert np.array_equal(torchlite.erfc(x).numpy(), [0.0, 2.0, np.nan], equal_nan=True)


def test_erfinv_inverts_erf_and_matches_torch(torch_oracle):
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 4001), [1e-300, 1 - 1e-12, -1.0, 1.0,
                                                                  1.5, np.nan]])
    got = torchlite.erfinv(torchlite.tensor(y)).numpy()
    finite = np.isfinite(got)
    np.testing.assert_allclose([math.erf(v) for v in got[finite]], y[finite], rtol=1e-15,
                               atol=3e-16)
    want = torch_oracle.erfinv(torch_oracle.tensor(y)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_sigmoid_is_stable_for_large_inputs(torch_oracle):
    x = [-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4]
    for dtype in ("float16", "float32", "float64"):
        got = torchlite.sigmoid(torchlite.tensor(x, dtype=getattr(torchlite, dtype)))
        want = torch_oracle.sigmoid(torch_oracle.tensor(x, dtype=getattr(torch_oracle, dtype)))
        assert not np.isnan(got.float().numpy()).any()
        # float32 sigmoid(-100) is a subnormal 3.8e-44; PyTorch flushes it to 0
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-6,
                                   atol=1e-40)


def test_sign_of_nan_is_zero_like_torch(torch_oracle):
    x = [float("nan"), -2.0, 0.0, 3.0]
    assert torchlite.sign(torchlite.tensor(x)).tolist() == \
        torch_oracle.sign(torch_oracle.tensor(x)).tolist()


# ---- the op metadata ------------------------------------------------------------------------

def test_every_function_has_a_label_and_a_backward_rule():
    for _, cls in inspect.getmembers(unary, inspect.isclass):
        if issubclass(cls, torchlite.autograd.Function) and cls.__module__ == unary.__name__:
            if cls.__name__.startswith("_"):
                continue
            assert cls.label, cls.__name__
            assert cls.backward_rule or not cls.differentiable, cls.__name__
