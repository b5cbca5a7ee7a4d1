"""DataLoader vs torch.utils.data.DataLoader: batches, lengths, errors; and real worker
processes (2 workers): ordering, worker info, seeding, exceptions, killed workers, timeouts,
persistent workers, iterable sharding, shutdown. Every test runs under an alarm, so a bug can
fail a test but never hang CI."""
import collections
import gc
import importlib
import math
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest

import torchlite
from torchlite.utils.data import (DataLoader, Dataset, IterableDataset, SequentialSampler,
                                  TensorDataset, get_worker_info)

from .helpers import plain

TEST_SECONDS = 20


@pytest.fixture(autouse=True)
def alarm():
    def expire(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_SECONDS} s (a DataLoader hang?)")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# ---- datasets (module level: spawn pickles them) ---------------------------------------------
class Numbers(Dataset):
    """Sample i: (float tensor [i, i], i, "s<i>")."""

    def __init__(self, n=10, lib=torchlite):
        self.n, self.lib_name = n, lib.__name__

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        lib = importlib.import_module(self.lib_name)
        return lib.tensor([float(i), float(i)]), i, f"s{i}"


class Dicts(Dataset):
    """NumPy arrays and scalars inside dicts and tuples."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.full((2,), i, np.float32), "meta": (np.int32(i), float(i) / 2)}


class Plain(Dataset):
    """Sample i is the int i, optionally slow on odd indices (to force out-of-order arrival)."""

    def __init__(self, n=16, slow=0.0):
        self.n, self.slow = n, slow

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.slow and i % 2:
            time.sleep(self.slow)
        return i


class WhoAmI(Dataset):
    """Reports the worker's identity and its random streams."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                "is_copy": info.dataset is not None and isinstance(info.dataset, WhoAmI),
                "torch": torchlite.rand(1).item(), "python": random.random(),
                "numpy": float(np.random.rand()), "init": _init_marker, "pid": os.getpid()}


class Failing(Dataset):
    def __init__(self, exc=ValueError):
        self.exc = exc

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise self.exc("bad sample 5")
        return i


class Sleepy(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(30)
        return i


class Counting(Dataset):
    """Counts, in each worker, how many samples that worker's copy has served."""

    def __init__(self):
        self.served = 0

    def __len__(self):
        return 6

    def __getitem__(self, i):
        self.served += 1
        return i, get_worker_info().id, self.served, os.getpid()


class Range(IterableDataset):
    """range(start, end), split between workers when ``shard`` is set."""

    def __init__(self, start, end, shard=True):
        self.start, self.end, self.shard = start, end, shard

    def __len__(self):
        return self.end - self.start

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.start, self.end))
        per_worker = int(math.ceil((self.end - self.start) / info.num_workers))
        lo = self.start + info.id * per_worker
        return iter(range(lo, min(lo + per_worker, self.end)))


class NotConstructible(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class RaisesNotConstructible(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise NotConstructible(1, 2)


_init_marker = None


def _init_fn(worker_id):
    global _init_marker
    _init_marker = 100 + worker_id


def _failing_init(worker_id):
    raise KeyError("init failed")


def _unpicklable_collate(batch):
    return lambda: batch


def _batches(loader):
    return [plain(b) for b in loader]


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _wait_gone(pids, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.02)
    return all(_gone(p) for p in pids)


# ---- single process vs torch ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 20},
    {"batch_size": None}, {"batch_size": 4, "collate_fn": lambda b: b},
])
def test_sequential_batches_match_torch(torch_oracle, kwargs):
    ours = DataLoader(Numbers(), **kwargs)
    theirs = torch_oracle.utils.data.DataLoader(Numbers(lib=torch_oracle), **kwargs)
    assert _batches(ours) == _batches(theirs)
    assert len(ours) == len(theirs)


def test_numpy_structures_match_torch(torch_oracle):
    for batch_size in (None, 3):
        ours = DataLoader(Dicts(), batch_size=batch_size)
        theirs = torch_oracle.utils.data.DataLoader(Dicts(), batch_size=batch_size)
        assert _batches(ours) == _batches(theirs)


def test_tensor_dataset_loader(torch_oracle):
    data = np.arange(20.0).reshape(10, 2)
    ours = DataLoader(TensorDataset(torchlite.as_tensor(data), torchlite.arange(10)),
                      batch_size=4)
    theirs = torch_oracle.utils.data.DataLoader(
        torch_oracle.utils.data.TensorDataset(torch_oracle.as_tensor(data),
                                              torch_oracle.arange(10)), batch_size=4)
    assert _batches(ours) == _batches(theirs)
    assert ours.dataset is not None and len(ours.dataset) == 10


