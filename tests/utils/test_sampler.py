"""Samplers vs torch.utils.data.sampler: same orders where deterministic, same multisets and
lengths where random, same errors."""
import collections

import pytest

import torchlite
from torchlite.utils import data as tl_data


def _samplers(torch):
    return tl_data, torch.utils.data


def test_sequential(torch_oracle):
    for d in _samplers(torch_oracle):
        s = d.SequentialSampler(range(5))
        assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5


def test_random_sampler_is_a_permutation_per_epoch():
    s = tl_data.RandomSampler(range(50))
    first, second = list(s), list(s)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second and len(s) == 50


def test_random_sampler_generator_reproducible():
    def order(seed):
        return list(tl_data.RandomSampler(range(30), generator=torchlite.Generator()
                                          .manual_seed(seed)))
    assert order(1) == order(1) and order(1) != order(2)


def test_random_sampler_follows_manual_seed():
    torchlite.manual_seed(5)
    a = list(tl_data.RandomSampler(range(30)))
    torchlite.manual_seed(5)
    assert list(tl_data.RandomSampler(range(30))) == a


@pytest.mark.parametrize("num_samples", [7, 30, 75])
def test_random_sampler_num_samples_without_replacement(torch_oracle, num_samples):
    for d in _samplers(torch_oracle):
        out = list(d.RandomSampler(range(30), num_samples=num_samples))
        assert len(out) == num_samples
        counts = collections.Counter(out)  # whole permutations, then a partial one
        assert max(counts.values()) <= -(-num_samples // 30)


@pytest.mark.parametrize("num_samples", [1, 32, 70])
def test_random_sampler_with_replacement(torch_oracle, num_samples):
    for d in _samplers(torch_oracle):
        s = d.RandomSampler(range(4), replacement=True, num_samples=num_samples)
        out = list(s)
        assert len(out) == len(s) == num_samples and set(out) <= {0, 1, 2, 3}


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"replacement": 1}, TypeError, "replacement should be a boolean value, but got "
                                    "replacement=1"),
    ({"num_samples": 0}, ValueError, "num_samples should be a positive integer value, but got "
                                     "num_samples=0"),
    ({"num_samples": 2.0}, ValueError, "num_samples=2.0"),
])
def test_random_sampler_errors(torch_oracle, kwargs, exc, message):
    for d in _samplers(torch_oracle):
        with pytest.raises(exc, match=message):
            d.RandomSampler(range(3), **kwargs)


def test_subset_random_sampler(torch_oracle):
    for d in _samplers(torch_oracle):
        s = d.SubsetRandomSampler([3, 9, 4, 7])
        assert sorted(s) == [3, 4, 7, 9] and len(s) == 4
    g = torchlite.Generator
    assert list(tl_data.SubsetRandomSampler(range(20), generator=g().manual_seed(0))) == \
        list(tl_data.SubsetRandomSampler(range(20), generator=g().manual_seed(0)))


def test_weighted_random_sampler(torch_oracle):
    weights = [0.0, 1.0, 0.0, 3.0]
    for d in _samplers(torch_oracle):
        s = d.WeightedRandomSampler(weights, 400)
        counts = collections.Counter(s)
        assert len(s) == 400 and set(counts) == {1, 3}
        assert 0.6 < counts[3] / 400 < 0.9
        no_repeat = list(d.WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
        assert sorted(no_repeat) == [0, 1, 2, 3, 4]
        assert d.WeightedRandomSampler(weights, 3).weights.dtype == \
            (torch_oracle.float64 if d is not tl_data else torchlite.float64)


@pytest.mark.parametrize("args, kwargs, message", [
    (([1.0], 0), {}, "num_samples should be a positive integer value, but got num_samples=0"),
    (([1.0], True), {}, "num_samples=True"),
    (([1.0], 2), {"replacement": 0}, "replacement should be a boolean value, but got "
                                     "replacement=0"),
    (([[1.0, 2.0]], 2), {}, r"weights should be a 1d sequence but given weights have shape "
                            r"\(1, 2\)"),
])
def test_weighted_random_sampler_errors(torch_oracle, args, kwargs, message):
    for d in _samplers(torch_oracle):
        with pytest.raises(ValueError, match=message):
            d.WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize("n, batch_size, drop_last", [
    (10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True), (0, 2, False),
])
def test_batch_sampler(torch_oracle, n, batch_size, drop_last):
    ours, theirs = (d.BatchSampler(d.SequentialSampler(range(n)), batch_size, drop_last)
                    for d in _samplers(torch_oracle))
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("args, message", [
    ((0, False), "batch_size should be a positive integer value, but got batch_size=0"),
    ((True, False), "batch_size=True"),
    ((2, None), "drop_last should be a boolean value, but got drop_last=None"),
])
def test_batch_sampler_errors(torch_oracle, args, message):
    for d in _samplers(torch_oracle):
        with pytest.raises(ValueError, match=message):
            d.BatchSampler(range(4), *args)


@pytest.mark.parametrize("n, replicas, drop_last", [
    (10, 3, False), (10, 3, True), (2, 5, False), (12, 4, False), (12, 4, True), (7, 2, True),
])
def test_distributed_sampler_unshuffled_matches_torch(torch_oracle, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchDS

    from torchlite.utils.data.distributed import DistributedSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchDS(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert (len(ours), ours.total_size) == (len(theirs), theirs.total_size)


def test_distributed_sampler_shuffle_partitions_and_epochs():
    def shares(epoch, seed=0):
        out = []
        for rank in range(3):
            s = tl_data.DistributedSampler(range(12), num_replicas=3, rank=rank, seed=seed)
            s.set_epoch(epoch)
            out.append(list(s))
        return out
    first = shares(0)
    assert sorted(i for share in first for i in share) == list(range(12))
    assert shares(0) == first and shares(1) != first and shares(0, seed=1) != first


def test_distributed_sampler_errors(torch_oracle):
    from torch.utils.data.distributed import DistributedSampler as TorchDS
    for cls in (tl_data.DistributedSampler, TorchDS):
        with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                             r"\[0, 2\]"):
            cls(range(4), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        tl_data.DistributedSampler(range(4))


def test_base_sampler_iter_not_implemented():
    with pytest.raises(NotImplementedError):
        iter(tl_data.Sampler())
