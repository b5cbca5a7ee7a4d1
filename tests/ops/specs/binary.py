"""Spec rows for torchlite/ops/binary.py: elementwise binary and ternary ops."""
import numpy as np

from ..opspec import ALL_REAL, FLOATS, INTS, ErrorInput, OpSpec, Sample, rand

BOOL = ("bool",)
SHAPES = [((), ()), ((4,), (4,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), ())]


# ---- value drawers: (rng, shape, dtype) -> array ------------------------------------------
def uniform(lo=-2.0, hi=2.0):
    return lambda rng, shape, dtype: rand(rng, shape, dtype, lo, hi)


def nonzero(lo=0.5, hi=2.0):
    """Values of either sign with magnitude in [lo, hi] (integers: 1..hi): safe divisors."""
    def draw(rng, shape, dtype):
        mag = rand(rng, shape, dtype, max(lo, 1) if np.dtype(dtype).kind in "iu" else lo, hi)
        return np.asarray(mag * rng.choice([-1, 1], size=shape)).astype(dtype)
    return draw


def ties(rng, shape, dtype):
    """Values on a coarse grid, so that equal pairs (ties) are common."""
    d = np.dtype(dtype)
    if d.kind == "b":
        return np.asarray(rng.integers(0, 2, size=shape)).astype(bool)
    grid = np.asarray(rng.integers(-2, 3, size=shape))
    return np.asarray(grid * 0.5 if d.kind == "f" else grid).astype(d)


def pairs(a=uniform(), b=None, scalars=(), scalar_first=(), kwargs=()):
    """Broadcasting pairs, then (tensor, scalar), (scalar, tensor) and keyword samples."""
    b = b or a

    def samples(rng, dtype):
        for sa, sb in SHAPES:
            yield Sample((a(rng, sa, dtype), b(rng, sb, dtype)), name=f"{sa}x{sb}")
        for s in scalars:
            yield Sample((a(rng, (2, 3), dtype), s), name=f"tensor-{s!r}")
        for s in scalar_first:
            yield Sample((s, b(rng, (2, 3), dtype)), name=f"{s!r}-tensor")
        for kw in kwargs:
            yield Sample((a(rng, (2, 3), dtype), b(rng, (3,), dtype)), kw, name=str(kw))
    return samples


def per_dtype(floats, ints):
    """Different samples for floating and integer dtypes."""
    return lambda rng, dtype: (floats if dtype.kind in "fc" else ints)(rng, dtype)


def ternary(a=uniform(), b=uniform(), c=uniform(), last_scalars=(), kwargs=({},)):
    shapes = [((), (), ()), ((4,), (4,), (4,)), ((2, 3), (3,), (2, 1)), ((3,), (), (1, 3))]

    def samples(rng, dtype):
        for kw in kwargs:
            for sa, sb, sc in shapes:
                yield Sample((a(rng, sa, dtype), b(rng, sb, dtype), c(rng, sc, dtype)), kw,
                             name=f"{sa}x{sb}x{sc}-{kw}")
        for s in last_scalars:
            yield Sample((a(rng, (2, 3), dtype), b(rng, (3,), dtype), s), name=f"scalar-{s!r}")
    return samples


def where_samples(rng, dtype):
    for sc, sa, sb in [((), (), ()), ((4,), (4,), (4,)), ((2, 3), (3,), (2, 1)),
                       ((2, 1), (3,), ())]:
        yield Sample((rand(rng, sc, "bool"), rand(rng, sa, dtype), rand(rng, sb, dtype)),
                     name=f"{sc}x{sa}x{sb}")
    cond = rand(rng, (2, 3), "bool")
    for x, y in [(rand(rng, (3,), dtype), 1.5), (2, rand(rng, (2, 3), dtype)), (1, 0),
                 (1.0, 0), (rand(rng, (3,), dtype), rand(rng, (3,), "int32"))]:
        yield Sample((cond, x, y), name=f"mixed-{type(x).__name__}-{type(y).__name__}")


def shift_samples(rng, dtype):
    for sa, sb in SHAPES:
        yield Sample((rand(rng, sa, dtype, -8, 8), rand(rng, sb, dtype, 0, 5)), name=f"{sa}x{sb}")
    width = np.dtype(dtype).itemsize * 8
    yield Sample((rand(rng, (4,), dtype, -8, 8), np.array([width, width + 3, -1, 1], dtype)),
                 name="out-of-range")
    yield Sample((rand(rng, (4,), dtype, -8, 8), 2), name="tensor-2")
    yield Sample((3, rand(rng, (4,), dtype, 0, 5)), name="3-tensor")


