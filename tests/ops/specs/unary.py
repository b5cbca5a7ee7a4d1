"""Spec rows for torchlite/ops/unary.py."""
import math

import numpy as np

from ..opspec import ALL_REAL, FLOATS, INTS, ErrorInput, OpSpec, Sample, rand, unary_samples

BOOL = ("bool",)
_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


def _erfinv_one(y):
    """erfinv by bisection on math.erf: slow, simple and exact to float64."""
    if abs(y) >= 1:
        return math.copysign(math.inf, y) if abs(y) == 1 else math.nan
    lo, hi = -6.0, 6.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erf(mid) < y else (lo, mid)
    return (lo + hi) / 2


_erfinv = np.vectorize(_erfinv_one, otypes=[float])


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(np.asarray(x, dtype=np.float64) / 2))


def _logit(x, eps=None):
    x = np.asarray(x, dtype=np.float64)
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _sign(x):
    """PyTorch's sign: 0 for NaN, bool stays bool."""
    return x.copy() if x.dtype == bool else np.nan_to_num(np.sign(x))


def _round(x, decimals=0):
    if decimals >= 0:
        return np.rint(x * 10.0 ** decimals) / 10.0 ** decimals
    return np.rint(x / 10.0 ** -decimals) * 10.0 ** -decimals


def _clamp(x, lo=None, hi=None):
    out = x if lo is None else np.maximum(x, lo)
    return out if hi is None else np.minimum(out, hi)


def _with_specials(rng, np_dtype, specials=(np.nan, np.inf, -np.inf, -0.0)):
    """Random values with NaN, +-inf and -0.0 planted (floating dtypes)."""
    yield from unary_samples(rng, np_dtype)
    x = rand(rng, (2, 4), np_dtype)
    if np.dtype(np_dtype).kind == "f":
        x[0, :len(specials)] = specials
    yield Sample((x,), name="specials")


def _sign_samples(rng, np_dtype):
    """Specials without zero: sign jumps there, so finite differences would not be 0."""
    return _with_specials(rng, np_dtype, (np.nan, np.inf, -np.inf))


def _large_samples(rng, np_dtype):
    """Default samples plus large magnitudes, where a naive sigmoid overflows."""
    yield from unary_samples(rng, np_dtype)
    yield Sample((np.array([-1000, -60, -20, 20, 60, 1000], dtype=np_dtype),), name="large")


def _logit_samples(rng, np_dtype):
    yield from unary_samples(rng, np_dtype, (0.1, 0.9))
    x = rand(rng, (3, 4), np_dtype, 0.02, 0.98)
    yield Sample((x,), {"eps": 0.2}, name="eps")


def _round_samples(rng, np_dtype):
    yield from unary_samples(rng, np_dtype, (-5.0, 5.0))
    if np.dtype(np_dtype).kind == "f":
        yield Sample((rand(rng, (2, 3), np_dtype, -5.0, 5.0),), {"decimals": 2}, name="dec=2")
        yield Sample((rand(rng, (4,), np_dtype, -900, 900),), {"decimals": -2}, name="dec=-2")


def _clamp_samples(rng, np_dtype):
    x = rand(rng, (2, 3), np_dtype, -3.0, 3.0)
    integer = np.dtype(np_dtype).kind in "iu"
    yield Sample((x, -1 if integer else -0.8, 1 if integer else 1.3), name="scalars")
    yield Sample((x, -0.5, None), name="min float")
    yield Sample((x, None, 1), name="max int")
    yield Sample((x, 2, -1), name="min > max")
    yield Sample((x, rand(rng, (2, 3), np_dtype), rand(rng, (3,), np_dtype, 0.0, 3.0)),
                 name="tensors")
    yield Sample((x, rand(rng, (2, 3), np_dtype), rand(rng, (2, 3), np_dtype)),
                 name="tensors, some min > max")
    yield Sample((rand(rng, (3,), np_dtype), None, rand(rng, (2, 1), np_dtype)),
                 name="max tensor broadcast")


def _bound_samples(rng, np_dtype):
    x = rand(rng, (2, 3), np_dtype, -3.0, 3.0)
    yield Sample((x, 0.5), name="scalar")
    yield Sample((x, rand(rng, (3,), np_dtype)), name="tensor")


def _nan_to_num_samples(rng, np_dtype):
    for sample in _with_specials(rng, np_dtype):
        yield sample
        yield Sample(sample.args, {"nan": 1.5, "posinf": 9.0, "neginf": -7.0},
                     name=sample.name + " custom")


def _bools(shape=(2, 2)):
    return np.array([True, False, True, False]).reshape(shape)


def _dtype_error(args, exc, match, **kwargs):
    return (ErrorInput(args, kwargs, exc, match),)


_NOT_FOR_BOOL = _dtype_error((_bools(),), NotImplementedError, "not implemented for 'Bool'")


def _unary(name, ref, **kw):
    """A differentiable float-result unary row: ints accepted (they give the default float)."""
    kw.setdefault("dtypes", ALL_REAL)
    return OpSpec(name, ref=ref, **kw)


def _test(name, ref, dtypes=ALL_REAL + BOOL, samples=_with_specials, **kw):
    """A predicate row: bool results, not differentiable."""
    return OpSpec(name, ref=ref, dtypes=dtypes, grad=False, samples=samples, **kw)


