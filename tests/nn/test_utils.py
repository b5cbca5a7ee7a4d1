"""nn.utils against torch.nn.utils: clipping, parameter vectors, rnn packing (values, grads)."""
import math
import warnings

import numpy as np
import pytest
import torch

import torchlite
from torchlite.nn import utils
from torchlite.nn.utils import rnn

from .helpers import from_torch, to_torch


def _param_pairs(rng, shapes=((3, 4), (5,), (2, 2, 2)), scale=1.0, dtype=np.float64):
    """Parameters with the same grads in both libraries."""
    ours, theirs = [], []
    for shape in shapes:
        g = (rng.standard_normal(shape) * scale).astype(dtype)
        p = torchlite.nn.Parameter(torchlite.zeros(*shape, dtype=torchlite.float64
                                                   if dtype == np.float64 else torchlite.float32))
        p.grad = torchlite.from_numpy(g.copy())
        t = torch.nn.Parameter(torch.zeros(*shape, dtype=torch.from_numpy(g).dtype))
        t.grad = torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _assert_grads_equal(ours, theirs, rtol=1e-12):
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm(rng, norm_type, max_norm, foreach):
    ours, theirs = _param_pairs(rng)
    kw = {} if foreach is None else {"foreach": foreach}
    n1 = utils.clip_grad_norm_(ours, max_norm, norm_type, **kw)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, **kw)
    assert isinstance(n1, torchlite.Tensor) and n1.shape == () and n1.dtype == torchlite.float64
    assert n1.grad_fn is None
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-12)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_norm_float32_and_single_tensor(rng):
    ours, theirs = _param_pairs(rng, shapes=((4, 3),), dtype=np.float32)
    n1 = utils.clip_grad_norm_(ours[0], 0.5)
    n2 = torch.nn.utils.clip_grad_norm_(theirs[0], 0.5)
    assert n1.dtype == torchlite.float32
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-6)
    _assert_grads_equal(ours, theirs, rtol=1e-6)


def test_clip_grad_norm_skips_missing_grads_and_empty(rng):
    ours, theirs = _param_pairs(rng)
    ours[1].grad = None
    theirs[1].grad = None
    n1 = utils.clip_grad_norm_(iter(ours), 1.0)
    n2 = torch.nn.utils.clip_grad_norm_(iter(theirs), 1.0)
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-12)
    assert ours[1].grad is None
    _assert_grads_equal([ours[0], ours[2]], [theirs[0], theirs[2]])
    empty = utils.clip_grad_norm_([], 1.0)
    assert empty.item() == torch.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_norm_empty_generator_warns():
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient "
                                         "clipping will occur."):
        utils.clip_grad_norm_((p for p in []), 1.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_nonfinite(rng, bad, norm_type):
    ours, theirs = _param_pairs(rng)
    ours[0].grad[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError) as e1:
        utils.clip_grad_norm_(ours, 1.0, norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as e2:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type, error_if_nonfinite=True)
    assert str(e1.value) == str(e2.value)
    # without the flag: scaled by the non-finite norm, as torch
    n1 = utils.clip_grad_norm_(ours, 1.0, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    np.testing.assert_equal(n1.item(), n2.item())
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_get_total_norm_and_clip_grads_with_norm(rng):
    ours, theirs = _param_pairs(rng)
    n1 = utils.get_total_norm([p.grad for p in ours], 3.0)
    n2 = torch.nn.utils.get_total_norm([t.grad for t in theirs], 3.0)
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-12)
    utils.clip_grads_with_norm_(ours, 0.3, n1)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.3, n2)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_norm_deprecated_alias(rng):
    ours, _ = _param_pairs(rng)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        utils.clip_grad_norm(ours, 1.0)


@pytest.mark.parametrize("clip_value", [0.5, 2])
def test_clip_grad_value(rng, clip_value):
    ours, theirs = _param_pairs(rng)
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_grads_equal(ours, theirs)
    utils.clip_grad_value_(ours[0], 0.1)
    assert float(ours[0].grad.abs().max()) <= 0.1


