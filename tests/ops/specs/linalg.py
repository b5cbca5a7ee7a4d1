"""Spec rows for torchlite/ops/linalg.py and the torchlite.linalg namespace.

Decompositions are compared through sign-invariant quantities: factors whose signs are fixed by a
constant (piecewise-constant) sign matrix computed from the result, so torchlite, NumPy and
PyTorch agree even where LAPACK's sign conventions would differ.
"""
import math

import numpy as np

import torchlite
import torchlite.linalg

from ..opspec import ALL_REAL, ErrorInput, OpSpec, Sample, rand

DECOMP = dict(atol=1e-4, rtol=1e-4)


def _pairs(shapes):
    """Samples of random operands of the given shapes."""
    def samples(rng, dtype):
        for shape in shapes:
            yield Sample(tuple(rand(rng, s, dtype) for s in shape), name=str(shape))
    return samples


def _with_kwargs(samples, *kwargs_list):
    """Each sample of ``samples`` once per kwargs dict."""
    def out(rng, dtype):
        for s in samples(rng, dtype):
            for kw in kwargs_list:
                yield Sample(s.args, {**s.kwargs, **kw}, f"{s.name}{kw}")
    return out


def _well_conditioned(rng, shape, dtype):
    """Random square matrices plus n*I: far from singular."""
    n = shape[-1]
    return (rand(rng, shape, dtype, -1, 1) + n * np.eye(n)).astype(dtype)


