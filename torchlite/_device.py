"""Device objects: ``device("cpu")`` computes with NumPy, ``device("cuda:N")`` with CuPy.

Following Chainer, a device carries its array module as ``.xp``. CuPy is imported lazily, the
first time a cuda device's ``xp`` is needed, so CPU-only machines never need it.
"""
import numpy as np


class CudaUnavailableError(RuntimeError):
    pass


def _cupy():
    try:
        import cupy
    except ImportError as e:
        raise AssertionError(
            "Torch not compiled with CUDA enabled: torchlite needs CuPy for cuda devices "
            "(pip install 'torchlite[cuda12]' or 'torchlite[cuda13]')") from e
    if cupy.cuda.runtime.getDeviceCount() == 0:
        raise RuntimeError("Found no NVIDIA driver on your system.")
    return cupy


class device:
    """A compute device, ``torch.device`` compatible: ``type``, ``index``, ``str()``, equality."""

    __slots__ = ("type", "index", "_xp")
    _cache = {}

    def __new__(cls, type_or_str="cpu", index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int):
            type_or_str, index = "cuda", type_or_str
        key = (type_or_str, index)
        cached = cls._cache.get(key)
        if cached is not None:
            return cached
        kind, idx = _parse(type_or_str, index)
        self = object.__new__(cls)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", idx)
        object.__setattr__(self, "_xp", np if kind == "cpu" else None)
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
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


def _parse(spec, index):
    if not isinstance(spec, str):
        raise TypeError(f"device() received an invalid combination of arguments - got ({spec!r})")
    kind, _, idx = spec.partition(":")
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(
            f"Expected one of cpu, cuda device type at start of device string: {spec}")
    if idx:
        if index is not None:
            raise RuntimeError("type (string) must not include an index because index was "
                               f"passed explicitly: {spec}")
        if not idx.isdigit():
            raise RuntimeError(f"Invalid device string: '{spec}'")
        index = int(idx)
    if index is not None and index < 0:
        raise RuntimeError(f"Device index must not be negative, got {index}")
    return kind, index


CPU = device("cpu")


def resolve(spec):
    """The concrete device for a user's spec: ``"cuda"`` means the current cuda device."""
    if spec is None:
        return CPU
    d = device(spec)
    if d.type == "cuda" and d.index is None:
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