def test_shuffle_same_elements_per_epoch(torch_oracle):
    loader = DataLoader(Plain(30), batch_size=4, shuffle=True)
    theirs = torch_oracle.utils.data.DataLoader(Plain(30), batch_size=4, shuffle=True)
    epochs = [sum((b.tolist() for b in loader), []) for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(30)) != epochs[0]
    assert sorted(sum((b.tolist() for b in theirs), [])) == sorted(epochs[0])
    assert len(loader) == len(theirs) == 8


def test_generator_makes_shuffling_reproducible():
    def order(seed):
        g = torchlite.Generator().manual_seed(seed)
        return [b.tolist() for b in DataLoader(Plain(20), batch_size=5, shuffle=True,
                                               generator=g)]
    assert order(7) == order(7) != order(8)


def test_custom_sampler_and_batch_sampler(torch_oracle):
    for lib in (torchlite, torch_oracle):
        d = lib.utils.data
        by_sampler = d.DataLoader(Plain(10), batch_size=3, sampler=[9, 7, 5, 3, 1])
        assert [b.tolist() for b in by_sampler] == [[9, 7, 5], [3, 1]]
        batches = d.BatchSampler(d.SequentialSampler(range(7)), 2, drop_last=True)
        loader = d.DataLoader(Plain(10), batch_sampler=batches)
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
        assert len(loader) == 3 and loader.batch_size is None


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 4}, {"batch_size": 4, "drop_last": True}, {"batch_size": None},
])
def test_iterable_dataset_batches_and_len(torch_oracle, kwargs):
    ours = DataLoader(Range(0, 10), **kwargs)
    theirs = torch_oracle.utils.data.DataLoader(_torch_twin(torch_oracle, Range(0, 10)),
                                                **kwargs)
    assert _batches(ours) == _batches(theirs)
    assert len(ours) == len(theirs)


def test_iterable_len_warning_when_exceeded():
    class Liar(Range):
        def __len__(self):
            return 2
    loader = DataLoader(Liar(0, 4), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        list(loader)


SAMPLER = SequentialSampler(range(3))


@pytest.mark.parametrize("dataset, kwargs", [
    (Plain(), {"num_workers": -1}),
    (Plain(), {"timeout": -1}),
    (Plain(), {"prefetch_factor": 2}),
    (Plain(), {"num_workers": 1, "prefetch_factor": -1}),
    (Plain(), {"persistent_workers": True}),
    (Plain(), {"sampler": SAMPLER, "shuffle": True}),
    (Plain(), {"batch_sampler": [[0]], "batch_size": 2}),
    (Plain(), {"batch_sampler": [[0]], "shuffle": True}),
    (Plain(), {"batch_sampler": [[0]], "sampler": SAMPLER}),
    (Plain(), {"batch_sampler": [[0]], "drop_last": True}),
    (Plain(), {"batch_size": None, "drop_last": True}),
    (Plain(), {"multiprocessing_context": "spawn"}),
    (Plain(), {"num_workers": 1, "multiprocessing_context": "nonsense"}),
    (Plain(), {"num_workers": 1, "multiprocessing_context": 3}),
    (Range(0, 3), {"shuffle": True}),
    (Range(0, 3), {"sampler": SAMPLER}),
    (Range(0, 3), {"batch_sampler": [[0]]}),
])
def test_argument_errors_match_torch(torch_oracle, dataset, kwargs):
    with pytest.raises(Exception) as theirs:
        torch_oracle.utils.data.DataLoader(_torch_twin(torch_oracle, dataset), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        DataLoader(dataset, **kwargs)
    assert _normalise(ours.value) == _normalise(theirs.value)


def _torch_twin(torch, dataset):
    """An iterable dataset must subclass torch's IterableDataset for torch to see it as one."""
    if isinstance(dataset, IterableDataset):
        return type("TorchRange", (torch.utils.data.IterableDataset,), dict(vars(Range)))(
            dataset.start, dataset.end)
    return dataset


def _normalise(exc):
    """The message with object reprs (addresses, class paths) cut out."""
    text = str(exc).split("=<")[0]
    return text.replace("SequentialSampler", "").replace("TorchRange", "")


def test_timeout_needs_workers(torch_oracle):
    for lib in (torchlite, torch_oracle):
        with pytest.raises(AssertionError, match="requires timeout == 0"):
            iter(lib.utils.data.DataLoader(Plain(), timeout=1))


def test_attributes_frozen_after_init(torch_oracle):
    for lib in (torchlite, torch_oracle):
        loader = lib.utils.data.DataLoader(Plain())
        with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                             "DataLoader is initialized"):
            loader.batch_size = 3
        loader.num_workers = 0  # others stay settable


def test_pin_memory_accepted():
    if torchlite.cuda.is_available():
        pytest.skip("the warning is for machines without an accelerator")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                                         "accelerator is found"):
        assert [b.tolist() for b in DataLoader(Plain(4), batch_size=2, pin_memory=True)] == \
            [[0, 1], [2, 3]]


