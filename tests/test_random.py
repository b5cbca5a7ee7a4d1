"""Random numbers: reproducibility, generator isolation and state, moments within statistical
tolerance, shapes/dtypes/ranges, and PyTorch's errors. Streams differ from PyTorch's (by design:
torchlite draws from NumPy's PCG64), so values are never compared with torch."""
import copy
import pickle

import numpy as np
import pytest

import torchlite

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is missing")
N = 20000


@pytest.fixture(autouse=True)
def _seeded():
    torchlite.manual_seed(0)


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _sampler_calls():
    return {
        "rand": lambda g: torchlite.rand(5, 3, generator=g),
        "randn": lambda g: torchlite.randn(7, generator=g),
        "randint": lambda g: torchlite.randint(0, 10, (6,), generator=g),
        "randperm": lambda g: torchlite.randperm(9, generator=g),
        "normal": lambda g: torchlite.normal(torchlite.zeros(4), 2.0, generator=g),
        "bernoulli": lambda g: torchlite.bernoulli(torchlite.full((8,), 0.5), generator=g),
        "multinomial": lambda g: torchlite.multinomial(torchlite.ones(6), 3, generator=g),
        "poisson": lambda g: torchlite.poisson(torchlite.full((5,), 3.0), generator=g),
        "normal_": lambda g: torchlite.empty(5).normal_(generator=g),
        "uniform_": lambda g: torchlite.empty(5).uniform_(-1, 1, generator=g),
        "exponential_": lambda g: torchlite.empty(5).exponential_(generator=g),
        "random_": lambda g: torchlite.empty(5).random_(0, 100, generator=g),
        "geometric_": lambda g: torchlite.empty(5).geometric_(0.3, generator=g),
        "cauchy_": lambda g: torchlite.empty(5).cauchy_(generator=g),
        "log_normal_": lambda g: torchlite.empty(5).log_normal_(generator=g),
        "bernoulli_": lambda g: torchlite.empty(5).bernoulli_(0.3, generator=g),
    }


@pytest.mark.parametrize("name", list(_sampler_calls()))
def test_same_seed_same_stream(name):
    call = _sampler_calls()[name]
    a = call(torchlite.Generator().manual_seed(42))
    b = call(torchlite.Generator().manual_seed(42))
    c = call(torchlite.Generator().manual_seed(43))
    assert a.tolist() == b.tolist()
    if name not in ("bernoulli_",):
        assert a.tolist() != c.tolist()


def test_global_seed_reproduces():
    torchlite.manual_seed(123)
    a = [torchlite.rand(3), torchlite.randn(3), torchlite.randint(5, (3,))]
    torchlite.manual_seed(123)
    b = [torchlite.rand(3), torchlite.randn(3), torchlite.randint(5, (3,))]
    assert all(x.tolist() == y.tolist() for x, y in zip(a, b))


def test_manual_seed_returns_default_generator():
    g = torchlite.manual_seed(5)
    assert g is torchlite.default_generator
    assert torchlite.initial_seed() == 5 and g.initial_seed() == 5
    assert isinstance(g, torchlite.Generator)
    assert torchlite.manual_seed(-1).initial_seed() == 2 ** 64 - 1  # as in PyTorch


def test_default_initial_seed_is_torchs():
    assert torchlite.Generator().initial_seed() == 67280421310721


def test_seed_is_nondeterministic():
    s1, s2 = torchlite.seed(), torchlite.seed()
    assert s1 != s2 and torchlite.initial_seed() == s2


def test_generator_isolation():
    g = torchlite.Generator().manual_seed(1)
    first = torchlite.rand(4, generator=g).tolist()
    g.manual_seed(1)
    torchlite.rand(100)  # the default stream moves; g's does not
    assert torchlite.rand(4, generator=g).tolist() == first


def test_state_roundtrip():
    g = torchlite.Generator().manual_seed(9)
    torchlite.randn(3, generator=g)
    state = g.get_state()
    assert state.dtype is torchlite.uint8 and state.ndim == 1
    a = torchlite.randn(5, generator=g).tolist()
    g.set_state(state)
    assert torchlite.randn(5, generator=g).tolist() == a
    rng_state = torchlite.get_rng_state()
    b = torchlite.rand(5).tolist()
    torchlite.set_rng_state(rng_state)
    assert torchlite.rand(5).tolist() == b


