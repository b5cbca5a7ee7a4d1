"""Embedding, EmbeddingBag and one_hot against PyTorch (values, weight gradients, padding_idx,
max_norm, scale_grad_by_freq, from_pretrained, reprs, errors); gradgradcheck of the lookup."""
import numpy as np
import pytest

import torchlite
import torchlite.nn.functional as TF
from torchlite.autograd import gradcheck, gradgradcheck

from ._layers import fill_params, run_module, same, values
from .helpers import same_program

DTYPES = ("float32", "float64")
IDX = np.array([[1, 4, 0, 4], [9, 2, 2, 1], [0, 0, 3, 7]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 2, "scale_grad_by_freq": True},
                                    {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}],
                         ids=str)
@pytest.mark.parametrize("num", [10, 40])  # more lookups than rows (sorted runs) or fewer
def test_embedding_module(kwargs, num, dtype):
    def program(lib):
        out = run_module(lib, lambda lib: lib.nn.Embedding(num, 3, **kwargs), [IDX], dtype)
        return out
    same(program, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_embedding_max_norm_renormalizes_weight(dtype):
    def program(lib):
        w = lib.tensor(values((10, 3), 1) * 3, dtype=getattr(lib, dtype))
        out = lib.nn.functional.embedding(lib.tensor(IDX), w, max_norm=2.0)
        return out, w
    same(program, dtype)


def test_padding_row_zero_at_init_and_no_grad():
    def program(lib):
        e = lib.nn.Embedding(6, 4, padding_idx=3)
        first = e.weight[3].clone()
        e(lib.tensor([[3, 1, 3]])).sum().backward()
        return first, e.weight.grad[3], e.weight.grad[1]
    same_program(program)


def test_embedding_default_init_statistics():
    w = torchlite.nn.Embedding(1000, 64).weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02


def test_from_pretrained():
    table = values((5, 3), 1)

    def program(lib):
        e = lib.nn.Embedding.from_pretrained(lib.tensor(table))
        e2 = lib.nn.Embedding.from_pretrained(lib.tensor(table), freeze=False, padding_idx=1)
        b = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(table), mode="sum")
        return (repr(e), e.weight.requires_grad, e(lib.tensor([4, 0])), repr(e2),
                e2.weight.requires_grad, repr(b), b.weight.requires_grad,
                b(lib.tensor([[1, 2], [3, 4]])))
    same_program(program)


BAG_IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("layout", ["offsets", "last_offset", "2d"])
def test_embedding_bag(mode, padding_idx, layout, dtype):
    def program(lib):
        bag = lib.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=padding_idx,
                                  include_last_offset=layout == "last_offset")
        bag = fill_params(lib, bag.to(getattr(lib, dtype)))
        if layout == "2d":
            out = bag(lib.tensor(BAG_IDX.reshape(5, 2)))
        else:
            offsets = [0, 2, 2, 5] + ([10] if layout == "last_offset" else [])
            out = bag(lib.tensor(BAG_IDX), lib.tensor(offsets))
        out.backward(lib.tensor(values(tuple(out.shape), 3), dtype=out.dtype))
        return out, bag.weight.grad
    same(program, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_bag_per_sample_weights(dtype):
    def program(lib):
        w = lib.tensor(values((10, 3), 1), dtype=getattr(lib, dtype), requires_grad=True)
        psw = lib.tensor(values((10,), 2), dtype=getattr(lib, dtype), requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor(BAG_IDX), w, lib.tensor([0, 3, 7]),
                                              mode="sum", per_sample_weights=psw)
        out.backward(lib.tensor(values(tuple(out.shape), 3), dtype=out.dtype))
        return out, w.grad, psw.grad
    same(program, dtype)


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(num_classes):
    same_program(lambda lib: lib.nn.functional.one_hot(lib.tensor(IDX % 5), num_classes))
    same_program(lambda lib: lib.nn.functional.one_hot(lib.tensor(3), num_classes))


REPRS = [
    lambda lib: lib.nn.Embedding(10, 3),
    lambda lib: lib.nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0, norm_type=3.0,
                                 scale_grad_by_freq=True, sparse=True),
    lambda lib: lib.nn.EmbeddingBag(10, 3, max_norm=1, mode="sum", padding_idx=2),
    lambda lib: lib.nn.EmbeddingBag(10, 3),
]


