"""Linear-algebra behaviour the op table does not cover: the torch.linalg namespace, LinAlgError,
in-place triangles, writable diagonal views, gauge-invariant gradients of decompositions,
return types, dtypes, and gradients at singular matrices."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import torchlite
import torchlite.linalg
from torchlite.autograd import gradcheck, gradgradcheck


def _pair(arr, requires_grad=False, torch=None):
    """The same data as a torchlite tensor and (when ``torch`` is given) a torch tensor."""
    t = torchlite.tensor(arr, requires_grad=requires_grad)
    if torch is None:
        return t
    return t, torch.tensor(arr, requires_grad=requires_grad)


def _close(a, b, atol=1e-6):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=atol, rtol=1e-6)


def test_namespace_matches_torch(torch_oracle):
    for name in torchlite.linalg.__all__:
        assert hasattr(torch_oracle.linalg, name)
        assert callable(getattr(torchlite.linalg, name)), name
    assert torchlite.linalg is __import__("torchlite.linalg").linalg


@pytest.mark.parametrize("call", [
    lambda: torchlite.linalg.inv(torchlite.zeros(3, 3)),
    lambda: torchlite.inverse(torchlite.zeros(2, 3, 3)),
    lambda: torchlite.linalg.solve(torchlite.zeros(3, 3), torchlite.ones(3)),
    lambda: torchlite.linalg.cholesky(-torchlite.eye(2)),
])
def test_lapack_failures_raise_linalg_error(call):
    with pytest.raises(torchlite.linalg.LinAlgError) as info:
        call()
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("name", ["tril_", "triu_"])
@pytest.mark.parametrize("diagonal", [0, 1, -1])
def test_inplace_triangles(name, diagonal, torch_oracle):
    arr = np.random.default_rng(0).normal(size=(2, 3, 4))
    a, ta = _pair(arr, True, torch_oracle)
    b, tb = a * 2, ta * 2
    version = b._version
    getattr(b, name)(diagonal)
    getattr(tb, name)(diagonal)
    assert b._version == version + 1
    _close(b, tb)
    b.sum().backward()
    tb.sum().backward()
    _close(a.grad, ta.grad)


def test_diagonal_is_a_writable_view(torch_oracle):
    arr = np.arange(12.0).reshape(3, 4)
    a, ta = _pair(arr, torch=torch_oracle)
    a.diagonal(1).fill_(-1.0)
    ta.diagonal(1).fill_(-1.0)
    _close(a, ta)


def test_svd_full_matrices_non_square(torch_oracle):
    arr = np.random.default_rng(1).normal(size=(2, 5, 3))
    a, ta = _pair(arr, True, torch_oracle)
    u, s, vh = torchlite.linalg.svd(a, full_matrices=True)
    tu, ts, tvh = torch_oracle.linalg.svd(ta, full_matrices=True)
    assert u.shape == tu.shape and vh.shape == tvh.shape
    _close(u[..., :3] * s.unsqueeze(-2) @ vh, arr)
    # a gauge-invariant loss: the projector onto the column space, weighted by S
    loss = ((u[..., :3] * s.unsqueeze(-2)) @ u[..., :3].mT).sum()
    tloss = ((tu[..., :3] * ts.unsqueeze(-2)) @ tu[..., :3].mT).sum()
    loss.backward()
    tloss.backward()
    _close(a.grad, ta.grad)


def test_legacy_svd_without_uv(torch_oracle):
    arr = np.random.default_rng(2).normal(size=(4, 3))
    u, s, v = torchlite.svd(torchlite.tensor(arr), compute_uv=False)
    tu, ts, tv = torch_oracle.svd(torch_oracle.tensor(arr), compute_uv=False)
    assert u.shape == tu.shape and v.shape == tv.shape
    assert not u.numpy().any()
    _close(s, ts)


def test_qr_mode_r(torch_oracle):
    arr = np.random.default_rng(3).normal(size=(4, 3))
    a, ta = _pair(arr, True, torch_oracle)
    q, r = torchlite.linalg.qr(a, mode="r")
    tq, tr = torch_oracle.linalg.qr(ta, mode="r")
    assert q.shape == tq.shape == (0,)
    _close(r.abs(), tr.abs())
    with pytest.raises(RuntimeError, match="The derivative of linalg.qr depends on Q"):
        r.sum().backward()


def test_qr_complete_tall_is_not_differentiable():
    a = torchlite.tensor(np.random.default_rng(4).normal(size=(4, 3)), requires_grad=True)
    q, r = torchlite.linalg.qr(a, mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 3)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        (q.sum() + r.sum()).backward()


def test_return_types():
    a = torchlite.eye(3, dtype=torchlite.float64) * 2
    res = torchlite.linalg.slogdet(a)
    assert res.sign.item() == 1 and abs(res.logabsdet.item() - 3 * math.log(2)) < 1e-12
    assert repr(res).startswith("torch.return_types.linalg_slogdet(\nsign=")
    assert torchlite.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert torchlite.linalg.svd(a)._fields == ("U", "S", "Vh")
    assert torchlite.svd(a)._fields == ("U", "S", "V")
    assert torchlite.linalg.qr(a)._fields == ("Q", "R")
    assert type(torchlite.slogdet(a)).__name__ == "slogdet"


@pytest.mark.parametrize("fn", [
    lambda a: a @ a, lambda a: torchlite.linalg.inv(a), lambda a: torchlite.linalg.svd(a)[1],
    lambda a: torchlite.linalg.eigh(a)[0], lambda a: torchlite.linalg.norm(a),
    lambda a: torchlite.einsum("ij,jk->ik", a, a), lambda a: torchlite.linalg.det(a),
    lambda a: torchlite.linalg.pinv(a), lambda a: torchlite.linalg.matrix_norm(a, 2)])
def test_float32_stays_float32(fn):
    a = torchlite.eye(3) + 0.1
    assert fn(a).dtype is torchlite.float32


@pytest.mark.parametrize("arr", [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0],
                                                           [7.0, 8.0, 9.0]]])
def test_det_gradient_of_singular_matrix_is_the_cofactor_matrix(arr):
    arr = np.array(arr)
    a = torchlite.tensor(arr, requires_grad=True)
    torchlite.linalg.det(a).backward()
    cofactor = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(arr, i, 0), j, 1))
                          for j in range(len(arr))] for i in range(len(arr))])
    _close(a.grad, cofactor, atol=1e-9)


def test_vector_norm_of_zero_has_zero_gradient(torch_oracle):
    a, ta = _pair(np.zeros((2, 3)), True, torch_oracle)
    torchlite.linalg.vector_norm(a, dim=1).sum().backward()
    torch_oracle.linalg.vector_norm(ta, dim=1).sum().backward()
    _close(a.grad, ta.grad)


def test_einsum_broadcast_gradients(torch_oracle):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(1, 3, 2)), rng.normal(size=(4, 2, 5))
    (a, ta), (b, tb) = _pair(x, True, torch_oracle), _pair(y, True, torch_oracle)
    torchlite.einsum("bij,bjk->bik", [a, b]).sum().backward()
    torch_oracle.einsum("bij,bjk->bik", [ta, tb]).sum().backward()
    _close(a.grad, ta.grad)
    _close(b.grad, tb.grad)


def test_matrix_rank_tolerances(torch_oracle):
    arr = np.diag([1.0, 1e-3, 1e-9])
    for kw in [{}, {"atol": 1e-2}, {"rtol": 1e-4}, {"hermitian": True}]:
        got = torchlite.linalg.matrix_rank(torchlite.tensor(arr), **kw)
        want = torch_oracle.linalg.matrix_rank(torch_oracle.tensor(arr), **kw)
        assert got.item() == want.item() and str(got.dtype) == str(want.dtype), kw


def test_solve_double_backward_through_batched_broadcast():
    rng = np.random.default_rng(6)
    a = torchlite.tensor(rng.normal(size=(3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = torchlite.tensor(rng.normal(size=(2, 3, 2)), requires_grad=True)
    assert gradcheck(torchlite.linalg.solve, (a, b))
    assert gradgradcheck(torchlite.linalg.solve, (a, b))


def test_batched_matmul_is_one_array_call(monkeypatch):
    """Batched products reach the backend as one matmul, not a Python loop over the batch."""
    calls = []
    xp = torchlite.device("cpu").xp
    original = xp.matmul

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)
    monkeypatch.setattr(xp, "matmul", counting)
    torchlite.ones(8, 1, 4, 5) @ torchlite.ones(6, 5, 2)
    assert calls == [(8, 1, 4, 5)]


@pytest.mark.parametrize("args", [
    lambda x, y: (x, [0, 1], y, [1, 2], [0, 2]), lambda x, y: (x, [0, 1], y, [1, 2]),
    lambda x, y: (x, [Ellipsis, 1]), lambda x, y: (x, [0, 1], [1])])
def test_einsum_sublist_form(args, torch_oracle):
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    got = torchlite.einsum(*args(torchlite.tensor(x), torchlite.tensor(y)))
    want = torch_oracle.einsum(*args(torch_oracle.tensor(x), torch_oracle.tensor(y)))
    _close(got, want)


@pytest.mark.parametrize("call", [
    lambda lib, r: lib.mm(r(2, 3), r(3, 4)), lambda lib, r: lib.bmm(r(2, 2, 3), r(2, 3, 4)),
    lambda lib, r: lib.mv(r(2, 3), r(3)), lambda lib, r: lib.dot(r(3), r(3)),
    lambda lib, r: r(2, 3) @ r(3), lambda lib, r: lib.vdot(r(3), r(3)),
    lambda lib, r: lib.tril(r(3, 3)), lambda lib, r: lib.triu(r(3, 3), 1),
    lambda lib, r: lib.linalg.inv(r(3, 3)), lambda lib, r: lib.linalg.det(r(3, 3)),
    lambda lib, r: lib.linalg.svd(r(3, 3))[1], lambda lib, r: lib.linalg.qr(r(3, 3))[1],
    lambda lib, r: lib.linalg.eigh(r(3, 3))[0], lambda lib, r: lib.linalg.slogdet(r(3, 3))[1],
    lambda lib, r: lib.linalg.solve(r(3, 3), r(3, 2)), lambda lib, r: lib.linalg.pinv(r(3, 3)),
    lambda lib, r: lib.linalg.vector_norm(r(3)), lambda lib, r: lib.diagonal(r(3, 3)),
    lambda lib, r: lib.diag_embed(r(3)), lambda lib, r: lib.linalg.cross(r(3), r(3))])
def test_node_names_match_torch(call, torch_oracle):
    """The debugger shows PyTorch's node names for the linalg primitives."""
    rng = np.random.default_rng(8)

    def maker(lib):
        return lambda *shape: lib.tensor(rng.normal(size=shape) + 3 * np.eye(*shape[-2:])
                                         if len(shape) > 1 else rng.normal(size=shape),
                                         requires_grad=True)
    got = call(torchlite, maker(torchlite)).grad_fn.name()
    assert got == call(torch_oracle, maker(torch_oracle)).grad_fn.name()