def test_generator_pickles_with_its_state():
    g = torchlite.Generator().manual_seed(3)
    torchlite.rand(2, generator=g)
    for h in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert torchlite.rand(4, generator=h).tolist() == \
            torchlite.rand(4, generator=copy.deepcopy(g)).tolist()
        assert h.device == torchlite.device("cpu")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_rand_and_randn_moments(dtype):
    dt = getattr(torchlite, dtype)
    u = torchlite.rand(N, dtype=dt)
    assert u.dtype is dt and u.shape == (N,)
    x = _np(u)
    assert x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.01 and abs(x.var() - 1 / 12) < 0.005
    z = _np(torchlite.randn(N, dtype=dt))
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03


def test_complex_randn_has_unit_variance():
    z = torchlite.randn(N, dtype=torchlite.complex64).numpy()
    assert abs(np.var(z.real) - 0.5) < 0.03 and abs(np.var(z.imag) - 0.5) < 0.03


def test_randint_range_and_uniformity():
    t = torchlite.randint(3, 10, (N,))
    assert t.dtype is torchlite.int64
    counts = np.bincount(t.numpy(), minlength=10)
    assert counts[:3].sum() == 0
    assert np.all(np.abs(counts[3:] / N - 1 / 7) < 0.015)
    assert torchlite.randint(5, (2, 3)).shape == (2, 3)
    assert torchlite.randint(high=5, size=(2,)).max().item() < 5
    assert torchlite.randint(2, (4,), dtype=torchlite.float32).dtype is torchlite.float32
    assert torchlite.randint_like(torchlite.zeros(3), 2, 5).dtype is torchlite.float32


def test_randperm_is_permutation():
    p = torchlite.randperm(50)
    assert p.dtype is torchlite.int64 and sorted(p.tolist()) == list(range(50))
    assert torchlite.randperm(4, dtype=torchlite.float32).dtype is torchlite.float32
    assert torchlite.randperm(0).shape == (0,)


def test_normal_forms():
    mean = torchlite.full((N,), 3.0)
    x = _np(torchlite.normal(mean, 2.0))
    assert abs(x.mean() - 3) < 0.06 and abs(x.std() - 2) < 0.05
    y = _np(torchlite.normal(1.0, torchlite.full((N,), 0.5)))
    assert abs(y.mean() - 1) < 0.02 and abs(y.std() - 0.5) < 0.02
    z = torchlite.normal(torchlite.zeros(2, 1), torchlite.ones(3))
    assert z.shape == (2, 3)
    w = torchlite.normal(-1.0, 0.1, (N,))
    assert w.shape == (N,) and abs(_np(w).mean() + 1) < 0.01
    assert torchlite.normal(0.0, 1.0, size=(2,), dtype=torchlite.float64).dtype is \
        torchlite.float64
    assert torchlite.normal(torchlite.zeros(2, dtype=torchlite.float64), 1.0).dtype is \
        torchlite.float64


def test_normal_gradients_are_zero_like_torch():
    m = torchlite.zeros(3, requires_grad=True)
    s = torchlite.ones(3, requires_grad=True)
    out = torchlite.normal(m, s)
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    assert m.grad.tolist() == [0, 0, 0] and s.grad.tolist() == [0, 0, 0]


def test_bernoulli_frequency_and_dtype():
    p = torchlite.full((N,), 0.3)
    b = torchlite.bernoulli(p)
    assert b.dtype is torchlite.float32 and set(b.unique().tolist()) <= {0.0, 1.0}
    assert abs(_np(b).mean() - 0.3) < 0.015
    assert abs(_np(torchlite.bernoulli(torchlite.zeros(N), p=0.8)).mean() - 0.8) < 0.015
    assert abs(_np(p.bernoulli()).mean() - 0.3) < 0.015
    assert abs(_np(torchlite.zeros(N).bernoulli_(p)).mean() - 0.3) < 0.015


