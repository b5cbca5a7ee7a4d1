"""The op-spec table's row type and the machinery that turns a row into tests.

One ``OpSpec`` per op says how to call it, its NumPy reference, sample inputs, dtypes, whether it
is differentiable, its PyTorch name (the oracle) and its error inputs. ``test_op_table.py`` runs
every generic test on every row; adding an op touches its Function and its row, nothing else.
"""
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import torchlite

FLOATS = ("float32", "float64")
INTS = ("int64", "int32")
ALL_REAL = FLOATS + INTS


@dataclass
class Sample:
    """Positional args (NumPy arrays become tensors) and keyword args of one call."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class ErrorInput:
    """A wrong call, the exception type PyTorch raises, and a regex its message must match."""
    args: tuple
    kwargs: dict
    exc: type
    match: str


@dataclass
class OpSpec:
    name: str
    op: Callable = None              # torchlite callable; default torchlite.<name>
    ref: Callable = None             # NumPy reference on arrays (same args); None: torch only
    samples: Callable = None         # samples(rng, np_dtype) -> iterable of Sample
    torch_op: Any = "same"           # "same": torch.<name>; a callable (torch) -> fn; None: skip
    dtypes: tuple = FLOATS           # forward dtypes tested
    grad: bool = True                # differentiable: gradcheck + torch gradient comparison
    gradgrad: bool = True
    broadcast: bool = False          # elementwise binary: Hypothesis broadcast-shape test
    domain: tuple = (-2.0, 2.0)      # sample value range for default samples
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-3
    errors: tuple = ()
    check_dtype: bool = True         # compare result dtypes with torch
    nondeterministic: bool = False   # random output: forward values are not compared

    def __post_init__(self):
        if self.op is None:
            self.op = getattr(torchlite, self.name)

    def torch_fn(self, torch):
        if self.torch_op is None:
            return None
        if self.torch_op == "same":
            return getattr(torch, self.name)
        return self.torch_op(torch)

    def get_samples(self, rng, np_dtype):
        if self.samples is not None:
            return list(self.samples(rng, np_dtype))
        return list(unary_samples(rng, np_dtype, self.domain))

    def tolerances(self, np_dtype):
        if np.dtype(np_dtype) == np.float32:
            return max(self.atol, 1e-5), max(self.rtol, 1e-5)
        return self.atol, self.rtol


def rand(rng, shape, np_dtype, low=-2.0, high=2.0):
    """Random values in [low, high) of a dtype (integers are drawn in the same range)."""
    d = np.dtype(np_dtype)
    if d.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(d)
    if d.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.uniform(low, high, size=shape).astype(d)


def unary_samples(rng, np_dtype, domain=(-2.0, 2.0)):
    lo, hi = domain
    for shape in [(), (5,), (2, 3), (2, 1, 3)]:
        yield Sample((rand(rng, shape, np_dtype, lo, hi),), name=str(shape))


def binary_samples(rng, np_dtype, domain=(-2.0, 2.0)):
    lo, hi = domain
    shapes = [((), ()), ((4,), (4,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), ())]
    for sa, sb in shapes:
        yield Sample((rand(rng, sa, np_dtype, lo, hi), rand(rng, sb, np_dtype, lo, hi)),
                     name=f"{sa}x{sb}")


def to_torchlite(x, requires_grad=False):
    if isinstance(x, np.ndarray):
        t = torchlite.tensor(x)
        if requires_grad and x.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if isinstance(x, (list, tuple)) and x and any(isinstance(v, np.ndarray) for v in x):
        return type(x)(to_torchlite(v, requires_grad) for v in x)
    return x


def to_torch(torch, x, requires_grad=False):
    if isinstance(x, np.ndarray):
        t = torch.tensor(x)
        if requires_grad and x.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if isinstance(x, (list, tuple)) and x and any(isinstance(v, np.ndarray) for v in x):
        return type(x)(to_torch(torch, v, requires_grad) for v in x)
    return x


def outputs_of(result):
    """The tensor outputs of an op, flattened from tuples and named tuples."""
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out.extend(outputs_of(r))
        return out
    return [result]