@pytest.mark.parametrize("name,shapes", [("addmm", [(2, 2), (2, 3), (3, 2)]),
                                         ("addmv", [(2,), (2, 3), (3,)]),
                                         ("baddbmm", [(2, 2, 2), (2, 2, 3), (2, 3, 2)])])
def test_beta_zero_ignores_input_but_gives_zero_gradient(name, shapes, torch_oracle):
    rng = np.random.default_rng(9)
    arrays = [np.full(shapes[0], np.nan)] + [rng.normal(size=s) for s in shapes[1:]]
    ours = [torchlite.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch_oracle.tensor(a, requires_grad=True) for a in arrays]
    out = getattr(torchlite, name)(*ours, beta=0)
    want = getattr(torch_oracle, name)(*theirs, beta=0)
    _close(out, want)
    out.sum().backward()
    want.sum().backward()
    for a, b in zip(ours, theirs):
        _close(a.grad, b.grad)


@st.composite
def _matmul_shapes(draw):
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    vec_a, vec_b = draw(st.booleans()), draw(st.booleans())
    sa = (k,) if vec_a else batch.input_shapes[0] + (m, k)
    sb = (k,) if vec_b else batch.input_shapes[1] + (k, n)
    return sa, sb


@settings(max_examples=40, deadline=None)
@given(shapes=_matmul_shapes(), seed=st.integers(0, 2**16))
def test_matmul_shapes_values_and_gradients(shapes, seed):
    """Any mix of vectors and broadcast batches: NumPy's values, float64 gradcheck."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    a, b = torchlite.tensor(x, requires_grad=True), torchlite.tensor(y, requires_grad=True)
    _close(a @ b, np.matmul(x, y), atol=1e-12)
    assert gradcheck(torchlite.matmul, (a, b))


@pytest.mark.parametrize("call,text", [
    (lambda: torchlite.cholesky(torchlite.eye(2)), "torch.cholesky is deprecated in favor of "
     "torch.linalg.cholesky"),
    (lambda: torchlite.cross(torchlite.ones(3), torchlite.ones(3)), "Using torch.cross without "
     "specifying the dim arg is deprecated")])
def test_deprecation_warnings_as_torch(call, text):
    """PyTorch's deprecation warnings (its texts; PyTorch shows each once per process)."""
    with pytest.warns(UserWarning, match=text):
        call()
