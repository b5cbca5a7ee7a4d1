"""Binary ops beyond the spec table: Python operators (plain, reflected, in-place), version
counters, scalar-first forms, type promotion against torch.result_type, gradient tie-breaking."""
import operator

import numpy as np
import pytest

import torchlite
from torchlite.autograd import gradcheck

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64"]
SCALARS = [True, 3, -2, 2.5, 1j]


def _values(dtype, shape=(3,), seed=0):
    """Small nonzero values of a dtype (safe divisors and exponents)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.ones(shape, bool)
    vals = rng.integers(1, 4, size=shape)
    if dtype == "uint8":
        return vals.astype(np.uint8)
    return np.asarray(vals * (1.5 if dtype[0] in "fc" else 1)).astype(dtype)


def _pair(x):
    """The same operand for torchlite and for torch (arrays become tensors)."""
    if isinstance(x, np.ndarray):
        return torchlite.tensor(x), torch.tensor(x)
    return x, x


def _same(got, want, what=""):
    assert str(got.dtype) == str(want.dtype), f"{what}: dtype {got.dtype} != {want.dtype}"
    assert tuple(got.shape) == tuple(want.shape), what
    np.testing.assert_allclose(np.asarray(got._host()).astype(np.complex128),
                               want.numpy().astype(np.complex128), rtol=1e-3, atol=1e-3,
                               equal_nan=True, err_msg=what)


def _named(name):
    """``torch.<name>`` or ``torchlite.<name>``, by the library of the tensor operands."""
    def call(x, y):
        lib = torch if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor) else torchlite
        return getattr(lib, name)(x, y)
    return call


def _both(fn, a, b):
    """Run ``fn`` on torchlite and torch operands: same result, or the same exception type."""
    (ta, pa), (tb, pb) = _pair(a), _pair(b)
    try:
        want = fn(pa, pb)
    except Exception as e:  # noqa: BLE001  (the oracle's exception type is the expectation)
        with pytest.raises(type(e)):
            fn(ta, tb)
        return None
    got = fn(ta, tb)
    _same(got, want, f"{fn} {a!r} {b!r}")
    return got


# ---- type promotion ------------------------------------------------------------------------
def _operand_grid():
    for d in DTYPES:
        yield pytest.param(_values(d), id=f"{d}[3]")
        yield pytest.param(_values(d, ()), id=f"{d}[]")
    for s in SCALARS:
        yield pytest.param(s, id=repr(s))


GRID = list(_operand_grid())


def _complex_half(a, b):
    """float16 with complex gives torch's complex32, a dtype torchlite does not have."""
    kinds = {np.result_type(x).kind if isinstance(x, np.ndarray) else type(x).__name__
             for x in (a, b)}
    half = any(isinstance(x, np.ndarray) and x.dtype == np.float16 for x in (a, b))
    return half and kinds & {"c", "complex"}


@pytest.mark.parametrize("b", GRID)
@pytest.mark.parametrize("a", [p for p in GRID if isinstance(p.values[0], np.ndarray)])
def test_result_type_matches_torch(a, b):
    if _complex_half(a, b):
        pytest.skip("torch gives complex32 (ComplexHalf), which torchlite does not have")
    (ta, pa), (tb, pb) = _pair(a), _pair(b)
    assert str(torchlite.result_type(ta, tb)) == str(torch.result_type(pa, pb))


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.truediv, operator.pow,
                                operator.eq, operator.lt, torchlite.maximum, torchlite.atan2,
                                torchlite.remainder, torchlite.copysign, torchlite.xlogy,
                                torchlite.bitwise_and, torchlite.logical_xor],
                         ids=lambda f: getattr(f, "__name__", str(f)))
