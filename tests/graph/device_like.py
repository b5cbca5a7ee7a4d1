"""A NumPy-backed stand-in for a GPU array module, to test device code paths on the CPU.

Its arrays behave as CuPy's where it matters here: reductions give 0-d arrays, and reading a
value on the host is explicit. Every implicit read (``float()``, ``int()``, ``bool()``,
``item()``, ``tolist()``) raises, as a hidden GPU synchronization would cost; ``get()`` (the
one copy to the host) and boolean-mask indexing (whose result size the host must learn) are
counted in ``DeviceArray.syncs``.
"""
import numpy as np


class HostRead(AssertionError):
    """A device value was read on the host without an explicit copy."""


class DeviceArray(np.ndarray):
    syncs = 0

    def _refuse(self, *args, **kwargs):
        raise HostRead("implicit host read of a device array")

    __float__ = __int__ = __index__ = __bool__ = __complex__ = _refuse
    item = tolist = _refuse

    def get(self):
        DeviceArray.syncs += 1
        return np.array(self.view(np.ndarray), copy=True)

    def __getitem__(self, key):
        if isinstance(key, np.ndarray) and key.dtype == np.bool_:
            DeviceArray.syncs += 1
        return device(super().__getitem__(key))


def device(x):
    """``x`` (an array, a NumPy or Python scalar) as a DeviceArray; other values as they are."""
    if isinstance(x, DeviceArray):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x).view(DeviceArray)
    return x


class _DeviceXP:
    """NumPy's functions with their results as DeviceArrays (its types and constants as is)."""

    def __getattr__(self, name):
        f = getattr(np, name)
        if not callable(f) or isinstance(f, type):
            return f
        return lambda *args, **kwargs: device(f(*args, **kwargs))


xp = _DeviceXP()