@pytest.mark.parametrize("norm_type", [2.0, math.inf, -math.inf, 0, 1, 3.0])
def test_clip_grad_norm_mixed_dtypes_and_versions(rng, norm_type):
    """float32 and float64 grads together: the total norm is promoted, each grad is scaled
    in its own dtype, and each grad's version counter moves as PyTorch's does."""
    ours, theirs = _param_pairs(rng, shapes=((6, 5),), dtype=np.float32)
    ours64, theirs64 = _param_pairs(rng, shapes=((7,), (2, 3)), scale=3.0)
    ours, theirs = ours + ours64, theirs + theirs64
    before = [p.grad._version for p in ours]
    n1 = utils.clip_grad_norm_(ours, 0.5, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
    assert n1.dtype == torchlite.float64 and n2.dtype == torch.float64
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-6)
    _assert_grads_equal(ours, theirs, rtol=1e-6)
    assert [p.grad._version - v for p, v in zip(ours, before)] == [1, 1, 1]
    assert [p.grad.dtype for p in ours] == [torchlite.float32, torchlite.float64,
                                            torchlite.float64]


def test_clip_grad_norm_float16(rng):
    g = (rng.standard_normal((4, 5)) * 2).astype(np.float16)
    ours = torchlite.nn.Parameter(torchlite.from_numpy(np.zeros_like(g)))
    theirs = torch.nn.Parameter(torch.from_numpy(np.zeros_like(g)))
    ours.grad, theirs.grad = torchlite.from_numpy(g.copy()), torch.from_numpy(g.copy())
    n1 = utils.clip_grad_norm_([ours], 1.0)
    n2 = torch.nn.utils.clip_grad_norm_([theirs], 1.0)
    assert str(n1.dtype).split(".")[1] == str(n2.dtype).split(".")[1]
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=2e-3)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-3, atol=1e-3)


def test_clip_grad_norm_with_an_empty_grad(rng):
    ours, theirs = _param_pairs(rng, shapes=((3, 4), (0,)))
    n1 = utils.clip_grad_norm_(ours, 0.2)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, 0.2)
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-12)
    _assert_grads_equal(ours, theirs)


def test_clip_under_grad_mode_does_not_record(rng):
    ours, _ = _param_pairs(rng)
    for p in ours:
        p.grad.requires_grad_(False)
    utils.clip_grad_norm_(ours, 0.1)
    assert all(p.grad.grad_fn is None for p in ours)


def test_parameters_to_vector_roundtrip(rng):
    t_model = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(3, 2)),
                                      torch.nn.Parameter(torch.randn(4))])
    ours = [torchlite.nn.Parameter(from_torch(p)) for p in t_model]
    v1 = utils.parameters_to_vector(ours)
    v2 = torch.nn.utils.parameters_to_vector(t_model.parameters())
    np.testing.assert_array_equal(v1.detach().numpy(), v2.detach().numpy())
    assert v1.requires_grad and v1.grad_fn is not None
    v1.sum().backward()
    assert all(bool((p.grad == 1).all()) for p in ours)
    new = torchlite.arange(10.0)
    ids = [id(p) for p in ours]
    utils.vector_to_parameters(new, ours)
    assert [id(p) for p in ours] == ids
    assert ours[0].tolist() == [[0, 1], [2, 3], [4, 5]] and ours[1].tolist() == [6, 7, 8, 9]
    assert ours[0].grad_fn is None and ours[0].requires_grad


@pytest.mark.parametrize("vec", [[1.0, 2.0], 3])
def test_vector_to_parameters_type_error(vec):
    with pytest.raises(TypeError) as e1:
        utils.vector_to_parameters(vec, [])
    with pytest.raises(TypeError) as e2:
        torch.nn.utils.vector_to_parameters(vec, [])
    assert str(e1.value) == str(e2.value)


# ---- rnn -------------------------------------------------------------------------------------

def _sequences(rng, lengths, trailing=(3,)):
    arrays = [rng.standard_normal((n, *trailing)) for n in lengths]
    return ([torchlite.from_numpy(a.copy()).requires_grad_() for a in arrays],
            [torch.from_numpy(a.copy()).requires_grad_() for a in arrays])