@pytest.mark.parametrize("b", GRID[::2])
@pytest.mark.parametrize("a", [p for p in GRID if isinstance(p.values[0], np.ndarray)][::3])
def test_op_promotion_matches_torch(op, a, b):
    """Result dtypes (or the exception type) of binary ops over a grid of dtypes and scalars."""
    if _complex_half(a, b):
        pytest.skip("torch gives complex32 (ComplexHalf), which torchlite does not have")
    _both(op if op.__module__ == "_operator" else _named(op.__name__), a, b)


# ---- Python operators ----------------------------------------------------------------------
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
             operator.mod, operator.pow, operator.and_, operator.or_, operator.xor,
             operator.lshift, operator.rshift, operator.eq, operator.ne, operator.lt,
             operator.le, operator.gt, operator.ge]
INPLACE = [operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv,
           operator.imod, operator.ipow, operator.iand, operator.ior, operator.ixor,
           operator.ilshift, operator.irshift]
OPERANDS = [("float32", 2.5), ("float32", "float64"), ("int64", 3), ("int64", "int32"),
            ("int32", 1.5), ("bool", True), ("bool", "int64"), ("float64", "int64")]


def _operand(spec, shape):
    return _values(spec, shape, seed=1) if isinstance(spec, str) else spec


@pytest.mark.parametrize("a,b", OPERANDS, ids=str)
@pytest.mark.parametrize("op", OPERATORS, ids=lambda f: f.__name__)
def test_operators_match_torch(op, a, b):
    x, y = _values(a, (2, 3)), _operand(b, (3,))
    _both(op, x, y)
    _both(op, y, x)  # reflected form when ``y`` is a scalar


@pytest.mark.parametrize("a,b", OPERANDS, ids=str)
@pytest.mark.parametrize("op", INPLACE, ids=lambda f: f.__name__)
def test_inplace_operators_match_torch(op, a, b):
    """``x op= y`` writes into x (same object, version bumped) or raises torch's error type."""
    x, y = _values(a, (2, 3)), _operand(b, (3,))
    (tx, px), (ty, py) = _pair(x), _pair(y)
    try:
        want = op(px, py)
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)):
            op(tx, ty)
        return
    version = tx._version
    got = op(tx, ty)
    assert got is tx and tx._version == version + 1
    _same(got, want, f"{op.__name__} {a} {b}")


def test_inplace_int_with_float_result_raises():
    t = torchlite.tensor([1, 2, 3])
    msg = "result type Float can't be cast to the desired output type Long"
    for fn in (lambda: t.add_(1.5), lambda: t.div_(2), lambda: t.__iadd__(torchlite.ones(3)),
               lambda: t.pow_(0.5), lambda: t.mul_(torchlite.tensor([1.0]))):
        with pytest.raises(RuntimeError, match=msg):
            fn()
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired "
                                           "output type Bool"):
        torchlite.tensor([True]).add_(1)
    assert t.tolist() == [1, 2, 3] and t._version == 0


def test_number_plus_tensor_and_sum_of_tensors():
    n = 1
    n += torchlite.tensor([1.0, 2.0])
    assert isinstance(n, torchlite.Tensor) and n.tolist() == [2.0, 3.0]
    xs = [torchlite.tensor([float(i), 1.0], requires_grad=True) for i in range(3)]
    total = sum(x * x for x in xs)
    assert total.tolist() == [5.0, 3.0]
    total.sum().backward()
    assert xs[2].grad.tolist() == [4.0, 2.0]


def test_operators_with_other_types():
    t = torchlite.tensor([1.0, 2.0])
    assert (t == None) is False and (t != "a") is True  # noqa: E711
    for bad in ("a", None, [1, 2], object()):
        with pytest.raises(TypeError):
            t + bad
        with pytest.raises(TypeError):
            bad * t
        with pytest.raises(TypeError):
            t < bad
    assert hash(t) == hash(t) and len({t, torchlite.tensor([1.0, 2.0])}) == 2
    assert {t: 1}[t] == 1


