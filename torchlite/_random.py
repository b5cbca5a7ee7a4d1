"""Random numbers: Generator, the default generator, sampling functions and in-place fills.

A Generator wraps NumPy's PCG64 bit generator: the same seed gives the same stream in
torchlite, but the numbers differ from PyTorch's (Philox / mt19937), as documented.
Samples are drawn on the host and moved to the tensor's device, so a seed gives the same
values on every device. Sampling is not differentiable: functions whose parameters are
tensors (normal, bernoulli, poisson) give those parameters zero gradients, like PyTorch.
"""
import builtins
import os

import numpy as np

from . import _creation, _device, _dtype
from ._tensor import Tensor, _make
from .autograd.function import Function
from .ops._inplace import inplace
from .ops._registry import export, function, method

_DEFAULT_SEED = 67280421310721  # PyTorch's default initial seed
_U64 = 1 << 64
_STATE_BYTES = (8, 16, 16, 1, 4)  # seed, PCG64 state, increment, has_uint32, uinteger
_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
            "int16": "short", "int32": "int", "int64": "long"}


def _seed_value(seed):
    seed = builtins.int(seed)
    if not -(1 << 63) <= seed < _U64:
        raise ValueError("Overflow when unpacking long long")
    return seed % _U64


class Generator:
    """A random stream (torch.Generator): seed it, save and restore its state."""

    def __init__(self, device="cpu"):
        self._device = _device.device(device)
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed):
        """Restart the stream from ``seed``; returns the generator."""
        self._seed = _seed_value(seed)
        self._np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Seed from the OS's entropy; returns the new seed."""
        seed = builtins.int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor (torchlite's own layout, not PyTorch's)."""
        st = self._np.bit_generator.state
        values = (self._seed, st["state"]["state"], st["state"]["inc"], st["has_uint32"],
                  st["uinteger"])
        raw = b"".join(v.to_bytes(n, "little") for v, n in zip(values, _STATE_BYTES))
        return _make(np.frombuffer(raw, np.uint8).copy(), _device.CPU)

    def set_state(self, new_state):
        """Restore a state returned by get_state; returns the generator."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = bytes(new_state._host())
        if len(raw) != sum(_STATE_BYTES):
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {sum(_STATE_BYTES)} "
                               f"but found the input RNG state size to be {len(raw)}")
        values, pos = [], 0
        for n in _STATE_BYTES:
            values.append(builtins.int.from_bytes(raw[pos:pos + n], "little"))
            pos += n
        self.manual_seed(values[0])
        self._np.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": values[1], "inc": values[2]},
            "has_uint32": values[3], "uinteger": values[4]}
        return self

    def __reduce__(self):
        return (_rebuild_generator, (str(self._device), self.get_state()))


def _rebuild_generator(device, state):
    return Generator(device).set_state(state)


default_generator = Generator()


@function
def manual_seed(seed):
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


@function
def seed():
    return default_generator.seed()


@function
def initial_seed():
    return default_generator.initial_seed()


@function
def get_rng_state():
    return default_generator.get_state()


@function
def set_rng_state(new_state):
    default_generator.set_state(new_state)


# ---- sampling on the host --------------------------------------------------------------------
def _rng(generator, op):
    if generator is None:
        return default_generator._np
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}(): argument 'generator' must be torch.Generator, not "
                        f"{type(generator).__name__}")
    return generator._np


def _not_implemented(kernel, dt):
    if not (dt.is_floating_point or dt.is_complex):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt._short}'")


def _uniform(rng, shape, dt):
    """Uniform [0, 1) in ``dt``: low-precision floats from exact multiples of 2**-digits."""
    if dt.is_complex:
        real = dt.to_real()
        return _uniform(rng, shape, real) + 1j * _uniform(rng, shape, real)
    if dt in (_dtype.float32, _dtype.float64):
        return rng.random(shape, dtype=dt.np)
    digits = 11 if dt is _dtype.float16 else 8
    return (rng.integers(0, 1 << digits, shape) * 2.0 ** -digits).astype(dt.np)


def _standard_normal(rng, shape, dt):
    if dt.is_complex:  # PyTorch: real and imaginary parts each have variance 1/2
        real = dt.to_real()
        scale = np.sqrt(0.5)
        return scale * (_standard_normal(rng, shape, real) +
                        1j * _standard_normal(rng, shape, real))
    if dt is _dtype.float64:
        return rng.standard_normal(shape)
    return rng.standard_normal(shape, dtype=np.float32).astype(dt.np)


def _sampler(draw):
    """A ``make(xp, shape, np_dtype)`` for _creation's factory, drawing on the host."""
    return lambda xp, shape, npd: xp.asarray(draw(shape, _dtype.from_numpy_dtype(npd)))


