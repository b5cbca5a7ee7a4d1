"""Linear algebra: products (matmul family, einsum), diagonals and triangles, decompositions.

Primitives compute through ``ctx.xp`` (BLAS/LAPACK via numpy or cupy, batched without Python
loops); their backward rules are the standard matrix-calculus formulas written with torchlite ops,
so double backward works. The ``torch.linalg`` namespace (``torchlite/linalg.py``) re-exports the
public functions defined here. Real dtypes only: transposes stand for conjugate transposes.
"""
import math
import string
import warnings

from .._tensor import _make
from ..autograd.function import Function
from ._inplace import Copy, inplace
from ._registry import export, function, method
from ._return_types import return_type
from ._util import check_tensor, normalize_dims
from .binary import Add
from .reduction import Sum
from .shape import UnsafeView


class LinAlgError(RuntimeError):
    """A LAPACK failure (singular matrix, not positive-definite): torch.linalg.LinAlgError."""

    __module__ = "torchlite.linalg"


# ---- small helpers ------------------------------------------------------------------------
_CNAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
           "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
           "float16": "c10::Half", "bfloat16": "c10::BFloat16", "bool": "bool"}


def _mT(x):
    return x.transpose(-2, -1)


def _insert(x, dim):
    """``x.unsqueeze(dim)`` through reshape."""
    shape = list(x.shape)
    shape.insert(dim if dim >= 0 else len(shape) + 1 + dim, 1)
    return x.reshape(shape)


def _drop(x, dim):
    """``x.squeeze(dim)`` of a size-1 dim through reshape."""
    shape = list(x.shape)
    del shape[dim]
    return x.reshape(shape)


def _const(arr, like):
    """A constant tensor (no grad) on ``like``'s device."""
    return _make(arr, like._device)


def _eye(n, like, m=None, k=0):
    """A constant identity (n x m, ones on diagonal k) of ``like``'s dtype and device."""
    return _const(like._device.xp.eye(n, m, k, dtype=like._data.dtype), like)


def _dims_str(shape):
    return "x".join(map(str, shape))


def _check_same_dtype(a, b):
    if a.dtype is not b.dtype:
        ca, cb = (_CNAMES.get(str(t.dtype).split(".")[-1], str(t.dtype)) for t in (a, b))
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {ca} != {cb}")


def _broadcast_shapes(sa, sb):
    """The broadcast of two shapes, with PyTorch's message when they do not broadcast."""
    n = max(len(sa), len(sb))
    a, b = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {i}")
        out.append(max(x, y) if x and y else 0)
    return tuple(out)


def _check_matrix(name, A, square=True, floating=True):
    """At least 2-D (and square) (floating) input, with torch.linalg's messages."""
    check_tensor(name, A, name="A")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if floating and not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype._short}")


def _batch_prefix(index, ndim):
    return f"(Batch element {index}): " if ndim > 2 else ""


def _first_failure(a, fails):
    """(batch index, 1-based position) of the first matrix of ``a`` where ``fails`` finds one."""
    host = a if not hasattr(a, "get") else a.get()
    mats = host.reshape((-1,) + host.shape[-2:])
    for b, m in enumerate(mats):
        pos = fails(m.astype("float64"))
        if pos:
            return b, pos
    return 0, 1


def _zero_pivot(m):
    """LU with partial pivoting (as LAPACK getrf): the first zero diagonal element, 1-based."""
    m = m.copy()
    n = m.shape[0]
    for k in range(n):
        p = k + int(abs(m[k:, k]).argmax())
        if m[p, k] == 0:
            return k + 1
        m[[k, p]] = m[[p, k]]
        m[k + 1:, k:] -= m[k + 1:, k:k + 1] / m[k, k] * m[k, k:]
    return 0


def _failed_minor(m):
    """Unblocked Cholesky (as LAPACK potrf): the order of the first leading minor that is not
    positive-definite, or 0."""
    low = m * 0
    for k in range(m.shape[0]):
        d = m[k, k] - (low[k, :k] ** 2).sum()
        if not d > 0:
            return k + 1
        low[k, k] = d ** 0.5
        low[k + 1:, k] = (m[k + 1:, k] - low[k + 1:, :k] @ low[k, :k]) / low[k, k]
    return 0


def _lapack(ctx, call, a, on_error):
    """Run a LAPACK call; turn its failure into torchlite's LinAlgError with ``on_error(a)``.

    NumPy raises on failure; CuPy returns nan instead, so on a GPU a non-finite result from a
    finite input is the failure (one synchronising check, as PyTorch's info check on CUDA)."""
    xp = ctx.xp
    try:
        out = call()
    except getattr(xp.linalg, "LinAlgError", ()):
        raise LinAlgError(on_error(a)) from None
    if ctx.device.type != "cpu" and not bool(xp.isfinite(out).all()) and bool(
            xp.isfinite(a).all()):
        raise LinAlgError(on_error(a))
    return out


# ---- products -----------------------------------------------------------------------------
class Matmul(Function):
    """torch.matmul's (and np.matmul's) product: 1-D operands act as vectors, batch dims of
    N-D operands broadcast. ``node`` names the graph node as PyTorch does (MmBackward0, ...)."""
    raw = True
    label = "a @ b"
    backward_rule = "grad_a = grad @ b^T; grad_b = a^T @ grad (outer products for vectors)"

    @staticmethod
    def forward(ctx, a, b, node=None):
        if node is not None:
            ctx.node_name = node
        # each operand is read only by the other's gradient: saved only where that one is
        # needed (as PyTorch does); the ranks pick the backward formula
        needs = ctx.needs_input_grad
        if needs:
            ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
            ctx.ndims = a.ndim, b.ndim
        if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:  # batch folded into one GEMM
            out = ctx.xp.matmul(a.reshape(-1, a.shape[-1]), b).reshape(
                a.shape[:-1] + b.shape[-1:])
        else:
            out = ctx.xp.matmul(a, b)
        # NumPy's bfloat16 (ml_dtypes) matmul accumulates and returns float32: round once.
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_ndim, b_ndim = ctx.ndims
        need_a, need_b = ctx.needs_input_grad
        if a_ndim == 1 and b_ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        grad_a = grad_b = None
        if need_a:
            if b_ndim == 1:
                grad_a = _insert(grad, -1) * b
            elif a_ndim == 1:
                grad_a = _drop(Matmul.apply(_insert(grad, -2), _mT(b)), -2)
            else:
                grad_a = Matmul.apply(grad, _mT(b))
        if need_b:
            if a_ndim == 1:
                grad_b = _insert(a, -1) * _insert(grad, -2)
            elif b_ndim == 1:
                grad_b = _drop(Matmul.apply(_mT(a), _insert(grad, -1)), -1)
            elif b_ndim == 2 and a_ndim > 2:  # one GEMM over the folded batch, no reduction
                grad_b = Matmul.apply(_mT(a.reshape(-1, a.shape[-1])),
                                      grad.reshape(-1, grad.shape[-1]))
            else:
                grad_b = Matmul.apply(_mT(a), grad)
        return grad_a, grad_b