def _spd(rng, shape, dtype):
    b = rand(rng, shape, dtype, -1, 1)
    return (b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def _square(shapes, make=_well_conditioned, rhs=None):
    def samples(rng, dtype):
        for shape in shapes:
            args = (make(rng, shape, dtype),)
            if rhs is not None:
                args += (rand(rng, rhs[shape], dtype),)
            yield Sample(args, name=str(shape))
    return samples


def _mT(x):
    return np.swapaxes(x, -1, -2)


def _sym_lib(x):
    """x @ x^T + n I for a torchlite or torch tensor: symmetric positive-definite."""
    n = x.shape[-1]
    return x @ x.transpose(-2, -1) + _like(x, n * np.eye(n))


def _like(t, arr):
    """A constant of ``t``'s library (torchlite or torch) and dtype."""
    lib = torchlite if isinstance(t, torchlite.Tensor) else __import__("torch")
    return lib.tensor(np.asarray(arr, dtype=str(t.dtype).split(".")[-1]), device=t.device)


def _np_sym(x):
    return x @ _mT(x) + x.shape[-1] * np.eye(x.shape[-1])


def _signs(arr):
    """+-1 per column: the sign of the column's sum (a gauge fix for singular vectors)."""
    s = np.sign(np.asarray(arr).sum(axis=-2))
    return np.where(s == 0, 1, s)


def _host(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else t


def _fix_cols(q, others=()):
    """q with columns multiplied by constant signs; ``others`` (tensor, axis) get the same."""
    s = _signs(_host(q))
    out = [q * _like(q, s[..., None, :])]
    for t, rows in others:
        out.append(t * _like(t, s[..., :, None] if rows else s[..., None, :]))
    return out


def _qr_invariant(fn):
    def op(a, mode="reduced"):
        q, r = fn(a, mode=mode)
        return tuple(_fix_cols(q, [(r, True)]))
    return op


def _np_qr(a, mode="reduced"):
    q, r = np.linalg.qr(a, mode=mode)
    s = _signs(q)
    return q * s[..., None, :], r * s[..., :, None]


def _svd_invariant(fn):
    def op(a, full_matrices=False):
        u, s, vh = fn(a, full_matrices=full_matrices)
        u, vh = _fix_cols(u, [(vh, True)])
        return u, s, vh
    return op


def _np_svd(a, full_matrices=False):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    sg = _signs(u)
    return u * sg[..., None, :], s, vh * sg[..., :, None]


def _eigh_invariant(fn):
    def op(a, UPLO="L"):
        w, v = fn((a + a.transpose(-2, -1)) * 0.5, UPLO=UPLO)
        return (w,) + tuple(_fix_cols(v))
    return op


def _np_eigh(a, UPLO="L"):
    w, v = np.linalg.eigh((a + _mT(a)) / 2, UPLO=UPLO)
    return w, v * _signs(v)[..., None, :]


def _legacy_svd(lib):
    def op(a, some=True):
        u, s, v = lib.svd(a, some=some)
        u, v = _fix_cols(u, [(v, False)])
        return u, s, v
    return op


def _np_vector_norm(x, ord=2, dim=None, keepdim=False):
    ax = np.abs(x)
    if ord == math.inf:
        out = ax.max(axis=dim, keepdims=keepdim)
    elif ord == -math.inf:
        out = ax.min(axis=dim, keepdims=keepdim)
    elif ord == 0:
        out = (ax != 0).sum(axis=dim, keepdims=keepdim)
    else:
        out = (ax ** ord).sum(axis=dim, keepdims=keepdim) ** (1 / ord)
    return np.asarray(out, dtype=x.dtype)


def _np_matrix_norm(a, ord="fro", dim=(-2, -1), keepdim=False):
    out = np.linalg.norm(a, ord=ord, axis=dim, keepdims=keepdim)
    return np.asarray(out, dtype=a.dtype)


def _np_solve_triangular(a, b, upper, left=True, unitriangular=False):
    tri = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        eye = np.eye(a.shape[-1])
        tri = tri * (1 - eye) + eye
    return np.linalg.solve(tri, b) if left else _mT(np.linalg.solve(_mT(tri), _mT(b)))


def _solve_triangular_samples(rng, dtype):
    cases = [((3, 3), (3, 2), {"upper": True}), ((3, 3), (3, 1), {"upper": False}),
             ((2, 3, 3), (3, 2), {"upper": False, "unitriangular": True}),
             ((3, 3), (2, 2, 3), {"upper": True, "left": False})]
    for sa, sb, kw in cases:
        yield Sample((_well_conditioned(rng, sa, dtype), rand(rng, sb, dtype)), kw, str(kw))


def _triangular(rng, shape, dtype):
    """A well-conditioned lower-triangular matrix (a Cholesky factor)."""
    return np.tril(_well_conditioned(rng, shape, dtype))


def _np_product(factor, upper):
    low = _mT(factor) if upper else factor
    return low @ _mT(low)


def _factor(rng, shape, dtype, upper=False):
    low = _triangular(rng, shape, dtype)
    return _mT(low).copy() if upper else low


def _cholesky_solve_samples(rng, dtype):
    for sb, sf, upper in [((3, 2), (3, 3), False), ((2, 3, 1), (3, 3), True),
                          ((3, 2), (2, 3, 3), False)]:
        yield Sample((rand(rng, sb, dtype), _factor(rng, sf, dtype, upper)), {"upper": upper},
                     f"upper={upper}")


def _cholesky_inverse_samples(rng, dtype):
    for shape, upper in [((3, 3), False), ((2, 3, 3), False), ((3, 3), True)]:
        yield Sample((_factor(rng, shape, dtype, upper),), {"upper": upper}, f"upper={upper}")


def _matrix_power_samples(rng, dtype):
    floating = np.dtype(dtype).kind == "f"
    for shape, n in [((3, 3), 0), ((3, 3), 1), ((2, 3, 3), 3), ((3, 3), -1), ((3, 3), -2),
                     ((3, 3), 4)]:
        if n >= 0 or floating:
            a = _well_conditioned(rng, shape, dtype)
            yield Sample(((a / 3).astype(dtype) if floating else a, n), name=f"n={n}")


def _einsum_samples(rng, dtype):
    cases = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]),
             ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
             ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]), ("i,i->", [(4,), (4,)]),
             ("i,j->ij", [(3,), (2,)]), ("ij->", [(2, 3)]), ("ijk,kj->i", [(2, 3, 4), (4, 3)]),
             ("iij->ji", [(2, 2, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
             ("...i->...", [(2, 3, 4)]), ("ba", [(2, 3)])]
    for eq, shapes in cases:
        yield Sample(tuple(rand(rng, s, dtype) for s in shapes), {"eq": eq}, eq)


def _linalg(name, **kw):
    """A row for torchlite.linalg.<name>, compared with torch.linalg.<name>."""
    kw.setdefault("op", getattr(torchlite.linalg, name))
    kw.setdefault("torch_op", lambda torch: getattr(torch.linalg, name))
    return OpSpec(f"linalg.{name}", **kw)


def _err(args, match, exc=RuntimeError, **kwargs):
    return ErrorInput(tuple(np.zeros(s) if isinstance(s, tuple) else s for s in args), kwargs,
                      exc, match)


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)),
                 ((2, 3, 4), (4,)), ((2, 3), (2, 3, 2))]