def test_multinomial_frequencies():
    probs = torchlite.tensor([0.1, 0.2, 0.0, 0.7])
    s = torchlite.multinomial(probs, N, replacement=True)
    assert s.dtype is torchlite.int64 and s.shape == (N,)
    freq = np.bincount(s.numpy(), minlength=4) / N
    assert freq[2] == 0 and np.all(np.abs(freq - [0.1, 0.2, 0.0, 0.7]) < 0.015)
    rows = torchlite.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert torchlite.multinomial(rows, 4, True).tolist() == [[0] * 4, [2] * 4]
    draws = torchlite.multinomial(torchlite.tensor([[1.0, 2, 3, 4]]).expand(N, 4), 2)
    assert draws.shape == (N, 2)
    assert np.all(draws.numpy()[:, 0] != draws.numpy()[:, 1])  # without replacement
    first = np.bincount(draws.numpy()[:, 0], minlength=4) / N
    assert np.all(np.abs(first - [0.1, 0.2, 0.3, 0.4]) < 0.015)
    perm = torchlite.multinomial(torchlite.ones(5), 5)
    assert sorted(perm.tolist()) == [0, 1, 2, 3, 4]


def test_poisson_moments():
    x = _np(torchlite.poisson(torchlite.full((N,), 4.0)))
    assert abs(x.mean() - 4) < 0.1 and abs(x.var() - 4) < 0.25


def test_in_place_fills():
    t = torchlite.empty(N)
    assert t.normal_(2.0, 0.5) is t
    assert abs(_np(t).mean() - 2) < 0.02 and abs(_np(t).std() - 0.5) < 0.02
    x = _np(t.uniform_(-2, 4))
    assert x.min() >= -2 and x.max() < 4 and abs(x.mean() - 1) < 0.05
    x = _np(t.exponential_(2.0))
    assert x.min() >= 0 and abs(x.mean() - 0.5) < 0.02
    x = _np(t.random_(3, 7))
    assert set(np.unique(x)) == {3, 4, 5, 6}
    x = _np(t.random_(5))
    assert set(np.unique(x)) == {0, 1, 2, 3, 4}
    x = _np(t.geometric_(0.25))
    assert x.min() >= 1 and abs(x.mean() - 4) < 0.15
    x = _np(t.log_normal_(0.0, 0.25))
    assert x.min() > 0 and abs(np.log(x).mean()) < 0.01
    x = _np(t.cauchy_(1.0, 0.1))
    assert abs(np.median(x) - 1) < 0.01
    ints = torchlite.zeros(N, dtype=torchlite.uint8).random_()
    assert ints.numpy().max() > 250 and ints.dtype is torchlite.uint8
    assert set(torchlite.zeros(100, dtype=torchlite.bool).random_().tolist()) == {False, True}


def test_in_place_fill_bumps_version_and_is_not_differentiable():
    t = torchlite.zeros(3)
    v = t._version
    t.uniform_()
    assert t._version > v
    leaf = torchlite.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.normal_()
    with torchlite.no_grad():
        leaf.normal_()
    assert leaf.is_leaf
    y = leaf * 2
    y.uniform_()
    y.sum().backward()
    assert leaf.grad.tolist() == [0, 0, 0]


def test_like_functions_and_arguments():
    x = torchlite.zeros(2, 3, dtype=torchlite.float64)
    for t in (torchlite.rand_like(x), torchlite.randn_like(x), torchlite.randint_like(x, 4)):
        assert t.shape == (2, 3) and t.dtype is torchlite.float64
    r = torchlite.rand(2, requires_grad=True, dtype=torchlite.float64, device="cpu")
    assert r.requires_grad and r.is_leaf and r.dtype is torchlite.float64
    assert torchlite.rand((2, 3)).shape == (2, 3) and torchlite.randn([4]).shape == (4,)
    assert torchlite.rand(torchlite.Size([2, 2])).shape == (2, 2)