def _assert_packed_equal(p1, p2):
    assert isinstance(p1, rnn.PackedSequence) and isinstance(p1, tuple)
    np.testing.assert_array_equal(p1.data.detach().numpy(), p2.data.detach().numpy())
    np.testing.assert_array_equal(p1.batch_sizes.numpy(), p2.batch_sizes.numpy())
    assert p1.batch_sizes.dtype == torchlite.int64 and p1.batch_sizes.device.type == "cpu"
    for a, b in ((p1.sorted_indices, p2.sorted_indices),
                 (p1.unsorted_indices, p2.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("lengths", [[4, 2, 1], [1, 3, 3, 2], [5]])
def test_pad_sequence(rng, batch_first, padding_side, lengths):
    ours, theirs = _sequences(rng, lengths, (2, 3))
    o = rnn.pad_sequence(ours, batch_first, -1.5, padding_side)
    t = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.5, padding_side)
    np.testing.assert_array_equal(o.detach().numpy(), t.detach().numpy())
    weights = rng.standard_normal(tuple(t.shape))
    (o * torchlite.from_numpy(weights)).sum().backward()
    (t * torch.from_numpy(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("call", [lambda m: m.pad_sequence([]),
                                  lambda m: m.pad_sequence(5),
                                  lambda m: m.pad_sequence([torch_or(m).ones(2)],
                                                           padding_side="up"),
                                  lambda m: m.pad_sequence([torch_or(m).ones(2, 3),
                                                            torch_or(m).ones(3, 4)])])
def test_pad_sequence_errors(call):
    with pytest.raises(RuntimeError) as e1:
        call(rnn)
    with pytest.raises(RuntimeError) as e2:
        call(torch.nn.utils.rnn)
    assert str(e1.value) == str(e2.value)


def torch_or(module):
    return torchlite if module is rnn else torch


def test_pad_sequence_broadcasts_size_one_trailing_dims():
    a, b = torchlite.ones(2, 3), torchlite.full((1, 1), 2.0)
    o = rnn.pad_sequence([a, b])
    t = torch.nn.utils.rnn.pad_sequence([torch.ones(2, 3), torch.full((1, 1), 2.0)])
    np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [5, 3, 3, 1]), (True, [2]),
                                                     (False, [2, 5, 1, 5, 3]),
                                                     (False, [1, 1, 1])])
def test_pack_padded_roundtrip(rng, batch_first, enforce_sorted, lengths):
    batch, steps = len(lengths), max(lengths) + 1
    shape = (batch, steps, 3) if batch_first else (steps, batch, 3)
    x = rng.standard_normal(shape)
    ours = torchlite.from_numpy(x.copy()).requires_grad_()
    theirs = torch.from_numpy(x.copy()).requires_grad_()
    as_tensor = enforce_sorted  # both forms of lengths
    l1 = torchlite.tensor(lengths) if as_tensor else lengths
    l2 = torch.tensor(lengths) if as_tensor else lengths
    p1 = rnn.pack_padded_sequence(ours, l1, batch_first, enforce_sorted)
    p2 = torch.nn.utils.rnn.pack_padded_sequence(theirs, l2, batch_first, enforce_sorted)
    _assert_packed_equal(p1, p2)
    for total_length in (None, steps + 2):
        o, ol = rnn.pad_packed_sequence(p1, batch_first, 0.25, total_length)
        t, tl = torch.nn.utils.rnn.pad_packed_sequence(p2, batch_first, 0.25, total_length)
        np.testing.assert_array_equal(o.detach().numpy(), t.detach().numpy())
        np.testing.assert_array_equal(ol.numpy(), tl.numpy())
        assert ol.dtype == torchlite.int64
    weights = rng.standard_normal(tuple(t.shape))
    (o * torchlite.from_numpy(weights)).sum().backward()
    (t * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack(rng, enforce_sorted):
    lengths = [4, 4, 2, 1] if enforce_sorted else [2, 4, 1, 4]
    ours, theirs = _sequences(rng, lengths)
    p1 = rnn.pack_sequence(ours, enforce_sorted)
    p2 = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted)
    _assert_packed_equal(p1, p2)
    back = rnn.unpack_sequence(p1)
    for a, b in zip(back, torch.nn.utils.rnn.unpack_sequence(p2)):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    padded = rnn.pad_sequence(ours)
    parts = rnn.unpad_sequence(padded, torchlite.tensor(lengths))
    assert [tuple(p.shape) for p in parts] == [(n, 3) for n in lengths]


