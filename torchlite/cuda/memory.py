"""Memory statistics of the cuda device, from CuPy's memory pool.

CuPy's pool knows the bytes in use and held but not the peak: the first call to any function
here installs a thin allocator over the pool that samples the bytes in use after each
allocation (usage only grows at an allocation, so the sampled maximum is the true peak from
then on). ``reset_peak_memory_stats()`` before the code to measure, as with PyTorch.
"""
from .._device import _cupy

_PEAK = {"allocated": 0, "reserved": 0, "installed": False}


def _pool():
    """CuPy's default memory pool, with the peak-tracking allocator installed; None without a
    GPU (the counters then read 0, as in CPU-only PyTorch)."""
    from . import is_available
    if not is_available():
        return None
    cupy = _cupy()
    pool = cupy.get_default_memory_pool()
    if not _PEAK["installed"]:
        malloc = pool.malloc

        def tracking_malloc(size):
            ptr = malloc(size)
            used = pool.used_bytes()
            if used > _PEAK["allocated"]:
                _PEAK["allocated"] = used
                _PEAK["reserved"] = max(_PEAK["reserved"], pool.total_bytes())
            return ptr
        cupy.cuda.set_allocator(tracking_malloc)
        _PEAK["installed"] = True
        _PEAK["allocated"], _PEAK["reserved"] = pool.used_bytes(), pool.total_bytes()
    return pool


def memory_allocated(device=None):
    """Bytes held by live cuda tensors (CuPy arrays)."""
    pool = _pool()
    return 0 if pool is None else int(pool.used_bytes())


def max_memory_allocated(device=None):
    """The peak of ``memory_allocated`` since the last ``reset_peak_memory_stats``."""
    pool = _pool()
    return 0 if pool is None else max(_PEAK["allocated"], int(pool.used_bytes()))


def memory_reserved(device=None):
    """Bytes the pool holds from the driver (in use plus cached)."""
    pool = _pool()
    return 0 if pool is None else int(pool.total_bytes())


def max_memory_reserved(device=None):
    pool = _pool()
    return 0 if pool is None else max(_PEAK["reserved"], int(pool.total_bytes()))


def reset_peak_memory_stats(device=None):
    """Start measuring the peaks again from the current usage."""
    pool = _pool()
    if pool is None:
        _cupy()  # raises PyTorch's error: there is no device to reset
        return
    _PEAK["allocated"], _PEAK["reserved"] = int(pool.used_bytes()), int(pool.total_bytes())


def empty_cache():
    """Return the pool's cached, unused blocks to the driver."""
    pool = _pool()
    if pool is not None:
        pool.free_all_blocks()
        _cupy().get_default_pinned_memory_pool().free_all_blocks()


def memory_stats(device=None):
    """PyTorch's keys for the current and peak allocated / reserved bytes ({} without a GPU)."""
    if _pool() is None:
        return {}
    return {"allocated_bytes.all.current": memory_allocated(),
            "allocated_bytes.all.peak": max_memory_allocated(),
            "reserved_bytes.all.current": memory_reserved(),
            "reserved_bytes.all.peak": max_memory_reserved()}


def mem_get_info(device=None):
    """(free, total) bytes of the device, from the driver."""
    free, total = _cupy().cuda.runtime.memGetInfo()
    return int(free), int(total)


def _fmt(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024


def memory_summary(device=None, abbreviated=False):
    """A printable table of the memory statistics."""
    stats = memory_stats(device)
    if not stats:
        _cupy()  # raises PyTorch's error: no device to summarise
    rows = [("Allocated memory", "allocated_bytes"), ("Reserved memory", "reserved_bytes")]
    line = "|" + "=" * 60 + "|"
    out = [line, "|{:^60}|".format("torchlite CUDA memory summary (CuPy pool)"), line,
           "| {:<24}| {:>15} | {:>15} |".format("Metric", "Cur Usage", "Peak Usage"),
           "|" + "-" * 60 + "|"]
    for label, key in rows:
        out.append("| {:<24}| {:>15} | {:>15} |".format(
            label, _fmt(stats[f"{key}.all.current"]), _fmt(stats[f"{key}.all.peak"])))
    out.append(line)
    return "\n".join(out) + "\n"