def _check_tensors(name, *tensors):
    for i, t in enumerate(tensors):
        check_tensor(name, t, i + 1, "input" if i == 0 else "other")


@export
def mm(input, mat2):
    """Matrix product of two 2-D tensors."""
    _check_tensors("mm", input, mat2)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_same_dtype(input, mat2)
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({_dims_str(input.shape)} and {_dims_str(mat2.shape)})")
    return Matmul.apply(input, mat2, node="MmBackward0")


def _check_bmm_sizes(b1, b2, batch):
    if b1.shape[-1] != b2.shape[-2] or b1.shape[:-2] != b2.shape[:-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch}, {b1.shape[-1]}] but got: [{math.prod(b2.shape[:-2])}, {b2.shape[-2]}].")


@export
def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors."""
    _check_tensors("bmm", input, mat2)
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _check_same_dtype(input, mat2)
    _check_bmm_sizes(input, mat2, input.shape[0])
    return Matmul.apply(input, mat2, node="BmmBackward0")


@export
def mv(input, vec):
    """Matrix-vector product."""
    _check_tensors("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_same_dtype(input, vec)
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({_dims_str(input.shape)}), vec ({vec.shape[0]})")
    return Matmul.apply(input, vec, node="MvBackward0")


def _check_vectors(name, a, b):
    _check_tensors(name, a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{a.dtype._short} and {b.dtype._short}")


@export
def dot(input, tensor):
    """Inner product of two 1-D tensors."""
    _check_vectors("dot", input, tensor)
    return Matmul.apply(input, tensor, node="DotBackward0")


@export
def vdot(input, other):
    """Dot product conjugating the first vector (a plain dot for real tensors)."""
    _check_vectors("vdot", input, other)
    return Matmul.apply(input, other, node="VdotBackward0")


@export
def matmul(input, other):
    """PyTorch's matmul: dot, matrix-vector, vector-matrix, matrix and broadcast batched."""
    _check_tensors("matmul", input, other)
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 2 and db == 2:
        return mm(input, other)
    _check_same_dtype(input, other)
    k_a = input.shape[-1]
    k_b = other.shape[-2] if db > 1 else other.shape[0]
    if da == 1 and db == 2:
        if k_a != k_b:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{k_a} and "
                               f"{_dims_str(other.shape)})")
        return Matmul.apply(input, other)
    batch = _broadcast_shapes(input.shape[:-2] if da > 1 else (),
                              other.shape[:-2] if db > 1 else ())
    if k_a != k_b:
        n = math.prod(batch)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {k_a}] but got: [{n}, {k_b}].")
    return Matmul.apply(input, other)


@method(name="__matmul__")
def _matmul_op(self, other):
    return matmul(self, other)


@method(name="__rmatmul__")
def _rmatmul_op(self, other):
    return matmul(other, self)


class ScaledAdd(Add):
    """``product + input``, the last step of addmm, addmv, baddbmm and addbmm: its node is
    named ``node``, as PyTorch names its one node for the whole op ("AddmmBackward0")."""
    label = "beta * input + alpha * product"

    @staticmethod
    def forward(ctx, product, input, node):
        ctx.node_name = node
        return Add.forward(ctx, product, input)


def _scaled_add(input, product, beta, alpha, name):
    """``beta * input + alpha * product``; input broadcasts to the product (not the reverse)."""
    check_tensor(name, input)
    input = input.expand(product.shape)
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input is ignored (nan included) but still gets a (zero) gradient
        input = _zeros_with_grad(input)
    elif beta != 1:
        input = input * beta
    return ScaledAdd.apply(product, input, node=f"{name.capitalize()}Backward0")


def _zeros_with_grad(t):
    """Exact zeros of ``t``'s shape whose gradient to ``t`` is zero, whatever ``t`` holds:
    the strict upper triangle of a column is empty, and triu selects rather than multiplies."""
    return Triangle.apply(t.reshape(-1, 1), diagonal=1, upper=True).reshape(t.shape)


@export
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    return _scaled_add(input, mm(mat1, mat2), beta, alpha, "addmm")


@export
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_add(input, mv(mat, vec), beta, alpha, "addmv")


