"""cosine_similarity, pairwise_distance and their modules against PyTorch."""
import numpy as np
import pytest

from ._layers import forward_backward, run_module, same, values
from .helpers import same_program

DTYPES = ("float32", "float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,kwargs", [
    (((4, 5), (4, 5)), {}), (((3, 4, 5), (1, 4, 5)), {"dim": 2}),
    (((4, 5), (5,)), {"dim": -1}), (((2, 3, 4), (2, 3, 4)), {"dim": 0, "eps": 1e-3}),
], ids=str)
def test_cosine_similarity(shapes, kwargs, dtype):
    arrays = [values(s, i) for i, s in enumerate(shapes)]
    same(lambda lib: forward_backward(
        lib, lambda a, b: lib.nn.functional.cosine_similarity(a, b, **kwargs), arrays, dtype),
        dtype)


def test_cosine_similarity_zero_vector():
    a = values((3, 4), 1)
    a[1] = 0.0
    b = values((3, 4), 2)
    same(lambda lib: forward_backward(lib, lib.nn.functional.cosine_similarity, [a, b],
                                      "float64"), "float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,kwargs", [
    (((4, 5), (4, 5)), {}), (((4, 5), (4, 5)), {"p": 1.0, "keepdim": True}),
    (((3, 4, 5), (4, 5)), {"p": 3.0, "eps": 1e-3}), (((5,), (5,)), {}),
], ids=str)
def test_pairwise_distance(shapes, kwargs, dtype):
    arrays = [values(s, i) for i, s in enumerate(shapes)]
    same(lambda lib: forward_backward(
        lib, lambda a, b: lib.nn.functional.pairwise_distance(a, b, **kwargs), arrays, dtype),
        dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args", [("CosineSimilarity", ()), ("CosineSimilarity", (0,)),
                                       ("PairwiseDistance", ()),
                                       ("PairwiseDistance", (1.0, 1e-4, True))])
def test_modules(name, args, dtype):
    arrays = [values((4, 5), 1), values((4, 5), 2)]
    same(lambda lib: run_module(lib, lambda lib: getattr(lib.nn, name)(*args), arrays, dtype),
         dtype)
    same_program(lambda lib: repr(getattr(lib.nn, name)(*args)))


def test_broadcast_error_matches_torch():
    for fn in ("cosine_similarity", "pairwise_distance"):
        result = same_program(lambda lib: getattr(lib.nn.functional, fn)(
            lib.tensor(np.ones((2, 3))), lib.tensor(np.ones((2, 4)))))
        assert result[0] == "raised"
