"""Shared fixtures: the optional PyTorch oracle and a seeded NumPy generator."""
import numpy as np
import pytest

try:
    import torch as _torch
except ImportError:  # the oracle is optional: tests that need it skip with a reason
    _torch = None


@pytest.fixture
def torch_oracle():
    if _torch is None:
        pytest.skip("PyTorch 2.13 (CPU) is not installed: install the 'test' extra to compare")
    return _torch


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