def close_samples(rng, dtype):
    a = rand(rng, (3, 4), dtype, -4, 4)
    noise = rand(rng, (3, 4), dtype, -1, 1) if np.dtype(dtype).kind == "f" else 0
    b = (a + noise * 1e-5 * rng.integers(0, 3, size=(3, 4))).astype(dtype)
    yield Sample((a, b), name="near")
    yield Sample((a, b), {"rtol": 0, "atol": 0}, name="exact")
    yield Sample((a, (a + 1).astype(dtype)), {"rtol": 0.3, "atol": 0.5}, name="loose")
    if np.dtype(dtype).kind == "f":
        c = np.array([np.nan, np.inf, -np.inf, 1.0, np.nan], dtype)
        d = np.array([np.nan, np.inf, np.inf, np.nan, 1.0], dtype)
        yield Sample((c, d), name="special")
        yield Sample((c, d), {"equal_nan": True}, name="equal_nan")


def equal_samples(rng, dtype):
    a = rand(rng, (2, 3), dtype)
    yield Sample((a, a.copy()), name="same")
    yield Sample((a, (a + 1).astype(dtype)), name="different")
    yield Sample((a, a[:1]), name="other-shape")


# ---- NumPy references ---------------------------------------------------------------------
def div_ref(a, b, rounding_mode=None):
    if rounding_mode == "floor":
        return np.floor_divide(a, b)
    q = np.true_divide(a, b)
    return np.trunc(q) if rounding_mode == "trunc" else q


def alpha_ref(np_op):
    """a op alpha * b, with alpha cast to b's dtype as PyTorch does."""
    def ref(a, b, alpha=1):
        if alpha != 1:
            b = b * np.asarray(alpha).astype(np.asarray(b).dtype)
        return np_op(a, b)
    return ref


def xlogy_ref(a, b):
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.where(np.isnan(b), np.nan, np.where(a == 0, 0.0, a * np.log(b)))


def lerp_ref(a, b, w):
    return a + w * (b - a)


# ---- error inputs -------------------------------------------------------------------------
F23, F4, I3 = np.ones((2, 3)), np.ones((4,)), np.arange(3)
B3, Z3 = np.array([True, False, True]), np.array([1, 0, 2])
BROADCAST = r"size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton " \
            r"dimension 1"


def broadcast_error(*extra, dtype=float):
    return ErrorInput((F23.astype(dtype), F4.astype(dtype)) + extra, {}, RuntimeError, BROADCAST)


def not_implemented(args, kernel, kwargs=None):
    return ErrorInput(args, kwargs or {}, NotImplementedError, f'"{kernel}" not implemented')


def type_error(args, name):
    return ErrorInput(args, {}, TypeError, f"argument '{name}' .* must be Tensor, not")


BOOL_SUB = "Subtraction, the `-` operator, with a bool tensor is not supported"
ZERO_DIV = ErrorInput((I3, Z3), {}, RuntimeError, "ZeroDivisionError")

SCALARS = (2, 1.5, True)
DIVISOR = nonzero(1.0, 3.0)
POW_FLOAT = pairs(uniform(0.5, 2.0), uniform(-2.0, 2.0), scalars=(2, 3, 0.5, -1.5, 0, True),
                  scalar_first=(2.5, 2))
POW_INT = pairs(uniform(-2, 2), uniform(0, 3), scalars=(2, 0, 0.5), scalar_first=(2, 1.5))