@pytest.mark.parametrize("index", range(len(REPRS)))
def test_repr_matches_torch(index):
    same_program(lambda lib: (repr(m := REPRS[index](lib)), m.weight.shape,
                              [n for n, _ in m.named_parameters()]))


ERRORS = [
    lambda lib: lib.nn.functional.embedding(lib.tensor([5]), lib.randn(3, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([-1]), lib.randn(3, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1.0]), lib.randn(3, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.randn(3, 2), padding_idx=4),
    lambda lib: lib.nn.Embedding(3, 2, padding_idx=-4),
    lambda lib: lib.nn.Embedding(3, 2, _weight=lib.randn(2, 2)),
    lambda lib: lib.nn.Embedding.from_pretrained(lib.randn(3)),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.randn(3, 2)),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.randn(3, 2),
                                                lib.tensor([0]), mode="foo"),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.randn(3, 2),
                                                lib.tensor([0]), mode="max",
                                                per_sample_weights=lib.ones(2)),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([[1, 2]]), lib.randn(3, 2),
                                                lib.tensor([0])),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([[[1, 2]]]), lib.randn(3, 2)),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([1.0, 2.0])),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([1, -2])),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([1, 5]), 3),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.long)),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    assert same_program(ERRORS[index])[0] == "raised"


def test_gradcheck():
    w = torchlite.tensor(values((5, 3), 1), requires_grad=True)
    idx = torchlite.tensor([[1, 0, 4], [1, 1, 2]])
    fn = lambda w: TF.embedding(idx, w) ** 2  # noqa: E731 (nonlinear: gradgrad is not 0)
    assert gradcheck(fn, (w,))
    assert gradgradcheck(fn, (w,))


@pytest.mark.parametrize("kwargs", [{"padding_idx": 1}, {"scale_grad_by_freq": True}], ids=str)
def test_double_backward_matches_torch(kwargs):
    """padding_idx / scale_grad_by_freq make the gradient differ from the numerical one
    (gradcheck cannot apply): compare first and second derivatives with PyTorch instead."""
    def program(lib):
        w = lib.tensor(values((5, 3), 1), requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor([[1, 0, 4], [1, 1, 2]]), w,
                                          **kwargs) ** 2
        g = lib.tensor(values((2, 3, 3), 2), requires_grad=True)
        (gw,) = lib.autograd.grad(out, w, g, create_graph=True)
        gw_w, gw_g = lib.autograd.grad((gw * lib.tensor(values((5, 3), 3))).sum(), (w, g))
        return gw, gw_w, gw_g
    same_program(program, rtol=1e-12)


def test_weight_gradient_is_differentiable():
    """With padding_idx, the weight gradient (a function of the weight and of the output
    gradient) passes gradcheck."""
    idx = torchlite.tensor([[1, 0, 4], [1, 1, 2]])
    w = torchlite.tensor(values((5, 3), 1), requires_grad=True)
    g = torchlite.tensor(values((2, 3, 3), 2), requires_grad=True)

    def weight_grad(w, g):
        with torchlite.enable_grad():  # gradcheck's numerical pass runs under no_grad
            w = w if w.requires_grad else w.detach().requires_grad_()
            out = TF.embedding(idx, w, padding_idx=1) ** 2
            return torchlite.autograd.grad(out, w, g, create_graph=True)[0]
    assert gradcheck(weight_grad, (w, g))


def test_backward_is_one_scatter_node():
    w = torchlite.randn(50, 4, requires_grad=True)
    out = TF.embedding(torchlite.randint(0, 50, (8, 16)), w)
    g = torchlite.ones_like(out, requires_grad=True)
    (gw,) = torchlite.autograd.grad(out, w, g, create_graph=True)
    assert gw.grad_fn.name() == "EmbeddingBackwardBackward0"