def test_numpy_scalars_act_as_python_scalars():
    t = torchlite.ones(2)
    for s in (np.float64(2.0), np.int64(2), np.float32(2.0)):
        for r in (t * s, s * t, torchlite.mul(t, s), t + s - 1):
            assert r.dtype is torchlite.float32 and r.tolist() == [2.0, 2.0]
    assert (torchlite.ones(2, dtype=torchlite.int64) * np.float32(2.5)).dtype is \
        torchlite.float32


# ---- in-place method variants ------------------------------------------------------------
INPLACE_METHODS = [
    ("add_", (1.5,), {"alpha": 2}), ("sub_", ("t",), {"alpha": 0.5}), ("mul_", ("t",), {}),
    ("div_", ("t",), {}), ("div_", ("t",), {"rounding_mode": "floor"}),
    ("true_divide_", (2,), {}), ("remainder_", (1.5,), {}),
    ("fmod_", ("t",), {}), ("pow_", (2,), {}), ("pow_", ("t",), {}), ("atan2_", ("t",), {}),
    ("arctan2_", ("t",), {}), ("hypot_", ("t",), {}), ("copysign_", (-1,), {}),
    ("xlogy_", ("t",), {}), ("lerp_", ("t", 0.3), {}), ("lerp_", ("t", "t"), {}),
    ("addcmul_", ("t", "t"), {"value": 0.5}), ("addcdiv_", ("t", "t"), {"value": 2}),
    ("subtract_", ("t",), {}), ("multiply_", ("t",), {}), ("divide_", ("t",), {}),
    ("float_power_", (2,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", INPLACE_METHODS,
                         ids=[f"{n}-{i}" for i, (n, *_r) in enumerate(INPLACE_METHODS)])
def test_inplace_methods_match_torch_with_grad(name, args, kwargs):
    """On a non-leaf: values, version bump, and gradients to every input, as in torch."""
    rng = np.random.default_rng(3)
    base = rng.uniform(0.5, 2.0, size=(2, 3))
    others = [rng.uniform(0.5, 2.0, size=(3,)) if a == "t" else a for a in args]

    def run(lib):
        x = lib.tensor(base, requires_grad=True)
        ys = [lib.tensor(o, requires_grad=True) if isinstance(o, np.ndarray) else o
              for o in others]
        z = x * 1
        out = getattr(z, name)(*ys, **kwargs)
        assert out is z and z._version == 1
        z.sum().backward()
        leaves = [x] + [y for y in ys if isinstance(y, lib.Tensor)]
        return z, [leaf.grad for leaf in leaves]

    z, grads = run(torchlite)
    want, want_grads = run(torch)
    _same(z.detach(), want.detach(), name)
    for g, w in zip(grads, want_grads):
        assert (g is None) == (w is None)
        if g is not None:
            _same(g, w, f"{name} grad")


def test_inplace_on_leaf_and_view():
    x = torchlite.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.add_(1)
    base = torchlite.zeros(2, 3)
    row = base[0]
    row.mul_(2).add_(1)
    assert base.tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]] and base._version == 2


def test_float_power_inplace_requires_double():
    with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float but "
                                           "the operation's result requires dtype Double"):
        torchlite.ones(2).float_power_(2)
    with pytest.raises(RuntimeError, match="has dtype Long"):
        torchlite.ones(2, dtype=torchlite.int64).float_power_(2)
    t = torchlite.full((2,), 3.0, dtype=torchlite.float64)
    assert t.float_power_(2).tolist() == [9.0, 9.0]


def test_inplace_broadcast_to_larger_shape_raises():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        torchlite.ones(3).add_(torchlite.ones(2, 3))


# ---- scalar-first forms and aliases --------------------------------------------------------
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "true_divide", "floor_divide",
                                  "remainder", "pow", "float_power", "xlogy", "bitwise_and",
                                  "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift", "fmod", "copysign", "eq", "atan2",
                                  "maximum", "hypot", "logical_and"])
