"""Datasets vs torch.utils.data.dataset: same samples, lengths, errors."""
import numpy as np
import pytest

import torchlite
from torchlite.utils import data as tl_data

from .helpers import plain


def _both(torch, build):
    """``build(lib)`` run with torchlite and with torch, as comparable structures."""
    return plain(build(torchlite)), plain(build(torch))


def _tensors(lib):
    x = lib.as_tensor(np.arange(12.0).reshape(6, 2))
    y = lib.as_tensor(np.arange(6))
    return x, y


class Squares(tl_data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i * i


class Stream(tl_data.IterableDataset):
    def __init__(self, values):
        self.values = values

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


def test_tensor_dataset(torch_oracle):
    def build(lib):
        ds = lib.utils.data.TensorDataset(*_tensors(lib))
        return [len(ds), ds[0], ds[-1], ds[1:3]]
    ours, theirs = _both(torch_oracle, build)
    assert ours == theirs


def test_tensor_dataset_size_mismatch(torch_oracle):
    for lib in (torchlite, torch_oracle):
        with pytest.raises(AssertionError, match="Size mismatch between tensors"):
            lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4))


def test_base_dataset_getitem_not_implemented():
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        tl_data.Dataset()[0]


def test_concat_dataset_indices_and_sizes(torch_oracle):
    def build(lib):
        d = lib.utils.data
        ds = d.ConcatDataset([list(range(3)), list(range(10, 12)), list(range(20, 24))])
        return [ds.cumulative_sizes, len(ds), [ds[i] for i in range(-len(ds), len(ds))]]
    ours, theirs = _both(torch_oracle, build)
    assert ours == theirs


def test_concat_dataset_errors(torch_oracle):
    for d in (tl_data, torch_oracle.utils.data):
        with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
            d.ConcatDataset([])
        with pytest.raises(ValueError, match="absolute value of index should not exceed"):
            d.ConcatDataset([[1, 2]])[-3]
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        tl_data.ConcatDataset([Stream([1])])


def test_add_makes_concat_and_chain():
    both = Squares(3) + Squares(2)
    assert isinstance(both, tl_data.ConcatDataset) and [both[i] for i in range(5)] == \
        [0, 1, 4, 0, 1]
    chained = Stream([1, 2]) + Stream([3])
    assert isinstance(chained, tl_data.ChainDataset)
    assert list(chained) == [1, 2, 3] and len(chained) == 3


def test_chain_dataset_refuses_map_style():
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(tl_data.ChainDataset([Squares(2)]))


def test_subset_and_getitems(torch_oracle):
    def build(lib):
        d = lib.utils.data
        sub = d.Subset(d.TensorDataset(*_tensors(lib)), [4, 0, 2])
        return [len(sub), sub[0], sub.__getitems__([2, 1])]
    ours, theirs = _both(torch_oracle, build)
    assert ours == theirs


def test_subset_override_needs_getitems(torch_oracle):
    for d in (tl_data, torch_oracle.utils.data):
        bad = type("Bad", (d.Subset,), {"__getitem__": lambda self, i: i})
        with pytest.raises(NotImplementedError, match="overrides __getitem__ but not"):
            bad([1, 2], [0])


def test_stack_dataset_tuple_and_dict(torch_oracle):
    def build(lib):
        d = lib.utils.data
        x, y = _tensors(lib)
        tup = d.StackDataset(x, y)
        named = d.StackDataset(image=x, label=d.TensorDataset(y))
        return [len(tup), tup[1], tup.__getitems__([0, 5]), named[2],
                named.__getitems__([3, 4])]
    ours, theirs = _both(torch_oracle, build)
    assert ours == theirs


@pytest.mark.parametrize("args, kwargs, message", [
    ((), {}, "At least one dataset should be passed"),
    (([1, 2], [1]), {}, "Size mismatch between datasets"),
    (([1],), {"b": [1]}, "both types are given"),
])
def test_stack_dataset_errors(torch_oracle, args, kwargs, message):
    for d in (tl_data, torch_oracle.utils.data):
        with pytest.raises(ValueError, match=message):
            d.StackDataset(*args, **kwargs)


@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.3, 0.4]),
    (5, [0.2, 0.8]),
])
def test_random_split_lengths(torch_oracle, n, lengths):
    def build(lib):
        parts = lib.utils.data.random_split(range(n), lengths,
                                            generator=lib.Generator().manual_seed(0))
        return [len(p) for p in parts], sorted(i for p in parts for i in p)
    ours, theirs = _both(torch_oracle, build)
    assert ours == theirs
    assert ours[1] == list(range(n))  # disjoint and complete


def test_random_split_reproducible_with_generator():
    def split(seed):
        g = torchlite.Generator().manual_seed(seed)
        return [list(p) for p in tl_data.random_split(range(20), [5, 15], generator=g)]
    assert split(3) == split(3)
    assert split(3) != split(4)


def test_random_split_errors(torch_oracle):
    for lib in (torchlite, torch_oracle):
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            lib.utils.data.random_split(range(5), [2, 2])
        with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
            lib.utils.data.random_split(range(5), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        tl_data.random_split(range(2), [0.9, 0.1])
