"""View semantics of the shape ops, checked against PyTorch: views share memory and the version
counter with their base (writes go both ways), copies share nothing, the in-place metadata ops
(squeeze_, unsqueeze_, t_, transpose_) change the tensor itself, and chains of views behave."""
import numpy as np
import pytest

import torchlite

# Ops that are views in PyTorch, each applied the same way to a torchlite and a torch tensor of
# shape (2, 3, 4) holding 0..23.
VIEWS = {
    "view": lambda x: x.view(6, 4),
    "view_infer": lambda x: x.view(-1),
    "reshape": lambda x: x.reshape(4, 6),
    "view_as": lambda x: x.view_as(x.new_zeros(24)),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2),
    "swapaxes": lambda x: x.swapaxes(1, 2),
    "mT": lambda x: x.mT,
    "squeeze": lambda x: x.unsqueeze(1).squeeze(),
    "unsqueeze": lambda x: x.unsqueeze(-1),
    "expand_same": lambda x: x.expand(2, 3, 4),
    "flatten": lambda x: x.flatten(1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "ravel": lambda x: x.ravel(),
    "movedim": lambda x: x.movedim(0, -1),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "select": lambda x: x.select(1, 2),
    "split": lambda x: x.split(2, dim=2)[1],
    "chunk": lambda x: x.chunk(3, dim=1)[2],
    "unbind": lambda x: x.unbind(1)[1],
    "tensor_split": lambda x: x.tensor_split([1, 3], dim=2)[1],
    "hsplit": lambda x: x.hsplit(3)[0],
    "unfold": lambda x: x.unfold(2, 2, 2),
    "adjoint": lambda x: x.adjoint(),
    "as_strided": lambda x: x.as_strided((3, 3), (1, 1), 2),
}

COPIES = {
    "cat": lambda lib, x: lib.cat([x, x]),
    "stack": lambda lib, x: lib.stack([x]),
    "flip": lambda lib, x: x.flip(0),
    "roll": lambda lib, x: x.roll(1, 2),
    "repeat": lambda lib, x: x.repeat(1, 1, 1),
    "tile": lambda lib, x: x.tile((1,)),
    "repeat_interleave": lambda lib, x: x.repeat_interleave(1, dim=0),
    "rot90": lambda lib, x: x.rot90(4),
    "reshape_noncontiguous": lambda lib, x: x.transpose(0, 2).reshape(-1),
    "flatten_noncontiguous": lambda lib, x: x.permute(2, 1, 0).flatten(),
    "hstack": lambda lib, x: lib.hstack([x]),
}


def _base(lib):
    return lib.arange(24, dtype=lib.float32).reshape(2, 3, 4)


def _pair(torch):
    return _base(torchlite), _base(torch)


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a.detach()._host() if isinstance(
        a, torchlite.Tensor) else a), b.detach().numpy())


@pytest.mark.parametrize("name", VIEWS)
def test_write_through_view_reaches_base(name, torch_oracle):
    (tl, th), fn = _pair(torch_oracle), VIEWS[name]
    tv, hv = fn(tl), fn(th)
    assert tv.shape == hv.shape
    tv.fill_(-1)
    hv.fill_(-1)
    _same(tl, th)
    assert tl._version == th._version == tv._version == hv._version


@pytest.mark.parametrize("name", VIEWS)
def test_write_through_base_reaches_view(name, torch_oracle):
    (tl, th), fn = _pair(torch_oracle), VIEWS[name]
    tv, hv = fn(tl), fn(th)
    tl.copy_(torchlite.arange(24, dtype=torchlite.float32).reshape(2, 3, 4) * -2)
    th.copy_(torch_oracle.arange(24, dtype=torch_oracle.float32).reshape(2, 3, 4) * -2)
    _same(tv, hv)
    assert tv._version == hv._version == 1


@pytest.mark.parametrize("name", VIEWS)
def test_view_of_view_shares_the_root(name):
    base = torchlite.arange(24, dtype=torchlite.float32)
    v = VIEWS[name](base.view(2, 3, 4))
    assert v._base is base
    w = v.unsqueeze(0)
    assert w._base is base and w._vc is base._vc


@pytest.mark.parametrize("name", COPIES)
def test_copies_share_nothing(name, torch_oracle):
    (tl, th), fn = _pair(torch_oracle), COPIES[name]
    tc, hc = fn(torchlite, tl), fn(torch_oracle, th)
    tc.fill_(5)
    hc.fill_(5)
    _same(tl, th)
    assert tl._version == th._version == 0
    assert tc._base is None


def test_expand_is_read_only_like_torch(torch_oracle):
    for lib in (torchlite, torch_oracle):
        with pytest.raises(RuntimeError, match="more than one element of the written-to "
                                               "tensor"):
            lib.ones(3, 1).expand(3, 4).copy_(lib.ones(3, 4))


def test_view_dtype_shares_bits(torch_oracle):
    for lib in (torchlite, torch_oracle):
        x = lib.zeros(2, 2)
        bits = x.view(lib.int32)
        bits.fill_(0x3F800000)  # the bits of 1.0f
        assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]
        assert x._version == bits._version == 1
        half = x.view(lib.float16)
        assert tuple(half.shape) == (2, 4)