@pytest.mark.parametrize("scalar", [2, 1.5])
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_scalar_first_forms(name, scalar, dtype):
    """``torch.op(number, tensor)``: same values and dtype, or the same exception type."""
    _both(_named(name), scalar, _values(dtype, (4,)))


@pytest.mark.parametrize("alias,name", [("subtract", "sub"), ("multiply", "mul"),
                                        ("divide", "div"), ("arctan2", "atan2"),
                                        ("greater", "gt"), ("greater_equal", "ge"),
                                        ("less", "lt"), ("less_equal", "le"),
                                        ("not_equal", "ne")])
def test_aliases(alias, name):
    assert getattr(torchlite, alias) is getattr(torchlite, name)
    assert getattr(torchlite.Tensor, alias) is getattr(torchlite.Tensor, name)
    assert hasattr(torch, alias)


def test_rsub():
    t = torchlite.tensor([1.0, 2.0])
    assert torchlite.rsub(t, 5, alpha=2).tolist() == [3.0, 1.0]


# ---- gradients: ties, NaN, zero bases, rounding ---------------------------------------------
def _grads(lib, fn, *arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ts)
    seed = lib.tensor(np.arange(1.0, 1.0 + out.numel()).reshape(tuple(out.shape)))
    return out, lib.autograd.grad(out, ts, seed, allow_unused=True)


def _grads_match(fn, *arrays):
    out, grads = _grads(torchlite, fn, *arrays)
    want, want_grads = _grads(torch, fn, *arrays)
    _same(out.detach(), want.detach(), "value")
    for g, w in zip(grads, want_grads):
        assert (g is None) == (w is None)
        if g is not None:
            _same(g, w, "grad")


NAN = float("nan")
TIES_A = np.array([1.0, 2.0, 3.0, NAN, 1.0, NAN, -0.0])
TIES_B = np.array([1.0, 1.0, 4.0, 1.0, NAN, NAN, 0.0])


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_minmax_gradient_ties_and_nan(name):
    _grads_match(lambda lib, a, b: getattr(lib, name)(a, b), TIES_A, TIES_B)
    _grads_match(lambda lib, a, b: getattr(lib, name)(a, b), TIES_A.reshape(7, 1)[:3],
                 TIES_B[:3])


@pytest.mark.parametrize("expr", [
    lambda lib, a, b: a ** b, lambda lib, a, b: lib.pow(a, 2) + b,
    lambda lib, a, b: lib.pow(a, 1) * b, lambda lib, a, b: a ** 0 + b ** 3,
    lambda lib, a, b: lib.pow(0.0, b) + a, lambda lib, a, b: lib.pow(0, b * b) + a,
    lambda lib, a, b: lib.float_power(a, b), lambda lib, a, b: lib.pow(-2.0, b) + a,
    lambda lib, a, b: a ** -1.5 + b,
])
def test_pow_gradient_at_zero_base(expr):
    """No NaN for exponents >= 1 at base 0; exponent gradient 0 there (torch's masking)."""
    _grads_match(expr, np.array([0.0, 0.0, 0.0, 0.0, 2.0, -1.5]),
                 np.array([0.0, 1.0, 2.0, 0.5, -1.0, 2.0]))


def test_pow_double_backward_at_zero():
    a = torchlite.tensor([0.0, 0.0, 1.5], dtype=torchlite.float64, requires_grad=True)
    b = torchlite.tensor([2.0, 3.0, 2.0], dtype=torchlite.float64, requires_grad=True)
    (ga,) = torchlite.autograd.grad((a ** b).sum(), a, create_graph=True)
    (gga,) = torchlite.autograd.grad(ga.sum(), a)
    assert np.isfinite(gga.tolist()).all() and gga.tolist() == [2.0, 0.0, 2.0]