SQUARE = [(3, 3), (2, 3, 3), (1, 1)]
SOLVE_RHS = {(3, 3): (3,), (2, 3, 3): (2, 3), (3, 3, 3): (3, 2), (1, 2, 2): (2, 2, 1)}
QR_SHAPES = [(3, 3), (4, 3), (2, 4, 2), (2, 3), (2, 2, 4)]
ANY = [(3, 3), (4, 3), (3, 4), (2, 4, 2)]
MATMUL_ERRORS = (
    _err([(2, 3), (4, 5)], r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    _err([(3,), (4,)], "inconsistent tensor size"),
    _err([(2, 3), (4,)], r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
    _err([(), (3,)], "both arguments to matmul need to be at least 1D"),
    _err([(2, 2, 3), (3, 3, 5)], r"size of tensor a \(2\) must match the size of tensor b \(3\)"),
    _err([(2, 2, 3), (2, 4, 5)], "Expected size for first two dimensions of batch2"),
)

SPECS = [
    OpSpec("matmul", ref=np.matmul, samples=_pairs(MATMUL_SHAPES), dtypes=ALL_REAL,
           errors=MATMUL_ERRORS),
    _linalg("matmul", ref=np.matmul, samples=_pairs(MATMUL_SHAPES[:4])),
    OpSpec("mm", ref=np.matmul, samples=_pairs([((2, 3), (3, 4)), ((1, 1), (1, 5))]),
           dtypes=ALL_REAL, errors=(
               _err([(2, 3), (4, 5)], r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
               _err([(2, 3, 1), (4, 5)], "self must be a matrix"),
               _err([np.zeros((2, 3), np.int64), np.zeros((3, 2))], "expected m1 and m2 to have "
                    "the same dtype, but got: long int != double"))),
    OpSpec("bmm", ref=np.matmul, samples=_pairs([((2, 2, 3), (2, 3, 4))]), dtypes=ALL_REAL,
           errors=(_err([(2, 3), (3, 5)], "batch1 must be a 3D tensor"),
                   _err([(2, 2, 3), (3, 3, 5)], r"to be: \[2, 3\] but got: \[3, 3\]"))),
    OpSpec("mv", ref=np.matmul, samples=_pairs([((2, 3), (3,))]), dtypes=ALL_REAL,
           errors=(_err([(2, 3), (4, 1)], "vector \\+ matrix @ vector expected, got 1, 2, 2"),)),
    OpSpec("dot", ref=np.dot, samples=_pairs([((4,), (4,)), ((1,), (1,))]), dtypes=ALL_REAL,
           errors=(_err([(2, 3), (4,)], "1D tensors expected, but got 2D and 1D tensors"),
                   _err([(3,), (4,)], r"inconsistent tensor size, expected tensor \[3\]"),
                   _err([np.zeros(3, np.float32), np.zeros(3)],
                        "dot : expected both vectors to have same dtype, but found Float and "
                        "Double"))),
    OpSpec("vdot", ref=np.vdot, samples=_pairs([((4,), (4,))]), dtypes=ALL_REAL),
    OpSpec("inner", ref=np.inner, dtypes=ALL_REAL,
           samples=_pairs([((4,), (4,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((), (2, 3))]),
           errors=(_err([(3,), (4,)], r"inner\(\) the last dimension must match"),)),
    OpSpec("outer", ref=np.outer, samples=_pairs([((3,), (4,))]), dtypes=ALL_REAL,
           errors=(_err([(3, 2), (4,)], "outer: Expected 1-D argument self, but got 2-D"),)),
    OpSpec("ger", ref=np.outer, samples=_pairs([((3,), (2,))])),
    OpSpec("addmm", ref=lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b),
           samples=_with_kwargs(_pairs([((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))]),
                                {}, {"beta": 0.5, "alpha": 2.0}),
           errors=(_err([(2, 5), (2, 3), (4, 5)], "mat1 and mat2 shapes cannot be multiplied"),
                   _err([(3, 5), (2, 3), (3, 5)], "The expanded size of the tensor"))),
    OpSpec("addmv", ref=lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b),
           samples=_with_kwargs(_pairs([((2,), (2, 3), (3,)), ((), (2, 3), (3,))]),
                                {}, {"beta": -1.0, "alpha": 0.5})),
    OpSpec("baddbmm", ref=lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b),
           samples=_with_kwargs(_pairs([((2, 2, 4), (2, 2, 3), (2, 3, 4)),
                                        ((4,), (2, 2, 3), (2, 3, 4))]),
                                {}, {"beta": 2.0, "alpha": 0.5})),
    OpSpec("addbmm", ref=lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b).sum(0),
           samples=_with_kwargs(_pairs([((2, 4), (3, 2, 3), (3, 3, 4))]),
                                {}, {"beta": 2.0, "alpha": 0.5}),
           errors=(_err([(2, 5), (2, 2, 3), (2, 4, 5)],
                        r"Incompatible matrix sizes for bmm \(2x3 and 4x5\)"),)),
    OpSpec("einsum", op=lambda *ops, eq: torchlite.einsum(eq, *ops),
           ref=lambda *ops, eq: np.einsum(eq, *ops), samples=_einsum_samples, dtypes=ALL_REAL,
           torch_op=lambda torch: lambda *ops, eq: torch.einsum(eq, *ops),
           errors=(
               _err([(2, 3), (4, 5)], "subscript j has size 4 for operand 1 which does not "
                    "broadcast with previously seen size 3", eq="ij,jk->ik"),
               _err([(2, 3)], "fewer operands were provided than specified", eq="ij,jk->ik"),
               _err([(2, 3)], r"the number of subscripts in the equation \(3\) does not match "
                    r"the number of dimensions \(2\) for operand 0", eq="ijk->ik"),
               _err([(2, 2)], "output subscript k does not appear in the equation for any input "
                    "operand", eq="ij->k"),
               _err([(2, 2)], "output subscript i appears more than once in the output",
                    eq="ij->ii"))),
    OpSpec("tensordot", ref=lambda a, b, dims=2: np.tensordot(a, b, axes=dims), dtypes=ALL_REAL,
           samples=lambda rng, d: [
               Sample((rand(rng, (2, 3, 4), d), rand(rng, (3, 4, 2), d)), name="dims2"),
               Sample((rand(rng, (2, 3), d), rand(rng, (3, 4), d)), {"dims": 1}, "dims1"),
               Sample((rand(rng, (2, 3, 4), d), rand(rng, (4, 3, 2), d)),
                      {"dims": ([1, 2], [1, 0])}, "lists")],
           errors=(_err([(2, 3), (4, 5)], "contracted dimensions need to match, but first has "
                        "size 3 in dim -1 and second has size 4 in dim 0", dims=1),)),
    OpSpec("kron", ref=np.kron, dtypes=ALL_REAL,
           samples=_pairs([((2, 3), (3, 2)), ((2,), (3,)), ((2, 2), (3,)), ((2, 1, 2), (2, 3))])),
    OpSpec("trace", ref=np.trace, samples=_pairs([((3, 3),), ((2, 4),)]), dtypes=ALL_REAL,
           errors=(_err([(2, 3, 4)], "trace: expected a matrix, but got tensor with dim 3"),)),
    OpSpec("diag", ref=lambda a, diagonal=0: np.diag(a, diagonal), dtypes=ALL_REAL,
           samples=_with_kwargs(_pairs([((3,),), ((3, 4),)]), {}, {"diagonal": 1},
                                {"diagonal": -2}),
           errors=(_err([(2, 3, 4)], r"diag\(\): Supports 1D or 2D tensors. Got 3D"),)),
    OpSpec("diagonal", dtypes=ALL_REAL,
           ref=lambda a, offset=0, dim1=0, dim2=1: np.diagonal(a, offset, dim1, dim2),
           samples=_with_kwargs(_pairs([((3, 4),), ((2, 3, 4),)]), {}, {"offset": 1},
                                {"offset": -1, "dim1": -1, "dim2": 0}),
           errors=(_err([(3, 3), 0, 0, 0], "diagonal dimensions cannot be identical 0, 0"),)),
    OpSpec("diag_embed", dtypes=ALL_REAL,
           samples=_with_kwargs(_pairs([((3,),), ((2, 3),)]), {}, {"offset": 1},
                                {"offset": -1, "dim1": 0, "dim2": -1})),
    OpSpec("tril", ref=lambda a, diagonal=0: np.tril(a, diagonal), dtypes=ALL_REAL,
           samples=_with_kwargs(_pairs([((3, 4),), ((2, 3, 3),)]), {}, {"diagonal": 1},
                                {"diagonal": -1}),
           errors=(_err([(3,)], "tril: input tensor must have at least 2 dimensions"),)),
    OpSpec("triu", ref=lambda a, diagonal=0: np.triu(a, diagonal), dtypes=ALL_REAL,
           samples=_with_kwargs(_pairs([((3, 4),), ((2, 3, 3),)]), {}, {"diagonal": 1},
                                {"diagonal": -1})),
    OpSpec("cross", ref=lambda a, b, dim=None: np.cross(a, b, axis=0 if dim is None else dim),
           samples=lambda rng, d: [
               Sample((rand(rng, (3, 2), d), rand(rng, (3, 2), d)), {"dim": 0}),
               Sample((rand(rng, (2, 3), d), rand(rng, (2, 3), d)), {"dim": 1})],
           errors=(_err([(2, 4), (2, 4)], "no dimension of size 3 in input"),)),
    _linalg("cross", ref=lambda a, b, dim=-1: np.cross(a, b, axis=dim), dtypes=ALL_REAL,
            samples=lambda rng, d: [
                Sample((rand(rng, (4, 3), d), rand(rng, (1, 3), d))),
                Sample((rand(rng, (3, 2), d), rand(rng, (3, 1), d)), {"dim": 0})],
            errors=(_err([(2, 3), (2, 4)], "linalg.cross: inputs dimension -1 must have "
                         "length 3. Got 3 and 4"),)),
    OpSpec("det", ref=np.linalg.det, samples=_square(SQUARE), **DECOMP,
           errors=(_err([(2, 3)], "linalg.det: A must be batches of square matrices, but they "
                        "are 2 by 3 matrices"),)),
    _linalg("det", ref=np.linalg.det, samples=_square(SQUARE), **DECOMP,
            errors=(_err([(3,)], "linalg.det: The input tensor A must have at least 2 "
                         "dimensions."),)),
    OpSpec("logdet", ref=lambda a: np.linalg.slogdet(a)[1], samples=_square(SQUARE, _spd),
           **DECOMP),
    OpSpec("slogdet", ref=np.linalg.slogdet, samples=_square(SQUARE), **DECOMP),
    _linalg("slogdet", ref=np.linalg.slogdet, samples=_square(SQUARE), **DECOMP,
            errors=(_err([(2, 3)], "linalg.slogdet: A must be batches of square matrices"),)),
    OpSpec("inverse", ref=np.linalg.inv, samples=_square(SQUARE), **DECOMP,
           errors=(_err([(2, 3)], "linalg.inv: A must be batches of square matrices, but they "
                        "are 2 by 3 matrices"),)),
    _linalg("inv", ref=np.linalg.inv, samples=_square(SQUARE), **DECOMP, errors=(
        _err([(3,)], "linalg.inv: The input tensor A must have at least 2 dimensions."),
        _err([np.array([[1.0, 2.0], [2.0, 4.0]])], "linalg.inv: The diagonal element 2 is zero, "
             "the inversion could not be completed because the input matrix is singular."),
        _err([np.stack([np.eye(2), np.zeros((2, 2))])], r"linalg.inv: \(Batch element 1\): The "
             "diagonal element 1 is zero"))),
    _linalg("solve", ref=lambda a, b, left=True: np.linalg.solve(a, b[..., None])[..., 0]
            if b.ndim == 1 or b.shape == a.shape[:-1] else np.linalg.solve(a, b),
            samples=_square(list(SOLVE_RHS), rhs=SOLVE_RHS), **DECOMP, errors=(
                _err([(3, 3), (4,)], r"linalg.solve: Incompatible shapes of A and B for the "
                     r"equation AX = B \(3x3 and 4x1\)"),
                _err([(3, 3), (3,)], "torch.linalg.solve: The solver failed because the input "
                     "matrix is singular."))),
    _linalg("solve", op=lambda a, b: torchlite.linalg.solve(a, b, left=False),
            torch_op=lambda torch: lambda a, b: torch.linalg.solve(a, b, left=False),
            ref=lambda a, b: _mT(np.linalg.solve(_mT(a), _mT(b))), **DECOMP,
            samples=_square([(3, 3), (2, 3, 3)], rhs={(3, 3): (2, 3), (2, 3, 3): (2, 2, 3)})),
    _linalg("solve_triangular", ref=_np_solve_triangular, samples=_solve_triangular_samples,
            **DECOMP, errors=(
                _err([(3, 3), (3,)], "linalg.solve_triangular: The input tensor B must have at "
                     "least 2 dimensions.", upper=True),
                _err([(3, 3), (4, 2)], r"Incompatible shapes of A and B for the equation AX = B "
                     r"\(3x3 and 4x2\)", upper=False))),
    OpSpec("cholesky_solve", samples=_cholesky_solve_samples, **DECOMP,
           ref=lambda b, f, upper=False: np.linalg.solve(_np_product(f, upper), b),
           errors=(_err([(3,), np.eye(3)], "b should have at least 2 dimensions, but has 1 "
                        "dimensions instead"),
                   _err([(4, 2), np.eye(3)], "Incompatible matrix sizes for cholesky_solve: "
                        "each A matrix is 3 by 3 but each b matrix is 4 by 2"))),
    OpSpec("cholesky_inverse", samples=_cholesky_inverse_samples,
           ref=lambda f, upper=False: np.linalg.inv(_np_product(f, upper)), **DECOMP),
    OpSpec("cholesky", ref=np.linalg.cholesky, samples=_square([(3, 3)], _spd), grad=False,
           **DECOMP),
    _linalg("diagonal", ref=lambda a, offset=0: np.diagonal(a, offset, -2, -1),
            dtypes=ALL_REAL, samples=_with_kwargs(_pairs([((2, 3, 4),)]), {}, {"offset": -1})),
    _linalg("cholesky", op=lambda a, upper=False: torchlite.linalg.cholesky(_sym_lib(a),
                                                                            upper=upper),
            torch_op=lambda torch: lambda a, upper=False: torch.linalg.cholesky(_sym_lib(a),
                                                                                upper=upper),
            ref=lambda a, upper=False: (_mT if upper else np.asarray)(
                np.linalg.cholesky(_np_sym(a))),
            samples=_with_kwargs(_pairs([((3, 3),), ((2, 3, 3),)]), {}, {"upper": True}),
            **DECOMP),
    _linalg("cholesky", ref=np.linalg.cholesky, samples=_square([(3, 3), (2, 3, 3)], _spd),
            grad=False, **DECOMP, errors=(
                _err([(2, 3)], "linalg.cholesky: A must be batches of square matrices"),
                _err([-np.eye(3)], r"The factorization could not be completed because the input "
                     r"is not positive-definite \(the leading minor of order 1 is not "
                     r"positive-definite\)"),
                _err([np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])], r"linalg.cholesky: "
                     r"\(Batch element 1\): .*the leading minor of order 3 is not"),
                _err([np.eye(3, dtype=np.int64)], "linalg.cholesky: Expected a floating point or "
                     "complex tensor as input. Got Long"))),
    _linalg("qr", op=_qr_invariant(torchlite.linalg.qr), ref=_np_qr,
            torch_op=lambda torch: _qr_invariant(torch.linalg.qr), **DECOMP,
            samples=lambda rng, d: list(_pairs([(s,) for s in QR_SHAPES])(rng, d)) + [
                Sample((rand(rng, (3, 3), d),), {"mode": "complete"}, "complete")],
            errors=(_err([(3,)], "linalg.qr: The input tensor A must have at least 2 "
                         "dimensions."),
                    _err([(3, 3)], "qr received unrecognized mode 'x'", mode="x"))),
    _linalg("svd", op=_svd_invariant(torchlite.linalg.svd), ref=_np_svd,
            torch_op=lambda torch: _svd_invariant(torch.linalg.svd), **DECOMP,
            samples=lambda rng, d: list(_pairs([(s,) for s in ANY])(rng, d)) + [
                Sample((rand(rng, (3, 3), d),), {"full_matrices": True}, "full")],
            errors=(_err([(3,)], "linalg.svd: The input tensor A must have at least 2 "
                         "dimensions."),)),
    OpSpec("svd", op=_legacy_svd(torchlite), torch_op=_legacy_svd, **DECOMP,
           ref=lambda a: (lambda u, s, vh: (u, s, _mT(vh)))(*_np_svd(a)),
           samples=_pairs([((4, 3),), ((2, 3, 4),)])),
    _linalg("svdvals", ref=lambda a: np.linalg.svd(a, compute_uv=False),
            samples=_pairs([(s,) for s in ANY]), **DECOMP),
    _linalg("eigh", op=_eigh_invariant(torchlite.linalg.eigh), ref=_np_eigh,
            torch_op=lambda torch: _eigh_invariant(torch.linalg.eigh), **DECOMP,
            samples=_with_kwargs(_pairs([((3, 3),), ((2, 4, 4),)]), {}, {"UPLO": "U"})),
    _linalg("eigvalsh", ref=np.linalg.eigvalsh, grad=False, **DECOMP,
            samples=_with_kwargs(_pairs([((3, 3),), ((2, 4, 4),)]), {}, {"UPLO": "U"}),
            errors=(_err([(2, 3)], "linalg.eigh: A must be batches of square matrices"),
                    _err([(3, 3)], "Expected UPLO argument to be 'L' or 'U', but got X",
                         UPLO="X"))),
    _linalg("eigvalsh", op=lambda a: torchlite.linalg.eigvalsh((a + a.transpose(-2, -1)) * 0.5),
            torch_op=lambda torch: lambda a: torch.linalg.eigvalsh((a + a.mT) * 0.5),
            ref=lambda a: np.linalg.eigvalsh((a + _mT(a)) / 2), **DECOMP,
            samples=_pairs([((3, 3),), ((2, 4, 4),)])),
    _linalg("pinv", ref=np.linalg.pinv, samples=_pairs([(s,) for s in ANY]), **DECOMP,
            errors=(_err([(3,)], r"linalg.pinv\(Double\{\[3\]\}\): expected a tensor with 2 or "
                         "more dimensions"),)),
    _linalg("matrix_rank", ref=np.linalg.matrix_rank, grad=False,
            samples=lambda rng, d: [
                Sample((rand(rng, (3, 4), d),), name="full"),
                Sample(((rand(rng, (2, 4, 2), d) @ rand(rng, (2, 2, 3), d)).astype(d),),
                       name="rank2"),
                Sample((np.zeros((2, 2), d),), name="zero")]),
    _linalg("matrix_power", ref=np.linalg.matrix_power, dtypes=ALL_REAL, **DECOMP,
            samples=_matrix_power_samples,
            errors=(_err([(2, 3), 2], "linalg.matrix_power: A must be batches of square "
                         "matrices"),
                    _err([np.eye(2, dtype=np.int64), -1], "linalg.inv: Expected a floating "
                         "point or complex tensor as input. Got Long"))),
    _linalg("multi_dot", op=lambda *ts: torchlite.linalg.multi_dot(ts),
            torch_op=lambda torch: lambda *ts: torch.linalg.multi_dot(ts),
            ref=lambda *ts: np.linalg.multi_dot(ts),
            samples=_pairs([((3,), (3, 4), (4,)), ((2, 3), (3, 4), (4, 2), (2, 5)),
                            ((2, 3), (3,))]),
            errors=(_err([(2, 3), (4, 5)], "multi_dot\\(\\): tensors 0 and 1 with shapes "
                         r"\[2, 3\] and \[4, 5\] cannot be multiplied"),)),
    _linalg("vecdot", ref=lambda x, y, dim=-1: (x * y).sum(dim),
            samples=_with_kwargs(_pairs([((2, 3), (3,)), ((2, 3), (2, 3))]), {}, {"dim": 0})),
    _linalg("vector_norm", ref=_np_vector_norm,
            samples=_with_kwargs(_pairs([((5,),), ((2, 3),), ((2, 3, 2),)]),
                                 {}, {"ord": 1}, {"ord": math.inf}, {"ord": -math.inf},
                                 {"ord": 0}, {"ord": 3, "dim": 0}, {"ord": 1.5, "dim": -1},
                                 {"dim": -1, "keepdim": True}),
            errors=(_err([(2, 3)], "argument 'ord' must be Number, not str", TypeError,
                         ord="fro"),)),
    _linalg("matrix_norm", ref=_np_matrix_norm,
            samples=_with_kwargs(_pairs([((3, 4),), ((2, 3, 3),)]),
                                 {}, {"ord": "nuc"}, {"ord": 2}, {"ord": -2}, {"ord": 1},
                                 {"ord": -1}, {"ord": math.inf}, {"ord": -math.inf},
                                 {"ord": "fro", "keepdim": True}, {"ord": 1, "dim": (1, 0)}),
            **DECOMP,
            errors=(_err([(3,)], "linalg.matrix_norm: The input tensor A must have at least 2 "
                         "dimensions."),
                    _err([(3, 3)], "linalg.matrix_norm: Order 3 not supported.", ord=3))),
    _linalg("norm", ref=lambda a, ord=None, dim=None, keepdim=False: np.asarray(
        np.linalg.norm(a, ord, dim, keepdim), a.dtype),
            samples=lambda rng, d: list(_with_kwargs(
                _pairs([((5,),), ((2, 3),)]), {}, {"ord": 1}, {"ord": math.inf},
                {"dim": 0})(rng, d)) + [Sample((rand(rng, (2, 3), d),), {"ord": "nuc"}, "nuc")],
            errors=(_err([(2, 3, 4)], "linalg.norm: If dim is not specified but ord is, the "
                         "input must be 1D or 2D. Got 3D.", ord=2),)),
    OpSpec("norm", ref=lambda a, p="fro", dim=None: np.asarray(
        _np_vector_norm(a, 2 if p == "fro" else p, dim), a.dtype),
           samples=_with_kwargs(_pairs([((5,),), ((2, 3),)]), {}, {"p": 1}, {"p": 3, "dim": -1})),
]