def test_view_dtype_is_not_differentiable(torch_oracle):
    for lib in (torchlite, torch_oracle):
        x = lib.ones(3, requires_grad=True)
        assert not x.view(lib.float32).requires_grad
        assert x.view(lib.float32).grad_fn is None


# ---- in-place metadata ops ---------------------------------------------------------------------
METADATA = {
    "unsqueeze_": lambda x: x.unsqueeze_(1),
    "squeeze_": lambda x: x.unsqueeze_(0).squeeze_(0),
    "squeeze_dims": lambda x: x.unsqueeze_(0).unsqueeze_(-1).squeeze_((0, -1)),
    "t_": lambda x: x.t_(),
    "transpose_": lambda x: x.transpose_(0, 1),
    "swapaxes_": lambda x: x.swapaxes_(1, 0),
}


@pytest.mark.parametrize("name", METADATA)
def test_inplace_metadata_ops(name, torch_oracle):
    fn = METADATA[name]
    for lib in (torchlite, torch_oracle):
        x = lib.arange(6, dtype=lib.float32).reshape(2, 3)
        assert fn(x) is x
    tl = torchlite.arange(6, dtype=torchlite.float32).reshape(2, 3)
    th = torch_oracle.arange(6, dtype=torch_oracle.float32).reshape(2, 3)
    fn(tl)
    fn(th)
    assert tl.shape == th.shape
    _same(tl, th)
    assert tl._version == th._version


@pytest.mark.parametrize("name", METADATA)
def test_inplace_metadata_ops_keep_autograd_history(name, torch_oracle):
    fn = METADATA[name]
    grads = []
    for lib in (torchlite, torch_oracle):
        x = lib.arange(6, dtype=lib.float64).reshape(2, 3).requires_grad_()
        z = x * 1
        fn(z)
        w = lib.arange(z.numel(), dtype=lib.float64).reshape(z.shape)
        (z * w).sum().backward()
        grads.append(x.grad)
    _same(*grads)


def test_inplace_metadata_keeps_retain_grad(torch_oracle):
    grads = []
    for lib in (torchlite, torch_oracle):
        x = lib.ones(2, 3, requires_grad=True)
        z = x * 2
        z.retain_grad()
        z.unsqueeze_(0)
        (z * lib.arange(6.0).reshape(1, 2, 3)).sum().backward()
        grads.append(z.grad)
    _same(*grads)


def test_inplace_metadata_on_leaf_requiring_grad_raises(torch_oracle):
    for lib in (torchlite, torch_oracle):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                               "in an in-place operation"):
            x.unsqueeze_(0)
        with lib.no_grad():
            x.unsqueeze_(0)
        assert tuple(x.shape) == (1, 3)


@pytest.mark.parametrize("make", [lambda z: z.split(1)[0], lambda z: z.chunk(2)[1],
                                  lambda z: z.unbind(0)[0]])
def test_inplace_metadata_on_multi_output_view_raises(make, torch_oracle):
    for lib in (torchlite, torch_oracle):
        z = lib.ones(2, 3, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="output of a function that returns multiple "
                                               "views"):
            make(z).unsqueeze_(0)


def test_inplace_metadata_on_a_view_keeps_sharing(torch_oracle):
    results = []
    for lib in (torchlite, torch_oracle):
        base = lib.arange(6, dtype=lib.float32).reshape(2, 3)
        v = base.select(0, 1)
        v.unsqueeze_(0)
        assert tuple(v.shape) == (1, 3) and tuple(base.shape) == (2, 3)
        v.fill_(9)
        results.append((base.tolist(), base._version, v._version))
    assert results[0] == results[1]


def test_t_on_view_of_non_leaf_backward(torch_oracle):
    grads = []
    for lib in (torchlite, torch_oracle):
        x = lib.arange(6, dtype=lib.float64).reshape(2, 3).requires_grad_()
        z = x * 2
        v = z.narrow(1, 0, 2)
        v.t_()
        v.mul_(3) if hasattr(v, "mul_") else v.copy_(v * 3)
        z.sum().backward()
        grads.append(x.grad)
    _same(*grads)


# ---- chains of views and autograd through writes ---------------------------------------------
CHAINS = {
    "transpose.narrow.unsqueeze": lambda x: x.transpose(0, 1).narrow(0, 1, 2).unsqueeze(0),
    "permute.select.view": lambda x: x.permute(1, 0).select(1, 1).view(3, 1),
    "split.t.squeeze": lambda x: x.split(1)[1].t().squeeze(1),
    "unfold.select": lambda x: x.unfold(1, 2, 1).select(2, 0),
    "movedim.flatten": lambda x: x.unsqueeze(0).movedim(0, 2).flatten(1),
}


@pytest.mark.parametrize("name", CHAINS)
def test_chained_views_write_through(name, torch_oracle):
    results = []
    for lib in (torchlite, torch_oracle):
        base = lib.arange(6, dtype=lib.float32).reshape(2, 3)
        v = CHAINS[name](base)
        v.fill_(-7)
        results.append((base.tolist(), v.tolist(), base._version))
    assert results[0] == results[1]


