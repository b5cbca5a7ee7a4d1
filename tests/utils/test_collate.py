"""default_collate / default_convert vs torch: same structures, dtypes and values, same errors."""
import collections

import numpy as np
import pytest

import torchlite
from torchlite.utils.data import default_collate, default_convert

from .helpers import plain

Point = collections.namedtuple("Point", ["x", "y"])

# each builder: lib -> a batch (list of samples), built from the library's own tensors
BATCHES = {
    "ints": lambda lib: [0, 1, 2, 3],
    "floats": lambda lib: [0.5, 1.5],
    "bools": lambda lib: [True, False],
    "strings": lambda lib: ["a", "b", "c"],
    "bytes": lambda lib: [b"a", b"b"],
    "tensors": lambda lib: [lib.ones(2, 3), lib.zeros(2, 3)],
    "int_tensors": lambda lib: [lib.arange(3, dtype=lib.int32), lib.arange(3, dtype=lib.int32)],
    "scalar_tensors": lambda lib: [lib.tensor(1.0), lib.tensor(2.0)],
    "numpy_arrays": lambda lib: [np.arange(4, dtype=np.float32).reshape(2, 2)] * 3,
    "numpy_int_arrays": lambda lib: [np.arange(3), np.arange(3) + 5],
    "numpy_scalars_f64": lambda lib: [np.float64(1.5), np.float64(2.5)],
    "numpy_scalars_i32": lambda lib: [np.int32(1), np.int32(2)],
    "numpy_scalars_f32": lambda lib: [np.float32(1.5), np.float32(2.5)],
    "numpy_bools": lambda lib: [np.bool_(True), np.bool_(False)],
    "tuples": lambda lib: [(lib.ones(2), 1, "a"), (lib.zeros(2), 2, "b")],
    "lists": lambda lib: [[0, 1], [2, 3]],
    "dicts": lambda lib: [{"A": 0, "B": lib.ones(1)}, {"A": 100, "B": lib.zeros(1)}],
    "namedtuples": lambda lib: [Point(0, 1.0), Point(1, 2.0)],
    "nested": lambda lib: [{"pair": (1, [2.0, np.int64(3)]), "name": "x"},
                           {"pair": (4, [5.0, np.int64(6)]), "name": "y"}],
    "ordered_dict": lambda lib: [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_collate_matches_torch(torch_oracle, name):
    from torch.utils.data import default_collate as torch_collate
    ours = default_collate(BATCHES[name](torchlite))
    theirs = torch_collate(BATCHES[name](torch_oracle))
    assert plain(ours) == plain(theirs)
    assert type(ours) is type(theirs) or hasattr(theirs, "dtype")


def test_collated_namedtuple_keeps_its_type():
    out = default_collate(BATCHES["namedtuples"](torchlite))
    assert isinstance(out, Point) and out.x.dtype == torchlite.int64


CONVERTS = {
    "int": lambda lib: 0,
    "numpy_array": lambda lib: np.array([0, 1], dtype=np.int16),
    "numpy_scalar": lambda lib: np.float32(2.0),
    "numpy_strings": lambda lib: np.array(["a", "b"]),
    "tensor": lambda lib: lib.ones(2),
    "namedtuple": lambda lib: Point(np.array(0), np.array(1.0)),
    "tuple": lambda lib: (np.array([1]), "s"),
    "list": lambda lib: [np.array([0, 1]), np.array([2, 3])],
    "dict": lambda lib: {"a": np.zeros(2), "b": [np.ones(1)]},
    "string": lambda lib: "text",
}


@pytest.mark.parametrize("name", sorted(CONVERTS))
def test_default_convert_matches_torch(torch_oracle, name):
    from torch.utils.data import default_convert as torch_convert
    ours = default_convert(CONVERTS[name](torchlite))
    theirs = torch_convert(CONVERTS[name](torch_oracle))
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and (ours == theirs).all()
    else:
        assert plain(ours) == plain(theirs)


@pytest.mark.parametrize("batch, exc, message", [
    ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ([object(), object()], TypeError, "default_collate: batch must contain tensors, numpy "
                                      "arrays, numbers, dicts or lists; found <class 'object'>"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
])
def test_default_collate_errors(torch_oracle, batch, exc, message):
    from torch.utils.data import default_collate as torch_collate
    for collate in (default_collate, torch_collate):
        with pytest.raises(exc, match=message):
            collate(batch)


def test_stacking_unequal_tensors_fails_like_torch(torch_oracle):
    from torch.utils.data import default_collate as torch_collate
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        torch_collate([torch_oracle.ones(2), torch_oracle.ones(3)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([torchlite.ones(2), torchlite.ones(3)])


def test_custom_collate_fn_map():
    from torchlite.utils.data._collate import collate, default_collate_fn_map
    fn_map = {**default_collate_fn_map, float: lambda b, collate_fn_map: sum(b)}
    assert collate([(1.0, 2), (3.0, 4)], collate_fn_map=fn_map)[0] == 4.0