SPECS = [
    OpSpec("add", ref=alpha_ref(np.add), dtypes=ALL_REAL + BOOL, broadcast=True,
           samples=pairs(scalars=SCALARS, scalar_first=(3, 0.5), kwargs=({"alpha": 2},)),
           errors=(broadcast_error(),
                   ErrorInput((I3, I3), {"alpha": 1.5}, RuntimeError,
                              "For integral input tensors, argument alpha must not be a "
                              "floating point number"),
                   ErrorInput((F23, F23), {"alpha": True}, RuntimeError,
                              "Boolean alpha only supported for Boolean results"),
                   type_error((F23, "a"), "other"))),
    OpSpec("sub", ref=alpha_ref(np.subtract), dtypes=ALL_REAL, broadcast=True,
           samples=pairs(scalars=(2, 1.5), scalar_first=(3, 0.5), kwargs=({"alpha": -3},)),
           errors=(ErrorInput((B3, B3), {}, RuntimeError, "with two bool tensors is not "
                              "supported. Use the `\\^` or `logical_xor\\(\\)` operator instead"),
                   ErrorInput((I3, B3), {}, RuntimeError, BOOL_SUB),
                   ErrorInput((B3, 1), {}, RuntimeError, BOOL_SUB),
                   ErrorInput((F23, True), {}, RuntimeError, BOOL_SUB),
                   broadcast_error())),
    OpSpec("rsub", ref=lambda a, b, alpha=1: b - alpha * a, dtypes=ALL_REAL,
           samples=pairs(scalars=(2, 1.5), kwargs=({"alpha": 2},))),
    OpSpec("mul", ref=np.multiply, dtypes=ALL_REAL + BOOL, broadcast=True,
           samples=pairs(scalars=SCALARS, scalar_first=(3, -0.5)), errors=(broadcast_error(),)),
    OpSpec("div", ref=div_ref, dtypes=ALL_REAL, broadcast=True, domain=(1.0, 3.0),
           samples=pairs(uniform(), DIVISOR, scalars=(2, -1.5), scalar_first=(3, 0.5),
                         kwargs=({"rounding_mode": "trunc"}, {"rounding_mode": "floor"},
                                 {"rounding_mode": None})),
           errors=(ErrorInput((F23, F23), {"rounding_mode": "round"}, RuntimeError,
                              "div expected rounding_mode to be one of None, 'trunc', or "
                              "'floor' but found 'round'"),
                   ErrorInput((I3, Z3), {"rounding_mode": "floor"}, RuntimeError,
                              "ZeroDivisionError"),
                   ErrorInput((I3, Z3), {"rounding_mode": "trunc"}, RuntimeError,
                              "ZeroDivisionError"),
                   not_implemented((B3, B3), "div_floor_cpu", {"rounding_mode": "floor"}),
                   broadcast_error())),
    OpSpec("true_divide", ref=np.true_divide, dtypes=ALL_REAL, broadcast=True,
           domain=(1.0, 3.0), samples=pairs(uniform(), DIVISOR, scalars=(2, 0.5))),
    OpSpec("floor_divide", ref=np.floor_divide, dtypes=ALL_REAL, grad=False, broadcast=True,
           domain=(1.0, 3.0), samples=pairs(uniform(-4, 4), DIVISOR, scalars=(2, -1.5),
                                            scalar_first=(7, 2.5)),
           errors=(ZERO_DIV, not_implemented((B3, B3), "div_floor_cpu"))),
    OpSpec("remainder", ref=np.remainder, dtypes=ALL_REAL, broadcast=True, domain=(1.0, 3.0),
           samples=pairs(uniform(-4, 4), DIVISOR, scalars=(2, -1.5)),
           errors=(ZERO_DIV, not_implemented((B3, B3), "remainder_cpu"))),
    OpSpec("fmod", ref=np.fmod, dtypes=ALL_REAL, broadcast=True, domain=(1.0, 3.0),
           samples=pairs(uniform(-4, 4), DIVISOR, scalars=(2, -1.5)),
           errors=(ZERO_DIV, not_implemented((B3, B3), "fmod_cpu"),
                   ErrorInput((2.5, F4), {}, TypeError, "must be Tensor"))),
    OpSpec("pow", ref=np.power, dtypes=ALL_REAL, broadcast=True, domain=(0.5, 2.0),
           samples=per_dtype(POW_FLOAT, POW_INT),
           errors=(ErrorInput((I3, -1), {}, RuntimeError,
                              "Integers to negative integer powers are not allowed."),
                   ErrorInput((B3, -2), {}, RuntimeError,
                              "Integers to negative integer powers are not allowed."),
                   not_implemented((B3, B3), "pow"), broadcast_error(),
                   ErrorInput((F23, "a"), {}, TypeError, "must be Tensor, not str"))),
    OpSpec("float_power", ref=np.float_power, dtypes=ALL_REAL, broadcast=True,
           domain=(0.5, 2.0), samples=per_dtype(POW_FLOAT, POW_INT)),
    OpSpec("atan2", ref=np.arctan2, dtypes=ALL_REAL, broadcast=True, samples=pairs(),
           errors=(type_error((F23, 2), "other"), broadcast_error())),
    OpSpec("arctan2", ref=np.arctan2, broadcast=True, samples=pairs()),
    OpSpec("hypot", ref=np.hypot, broadcast=True, samples=pairs(),
           errors=(not_implemented((I3, I3), "hypot_cpu"), type_error((2, I3), "input"))),
    OpSpec("copysign", ref=np.copysign, dtypes=ALL_REAL, broadcast=True,
           samples=pairs(scalars=(-1, 2.5, -0.0))),
    OpSpec("xlogy", ref=xlogy_ref, dtypes=ALL_REAL, broadcast=True, domain=(0.2, 3.0),
           samples=pairs(uniform(-2, 2), uniform(0.2, 3.0), scalars=(2, 0.5),
                         scalar_first=(2, 0))),
    *(OpSpec(name, ref=ref, dtypes=ALL_REAL + BOOL, broadcast=True, samples=pairs(),
             errors=(type_error((F23, 2), "other"), broadcast_error()))
      for name, ref in (("maximum", np.maximum), ("minimum", np.minimum), ("fmax", np.fmax),
                        ("fmin", np.fmin))),
    *(OpSpec(name, ref=ref, dtypes=ALL_REAL + BOOL, grad=False, broadcast=True,
             samples=pairs(ties, scalars=(0, 0.5, True)),
             errors=(ErrorInput((F23, "a"), {}, TypeError, "must be Tensor"),
                     ErrorInput((2, F23), {}, TypeError, "must be Tensor"), broadcast_error()))
      for name, ref in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                        ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                        ("not_equal", np.not_equal), ("less", np.less),
                        ("less_equal", np.less_equal), ("greater", np.greater),
                        ("greater_equal", np.greater_equal))),
    *(OpSpec(name, ref=ref, dtypes=ALL_REAL + BOOL, grad=False, broadcast=True,
             samples=pairs(ties), errors=(type_error((F23, 1), "other"), broadcast_error()))
      for name, ref in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                        ("logical_xor", np.logical_xor))),
    *(OpSpec(name, ref=ref, dtypes=INTS + BOOL, grad=False,
             samples=pairs(uniform(-8, 8), scalars=(3, True), scalar_first=(5,)),
             errors=(not_implemented((F23, F23), f"{name}_cpu"),
                     not_implemented((I3, 1.5), f"{name}_cpu"), broadcast_error(dtype=int)))
      for name, ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                        ("bitwise_xor", np.bitwise_xor))),
    *(OpSpec(name, ref=ref, dtypes=INTS, grad=False, samples=shift_samples,
             errors=(not_implemented((F23, F23), f"{kernel}_cpu"),
                     not_implemented((B3, B3), f"{kernel}_cpu")))
      for name, ref, kernel in (("bitwise_left_shift", np.left_shift, "lshift"),
                                ("bitwise_right_shift", np.right_shift, "rshift"))),
    OpSpec("where", ref=np.where, dtypes=ALL_REAL + BOOL, samples=where_samples,
           errors=(ErrorInput((I3, F4, F4), {}, RuntimeError,
                              "where expected condition to be a boolean tensor, but got a "
                              "tensor with dtype Long"),
                   ErrorInput((np.ones((2, 3), bool), F4, 1.0), {}, RuntimeError, BROADCAST))),
    OpSpec("lerp", ref=lerp_ref, samples=ternary(last_scalars=(0.25, 0.75, 2, -1.0)),
           errors=(ErrorInput((F4, F4.astype(np.float32), 0.5), {}, RuntimeError,
                              "expected dtype double for `end` but got dtype float"),
                   ErrorInput((F4, F4, F4.astype(np.float32)), {}, RuntimeError,
                              "expected dtype double for `weight` but got dtype float"),
                   not_implemented((I3, I3, 0.5), "lerp_kernel_scalar"),
                   broadcast_error(0.5))),
    OpSpec("addcmul", ref=lambda a, b, c, value=1: a + value * b * c, dtypes=ALL_REAL,
           samples=ternary(kwargs=({}, {"value": 2}, {"value": -3})),
           errors=(not_implemented((B3, B3, B3), "addcmul_cpu_out"), broadcast_error(F4))),
    OpSpec("addcdiv", ref=lambda a, b, c, value=1: a + value * b / c,
           samples=ternary(c=nonzero(), kwargs=({}, {"value": 0.5}, {"value": -2})),
           errors=(ErrorInput((F4, I3[:1], I3[:1]), {}, RuntimeError,
                              "Integer division with addcdiv is no longer supported"),
                   broadcast_error(F4))),
    OpSpec("isclose", ref=np.isclose, dtypes=ALL_REAL + BOOL, grad=False,
           samples=close_samples,
           errors=(ErrorInput((F4, I3[:1]), {}, RuntimeError, "Double did not match Long"),
                   ErrorInput((F4, F4), {"rtol": -1.0}, RuntimeError,
                              "rtol must be greater than or equal to zero, but got -1$"),
                   ErrorInput((F4, F4), {"atol": -1.0}, RuntimeError,
                              "atol must be greater than or equal to zero"),
                   type_error((F4, 1.0), "other"))),
    OpSpec("allclose", ref=np.allclose, dtypes=ALL_REAL, grad=False, samples=close_samples,
           errors=(ErrorInput((F4, I3[:1]), {}, RuntimeError, "Double did not match Long"),)),
    OpSpec("equal", ref=lambda a, b: np.array_equal(a, b), dtypes=ALL_REAL + BOOL, grad=False,
           samples=equal_samples, errors=(type_error((F4, 1.0), "other"),)),
]