@pytest.mark.parametrize("name", [n for n in CHAINS if not n.startswith("split")])
def test_chained_view_inplace_write_backward(name, torch_oracle):
    """A write through a chain of views of a non-leaf rebases the base's history."""
    grads = []
    for lib in (torchlite, torch_oracle):
        x = lib.arange(6, dtype=lib.float64).reshape(2, 3).requires_grad_()
        y = lib.full((), 2.0, dtype=lib.float64, requires_grad=True)
        z = x * x
        v = CHAINS[name](z)
        v.copy_(y.expand(v.shape))
        (z * lib.arange(6, dtype=lib.float64).reshape(2, 3)).sum().backward()
        grads.append((x.grad, y.grad))
    _same(grads[0][0], grads[1][0])
    _same(grads[0][1], grads[1][1])


def test_backward_through_saved_view_detects_modification(torch_oracle):
    for lib in (torchlite, torch_oracle):
        x = lib.ones(2, 3, requires_grad=True)
        z = x * 1
        v = z.t()
        out = (v * v).sum()
        z.fill_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()


@pytest.mark.parametrize("name", VIEWS)
def test_strides_and_offsets_match_torch(name, torch_oracle):
    (tl, th), fn = _pair(torch_oracle), VIEWS[name]
    tv, hv = fn(tl), fn(th)
    if hv.is_contiguous() or tv.ndim == hv.ndim:
        assert tv.stride() == hv.stride() or 1 in hv.shape
    assert tv.storage_offset() == hv.storage_offset()


def test_as_strided_of_a_view_reads_the_root(torch_oracle):
    results = []
    for lib in (torchlite, torch_oracle):
        x = lib.arange(12, dtype=lib.float32).reshape(3, 4)
        v = x.narrow(0, 1, 2).as_strided((2, 2), (1, 1))
        results.append(v.tolist())
    assert results[0] == results[1]


# ---- non-tensor helpers ----------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 1), (3,)), ((), (4, 1, 2), 1), ((0,), (1,)), ()])
def test_broadcast_shapes(shapes, torch_oracle):
    got = torchlite.broadcast_shapes(*shapes)
    assert isinstance(got, torchlite.Size)
    assert tuple(got) == tuple(torch_oracle.broadcast_shapes(*shapes))


@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((2,), (3, 1), (3, 3))])
def test_broadcast_shapes_errors(shapes, torch_oracle):
    with pytest.raises(RuntimeError) as want:
        torch_oracle.broadcast_shapes(*shapes)
    with pytest.raises(RuntimeError) as got:
        torchlite.broadcast_shapes(*shapes)
    assert str(got.value) == str(want.value)


def test_flatten_same_dims_returns_input(torch_oracle):
    for lib in (torchlite, torch_oracle):
        x = lib.ones(2, 3)
        assert x.flatten(1, 1) is x
        assert x.flatten() is not x


def test_T_warns_on_non_matrices(torch_oracle):
    for lib in (torchlite, torch_oracle):
        with pytest.warns(UserWarning, match="x.T` on tensors of dimension other than 2"):
            lib.ones(2, 3, 4).T


def test_split_backward_with_unused_pieces(torch_oracle):
    """Pieces that get no gradient count as zeros; overlapping tensor_split pieces add up."""
    grads = []
    for lib in (torchlite, torch_oracle):
        x = lib.arange(7, dtype=lib.float64).requires_grad_()
        a, _, c = x.split([2, 3, 2])
        p, q, r = x.tensor_split([4, 2])
        (a * 2 + c.sum() + (q.sum() + r).sum() + p.sum()).sum().backward()
        grads.append(x.grad)
    _same(*grads)


def test_repeat_interleave_tensor_repeats_backward(torch_oracle):
    grads = []
    for lib in (torchlite, torch_oracle):
        x = lib.arange(6, dtype=lib.float64).reshape(2, 3).requires_grad_()
        out = x.repeat_interleave(lib.tensor([2, 0, 3]), dim=1)
        w = lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape)
        (out * w).sum().backward()
        grads.append(x.grad)
        assert lib.repeat_interleave(lib.tensor([1, 3])).tolist() == [0, 1, 1, 1]
    _same(*grads)


def test_as_strided_of_a_grad_view_of_a_plain_base_refuses(torch_oracle):
    """PyTorch differentiates into the view; torchlite refuses rather than lose the gradient,
    and the suggested .clone() gives PyTorch's gradient."""
    v = torchlite.arange(6.).reshape(2, 3).requires_grad_()
    with pytest.raises(RuntimeError, match="as_strided.*call .clone"):
        v.as_strided((2,), (2,))
    grads = []
    for lib in (torchlite, torch_oracle):
        v = lib.arange(6.).reshape(2, 3).requires_grad_()
        src = v.clone() if lib is torchlite else v
        src.as_strided((2, 2), (2, 1), 1).sum().backward()
        grads.append(v.grad.numpy())
    np.testing.assert_array_equal(*grads)