def test_get_worker_info_is_none_in_main_process():
    assert get_worker_info() is None


# ---- worker processes ---------------------------------------------------------------------
def test_workers_keep_order_and_match_torch(torch_oracle):
    ours = DataLoader(Numbers(11), batch_size=3, num_workers=2)
    theirs = torch_oracle.utils.data.DataLoader(Numbers(11, lib=torch_oracle), batch_size=3,
                                                num_workers=2)
    assert _batches(ours) == _batches(theirs) == _batches(DataLoader(Numbers(11), batch_size=3))


def test_reordering_buffer_with_slow_worker():
    loader = DataLoader(Plain(12, slow=0.05), batch_size=1, num_workers=2)
    assert [b.item() for b in loader] == list(range(12))
    unordered = DataLoader(Plain(12, slow=0.05), batch_size=1, num_workers=2, in_order=False)
    out = [b.item() for b in unordered]
    assert sorted(out) == list(range(12))


@pytest.mark.parametrize("prefetch_factor", [1, 3])
def test_prefetch_keeps_factor_times_workers_in_flight(prefetch_factor):
    it = iter(DataLoader(Plain(40), num_workers=2, prefetch_factor=prefetch_factor))
    assert it._send_idx == it._tasks_outstanding == 2 * prefetch_factor
    next(it)
    assert it._send_idx == 2 * prefetch_factor + 1
    del it


def test_worker_info_seeds_and_init_fn():
    g = torchlite.Generator().manual_seed(11)
    loader = DataLoader(WhoAmI(), batch_size=None, num_workers=2, worker_init_fn=_init_fn,
                        generator=g)
    samples = list(loader)
    by_worker = {s["id"]: s for s in samples}
    assert set(by_worker) == {0, 1}
    assert all(s["num_workers"] == 2 and s["is_copy"] for s in samples)
    assert all(s["init"] == 100 + s["id"] for s in samples)
    assert by_worker[1]["seed"] == by_worker[0]["seed"] + 1
    expected_base = torchlite.empty((), dtype=torchlite.int64).random_(
        generator=torchlite.Generator().manual_seed(11)).item()
    assert by_worker[0]["seed"] == expected_base
    for stream in ("torch", "python", "numpy"):
        assert by_worker[0][stream] != by_worker[1][stream]
    assert by_worker[0]["pid"] != by_worker[1]["pid"] != os.getpid()
    again = list(DataLoader(WhoAmI(), batch_size=None, num_workers=2, worker_init_fn=_init_fn,
                            generator=torchlite.Generator().manual_seed(11)))
    assert [(s["torch"], s["python"], s["numpy"]) for s in again] == \
        [(s["torch"], s["python"], s["numpy"]) for s in samples]


def test_numpy_worker_seed_matches_torch(torch_oracle):
    """torch seeds NumPy in a worker from a hash of (base_seed, worker_id); so do we."""
    from torch.utils.data._utils.worker import _generate_state as torch_state

    from torchlite.utils.data._worker import _generate_state
    for base_seed, worker_id in [(0, 0), (123456789123, 1), (2 ** 63 - 1, 7)]:
        assert _generate_state(base_seed, worker_id) == torch_state(base_seed, worker_id)


@pytest.mark.parametrize("exc", [ValueError, KeyError, IndexError])
def test_worker_exception_reraised_with_traceback(exc):
    it = iter(DataLoader(Failing(exc), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(exc) as info:
        next(it)
    text = str(info.value)
    assert text.startswith(f"Caught {exc.__name__} in DataLoader worker process 0.\n"
                           "Original Traceback (most recent call last):\n")
    assert 'raise self.exc("bad sample 5")' in text and "bad sample 5" in text
    assert next(it).tolist() == [6, 7]  # the loader goes on after a failed batch
    del it, info


@pytest.mark.parametrize("exc", [ValueError("v"), KeyError("k"), NotConstructible(1, 2)])
def test_exception_wrapper_matches_torch(torch_oracle, exc):
    from torch._utils import ExceptionWrapper as TorchWrapper

    from torchlite.utils.data._worker import ExceptionWrapper
    raised = []
    for wrapper_type in (ExceptionWrapper, TorchWrapper):
        try:
            raise exc
        except Exception:
            wrapper = wrapper_type(where="in DataLoader worker process 1")
        with pytest.raises(Exception) as info:
            wrapper.reraise()
        raised.append((type(info.value), str(info.value).splitlines()[:2]))
    assert raised[0] == raised[1]


def test_unconstructible_exception_becomes_runtime_error():
    with pytest.raises(RuntimeError, match="Caught NotConstructible in DataLoader worker"):
        list(DataLoader(RaisesNotConstructible(), num_workers=2))


def test_worker_init_fn_failure_is_reraised():
    with pytest.raises(KeyError, match="init failed"):
        list(DataLoader(Plain(4), num_workers=2, worker_init_fn=_failing_init))


def test_unpicklable_batch_raises_instead_of_hanging():
    with pytest.raises(Exception, match="Caught .* in DataLoader worker process"):
        list(DataLoader(Plain(4), batch_size=2, num_workers=2,
                        collate_fn=_unpicklable_collate))


def test_killed_worker_raises_promptly():
    it = iter(DataLoader(Sleepy(), num_workers=2))
    victim = it._workers[0].pid
    pids = [w.pid for w in it._workers]
    os.kill(victim, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) {victim}\) exited "
                                           "unexpectedly"):
        next(it)
    assert time.monotonic() - start < 5
    del it
    assert _wait_gone(pids)


