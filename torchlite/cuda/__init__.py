"""torchlite.cuda: whether a GPU can be used (through CuPy), and how many there are."""


def _count():
    try:
        import cupy
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no CuPy, no driver or no device: no GPU to use
        return 0


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return _count() > 0


def device_count():
    return _count()


def manual_seed(seed):
    """A no-op: torchlite draws every device's samples from the CPU generator."""


def manual_seed_all(seed):
    """A no-op: torchlite draws every device's samples from the CPU generator."""