@export
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_add(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


@export
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    if batch1.ndim == 3 and batch2.ndim == 3 and batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({_dims_str(batch1.shape[1:])} "
                           f"and {_dims_str(batch2.shape[1:])})")
    return _scaled_add(input, bmm(batch1, batch2).sum(0), beta, alpha, "addbmm")


@export(aliases=("ger",))
def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    _check_tensors("outer", input, vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return _insert(input, 1) * _insert(vec2, 0)


@export
def inner(input, other):
    """Sum of products over the last dims (scalars multiply)."""
    _check_tensors("inner", input, other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


@export
def kron(input, other):
    """Kronecker product: out[i * sb + j] = a[i] * b[j] over every dim."""
    _check_tensors("kron", input, other)
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape([d for s in sa for d in (s, 1)])
    b = other.reshape([d for s in sb for d in (1, s)])
    return UnsafeView.apply(a * b, shape=tuple(x * y for x, y in zip(sa, sb)))


# ---- einsum and tensordot ---------------------------------------------------------------
class Einsum(Function):
    """Einstein summation over explicit, equally sized subscripts (the composite broadcasts)."""
    raw = True
    label = "einsum"
    backward_rule = "grad_i = einsum(grad, other operands -> subscripts of operand i)"

    @staticmethod
    def forward(ctx, *arrays, subs, out):
        ctx.save_for_backward(*arrays)
        ctx.subs, ctx.out = subs, out
        ctx.sizes = {c: n for s, a in zip(subs, arrays) for c, n in zip(s, a.shape)}
        eq = ",".join(subs) + "->" + out
        result = ctx.xp.einsum(eq, *arrays, optimize=len(arrays) > 1)
        if result.dtype.kind == "f" and arrays[0].dtype.kind == "V":  # bfloat16 via float32
            result = result.astype(arrays[0].dtype)
        if len(arrays) == 1 and result.dtype.kind in "biu" and set(subs[0]) - set(out):
            result = result.astype("int64")  # a single-operand reduction is a sum, as in torch
        return result

    @staticmethod
    def backward(ctx, grad):
        ops = ctx.saved_tensors
        return tuple(_einsum_grad(ctx, grad, ops, i) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _einsum_grad(ctx, grad, ops, i):
    """The gradient of operand i: einsum of grad with the other operands, with identity
    matrices for repeated subscripts and ones for subscripts summed out of operand i alone."""
    subs = [ctx.out] + [s for j, s in enumerate(ctx.subs) if j != i]
    operands = [grad] + [t for j, t in enumerate(ops) if j != i]
    fresh = iter(c for c in string.ascii_letters if c not in ctx.sizes)
    present = set("".join(subs))
    target, seen = [], set()
    for c in ctx.subs[i]:
        if c not in present and c not in seen:
            subs.append(c)
            operands.append(_const(grad._device.xp.ones(ctx.sizes[c], grad._data.dtype), grad))
        if c in seen:
            f = next(fresh)
            subs.append(c + f)
            operands.append(_eye(ctx.sizes[c], grad))
            c = f
        seen.add(c)
        target.append(c)
    return Einsum.apply(*operands, subs=tuple(subs), out="".join(target))


def _einsum_parse(equation, operands):
    """Subscripts per operand and of the output, ellipses replaced by fresh letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    free = [c for c in string.ascii_letters if c not in eq]
    n_ell = max((t.ndim - len(s.replace("...", "")) for s, t in zip(terms, operands)
                 if "..." in s), default=0)
    ell = "".join(free[:n_ell])
    subs = []
    for i, (s, t) in enumerate(zip(terms, operands)):
        n = len(s.replace("...", ""))
        if "..." not in s and n != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does "
                               f"not match the number of dimensions ({t.ndim}) for operand {i} "
                               "and no ellipsis was given")
        if "..." in s and n > t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) is "
                               f"more than the number of dimensions ({t.ndim}) for operand {i}")
        subs.append(s.replace("...", ell[n_ell - (t.ndim - n):]))
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in lhs and c not in ell:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
    else:
        letters = "".join(subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    return subs, out


def _sublist_equation(args):
    """einsum(op0, [0, 1], op1, [1, 2], [0, 2]) as ("ab,bc->ac", operands)."""
    def letters(sub):
        return "".join("..." if i is Ellipsis else string.ascii_letters[i] for i in sub)
    out = "->" + letters(args[-1]) if len(args) % 2 else ""
    pairs = args[:len(args) - len(args) % 2]
    return ",".join(letters(s) for s in pairs[1::2]) + out, pairs[0::2]


@function
def einsum(*args):
    """Einstein summation (explicit or implicit output, ellipsis, broadcasting of size-1 dims);
    ``einsum(equation, *operands)`` or the sublist form ``einsum(op0, sub0, op1, sub1, out)``."""
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
    else:
        equation, operands = _sublist_equation(args)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subs, out = _einsum_parse(equation, operands)
    sizes = {}
    for i, (s, t) in enumerate(zip(subs, operands)):
        own = {}
        for c, n in zip(s, t.shape):
            if c in own:
                if own[c] != n:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but "
                                       f"the sizes don't match, {own[c]} != {n}")
                continue
            own[c] = n
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != prev and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {prev}")
    operands = [t if all(sizes[c] == n for c, n in zip(s, t.shape)) else
                t.expand([sizes[c] for c in s]) for s, t in zip(subs, operands)]
    return Einsum.apply(*operands, subs=tuple(subs), out=out)


@export
def tensordot(a, b, dims=2):
    """Contract dims of ``a`` with dims of ``b`` (an int n: a's last n with b's first n)."""
    _check_tensors("tensordot", a, b)
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in "
                               f"dim {y}")
        sb[normalize_dims(y, b.ndim)[0]] = sa[normalize_dims(x, a.ndim)[0]]
    shared = set(sa) & set(sb)
    out = [c for c in sa if c not in shared] + [c for c in sb if c not in shared]
    return Einsum.apply(a, b, subs=("".join(sa), "".join(sb)), out="".join(out))


# ---- diagonals and triangles --------------------------------------------------------------
def _diag_view(xp, a, offset, dim1, dim2):
    """A writeable view of a diagonal (NumPy returns its diagonal views read-only)."""
    d = xp.diagonal(a, offset, dim1, dim2)
    flags = d.flags
    if not getattr(flags, "writeable", True) and getattr(a.flags, "writeable", True):
        flags.writeable = True
    return d


class Diagonal(Function):
    raw = True
    is_view = True
    label = "diagonal"
    backward_rule = "grad_a = diag_embed(grad) into zeros of a's shape"

    @staticmethod
    def forward(ctx, a, offset, dim1, dim2):
        ctx.shape, ctx.args = a.shape, (offset, dim1, dim2)
        return _diag_view(ctx.xp, a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        offset, dim1, dim2 = ctx.args
        return DiagEmbed.apply(grad, shape=ctx.shape, offset=offset, dim1=dim1, dim2=dim2)


class DiagEmbed(Function):
    """Zeros of ``shape`` with the last dim of the input written on a diagonal."""
    raw = True
    label = "diag_embed"
    backward_rule = "grad_a = diagonal(grad)"

    @staticmethod
    def forward(ctx, a, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = ctx.xp.zeros(shape, a.dtype)
        _diag_view(ctx.xp, out, offset, dim1, dim2)[...] = a
        return out

    @staticmethod
    def backward(ctx, grad):
        offset, dim1, dim2 = ctx.args
        return Diagonal.apply(grad, offset=offset, dim1=dim1, dim2=dim2)


def _diag_dims(dim1, dim2, ndim):
    d1, d2 = normalize_dims(dim1, ndim)[0], normalize_dims(dim2, ndim)[0]
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


@export
def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the diagonal over (dim1, dim2), appended as the last dim."""
    check_tensor("diagonal", input)
    d1, d2 = _diag_dims(dim1, dim2, input.ndim)
    return Diagonal.apply(input, offset=offset, dim1=d1, dim2=d2)


def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: ``diagonal`` with the last two dims as default."""
    return diagonal(A, offset, dim1, dim2)


@export
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of ``input`` on the diagonal of new dims (dim1, dim2)."""
    check_tensor("diag_embed", input)
    d1, d2 = _diag_dims(dim1, dim2, input.ndim + 1)
    n = input.shape[-1] + abs(offset) if input.ndim else 1 + abs(offset)
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagEmbed.apply(input, shape=tuple(shape), offset=offset, dim1=d1, dim2=d2)


@export
def diag(input, diagonal=0):
    """1-D: a matrix with ``input`` on a diagonal; 2-D: a copy of that diagonal."""
    check_tensor("diag", input)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=diagonal, dim1=0, dim2=1).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@export
def trace(input):
    """Sum of the main diagonal of a matrix."""
    check_tensor("trace", input)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace.apply(Diagonal.apply(input, offset=0, dim1=0, dim2=1))


class Trace(Sum):
    """trace's last step, the sum of the diagonal (PyTorch's one node: TraceBackward0)."""
    label = "trace(a)"


class Triangle(Function):
    """tril (upper=False) or triu of the last two dims."""
    raw = True
    label = "tril / triu"
    backward_rule = "grad_a = tril(grad) / triu(grad)"

    @staticmethod
    def forward(ctx, a, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        ctx.node_name = "TriuBackward0" if upper else "TrilBackward0"
        return (ctx.xp.triu if upper else ctx.xp.tril)(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triangle.apply(grad, diagonal=ctx.diagonal, upper=ctx.upper)


def _triangle(input, diagonal, upper):
    name = "triu" if upper else "tril"
    check_tensor(name, input)
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, diagonal=int(diagonal), upper=upper)


@export
def tril(input, diagonal=0):
    """Lower triangle (on and below ``diagonal``) of the last two dims."""
    return _triangle(input, diagonal, False)


@export
def triu(input, diagonal=0):
    """Upper triangle (on and above ``diagonal``) of the last two dims."""
    return _triangle(input, diagonal, True)


@method
def tril_(self, diagonal=0):
    return inplace(self, tril, diagonal)


@method
def triu_(self, diagonal=0):
    return inplace(self, triu, diagonal)


class Cross(Function):
    raw = True
    node_name = "LinalgCrossBackward0"
    promote = "promote"
    label = "a x b"
    backward_rule = "grad_a = b x grad; grad_b = grad x a"

    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.save_for_backward(a, b)
        ctx.dim = dim
        return ctx.xp.cross(a, b, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (Cross.apply(b, grad, dim=ctx.dim) if need_a else None,
                Cross.apply(grad, a, dim=ctx.dim) if need_b else None)


def linalg_cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim``, batch dims broadcast."""
    _check_tensors("linalg.cross", input, other)
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = _broadcast_shapes(input.shape, other.shape)
    return Cross.apply(input, other, dim=normalize_dims(dim, len(shape))[0] - len(shape))


@export
def cross(input, other, dim=None):
    """torch.cross: like linalg.cross, but dim=None means the first dim of size 3."""
    _check_tensors("cross", input, other)
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
            "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
            "change to agree with that of linalg.cross in a future release.", UserWarning,
            stacklevel=2)
        dim = next((i for i, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


# ---- inverse, determinants, solve ---------------------------------------------------------
class Inverse(Function):
    raw = True
    node_name = "LinalgInvExBackward0"
    label = "inv(A)"
    backward_rule = "grad_A = -inv(A)^T @ grad @ inv(A)^T"

    @staticmethod
    def forward(ctx, a):
        def message(a):
            b, k = _first_failure(a, _zero_pivot)
            return (f"linalg.inv: {_batch_prefix(b, a.ndim)}The diagonal element {k} is zero, "
                    "the inversion could not be completed because the input matrix is singular.")
        out = _lapack(ctx, lambda: ctx.xp.linalg.inv(a), a, message)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (inv_a,) = ctx.saved_tensors
        inv_t = _mT(inv_a)
        return -Matmul.apply(Matmul.apply(inv_t, grad), inv_t)


class CholeskyInverse(Inverse):
    """The inverse of A = L L^T given by its Cholesky factor L."""
    label = "cholesky_inverse(L)"


class Det(Function):
    raw = True
    node_name = "LinalgDetBackward0"
    label = "det(A)"
    backward_rule = "grad_A = grad * det(A) * inv(A)^T (through the SVD when A is singular)"

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.linalg.det(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, det_a = ctx.saved_tensors
        try:
            inv_a = Inverse.apply(a)
        except LinAlgError:
            return _det_grad_singular(a, grad)
        return _insert(_insert(grad * det_a, -1), -1) * _mT(inv_a)


def _det_grad_singular(a, grad):
    """grad times the cofactor matrix through the SVD, det(U) det(Vh) U diag(prod_{j!=i} s_j) Vh,
    which needs no inverse (PyTorch's route for singular matrices)."""
    u, s, vh = SVD.apply(a, full_matrices=False)
    xp = a._device.xp
    signs = _const(xp.linalg.det(u._data) * xp.linalg.det(vh._data), a)
    eye = _eye(s.shape[-1], s)
    others = (_row(s) * (1 - eye) + eye).prod(-1)  # row i: every s_j but s_i
    return Matmul.apply(u * _row(others * _col(grad * signs)), vh)


class Slogdet(Function):
    raw = True
    node_name = "LinalgSlogdetBackward0"
    label = "slogdet(A)"
    backward_rule = "grad_A = grad_logabsdet * inv(A)^T (sign: zero gradient)"
    _materialize_grads = False

    @staticmethod
    def forward(ctx, a):
        sign, logabs = ctx.xp.linalg.slogdet(a)
        sign = ctx.xp.asarray(sign)
        ctx.save_for_backward(a)
        return sign, ctx.xp.asarray(logabs)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabs):
        if grad_logabs is None:
            return None
        (a,) = ctx.saved_tensors
        return _insert(_insert(grad_logabs, -1), -1) * _mT(Inverse.apply(a))


@export(aliases=("inverse",))
def inv(input):
    """Inverse of (batches of) square matrices; LinAlgError when singular."""
    _check_matrix("linalg.inv", input)
    return Inverse.apply(input)


@export
def det(input):
    """Determinant of (batches of) square matrices."""
    _check_matrix("linalg.det", input)
    return Det.apply(input)


def _slogdet(input, type_name):
    _check_matrix("linalg.slogdet", input)
    sign, logabs = Slogdet.apply(input)
    return return_type(type_name, ("sign", "logabsdet"))(sign, logabs)


@export
def slogdet(input):
    """(sign, log|det|) of square matrices."""
    return _slogdet(input, "slogdet")


def linalg_slogdet(A):
    return _slogdet(A, "linalg_slogdet")


@export
def logdet(input):
    """log(det): nan for a negative determinant, -inf for a singular matrix."""
    _check_matrix("logdet", input)
    sign, logabs = Slogdet.apply(input)
    return logabs + sign.log()


class Solve(Function):
    """X with A @ X = B for A (..., n, n) and B (..., n, k) of the same batch shape, or B and
    X (..., n) with ``vector``."""
    raw = True
    node_name = "LinalgSolveExBackward0"
    label = "solve(A, B)"
    backward_rule = "grad_B = solve(A^T, grad); grad_A = -grad_B @ X^T"

    @staticmethod
    def forward(ctx, a, b, vector=False):
        def message(a):
            b_idx, _ = _first_failure(a, _zero_pivot)
            return (f"torch.linalg.solve: {_batch_prefix(b_idx, a.ndim)}The solver failed "
                    "because the input matrix is singular.")
        ctx.vector = vector
        rhs = b[..., None] if vector else b
        out = _lapack(ctx, lambda: ctx.xp.linalg.solve(a, rhs), a, message)
        out = out[..., 0] if vector else out
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        grad_b = Solve.apply(_mT(a), grad, vector=ctx.vector)
        if not ctx.needs_input_grad[0]:
            return None, grad_b
        if ctx.vector:
            return -_insert(grad_b, -1) * _insert(x, -2), grad_b
        return -Matmul.apply(grad_b, _mT(x)), grad_b


class SolveTriangular(Solve):
    """Solve with a triangular A (torchlite solves with its triangle as a full matrix)."""
    node_name = "LinalgSolveTriangularBackward0"
    label = "solve_triangular(A, B)"


class CholeskySolve(Solve):
    """Solve with A = L L^T given by its Cholesky factor L."""
    label = "cholesky_solve(B, L)"


def _solve_right(a, y):
    """X with X @ A = Y."""
    return _mT(Solve.apply(_mT(a), _mT(y)))


def linalg_solve(A, B, *, left=True):
    """Solve A X = B (left) or X A = B, batched with broadcasting; B may be a (batch of)
    vector(s)."""
    _check_matrix("linalg.solve", A)
    check_tensor("linalg.solve", B, 2, "B")
    if not left:
        return _mT(linalg_solve(_mT(A), _mT(B)))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    n = A.shape[-1]
    rows = B.shape[-1] if vector else B.shape[-2]
    if rows != n:
        cols = 1 if vector else B.shape[-1]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({n}x{n} and {rows}x{cols})")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {A.dtype._short} and B of type {B.dtype._short} instead")
    return _broadcast_solve(A, B, vector=vector)


def _broadcast_solve(a, b, cls=Solve, vector=False):
    """``cls.apply`` (a Solve) after broadcasting the batch dims of A (..., n, n) and B
    (..., n, k), or B (..., n) with ``vector``."""
    matrix_dims = 1 if vector else 2
    batch = _broadcast_shapes(a.shape[:-2], b.shape[:-matrix_dims])
    if a.shape[:-2] != batch:
        a = a.expand(batch + tuple(a.shape[-2:]))
    if b.shape[:-matrix_dims] != batch:
        b = b.expand(batch + tuple(b.shape[-matrix_dims:]))
    if vector:
        return cls.apply(a, b, vector=True)
    return cls.apply(a, b)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """Solve with the upper (or lower) triangle of A, its diagonal taken as ones when
    ``unitriangular``; the gradient of A stays on that triangle."""
    name = "linalg.solve_triangular"
    _check_matrix(name, A)
    check_tensor(name, B, 2, "B")
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if not left:
        return _mT(solve_triangular(_mT(A), _mT(B), upper=not upper,
                                    unitriangular=unitriangular))
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({n}x{n} and {_dims_str(B.shape[-2:])})")
    if unitriangular:
        tri = Triangle.apply(A, diagonal=1 if upper else -1, upper=upper) + _eye(n, A)
    else:
        tri = Triangle.apply(A, diagonal=0, upper=upper)
    return _broadcast_solve(tri, B, SolveTriangular)


def _cholesky_product(factor, upper):
    """A = L L^T from its Cholesky factor (U^T U when ``upper``)."""
    low = _mT(factor) if upper else factor
    return Matmul.apply(low, _mT(low))


@export
def cholesky_solve(input, input2, upper=False):
    """X with A X = B, A given by its Cholesky factor ``input2``."""
    _check_tensors("cholesky_solve", input, input2)
    if input.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input.ndim} "
                           "dimensions instead")
    n = input2.shape[-1]
    if input.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} by "
                           f"{n} but each b matrix is {input.shape[-2]} by {input.shape[-1]}")
    return _broadcast_solve(_cholesky_product(input2, upper), input, CholeskySolve)


