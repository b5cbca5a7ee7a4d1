"""torchlite.accelerator: the machine's accelerator, if any (cuda through CuPy in torchlite)."""
from . import cuda
from ._device import device


def is_available():
    """True when a cuda device can be used."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when CuPy sees a GPU, else None (as CPU-only PyTorch)."""
    return device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()


def _require():
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index():
    _require()
    return cuda.current_device()


def set_device_index(device):
    _require()
    cuda.set_device(device)


def synchronize(device=None):
    _require()
    cuda.synchronize(device)
