"""Shared helpers for tests/nn: move tensors and weights between torchlite and the torch oracle."""
import numpy as np
import torch

import torchlite


def _is_bf16(name):
    return str(name).endswith("bfloat16")


def to_torch(t, requires_grad=None):
    """A torch copy of torchlite tensor ``t`` (same values and dtype, on the CPU).

    ``requires_grad`` defaults to ``t.requires_grad`` (the copy is a fresh leaf).
    """
    arr = np.array(t.detach().cpu().numpy(), copy=True)
    if _is_bf16(t.dtype):
        out = torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    else:
        out = torch.from_numpy(arr)
    rg = t.requires_grad if requires_grad is None else requires_grad
    return out.requires_grad_(rg) if out.is_floating_point() or out.is_complex() else out


def from_torch(t, requires_grad=None, device=None):
    """A torchlite copy of torch tensor ``t`` (same values and dtype).

    ``requires_grad`` defaults to ``t.requires_grad`` (the copy is a fresh leaf).
    """
    src = t.detach().cpu()
    if src.dtype == torch.bfloat16:
        arr = src.float().numpy().astype(torchlite.bfloat16.np)
    else:
        arr = src.numpy().copy()
    rg = t.requires_grad if requires_grad is None else requires_grad
    out = torchlite.from_numpy(arr)
    if device is not None:
        out = out.to(device)
    return out.requires_grad_(rg) if rg else out


def copy_weights(src, dst):
    """Copy ``src``'s state_dict into ``dst`` by name; either may be torch or torchlite.

    Values are written in place (``dst``'s parameters keep their identity and dtype); every key of
    either side must exist in the other.
    """
    src_sd = src.state_dict()
    dst_sd = dst.state_dict()
    if set(src_sd) != set(dst_sd):
        raise KeyError(f"state_dict keys differ: only in source {sorted(set(src_sd) - set(dst_sd))}"
                       f", only in destination {sorted(set(dst_sd) - set(src_sd))}")
    to_dst, lib = (to_torch, torch) if isinstance(dst, torch.nn.Module) else (from_torch, torchlite)
    with lib.no_grad():
        for name, value in src_sd.items():
            target = dst_sd[name]
            converted = to_dst(value, requires_grad=False)
            if tuple(target.shape) != tuple(converted.shape):
                raise ValueError(f"{name}: shape {tuple(converted.shape)} does not fit "
                                 f"{tuple(target.shape)}")
            target.copy_(converted)
    return dst


def outcome(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` made comparable across libraries: tensors become
    (kind, dtype, shape, values), exceptions become ("raised", type name, message) with the
    package name read as "torch" (class paths in messages name the library)."""
    try:
        return normalize(fn(*args, **kwargs))
    except Exception as ex:  # the exception IS the result being compared
        return ("raised", type(ex).__name__, str(ex).replace("torchlite", "torch"))


def normalize(x):
    """A library-neutral form of ``x`` (nested containers of tensors, sizes, dtypes, ...)."""
    if isinstance(x, (torch.Tensor, torchlite.Tensor)):
        kind = "param" if isinstance(x, (torch.nn.Parameter, torchlite.nn.Parameter)) else "tensor"
        values = x.detach().cpu().float().numpy() if _is_bf16(x.dtype) else \
            x.detach().cpu().numpy()
        return (kind, str(x.dtype), tuple(x.shape), x.requires_grad, values.tolist())
    if isinstance(x, (torch.Size, torchlite.Size)):
        return ("size", tuple(x))
    if isinstance(x, (torch.dtype, torchlite.dtype)):
        return ("dtype", str(x))
    if isinstance(x, (torch.device, torchlite.device)):
        return ("device", str(x))
    if isinstance(x, dict):
        return (type(x).__name__ if type(x).__name__ in ("dict", "OrderedDict") else "dict",
                [(normalize(k), normalize(v)) for k, v in x.items()])
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", type(x).__name__, tuple(normalize(v) for v in x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [normalize(v) for v in x])
    if isinstance(x, (torch.nn.Module, torchlite.nn.Module)):
        return ("module", type(x).__name__)
    return x


def same_program(program, rtol=0.0, atol=0.0):
    """Run ``program(lib)`` with torch and with torchlite and assert the outcomes agree.

    Numbers inside tensors compare with ``rtol``/``atol`` (exactly by default).
    """
    theirs = outcome(program, torch)
    ours = outcome(program, torchlite)
    _assert_same(ours, theirs, rtol, atol, "result")
    return ours


def _assert_same(ours, theirs, rtol, atol, path):
    if isinstance(theirs, float) and isinstance(ours, float):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=path)
        return
    if isinstance(theirs, (list, tuple)) and isinstance(ours, (list, tuple)) \
            and type(ours) is type(theirs):
        assert len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, rtol, atol, f"{path}[{i}]")
        return
    assert ours == theirs, f"{path}: torchlite {ours!r} != torch {theirs!r}"