@export
def cholesky_inverse(input, upper=False):
    """Inverse of A given by its Cholesky factor."""
    _check_matrix("cholesky_inverse", input)
    return CholeskyInverse.apply(_cholesky_product(input, upper))


@export(name="cholesky")
def legacy_cholesky(input, upper=False):
    """Legacy torch.cholesky (deprecated in PyTorch): linalg.cholesky."""
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
        "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\n"
        "L = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be "
        "replaced with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent "
        "results for all valid (symmetric positive definite) inputs.", UserWarning, stacklevel=2)
    return linalg_cholesky(input, upper=upper, cls=LegacyCholesky)


# ---- decompositions -----------------------------------------------------------------------
class Cholesky(Function):
    """Lower Cholesky factor L of a symmetric positive-definite A (its lower triangle is read)."""
    raw = True
    node_name = "LinalgCholeskyExBackward0"
    label = "cholesky(A)"
    backward_rule = "grad_A = L^-T sym(tril(L^T grad)) L^-1 (Murray)"

    @staticmethod
    def forward(ctx, a):
        def message(a):
            b, k = _first_failure(a, _failed_minor)
            return (f"linalg.cholesky: {_batch_prefix(b, a.ndim)}The factorization could not be "
                    f"completed because the input is not positive-definite (the leading minor of "
                    f"order {k} is not positive-definite).")
        out = _lapack(ctx, lambda: ctx.xp.linalg.cholesky(a), a, message)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        phi = tril(Matmul.apply(_mT(low), grad))
        phi = (phi + _mT(tril(phi, -1))) * 0.5
        return _solve_right(low, Solve.apply(_mT(low), phi))


