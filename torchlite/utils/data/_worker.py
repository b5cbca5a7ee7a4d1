"""The DataLoader worker process (torch.utils.data._utils.worker): its loop, seeding,
get_worker_info, and the wrapper that carries an exception and its traceback back."""
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ... import _random, _threads

__all__ = ["WorkerInfo", "get_worker_info"]

# How often (seconds) a blocked process wakes to check that its peer is still alive.
MP_STATUS_CHECK_INTERVAL = 0.1


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed``, and ``dataset``
    (this process's copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The current worker's WorkerInfo; None in the main process."""
    return _worker_info


class _KeyErrorMessage(str):
    """A str whose repr is itself, so a KeyError shows a multi-line message readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """The current exception's type and formatted traceback, to re-raise in another process."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise an exception of the original type whose message holds the traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Persistent workers: start a new epoch (the worker echoes it back when ready)."""

    seed: object = None


class _Pickled:
    """A batch pickled in the worker, so that a batch that cannot be pickled raises there (and
    is re-raised in the main process) instead of being dropped by the queue's feeder thread."""

    def __init__(self, data):
        self.payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self):
        return pickle.loads(self.payload)


def _generate_state(base_seed, worker_id):
    """NumPy's legacy global seed for a worker: torch's SeedSequence-style hash of
    (worker_id, base_seed), so ``np.random`` in a worker matches torch's."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_mult_l, mix_mult_r, xshift, mask32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    const_a = init_a

    def hash_(value):
        nonlocal const_a
        value = (value ^ const_a) & mask32
        const_a = (const_a * mult_a) & mask32
        value = (value * const_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x, y):
        result = ((mix_mult_l * x) - (mix_mult_r * y)) & mask32
        return (result ^ (result >> xshift)) & mask32

    pool = [hash_(e) for e in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    const_b, state = init_b, []
    for value in pool:
        value = (value ^ const_b) & mask32
        const_b = (const_b * mult_b) & mask32
        value = (value * const_b) & mask32
        state.append((value ^ (value >> xshift)) & mask32)
    return state


def _seed_worker(base_seed, worker_id):
    """torch's per-worker seeding: Python's random and the default generator get
    ``base_seed + worker_id``; NumPy's global state a hash of both."""
    seed = base_seed + worker_id
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


class DoneFlag:
    """The set-once "workers, stop" flag, a shared byte read and written without a lock. A
    multiprocessing.Event takes a lock in is_set(): a worker killed while holding it would leave
    the main process's set() waiting forever."""

    def __init__(self, ctx):
        self._value = ctx.RawValue("b", 0)

    def set(self):
        self._value.value = 1

    def is_set(self):
        return bool(self._value.value)


def _worker_loop(make_fetcher, dataset, index_queue, data_queue, done_event, base_seed,
                 init_fn, worker_id, num_workers, iterable):
    """Serve ``(task_idx, index)`` requests from ``index_queue`` with fetched batches on
    ``data_queue`` until told to stop (None) or the parent process dies."""
    global _worker_info
    try:
        _threads.set_num_threads(1)
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_exception = fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(dataset)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        parent = os.getppid()
        while os.getppid() == parent:
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                fetcher = make_fetcher(dataset)
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = _Pickled(fetcher.fetch(index))
                except Exception as e:
                    if isinstance(e, StopIteration) and iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, r
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
