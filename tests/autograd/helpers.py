"""Run the same program on torchlite and on PyTorch and compare results, or the errors raised.

A *program* is a function ``program(lib)`` written against ``lib`` (``torchlite`` or ``torch``)
that returns tensors, None, Python values, or nested tuples/lists/dicts of them.
"""
import numpy as np
import pytest

import torchlite


def to_plain(x):
    """Tensors (of either library) as (dtype name, NumPy array); containers recursively."""
    if isinstance(x, dict):
        return {k: to_plain(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return [to_plain(v) for v in x]
    if hasattr(x, "detach") and hasattr(x, "dtype"):
        return (str(x.dtype), np.array(x.detach().cpu().tolist()))
    return x


def assert_same(a, b, rtol=1e-6, atol=1e-7, path="result"):
    """Recursive equality of plain values, with tolerances for arrays."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {a.keys()} != {b.keys()}"
        for k in a:
            assert_same(a[k], b[k], rtol, atol, f"{path}[{k!r}]")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, rtol, atol, f"{path}[{i}]")
    elif isinstance(a, tuple):  # (dtype, array) of a tensor
        assert isinstance(b, tuple), f"{path}: torchlite gave a tensor, torch gave {b!r}"
        assert a[0] == b[0], f"{path}: dtype {a[0]} != {b[0]}"
        assert a[1].shape == b[1].shape, f"{path}: shape {a[1].shape} != {b[1].shape}"
        np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=atol, err_msg=path)
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def same_program(program, torch, rtol=1e-6, atol=1e-7):
    """Run ``program`` on both libraries and assert the results agree; return torchlite's."""
    ours = program(torchlite)
    assert_same(to_plain(ours), to_plain(program(torch)), rtol, atol)
    return ours


def raises_alike(program, torch, exc, match):
    """Both libraries raise ``exc`` (or a subclass) with a message matching ``match``."""
    for lib in (torchlite, torch):
        with pytest.raises(exc, match=match):
            program(lib)


def leaf(lib, values, dtype="float64", requires_grad=True):
    """A leaf tensor of ``values`` in ``lib``."""
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad)
