"""CPU thread control for the BLAS pool (torch.set_num_threads / get_num_threads).

NumPy's BLAS spawns one thread per core by default; on a busy 2-core machine that
oversubscription made small matmuls an order of magnitude slower. torchlite therefore limits the
BLAS pool when it is imported, to ``TORCHLITE_NUM_THREADS`` if set, else to 1 thread, which is
what small-batch eager workloads run fastest with; call ``set_num_threads`` to raise it.
"""
import os

from threadpoolctl import threadpool_limits

_state = {"n": None, "limiter": None}


def set_num_threads(n):
    """Limit the BLAS thread pool to ``n`` threads."""
    n = int(n)
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _state["limiter"] = threadpool_limits(limits=n, user_api="blas")
    _state["n"] = n


def get_num_threads():
    return _state["n"]


def init_default():
    set_num_threads(int(os.environ.get("TORCHLITE_NUM_THREADS", "1")))
