"""Spec rows for torchlite/ops/unary.py."""
import numpy as np

from ..opspec import OpSpec

SPECS = [
    OpSpec("neg", ref=np.negative),
    OpSpec("exp", ref=np.exp),
    OpSpec("log", ref=np.log, domain=(0.1, 3.0)),
]