SPECS = [
    _unary("abs", np.abs, errors=_NOT_FOR_BOOL),
    _unary("absolute", np.abs),
    _unary("neg", np.negative, errors=_dtype_error((_bools(),), RuntimeError,
                                                   r"Negation, the `-` operator, on a bool")),
    _unary("negative", np.negative),
    _unary("positive", lambda x: x, errors=_dtype_error(
        (_bools(),), RuntimeError, r"The `\+` operator, on a bool tensor is not supported")),
    _unary("exp", np.exp),
    _unary("exp2", np.exp2),
    _unary("expm1", np.expm1),
    _unary("log", np.log, domain=(0.1, 3.0)),
    _unary("log2", np.log2, domain=(0.1, 3.0)),
    _unary("log10", np.log10, domain=(0.1, 3.0)),
    _unary("log1p", np.log1p, domain=(-0.5, 3.0)),
    _unary("sqrt", np.sqrt, domain=(0.1, 3.0)),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), domain=(0.1, 3.0)),
    _unary("square", np.square),
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tan", np.tan, domain=(-1.2, 1.2)),
    _unary("asin", np.arcsin, domain=(-0.9, 0.9)),
    _unary("arcsin", np.arcsin, domain=(-0.9, 0.9)),
    _unary("acos", np.arccos, domain=(-0.9, 0.9)),
    _unary("arccos", np.arccos, domain=(-0.9, 0.9)),
    _unary("atan", np.arctan),
    _unary("arctan", np.arctan),
    _unary("sinh", np.sinh),
    _unary("cosh", np.cosh),
    _unary("tanh", np.tanh, samples=_large_samples),
    _unary("asinh", np.arcsinh),
    _unary("arcsinh", np.arcsinh),
    _unary("acosh", np.arccosh, domain=(1.1, 3.0)),
    _unary("arccosh", np.arccosh, domain=(1.1, 3.0)),
    _unary("atanh", np.arctanh, domain=(-0.9, 0.9)),
    _unary("arctanh", np.arctanh, domain=(-0.9, 0.9)),
    _unary("sigmoid", _sigmoid, samples=_large_samples),
    _unary("logit", _logit, samples=_logit_samples),
    _unary("relu", lambda x: np.maximum(x, 0), errors=_dtype_error(
        (_bools(),), RuntimeError, "Boolean inputs not supported for relu")),
    _unary("erf", _erf, samples=_large_samples),
    _unary("erfc", _erfc, samples=_large_samples),
    _unary("erfinv", _erfinv, domain=(-0.9, 0.9)),
    _unary("floor", np.floor, domain=(-5.0, 5.0), errors=_NOT_FOR_BOOL),
    _unary("ceil", np.ceil, domain=(-5.0, 5.0), errors=_NOT_FOR_BOOL),
    _unary("trunc", np.trunc, domain=(-5.0, 5.0), errors=_NOT_FOR_BOOL),
    _unary("fix", np.trunc, domain=(-5.0, 5.0)),
    _unary("round", _round, samples=_round_samples, errors=_NOT_FOR_BOOL + _dtype_error(
        (np.arange(3),), NotImplementedError, r'"round_cpu" not implemented for \'Long\'',
        decimals=2)),
    _unary("frac", lambda x: x - np.trunc(x), dtypes=FLOATS, domain=(-5.0, 5.0),
           errors=_dtype_error((np.arange(3),), NotImplementedError,
                               r'"frac_cpu" not implemented for \'Long\'')),
    _unary("sign", _sign, dtypes=ALL_REAL + BOOL, samples=_sign_samples, errors=_dtype_error(
        (np.array([1 + 1j]),), NotImplementedError, "torch.sign is not intended to support "
        "complex numbers. Please use torch.sgn instead")),
    # torch.sgn's gradient is a ZeroTensor, which the oracle test cannot read: compare with sign
    _unary("sgn", _sign, dtypes=ALL_REAL + BOOL, samples=_sign_samples,
           torch_op=lambda torch: torch.sign),
    _unary("reciprocal", lambda x: 1 / x, domain=(0.2, 2.0)),
    _unary("clamp", _clamp, samples=_clamp_samples, errors=_dtype_error(
        (np.ones(3),), RuntimeError, "At least one of 'min' or 'max' must not be None")),
    _unary("clip", _clamp, samples=_clamp_samples),
    _unary("clamp_min", lambda x, lo: _clamp(x, lo), samples=_bound_samples),
    _unary("clamp_max", lambda x, hi: _clamp(x, None, hi), samples=_bound_samples),
    _unary("nan_to_num", np.nan_to_num, samples=_nan_to_num_samples),
    _unary("deg2rad", np.deg2rad, domain=(-360.0, 360.0)),
    _unary("rad2deg", np.rad2deg),
    _test("isnan", np.isnan),
    _test("isinf", np.isinf),
    _test("isfinite", np.isfinite),
    _test("isposinf", np.isposinf),
    _test("isneginf", np.isneginf),
    _test("isreal", np.isreal),
    _test("signbit", np.signbit, errors=_dtype_error(
        (np.array([1 + 1j]),), NotImplementedError, "signbit is not implemented for complex")),
    _test("logical_not", np.logical_not),
    _test("bitwise_not", np.invert, dtypes=INTS + BOOL, samples=unary_samples,
          errors=_dtype_error((np.ones(3),), NotImplementedError,
                              r'"bitwise_not_cpu" not implemented for \'Double\'')),
]