@pytest.mark.parametrize("expr", [
    lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    lambda lib, a, b: lib.remainder(a, b), lambda lib, a, b: lib.fmod(a, b),
    lambda lib, a, b: a % 1.5 + b, lambda lib, a, b: lib.copysign(a, b),
    lambda lib, a, b: lib.xlogy(a, b), lambda lib, a, b: lib.where(a > b, a, b),
    lambda lib, a, b: lib.where(a > 0, 2.0, b), lambda lib, a, b: lib.lerp(a, b, 0.75),
    lambda lib, a, b: lib.lerp(a, b, a), lambda lib, a, b: lib.atan2(a, b),
    lambda lib, a, b: lib.hypot(a, b), lambda lib, a, b: lib.addcdiv(a, a, b, value=-2),
])
def test_gradients_match_torch(expr):
    _grads_match(expr, np.array([0.0, -0.0, 1.5, -2.5, 3.0, 0.0]),
                 np.array([-1.0, 2.0, 0.0, -2.0, 1.0, 0.0]))


def test_not_differentiable_forms():
    a = torchlite.tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not "
                                           "implemented"):
        (a // 2).sum().backward()
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide"):
        (a * 1).floor_divide_(2).sum().backward()
    for fn, kernel in ((torchlite.remainder, "remainder"),):
        with pytest.raises(RuntimeError, match=f"derivative for aten::{kernel} is not "
                                               "implemented"):
            fn(3.0, a).sum().backward()
    assert not (a < 2).requires_grad and not torchlite.isclose(a, a).requires_grad
    assert not torchlite.bitwise_and(torchlite.tensor([1]), 3).requires_grad


def test_where_gradcheck_with_broadcast_condition():
    cond = torchlite.tensor([[True], [False]])
    a = torchlite.tensor(np.random.default_rng(0).uniform(size=(2, 3)), requires_grad=True)
    b = torchlite.tensor([1.0, 2.0, 3.0], dtype=torchlite.float64, requires_grad=True)
    assert gradcheck(lambda x, y: torchlite.where(cond, x, y), (a, b))


# ---- integer semantics -----------------------------------------------------------------------
INT_A = np.array([7, -7, 7, -7, 0, 5, -5, 9], dtype=np.int64)
INT_B = np.array([2, 2, -2, -2, 3, 5, 3, -4], dtype=np.int64)


@pytest.mark.parametrize("fn", [
    lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), lambda lib, a, b: a // b,
    lambda lib, a, b: a % b, lambda lib, a, b: lib.fmod(a, b), lambda lib, a, b: a / b,
    lambda lib, a, b: lib.div(a.to(lib.int32), 2, rounding_mode="trunc"),
    lambda lib, a, b: lib.pow(a, b), lambda lib, a, b: lib.pow(b, a.abs() % 3),
    lambda lib, a, b: lib.pow(2, b), lambda lib, a, b: a << (b.abs() * 20),
    lambda lib, a, b: a >> (b.abs() * 20), lambda lib, a, b: a << -1,
])
def test_integer_semantics_match_torch(fn):
    want = fn(torch, torch.tensor(INT_A), torch.tensor(INT_B))
    got = fn(torchlite, torchlite.tensor(INT_A), torchlite.tensor(INT_B))
    _same(got, want)
    assert got.tolist() == want.tolist()


def test_int_pow_negative_exponents():
    a = np.array([0, -1, 1, 2, -2, -1, 1], dtype=np.int64)
    b = np.array([-1, -1, -2, -1, -3, -2, -5], dtype=np.int64)
    want = torch.tensor(a) ** torch.tensor(b)
    assert (torchlite.tensor(a) ** torchlite.tensor(b)).tolist() == want.tolist()
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        torchlite.tensor([2, 3]) ** -1