class LegacyCholesky(Cholesky):
    """torch.cholesky's node (the deprecated spelling of linalg.cholesky)."""
    node_name = "CholeskyBackward0"


def linalg_cholesky(A, *, upper=False, cls=Cholesky):
    """Cholesky factor: lower L with A = L L^T, or upper U = L^T with A = U^T U."""
    _check_matrix("linalg.cholesky", A)
    low = cls.apply(A)
    return _mT(low) if upper else low


def _copyltu(m):
    """The symmetric matrix with ``m``'s lower triangle copied to the upper one."""
    return tril(m) + _mT(tril(m, -1))


class QR(Function):
    raw = True
    node_name = "LinalgQrBackward0"
    label = "qr(A)"
    backward_rule = ("grad_A = (grad_Q + Q copyltu(M)) R^-T, M = R grad_R^T - grad_Q^T Q "
                     "(wide A: on its leading square block, plus Q grad_V for the rest)")
    _materialize_grads = False

    @staticmethod
    def forward(ctx, a, mode):
        ctx.mode, ctx.m, ctx.n = mode, a.shape[-2], a.shape[-1]
        if mode == "r":
            r = ctx.xp.linalg.qr(a, mode="r")
            return ctx.xp.empty((0,), a.dtype), r
        q, r = ctx.xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr.")
        if ctx.mode == "complete" and ctx.m > ctx.n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        a, q, r = ctx.saved_tensors
        m, n = ctx.m, ctx.n
        if m >= n:
            return _qr_grad_tall(q, r, grad_q, grad_r)
        # Wide A = [X | Y] with R = [U | V]: X = Q U is a square QR and Y = Q V.
        pick_x, pick_y = _eye(n, r, m), _eye(n, r, n - m, -m)
        grad_v = None if grad_r is None else Matmul.apply(grad_r, pick_y)
        grad_u = None if grad_r is None else Matmul.apply(grad_r, pick_x)
        if grad_v is not None:
            y_gv = Matmul.apply(Matmul.apply(a, pick_y), _mT(grad_v))
            grad_q = y_gv if grad_q is None else grad_q + y_gv
        grad_a = Matmul.apply(_qr_grad_tall(q, Matmul.apply(r, pick_x), grad_q, grad_u),
                              _mT(pick_x))
        if grad_v is not None:
            grad_a = grad_a + Matmul.apply(Matmul.apply(q, grad_v), _mT(pick_y))
        return grad_a