@function
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples on [0, 1)."""
    rng = _rng(generator, "rand")
    dt = _creation.dtype_arg("rand", dtype)
    _not_implemented("check_uniform_bounds", dt)
    return _creation._factory("rand", size, dt, device, requires_grad,
                              _sampler(lambda s, d: _uniform(rng, s, d)))


@function
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    rng = _rng(generator, "randn")
    dt = _creation.dtype_arg("randn", dtype)
    _not_implemented("normal_kernel_cpu", dt)
    return _creation._factory("randn", size, dt, device, requires_grad,
                              _sampler(lambda s, d: _standard_normal(rng, s, d)))


def _check_int_range(low, high, dt):
    if dt.category > _dtype._INT:
        return
    if dt is _dtype.bool:
        lo, hi = 0, 1
    else:
        info = np.iinfo(dt.np)
        lo, hi = builtins.int(info.min), builtins.int(info.max)
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {_C_NAMES[dt.name]}")
    if not lo <= high - 1 <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_C_NAMES[dt.name]}")


def _integers(rng, low, high, shape, dt):
    low, high = builtins.int(low), builtins.int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    _check_int_range(low, high, dt)
    return rng.integers(low, high, shape, dtype=np.int64, endpoint=False).astype(dt.np)


@function
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() missing required arguments 'high' and 'size'")
    rng = _rng(generator, "randint")
    dt = _creation.dtype_arg("randint", dtype, _dtype.int64)
    return _creation._factory("randint", (size,) if isinstance(size, builtins.int)
                              else (tuple(size),), dt, device, requires_grad,
                              _sampler(lambda s, d: _integers(rng, low, high, s, d)))


@function
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1."""
    rng = _rng(generator, "randperm")
    dt = _creation.dtype_arg("randperm", dtype, _dtype.int64)
    return _creation._factory("randperm", (n,), dt, device, requires_grad,
                              _sampler(lambda s, d: rng.permutation(s[0]).astype(d.np)))


def _like(input, dtype, device, requires_grad):
    return dict(dtype=dtype if dtype is not None else input.dtype,
                device=device if device is not None else input.device,
                requires_grad=requires_grad)


@function
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    return rand(input.shape, generator=generator, **_like(input, dtype, device, requires_grad))


@function
def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    return randn(input.shape, generator=generator, **_like(input, dtype, device, requires_grad))


@function
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator,
                   **_like(input, dtype, device, requires_grad))


# ---- samples parameterised by tensors (zero gradient to the parameters) ----------------------
class _Sampled(Function):
    """Values drawn with tensor parameters; PyTorch gives the parameters zero gradients."""

    raw = True
    label = "sample"
    backward_rule = "grad_params = 0 (sampling is not reparameterised)"

    @staticmethod
    def forward(ctx, *params, draw):
        return draw(ctx.xp, *params)

    @staticmethod
    def backward(ctx, grad):
        from ._creation import zeros_like
        grads = tuple(zeros_like(grad) if need else None for need in ctx.needs_input_grad)
        return grads if len(grads) > 1 else grads[0]


class Normal(_Sampled):
    label = "normal(mean, std)"


class Bernoulli(_Sampled):
    label = "bernoulli(p)"


class Poisson(_Sampled):
    label = "poisson(rate)"


def _fmt(x):
    return f"{builtins.float(x):g}"