@pytest.mark.parametrize("args", [((4, 3, 2), [2, 3, 1]), ((4, 3, 2), [3, 0, 1]),
                                  ((4, 3, 2), [3, 2, 0]), ((4, 3, 2), [3, 2]),
                                  ((0, 3, 2), [0, 0, 0]), ((4, 3, 2), "2d")])
def test_pack_padded_errors(args):
    shape, lengths = args

    def call(lib, mod):
        ls = lib.tensor([[3, 2, 1]]) if lengths == "2d" else lengths
        return mod.pack_padded_sequence(lib.zeros(shape), ls)
    with pytest.raises(RuntimeError) as e1:
        call(torchlite, rnn)
    with pytest.raises(RuntimeError) as e2:
        call(torch, torch.nn.utils.rnn)
    assert str(e1.value) == str(e2.value)


def test_pad_packed_total_length_error(rng):
    p1 = rnn.pack_padded_sequence(torchlite.zeros(4, 3, 2), [3, 2, 1])
    p2 = torch.nn.utils.rnn.pack_padded_sequence(torch.zeros(4, 3, 2), [3, 2, 1])
    with pytest.raises(ValueError) as e1:
        rnn.pad_packed_sequence(p1, total_length=2)
    with pytest.raises(ValueError) as e2:
        torch.nn.utils.rnn.pad_packed_sequence(p2, total_length=2)
    assert str(e1.value) == str(e2.value)


def test_packed_sequence_type():
    p = rnn.pack_sequence([torchlite.ones(3, 2), torchlite.ones(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert p.double().data.dtype == torchlite.float64 and p.double().batch_sizes is batch_sizes
    assert p.to(torchlite.float32) is p
    assert not p.is_cuda
    q = rnn.PackedSequence(data, batch_sizes, torchlite.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]
    r = rnn.PackedSequence((data, batch_sizes))
    assert r.batch_sizes is batch_sizes and r.sorted_indices is None
    assert repr(p).startswith("PackedSequence(data=tensor(")
    assert rnn.invert_permutation(torchlite.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert rnn.invert_permutation(None) is None


def test_packed_sequence_feeds_torch_shapes(rng):
    # what an RNN consumes: data rows per step follow batch_sizes
    ours, theirs = _sequences(rng, [3, 1, 2])
    p1 = rnn.pack_sequence(ours, enforce_sorted=False)
    p2 = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    _assert_packed_equal(p1, p2)
    assert to_torch(p1.data).shape == p2.data.shape
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p1.data.sum().backward()
    assert all(bool((s.grad == 1).all()) for s in ours)


# ---- CUDA (skips without a GPU) --------------------------------------------------------------

needs_cuda = pytest.mark.skipif(not torchlite.cuda.is_available(), reason="no CUDA device")


@needs_cuda
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_cuda(rng, norm_type):
    ours, theirs = _param_pairs(rng)
    for p in ours:
        p.data = p.data.cuda()
        p.grad = p.grad.cuda()
    n1 = utils.clip_grad_norm_(ours, 0.5, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
    assert n1.is_cuda
    np.testing.assert_allclose(n1.item(), n2.item(), rtol=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-12)
    utils.clip_grad_value_(ours, 0.01)
    assert all(p.grad.is_cuda and float(p.grad.abs().max()) <= 0.01 for p in ours)


@needs_cuda
@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [4, 2, 1]), (False, [1, 4, 2])])
def test_pack_padded_cuda(rng, enforce_sorted, lengths):
    x = rng.standard_normal((5, 3, 2))
    ours = torchlite.from_numpy(x.copy()).cuda().requires_grad_()
    p1 = rnn.pack_padded_sequence(ours, lengths, enforce_sorted=enforce_sorted)
    p2 = torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), lengths,
                                                 enforce_sorted=enforce_sorted)
    assert p1.data.is_cuda and p1.batch_sizes.device.type == "cpu"
    assert p1.sorted_indices is None or p1.sorted_indices.is_cuda
    np.testing.assert_array_equal(p1.data.detach().cpu().numpy(), p2.data.numpy())
    padded, lens = rnn.pad_packed_sequence(p1)
    assert padded.is_cuda and lens.device.type == "cpu"
    padded.sum().backward()
    assert ours.grad.is_cuda
    np.testing.assert_array_equal(rnn.pad_packed_sequence(p2)[0].numpy(),
                                  padded.detach().cpu().numpy())