def _qr_grad_tall(q, r, grad_q, grad_r):
    """QR backward for m >= n (reduced): (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    m = 0
    if grad_r is not None:
        m = Matmul.apply(r, _mT(grad_r))
    if grad_q is not None:
        m = m - Matmul.apply(_mT(grad_q), q)
    b = Matmul.apply(q, _copyltu(m))
    if grad_q is not None:
        b = b + grad_q
    return _solve_right(_mT(r), b)


_QR_MODES = ("reduced", "complete", "r")


def _qr(A, mode, type_name):
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _check_matrix("linalg.qr", A, square=False)
    q, r = QR.apply(A, mode=mode)
    return return_type(type_name, ("Q", "R"))(q, r)


def linalg_qr(A, mode="reduced"):
    """A = Q R with orthonormal Q and upper-triangular R."""
    return _qr(A, mode, "linalg_qr")


@export
def qr(input, some=True):
    """Legacy torch.qr: reduced (some=True) or complete QR."""
    return _qr(input, "reduced" if some else "complete", "qr")


def _row(v):
    return _insert(v, -2)


def _col(v):
    return _insert(v, -1)


class SVD(Function):
    """A = U diag(S) Vh; the backward needs distinct (and, for non-square A, nonzero) S."""
    raw = True
    node_name = "LinalgSvdBackward0"
    label = "svd(A)"
    backward_rule = ("grad_A = U [(skew(U^T gU) S + S skew(V^T gV)) / (s_j^2 - s_i^2) + diag(gS)]"
                     " Vh (+ projections for non-square A)")
    _materialize_grads = False

    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.full = full_matrices
        u, s, vh = ctx.xp.linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
        if ctx.full and m != n:  # only the first k singular vectors are determined by A
            u, vh = Matmul.apply(u, _eye(m, u, k)), Matmul.apply(_eye(k, vh, n), vh)
            gu = None if gu is None else Matmul.apply(gu, _eye(m, gu, k))
            gvh = None if gvh is None else Matmul.apply(_eye(k, gvh, n), gvh)
        return _svd_grad(u, s, vh, gu, gs, gvh)


def _svd_grad(u, s, vh, gu, gs, gvh):
    """PyTorch's svd_backward for real matrices (reduced U, Vh)."""
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        return Matmul.apply(u * _row(gs), vh) if gs is not None else None
    v = _mT(vh)
    gv = None if gvh is None else _mT(gvh)
    s2 = s * s
    e = _row(s2) - _col(s2) + _eye(s.shape[-1], s)
    inner = 0
    if gu is not None:
        uhgu = Matmul.apply(_mT(u), gu)
        inner = (uhgu - _mT(uhgu)) * _row(s)
    if gv is not None:
        vhgv = Matmul.apply(_mT(v), gv)
        inner = inner + _col(s) * (vhgv - _mT(vhgv))
    ga = inner / e
    if gs is not None:
        ga = ga + diag_embed(gs)
    if m > n and gu is not None:
        gu_sinv = gu / _row(s)
        ga = Matmul.apply(u, ga) + gu_sinv - Matmul.apply(u, Matmul.apply(_mT(u), gu_sinv))
        return Matmul.apply(ga, vh)
    if m < n and gv is not None:
        gv_sinv_t = _mT(gv / _row(s))
        ga = Matmul.apply(ga, vh) + gv_sinv_t - Matmul.apply(Matmul.apply(gv_sinv_t, v), vh)
        return Matmul.apply(u, ga)
    return Matmul.apply(Matmul.apply(u, ga), vh)


