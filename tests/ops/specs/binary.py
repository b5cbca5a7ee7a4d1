"""Spec rows for torchlite/ops/binary.py."""
import numpy as np

from ..opspec import ALL_REAL, ErrorInput, OpSpec, binary_samples

SPECS = [
    OpSpec("add", ref=np.add, samples=binary_samples, dtypes=ALL_REAL, broadcast=True,
           errors=(ErrorInput((np.ones((2, 3)), np.ones((4,))), {}, RuntimeError,
                              r"size of tensor a \(3\) must match the size of tensor b \(4\)"),)),
    OpSpec("sub", ref=np.subtract, samples=binary_samples, dtypes=ALL_REAL, broadcast=True),
    OpSpec("mul", ref=np.multiply, samples=binary_samples, dtypes=ALL_REAL, broadcast=True),
    OpSpec("div", ref=np.true_divide, domain=(1.0, 3.0), dtypes=ALL_REAL, broadcast=True,
           samples=lambda rng, d: binary_samples(rng, d, (1.0, 3.0))),
]
