"""Device objects: ``device("cpu")`` computes with NumPy, ``device("cuda:N")`` with CuPy.

Following Chainer, a device carries its array module as ``.xp``. CuPy is imported lazily, the
first time a cuda device's ``xp`` is needed, so CPU-only machines never need it.
"""
import builtins
import functools

import numpy as np


@functools.cache
def gpu_cupy():
    """``(cupy, None)`` when CuPy can drive a GPU, else ``(None, why not)``.

    Probed once per process (the CUDA runtime sees the same driver and devices until it exits):
    CuPy missing, installed without a working driver (its device calls raise
    ``CUDARuntimeError``), or a driver with no device all mean "no GPU", as in CPU-only PyTorch.
    """
    try:
        import cupy
    except ImportError:
        return None, ("torchlite needs CuPy for cuda devices "
                      "(pip install 'torchlite[cuda12]' or 'torchlite[cuda13]')")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as e:
        return None, f"CuPy is installed but cannot use a GPU ({e})"
    if count == 0:
        return None, "CuPy is installed but found no CUDA device"
    return cupy, None


def _cupy():
    """CuPy, or CPU-only PyTorch's ``AssertionError("Torch not compiled with CUDA enabled")``
    with the reason there is no GPU to use."""
    cupy, reason = gpu_cupy()
    if cupy is None:
        raise AssertionError(f"Torch not compiled with CUDA enabled: {reason}")
    return cupy


_TORCH_TYPES = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, "
                "lazy, vulkan, mps, meta, hpu, mtia, privateuseone")


class device:
    """A compute device, ``torch.device`` compatible: ``type``, ``index``, ``str()``, equality."""

    __slots__ = ("type", "index", "_xp")
    _cache = {}

    def __new__(cls, type=None, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device) and index is None:
            return type
        if isinstance(type, int) and not isinstance(type, bool) and index is None:
            type, index = "cuda", type
        key = (type, index)
        cached = cls._cache.get(key)
        if cached is not None:
            return cached
        kind, idx = _parse(type, index)
        # One object per (type, index): ops compare devices by identity on the hot path.
        self = cls._cache.get((kind, idx))
        if self is None:
            self = object.__new__(cls)
            object.__setattr__(self, "type", kind)
            object.__setattr__(self, "index", idx)
            object.__setattr__(self, "_xp", np if kind == "cpu" else None)
            cls._cache[(kind, idx)] = self
        cls._cache[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError("torchlite.device is immutable")

    @property
    def xp(self):
        """The array module of this device: numpy or cupy."""
        xp = self._xp
        if xp is None:
            xp = _cupy()
            object.__setattr__(self, "_xp", xp)
        return xp

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        if self.type != "cpu":
            raise RuntimeError("torchlite does not support a cuda device as a context manager; "
                               "pass device= to factory functions or use Tensor.to()")
        return self

    def __exit__(self, *exc):
        return False


def _parse(spec, index):
    if not isinstance(spec, str) or (index is not None and not isinstance(index, int)):
        got = ", ".join(builtins.type(x).__name__ for x in (spec, index) if x is not None)
        raise TypeError(f"device() received an invalid combination of arguments - got ({got}), "
                        "but expected one of:\n * (torch.device device)\n * (str type, int "
                        "index = -1)")
    if not spec:
        raise RuntimeError("Device string must not be empty")
    kind, colon, idx = spec.partition(":")
    if kind not in ("cpu", "cuda"):
        if kind in _TORCH_TYPES.split(", "):
            raise RuntimeError(f"torchlite supports only cpu and cuda devices, not '{kind}'")
        raise RuntimeError(f"Expected one of {_TORCH_TYPES} device type at start of device "
                           f"string: {spec}")
    if colon:
        if not (idx.isascii() and idx.isdigit()) or (len(idx) > 1 and idx[0] == "0"):
            raise RuntimeError(f"Invalid device string: '{spec}'")
        if index is not None:
            raise RuntimeError("type (string) must not include an index because index was "
                               f"passed explicitly: {spec}")
        index = int(idx)
    if index is not None and index < 0:
        raise RuntimeError("Device index must not be negative")
    return kind, index


CPU = device("cpu")


def resolve(spec):
    """The concrete device for a user's spec: ``"cuda"`` means the current cuda device."""
    if spec is None:
        return CPU
    d = device(spec)
    if d.type == "cpu":
        return CPU
    if d.index is None:
        d.xp  # noqa: B018  (raises the actionable error when CuPy or a GPU is missing)
        return device("cuda", _cupy().cuda.runtime.getDevice())
    if d.type == "cuda":
        d.xp  # noqa: B018
    return d


def of_array(arr):
    """The device an array lives on."""
    if isinstance(arr, np.ndarray):
        return CPU
    return device("cuda", arr.device.id)