def linalg_svd(A, full_matrices=True):
    """A = U diag(S) Vh with singular values in descending order."""
    _check_matrix("linalg.svd", A, square=False)
    u, s, vh = SVD.apply(A, full_matrices=bool(full_matrices))
    return return_type("linalg_svd", ("U", "S", "Vh"))(u, s, vh)


@export
def svd(input, some=True, compute_uv=True):
    """Legacy torch.svd: returns V (not Vh); reduced when ``some``."""
    _check_matrix("linalg.svd", input, square=False)
    make = return_type("svd", ("U", "S", "V"))
    if not compute_uv:  # zero-filled square U and V, as PyTorch documents
        xp, m, n = input._device.xp, input.shape[-2], input.shape[-1]
        batch, dt = tuple(input.shape[:-2]), input._data.dtype
        return make(_const(xp.zeros(batch + (m, m), dt), input), svdvals(input),
                    _const(xp.zeros(batch + (n, n), dt), input))
    u, s, vh = SVD.apply(input, full_matrices=not some)
    return make(u, s, _mT(vh))


def svdvals(A):
    """Singular values, descending."""
    _check_matrix("linalg.svd", A, square=False)
    return SVD.apply(A, full_matrices=False)[1]


class Eigh(Function):
    """Eigen-decomposition of a symmetric matrix (ascending eigenvalues)."""
    raw = True
    node_name = "LinalgEighBackward0"
    label = "eigh(A)"
    backward_rule = "grad_A = V (skew(V^T gV) / 2 / (l_j - l_i) + diag(gL)) V^T"
    _materialize_grads = False

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = ctx.xp.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gl, gv):
        w, v = ctx.saved_tensors
        if gv is None:
            return Matmul.apply(v * _row(gl), _mT(v)) if gl is not None else None
        vhgv = Matmul.apply(_mT(v), gv)
        e = _row(w) - _col(w) + _eye(w.shape[-1], w)
        inner = (vhgv - _mT(vhgv)) * 0.5 / e
        if gl is not None:
            inner = inner + diag_embed(gl)
        return Matmul.apply(Matmul.apply(v, inner), _mT(v))


def _eigh(A, UPLO, name):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_matrix(name, A)
    return Eigh.apply(A, uplo=UPLO)


def linalg_eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix."""
    w, v = _eigh(A, UPLO, "linalg.eigh")
    return return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))(w, v)


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric matrix."""
    return _eigh(A, UPLO, "linalg.eigh")[0]


def _tolerance(xp, s, shape, atol, rtol):
    """max(atol, rtol * largest singular value) per matrix, as a (..., 1) array."""
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else xp.finfo(s.dtype).eps * max(shape)
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,))
    return xp.maximum(atol or 0.0, rtol * smax)


class Pinv(Function):
    raw = True
    node_name = "LinalgPinvBackward0"
    label = "pinv(A)"
    backward_rule = "PyTorch's pinv_backward (projections onto the ranges of A and A^T)"

    @staticmethod
    def forward(ctx, a, atol, rtol):
        xp = ctx.xp
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        keep = s > _tolerance(xp, s, a.shape[-2:], atol, rtol)
        s_inv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
        out = xp.matmul(xp.swapaxes(vh, -1, -2) * s_inv[..., None, :], xp.swapaxes(u, -1, -2))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        mm_ = Matmul.apply
        pt, gt = _mT(p), _mT(grad)
        if a.shape[-2] <= a.shape[-1]:
            k = mm_(gt, p)
            kpt = mm_(k, pt)
            return (-_mT(mm_(p, k)) + kpt - mm_(mm_(a, p), kpt)
                    + mm_(mm_(pt, p), gt - mm_(k, a)))
        k = mm_(p, gt)
        ptk = mm_(pt, k)
        return (-_mT(mm_(k, p)) + mm_(mm_(gt - mm_(a, k), p), pt) + ptk
                - mm_(mm_(ptk, p), a))


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse (singular values below the tolerance are dropped)."""
    check_tensor("linalg.pinv", A)
    if A.ndim < 2 or not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.pinv({A.dtype._short}{{{list(A.shape)}}}): expected a tensor "
                           "with 2 or more dimensions of float, double, cfloat or cdouble types")
    return Pinv.apply(A, atol=atol, rtol=rtol)


@export
def pinverse(input, rcond=1e-15):
    """Legacy torch.pinverse: pinv with a relative tolerance."""
    return linalg_pinv(input, rtol=rcond)


class MatrixRank(Function):
    raw = True
    differentiable = False
    label = "matrix_rank(A)"

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        xp = ctx.xp
        s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
        return (s > _tolerance(xp, s, a.shape[-2:], atol, rtol)).sum(axis=-1)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """Number of singular values above max(atol, rtol * largest)."""
    check_tensor("linalg.matrix_rank", A, name="A")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least "
                           "2 dimensions.")
    _check_matrix("linalg.matrix_rank", A, square=hermitian)
    return MatrixRank.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)


@export
def matrix_power(input, n):
    """A^n by repeated squaring (A^0 = I; negative n inverts first)."""
    _check_matrix("linalg.matrix_power", input, floating=False)
    if n == 0:  # the identity copied over A (A's gradient is zero)
        return Copy.apply(input, _eye(input.shape[-1], input))
    if n == 1:
        return input.clone()
    a = inv(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


def multi_dot(tensors):
    """Chained matrix product; a 1-D first (last) tensor is a row (column) vector."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0].ndim, tensors[-1].ndim
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            what = ("first" if i == 0 else "last") if len(allowed) == 2 else f"tensor {i}"
            want = "1D or 2D" if len(allowed) == 2 else "2D"
            raise RuntimeError(f"multi_dot(): {what} tensor must be {want} but got {t.ndim}D"
                               if len(allowed) == 2 else
                               f"multi_dot(): {what} must be {want} but got {t.ndim}D")
    if first == 1:
        tensors[0] = _insert(tensors[0], 0)
    if last == 1:
        tensors[-1] = _insert(tensors[-1], -1)
    out = tensors[0]
    for i, t in enumerate(tensors[1:]):
        if out.shape[-1] != t.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(t.shape)} cannot be "
                               "multiplied")
        _check_same_dtype(out, t)
        out = Matmul.apply(out, t)
    if last == 1:
        out = _drop(out, -1)
    return _drop(out, 0) if first == 1 else out