def test_float_floor_and_trunc_division_match_torch():
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-10, 10, size=200), rng.choice([-3.0, -0.7, 0.7, 3.0, 0.0], size=200)
    for mode in ("trunc", "floor"):
        want = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        _same(torchlite.div(torchlite.tensor(a), torchlite.tensor(b), rounding_mode=mode), want)
    _same(torchlite.tensor(a) % torchlite.tensor(b), torch.tensor(a) % torch.tensor(b))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor",
                                  "bitwise_left_shift", "bitwise_right_shift", "logical_and",
                                  "eq", "lt"])
@pytest.mark.parametrize("sa,sb", [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (4,)), ((3, 1, 2), (2,))])
def test_integer_ops_broadcast(name, sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.integers(-8, 8, size=sa), rng.integers(0, 5, size=sb)
    _both(_named(name), np.asarray(a), np.asarray(b))


# ---- where, lerp, addcmul, isclose, equal ---------------------------------------------------
def test_where_single_argument_is_nonzero():
    c = np.array([[True, False], [False, True]])
    got = torchlite.where(torchlite.tensor(c))
    want = torch.where(torch.tensor(c))
    assert isinstance(got, tuple) and [g.tolist() for g in got] == [w.tolist() for w in want]


def test_where_uint8_condition_warns_and_tensor_method():
    c = np.array([1, 0, 1], np.uint8)
    with pytest.warns(UserWarning, match="where received a uint8 condition tensor"):
        got = torchlite.where(torchlite.tensor(c), 1, 2)
    assert got.dtype is torchlite.int64 and got.tolist() == [1, 2, 1]
    x = torchlite.tensor([1.0, 2.0, 3.0])
    assert x.where(x > 1.5, 0.0).tolist() == [0.0, 2.0, 3.0]


def test_lerp_weight_forms():
    a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([[4.0], [5.0]])
    ta, tb = torchlite.tensor(a.numpy()), torchlite.tensor(b.numpy())
    for w in (0.0, 1.0, 0.5, 2, torch.tensor(0.25, dtype=torch.float64),
              torch.tensor([0.1, 0.9, 0.5])):
        tw = torchlite.tensor(w.numpy()) if isinstance(w, torch.Tensor) else w
        _same(torchlite.lerp(ta, tb, tw), torch.lerp(a, b, w))


def test_equal_and_allclose():
    a = torchlite.tensor([1.0, 2.0])
    assert torchlite.equal(a, torchlite.tensor([1, 2])) is True
    assert torchlite.equal(a, torchlite.tensor([1.0])) is False
    assert torchlite.equal(a, torchlite.tensor([[1.0, 2.0]])) is False
    assert a.allclose(a + 1e-9) is True and a.equal(a) is True
    assert torchlite.allclose(a, a + 1, atol=1.0) is True


def test_addcmul_addcdiv_promote():
    i = torchlite.tensor([1, 2, 3])
    f = torchlite.tensor([0.5, 1.0, 2.0])
    assert torchlite.addcmul(i, i, i).dtype is torchlite.int64
    assert torchlite.addcdiv(i, f, f, value=2).tolist() == [3.0, 4.0, 5.0]
    assert torchlite.addcmul(f, i, i, value=0.5).dtype is torchlite.float32


def test_alpha_on_bool():
    b = torchlite.tensor([True, False])
    assert torchlite.add(b, b, alpha=True).tolist() == [True, False]
    assert torchlite.add(b, b, alpha=2).dtype is torchlite.bool


@pytest.mark.parametrize("name", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_",
                                  "logical_and_", "logical_or_", "logical_xor_"])
def test_inplace_comparisons_gradient(name):
    """``y.lt_(0)`` on a float non-leaf: zero gradient behind it, as in torch (whose in-place
    logical ops keep the old history instead: matched too)."""
    def run(lib):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        y = x * 2
        getattr(y, name)(lib.tensor([2.0, -4.0, 0.0]))
        (y * x).sum().backward()
        return y, x.grad

    (y, g), (want_y, want_g) = run(torchlite), run(torch)
    _same(y.detach(), want_y.detach(), name)
    _same(g, want_g, name)