@function
def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Normal samples: tensor mean and/or std (broadcast), or float mean and std with size."""
    rng = _rng(generator, "normal")
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError(f"normal() received an invalid combination of arguments - got "
                            f"({type(mean).__name__}, {type(std).__name__}), but expected "
                            "(float mean, float std, tuple of ints size)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
        dt = _creation.dtype_arg("normal", dtype)
        _not_implemented("normal_kernel_cpu", dt)
        return _creation._factory(
            "normal", (size,), dt, device, requires_grad,
            _sampler(lambda s, d: (mean + std * _standard_normal(rng, s, d)).astype(d.np)))
    dt = tensors[0].dtype  # mean's dtype when it is a tensor, as in PyTorch
    _not_implemented("normal_kernel_cpu", dt)
    if isinstance(std, Tensor):
        if bool((std._host() < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    noise = _standard_normal(rng, _broadcast([x.shape for x in tensors]), dt)
    return Normal.apply(mean, std,
                        draw=lambda xp, m, s: (m + s * xp.asarray(noise)).astype(dt.np))


def _broadcast(shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes
        n = builtins.max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        i = next(i for i in range(n - 1, -1, -1) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b "
                           f"({b[i]}) at non-singleton dimension {i}") from None


def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")


@export
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or the scalar ``p``), in input's dtype."""
    rng = _rng(generator, "bernoulli")
    dt = input.dtype
    if p is None:
        _not_implemented("bernoulli_tensor_cpu_p_", dt)
        probs = np.asarray(input._host(), np.float64)
        if not bool(((probs >= 0) & (probs <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                               "(Could this error message be improved?  If so, please report "
                               "an enhancement request to PyTorch.)")
    else:
        _check_p(p)
        probs = p
    values = (rng.random(input.shape) < probs).astype(dt.np)
    return Bernoulli.apply(input, draw=lambda xp, a: xp.asarray(values))


@export
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from the rows of ``input`` (unnormalised probabilities)."""
    rng = _rng(generator, "multinomial")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype._short}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = input.shape[-1]
    if not replacement and num_samples > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    probs = np.asarray(input._host(), np.float64).reshape(-1, k)
    if not bool((np.isfinite(probs) & (probs >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if bool((probs.sum(-1) <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        idx = np.stack([_with_replacement(rng, row, num_samples) for row in probs])
    else:  # exponential race: the smallest E/p are a weighted sample without replacement
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(probs.shape) / probs
        idx = np.argsort(keys, axis=-1, kind="stable")[:, :num_samples]
    idx = idx.reshape(input.shape[:-1] + (num_samples,)).astype(np.int64)
    return _make(input._device.xp.asarray(idx), input._device)


def _with_replacement(rng, row, n):
    cdf = np.cumsum(row)
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return np.minimum(idx, np.flatnonzero(row)[-1])


@function
def poisson(input, generator=None):
    """Poisson samples with rates ``input``, in input's dtype."""
    rng = _rng(generator, "poisson")
    rates = np.asarray(input._host(), np.float64)
    if not bool((rates >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    values = rng.poisson(rates).astype(input.dtype.np)
    return Poisson.apply(input, draw=lambda xp, a: xp.asarray(values))


# ---- in-place fills ---------------------------------------------------------------------------
class RandomFill(Function):
    """``self`` overwritten by random values: no gradient flows to the old value."""

    raw = True
    label = "random fill"
    backward_rule = "grad_self = 0"

    @staticmethod
    def forward(ctx, a, values):
        return ctx.xp.asarray(values).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        from ._creation import zeros_like
        return zeros_like(grad)


def _fill(self, values):
    return inplace(self, lambda old: RandomFill.apply(old, values=values))


def _float_fill(self, kernel, generator, op, make):
    """Check the dtype, draw ``make(rng, shape)`` in float64 (or complex) and fill ``self``."""
    dt = self.dtype
    _not_implemented(kernel, dt)
    return _fill(self, make(_rng(generator, op), self.shape))


def _bound(args, kwargs, names, defaults):
    """Bind ``from``/``to``-style arguments, which Python can only pass through ``**kwargs``."""
    values = list(args) + list(defaults[len(args):])
    for i, name in enumerate(names):
        if name in kwargs:
            values[i] = kwargs.pop(name)
    if kwargs:
        raise TypeError(f"got an unexpected keyword argument '{next(iter(kwargs))}'")
    return values


@method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    return _float_fill(self, "normal_kernel_cpu", generator, "normal_",
                       lambda rng, s: mean + std * _standard_normal(rng, s, self.dtype))


@method
def uniform_(self, *args, generator=None, **kwargs):
    """Fill with uniform samples on [from, to)."""
    low, high = _bound(args, kwargs, ("from", "to"), (0.0, 1.0))
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(low)} > to={_fmt(high)}")
    return _float_fill(self, "check_uniform_bounds", generator, "uniform_",
                       lambda rng, s: low + (high - low) * _uniform(rng, s, self.dtype))


@method
def bernoulli_(self, p=0.5, *, generator=None):
    rng = _rng(generator, "bernoulli_")
    if isinstance(p, Tensor):
        probs = np.asarray(p._host(), np.float64)
    else:
        _check_p(p)
        probs = p
    return _fill(self, rng.random(self.shape) < probs)


def _random_bounds(dt):
    """The [0, to) range of ``random_()`` with no bounds: every value exact in ``dt``."""
    if dt is _dtype.bool:
        return 2
    if dt.category == _dtype._INT:
        return builtins.int(np.iinfo(dt.np).max) + 1
    digits = {"float16": 11, "bfloat16": 8, "float32": 24}.get(dt.name, 53)
    return (1 << digits) + 1


@method
def random_(self, *args, generator=None, **kwargs):
    """Fill with integers uniform on [from, to) (default: every integer the dtype holds)."""
    low, high = _bound(args, kwargs, ("from", "to"), (0, None))
    if len(args) == 1 and "to" not in kwargs:
        low, high = 0, low
    if high is None:
        high = _random_bounds(self.dtype)
    rng = _rng(generator, "random_")
    return _fill(self, _integers(rng, low, high, self.shape, _dtype.int64))


@method
def exponential_(self, lambd=1.0, *, generator=None):
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    return _float_fill(self, "exponential_cpu", generator, "exponential_",
                       lambda rng, s: rng.standard_exponential(s) / lambd)


@method
def geometric_(self, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    return _fill(self, _rng(generator, "geometric_").geometric(p, self.shape))


@method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _float_fill(self, "cauchy_cpu", generator, "cauchy_",
                       lambda rng, s: median + sigma * rng.standard_cauchy(s))


@method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _float_fill(self, "log_normal_cpu", generator, "log_normal_",
                       lambda rng, s: np.exp(mean + std * rng.standard_normal(s)))