# Bad calls: the same exception type as PyTorch, and a message naming the problem.
ERRORS = {
    "rand_int": (lambda m: m.rand(2, dtype=m.int64), "not implemented for 'Long'"),
    "randn_int": (lambda m: m.randn(2, dtype=m.int64), "not implemented for 'Long'"),
    "rand_like_int": (lambda m: m.rand_like(m.zeros(2, dtype=m.long)), "'Long'"),
    "rand_negative": (lambda m: m.rand(-1), "negative dimension"),
    "rand_bad_generator": (lambda m: m.rand(2, generator=5), "generator"),
    "randint_empty_range": (lambda m: m.randint(5, 5, (2,)), "from=5 >= to=5"),
    "randint_bool_range": (lambda m: m.randint(3, (2,), dtype=m.bool), "out of bounds for bool"),
    "randint_uint8_range": (lambda m: m.randint(0, 300, (2,), dtype=m.uint8),
                            "out of bounds for unsigned char"),
    "randperm_negative": (lambda m: m.randperm(-1), "negative dimension"),
    "normal_negative_std": (lambda m: m.normal(m.zeros(3), -1.0), "std >= 0.0"),
    "normal_float_negative_std": (lambda m: m.normal(0.0, -1.0, (2,)), "std >= 0.0"),
    "normal_no_size": (lambda m: m.normal(0.0, 1.0), "normal"),
    "normal_shapes": (lambda m: m.normal(m.zeros(3), m.ones(2)), "must match the size"),
    "normal_int_mean": (lambda m: m.normal(m.zeros(2, dtype=m.long), m.ones(2)), "'Long'"),
    "bernoulli_p_tensor": (lambda m: m.bernoulli(m.tensor([1.5])), "p_in >= 0 && p_in <= 1"),
    "bernoulli_p": (lambda m: m.bernoulli(m.tensor([0.5]), p=1.5), "p to be in \\[0, 1\\]"),
    "bernoulli_int": (lambda m: m.bernoulli(m.tensor([1, 0])), "'Long'"),
    "bernoulli_inplace_p": (lambda m: m.zeros(3).bernoulli_(1.5), "p=1.5"),
    "multinomial_too_many": (lambda m: m.multinomial(m.tensor([1.0, 1.0]), 3),
                             "cannot sample n_sample > prob_dist.size\\(-1\\) samples without "
                             "replacement"),
    "multinomial_negative": (lambda m: m.multinomial(m.tensor([-1.0, 1.0]), 1),
                             "`inf`, `nan` or element < 0"),
    "multinomial_nan": (lambda m: m.multinomial(m.tensor([1.0, float("nan")]), 1), "`nan`"),
    "multinomial_zero_sum": (lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1),
                             "sum of probabilities <= 0"),
    "multinomial_3d": (lambda m: m.multinomial(m.zeros(2, 2, 2), 1), "1 or 2 dim"),
    "multinomial_int": (lambda m: m.multinomial(m.tensor([1, 2]), 1), "floating-point dtypes"),
    "multinomial_zero_samples": (lambda m: m.multinomial(m.tensor([1.0, 2]), 0),
                                 "n_sample <= 0"),
    "poisson_negative": (lambda m: m.poisson(m.tensor([-1.0])), "non-negative"),
    "normal__int": (lambda m: m.zeros(3, dtype=m.long).normal_(), "'Long'"),
    "uniform__int": (lambda m: m.zeros(3, dtype=m.long).uniform_(), "'Long'"),
    "uniform__range": (lambda m: m.zeros(3).uniform_(2, 1), "from=2 > to=1"),
    "random__range": (lambda m: m.zeros(3).random_(5, 2), "from=5 >= to=2"),
    "exponential__lambda": (lambda m: m.zeros(3).exponential_(-1), "lambda > 0.0"),
    "geometric__p": (lambda m: m.zeros(3).geometric_(0), "p to be in \\(0, 1\\)"),
    "leaf_inplace": (lambda m: m.zeros(3, requires_grad=True).normal_(), "leaf Variable"),
    "seed_overflow": (lambda m: m.manual_seed(2 ** 64), "Overflow"),
    "seed_str": (lambda m: m.manual_seed("a"), "invalid literal"),
    "state_float": (lambda m: m.set_rng_state(m.zeros(3)), "ByteTensor"),
    "state_size": (lambda m: m.set_rng_state(m.zeros(3, dtype=m.uint8)), "size"),
    "state_list": (lambda m: m.set_rng_state([1]), "ByteTensor"),
}


@needs_torch
@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    call, match = ERRORS[name]
    state = torch.get_rng_state()
    try:
        with pytest.raises(Exception) as expected:
            call(torch)
    finally:
        torch.set_rng_state(state)
    with pytest.raises(expected.type, match=match):
        call(torchlite)