def test_timeout_raises():
    it = iter(DataLoader(Sleepy(), num_workers=2, timeout=0.3))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.3 seconds"):
        next(it)
    assert time.monotonic() - start < 3
    pids = [w.pid for w in it._workers]
    del it
    assert _wait_gone(pids)


def test_deleting_half_consumed_iterator_reaps_workers():
    it = iter(DataLoader(Plain(200), batch_size=2, num_workers=2))
    assert [next(it).tolist() for _ in range(3)] == [[0, 1], [2, 3], [4, 5]]
    workers = list(it._workers)
    pids = [w.pid for w in workers]
    del it
    gc.collect()
    assert not any(w.is_alive() for w in workers)
    assert all(w.exitcode is not None for w in workers)  # joined: no zombies left
    assert _wait_gone(pids)
    assert not set(pids) & {p.pid for p in multiprocessing.active_children()}


def test_workers_exit_after_a_full_epoch():
    loader = DataLoader(Plain(10), batch_size=3, num_workers=2)
    it = iter(loader)
    assert [b.tolist() for b in it] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert all(w.exitcode == 0 for w in it._workers)


def test_persistent_workers_are_reused():
    loader = DataLoader(Counting(), batch_size=None, num_workers=2, persistent_workers=True)
    first = list(loader)
    second = list(loader)
    assert [s[0] for s in first] == [s[0] for s in second] == list(range(6))
    assert {s[3] for s in first} == {s[3] for s in second}  # same processes
    assert max(s[2] for s in second) > max(s[2] for s in first)  # worker state kept
    it = iter(loader)
    next(it)  # abandon an epoch half-way: the next one starts clean
    assert [s[0] for s in loader] == list(range(6))
    workers = list(loader._iterator._workers)
    loader._iterator._shutdown_workers()
    assert not any(w.is_alive() for w in workers)


def test_persistent_workers_with_iterable_dataset():
    loader = DataLoader(Range(0, 9), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(sum((b.tolist() for b in loader), [])) == list(range(9))
    loader._iterator._shutdown_workers()


def test_iterable_sharding_by_worker_info():
    out = [b.tolist() for b in DataLoader(Range(3, 12), batch_size=2, num_workers=2)]
    assert sorted(sum(out, [])) == list(range(3, 12))
    assert out[0] == [3, 4] and out[1] == [8, 9]  # worker 0 then worker 1, interleaved
    unsharded = sum((b.tolist() for b in DataLoader(Range(0, 4, shard=False), batch_size=2,
                                                    num_workers=2)), [])
    assert collections.Counter(unsharded) == {0: 2, 1: 2, 2: 2, 3: 2}  # as in torch's docs


def test_iterable_sharding_matches_torch(torch_oracle):
    class TorchRange(torch_oracle.utils.data.IterableDataset):
        def __iter__(self):
            info = torch_oracle.utils.data.get_worker_info()
            return iter(range(info.id * 5, info.id * 5 + 5))
    theirs = [b.tolist() for b in torch_oracle.utils.data.DataLoader(
        TorchRange(), batch_size=2, num_workers=2)]
    ours = [b.tolist() for b in DataLoader(Range(0, 10), batch_size=2, num_workers=2)]
    assert ours == theirs


def test_shuffled_workers_reproducible_with_generator():
    def order(seed):
        g = torchlite.Generator().manual_seed(seed)
        return [b.tolist() for b in DataLoader(Plain(24), batch_size=4, shuffle=True,
                                               num_workers=2, generator=g)]
    first = order(3)
    assert first == order(3) != order(4)
    assert sorted(sum(first, [])) == list(range(24))


def test_spawn_context():
    loader = DataLoader(Numbers(6), batch_size=4, num_workers=2,
                        multiprocessing_context="spawn")
    assert _batches(loader) == _batches(DataLoader(Numbers(6), batch_size=4))