def vecdot(x, y, *, dim=-1):
    """Dot product of vectors along ``dim`` (batch dims broadcast)."""
    _check_tensors("linalg.vecdot", x, y)
    return (x * y).sum(dim)


# ---- norms --------------------------------------------------------------------------------
class VectorNorm(Function):
    """The ord-norm of the elements over ``dim`` (None: all of them)."""
    raw = True
    node_name = "LinalgVectorNormBackward0"
    label = "vector_norm"
    backward_rule = "grad_x = grad * sign(x) |x|^(p-1) / norm^(p-1) (subgradients at inf, 0)"

    @staticmethod
    def forward(ctx, x, ord, dim, keepdim):
        xp = ctx.xp
        ax = xp.abs(x)
        real = ax.dtype  # a complex input's norm is real, as in PyTorch
        if ord == math.inf:
            out = ax.max(axis=dim, keepdims=keepdim)
        elif ord == -math.inf:
            out = ax.min(axis=dim, keepdims=keepdim)
        elif ord == 0:
            out = (ax != 0).sum(axis=dim, keepdims=keepdim).astype(real)
        elif ord == 1:
            out = ax.sum(axis=dim, keepdims=keepdim)
        elif ord == 2:
            out = xp.sqrt(((ax * ax) if x.dtype.kind == "c" else (x * x)).sum(
                axis=dim, keepdims=keepdim))
        else:
            out = (ax ** ord).sum(axis=dim, keepdims=keepdim) ** (1.0 / ord)
        out = xp.asarray(out, dtype=real)
        ctx.ord, ctx.dim, ctx.keepdim, ctx.shape = ord, dim, keepdim, x.shape
        kept = out if keepdim else xp.expand_dims(out, dim if dim is not None else
                                                  tuple(range(x.ndim)))
        ctx.save_for_backward(x, out, _norm_coefficient(xp, x, ax, kept, ord))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, norm, coef = ctx.saved_tensors
        if not ctx.keepdim:
            dims = ctx.dim if ctx.dim is not None else tuple(range(len(ctx.shape)))
            kshape = [1 if i in dims else n for i, n in enumerate(ctx.shape)]
            grad, norm = grad.reshape(kshape), norm.reshape(kshape)
        p = ctx.ord
        if p == 2:
            return x * (grad / (norm + coef))
        if p == 0:
            return None  # PyTorch leaves the gradient of the 0-"norm" undefined
        if p in (1, math.inf, -math.inf):
            return grad * coef
        power = (x * x).log() * (0.5 * (p - 2))
        if p < 2:  # |x|^(p-2) is infinite at zero elements; PyTorch's gradient there is 0
            power = power.masked_fill(x == 0, -math.inf)
        return x * power.exp() * grad / ((norm + coef).log() * (p - 1)).exp()


def _norm_coefficient(xp, x, ax, kept, ord):
    """A constant of the gradient: the subgradient for 1, inf, 0; a zero-norm mask otherwise."""
    if ord == 1:
        return xp.sign(x)
    if ord in (math.inf, -math.inf):
        hit = (ax == kept).astype(x.dtype)
        return xp.sign(x) * hit / hit.sum(axis=tuple(i for i in range(x.ndim)
                                                      if kept.shape[i] == 1), keepdims=True)
    return (kept == 0).astype(x.dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ord-norm of x's elements over ``dim`` (all elements when None)."""
    check_tensor("linalg.vector_norm", x, name="x")
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    if dtype is not None:
        x = x.to(dtype)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype._short}")
    dims = normalize_dims(dim, x.ndim) if x.ndim else None
    if dims == ():
        dims = None
    return VectorNorm.apply(x, ord=float(ord), dim=dims, keepdim=bool(keepdim))


def _to_end(A, d0, d1):
    """A with dims d0, d1 moved to the end (in that order)."""
    rest = [i for i in range(A.ndim) if i not in (d0, d1)]
    return A.permute(rest + [d0, d1])


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius, nuclear, or induced (1, -1, 2, -2, inf, -inf) norm over the two dims."""
    check_tensor("linalg.matrix_norm", A)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = _diag_dims(dim[0], dim[1], A.ndim)
    kshape = [1 if i in (d0, d1) else n for i, n in enumerate(A.shape)]
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        s = svdvals(_to_end(A, d0, d1))
        out = s.sum(-1) if ord == "nuc" else vector_norm(s, math.copysign(math.inf, ord), -1)
    elif ord in (1, -1, math.inf, -math.inf):
        inner, outer_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = vector_norm(A, 1, inner, keepdim=True)
        out = vector_norm(sums, math.copysign(math.inf, ord), outer_dim, keepdim=True)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return out.reshape(kshape) if keepdim else out.reshape(
        [n for i, n in enumerate(A.shape) if i not in (d0, d1)])


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector norm (1 dim, or a flattened tensor) or matrix norm (2 dims), as numpy.linalg.norm."""
    check_tensor("linalg.norm", A)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if isinstance(ord, str) or (dim is not None and len(dim) == 2):
        if dim is None:
            dim = (-2, -1)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


@export
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Legacy torch.norm: 'fro' (2-norm of the elements), 'nuc', or a vector p-norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc" or (p == "fro" and dim is not None and len(dim) == 2):
        return matrix_norm(input, p, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    return vector_norm(input, 2 if p == "fro" else p, dim, keepdim, dtype=dtype)

