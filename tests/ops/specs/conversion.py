"""Spec rows for torchlite/ops/conversion.py (casts, clone, contiguous)."""
import numpy as np

import torchlite

from ..opspec import ALL_REAL, FLOATS, OpSpec


def _transposed_samples(rng, dtype):
    from ..opspec import Sample, rand
    yield Sample((rand(rng, (3, 4), dtype).T.copy().T,), name="(3,4).T-layout")
    yield Sample((rand(rng, (2, 3), dtype),), name="(2,3)")


SPECS = [
    OpSpec("to_float64", op=lambda t: t.to(torchlite.float64),
           torch_op=lambda torch: lambda t: t.to(torch.float64),
           ref=lambda a: a.astype(np.float64), dtypes=ALL_REAL),
    OpSpec("to_float32", op=lambda t: t.to(dtype=torchlite.float32),
           torch_op=lambda torch: lambda t: t.to(dtype=torch.float32),
           ref=lambda a: a.astype(np.float32), dtypes=ALL_REAL,
           grad=False),  # float32 output: finite differences in float64 cannot check it
    OpSpec("double", op=lambda t: t.double(), torch_op=lambda torch: lambda t: t.double(),
           ref=lambda a: a.astype(np.float64), dtypes=ALL_REAL),
    OpSpec("long", op=lambda t: t.long(), torch_op=lambda torch: lambda t: t.long(),
           ref=lambda a: a.astype(np.int64), dtypes=ALL_REAL, grad=False),
    OpSpec("clone", dtypes=ALL_REAL, ref=np.copy),
    OpSpec("contiguous", op=lambda t: t.contiguous(),
           torch_op=lambda torch: lambda t: t.contiguous(), ref=np.ascontiguousarray,
           samples=_transposed_samples, dtypes=FLOATS),
]
