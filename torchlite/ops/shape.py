"""Shape and data-movement ops: views, joins, splits, repeats, flips and rolls.

View ops (``is_view = True``) return arrays sharing memory with their input, computed with array
methods or the array's own module (``_xp``), so the in-place machinery can replay them on a raw
array; joins, flips, rolls and repeats return copies, as in PyTorch.
"""
import math
import warnings

from .. import _device, _dtype
from .._tensor import Size, Tensor, _wrap_dim
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._inplace import _check_leaf, _check_multi_output_view
from ._registry import export, function, method
from ._util import dim_alias, infer_shape, normalize_dims, shape_arg


# ---- views -------------------------------------------------------------------------------------
def _view_array(a, shape):
    """``a`` reshaped without copying, or None when its strides do not allow it."""
    try:
        return a.reshape(shape, copy=False)
    except ValueError:
        return None
    except TypeError:  # CuPy has no ``copy=``: its reshape copies only when it must
        out = a.reshape(shape)
        return out if out.data.ptr == a.data.ptr else None


def _xp(ctx, a):
    """The array module of a view op's forward: ``ctx.xp``, or the array's own when the in-place
    machinery replays the view on a raw array (with no ctx.xp)."""
    return ctx.xp or _device.of_array(a).xp


class View(Function):
    raw = True
    is_view = True
    label = "view"
    backward_rule = "grad_a = grad.reshape(a.shape)"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        out = _view_array(a, shape)
        if out is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Reshape(Function):
    """reshape when a view is impossible: a copy (PyTorch copies, then ``_unsafe_view``s)."""
    raw = True
    node_name = "UnsafeViewBackward0"
    label = "reshape"
    backward_rule = "grad_a = grad.reshape(a.shape)"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


# ---- views that PyTorch names as ops of their own (torchlite computes them as View, Permute,
# Slice or Split). Where PyTorch numbers the variants of one op (an in-place form, a squeeze
# over given dims), ``overload=n`` names the node "<Class>Backward<n>".
def _name_overload(ctx, overload):
    if overload:
        ctx.node_name = f"{type(ctx).__name__}Backward{overload}"


class _NumberedView(View):
    @staticmethod
    def forward(ctx, a, shape, overload=0):
        _name_overload(ctx, overload)
        return View.forward(ctx, a, shape)


class Unsqueeze(_NumberedView):
    """unsqueeze (1: ``unsqueeze_``)."""
    label = "unsqueeze"


class Squeeze(_NumberedView):
    """squeeze; 0: every size-1 dim, 1: one dim, 2: a tuple of dims (3, 4, 5: in place)."""
    label = "squeeze"


class UnsafeView(View):
    """A view PyTorch makes with ``_unsafe_view`` (the last step of kron, ...)."""
    label = "view"


class SameShapeExpand(View):
    """expand to the tensor's own shape: a writable alias (NumPy's broadcast_to is read-only)."""
    node_name = "ExpandBackward0"
    label = "expand"


class ViewDtype(Function):
    """The same bytes read as another dtype (never differentiable, as in PyTorch)."""
    raw = True
    is_view = True
    differentiable = False
    label = "view(dtype)"

    @staticmethod
    def forward(ctx, a, dtype):
        return a.view(dtype)


class Expand(Function):
    raw = True
    is_view = True
    label = "expand"
    backward_rule = "grad_a = grad summed over the expanded dims"

    @staticmethod
    def forward(ctx, a, shape):
        return _xp(ctx, a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums it back to the input's shape


class Permute(Function):
    raw = True
    is_view = True
    label = "permute"
    backward_rule = "grad_a = grad.permute(inverse(dims))"

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(grad, dims=tuple(inverse))


class Transpose(Permute):
    """transpose, swapaxes, mT, adjoint: a Permute swapping two dims (1: ``transpose_``)."""
    label = "transpose"

    @staticmethod
    def forward(ctx, a, dims, overload=0):
        _name_overload(ctx, overload)
        return Permute.forward(ctx, a, dims)


class T(Transpose):
    """t(): the transpose of a matrix (a vector or a scalar is its own); 1: ``t_``."""
    label = "t"


class Slice(Function):
    """``a[index]`` for a basic index (a tuple of ints and slices): narrow, select."""
    raw = True
    is_view = True
    label = "a[index]"
    backward_rule = "grad_a = zeros(a.shape) with grad placed at index"

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        return SliceBackward.apply(grad, shape=ctx.in_shape, index=ctx.index)


class Select(Slice):
    """select(dim, index): a Slice whose index is an int along one dim."""
    label = "select"


class SliceBackward(Function):
    """Scatter ``g`` into zeros of ``shape`` at a basic index: the gradient of a slice."""
    raw = True
    label = "zeros[index] = g"
    backward_rule = "grad_g = grad[index]"

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        out[index] = g
        return out

    @staticmethod
    def backward(ctx, grad):
        return Slice.apply(grad, index=ctx.index)


def _piece_index(dim, piece):
    """The basic index selecting ``piece`` (an int, or a (start, stop) pair) along ``dim``."""
    at = piece if isinstance(piece, int) else slice(*piece)
    return (slice(None),) * dim + (at,)


class Split(Function):
    """Pieces of ``a`` along ``dim``: (start, stop) ranges (split, chunk) or indices (unbind)."""
    raw = True
    is_view = True
    multi_output_view = True
    label = "split"
    backward_rule = "grad_a = cat(grads, dim) (stack for unbind)"

    @staticmethod
    def forward(ctx, a, dim, pieces):
        ctx.in_shape, ctx.dim, ctx.pieces = a.shape, dim, pieces
        return tuple(a[_piece_index(dim, p)] for p in pieces)

    @staticmethod
    def backward(ctx, *grads):
        dim, pieces = ctx.dim, ctx.pieces
        if pieces and isinstance(pieces[0], int):  # unbind: every index, in order
            return stack(grads, dim)
        if [p[0] for p in pieces[1:]] == [p[1] for p in pieces[:-1]] and \
                pieces[0][0] == 0 and pieces[-1][1] == ctx.in_shape[dim]:
            return cat(grads, dim)
        total = None
        for g, p in zip(grads, pieces):
            part = SliceBackward.apply(g, shape=ctx.in_shape, index=_piece_index(dim, p))
            total = part if total is None else total + part
        return total


class SplitWithSizes(Split):
    """split with a list of sizes."""
    label = "split_with_sizes"


class Unbind(Split):
    """unbind: a Split into every index along ``dim``."""
    label = "unbind"


class Unfold(Function):
    """Tensor.unfold: sliding windows along ``dim`` as a new last dim (a strided view)."""
    raw = True
    is_view = True
    label = "unfold"
    backward_rule = "grad_a = sum of grad's windows placed back at their offsets"

    @staticmethod
    def forward(ctx, a, dim, size, step):
        ctx.in_shape, ctx.dim, ctx.size, ctx.step = a.shape, dim, size, step
        if a.ndim == 0:
            return a.reshape(1)
        count = (a.shape[dim] - size) // step + 1
        shape = a.shape[:dim] + (count,) + a.shape[dim + 1:] + (size,)
        strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + \
            (a.strides[dim],)
        return _xp(ctx, a).lib.stride_tricks.as_strided(a, shape, strides)

    @staticmethod
    def backward(ctx, grad):
        return UnfoldBackward.apply(grad, shape=ctx.in_shape, dim=ctx.dim, size=ctx.size,
                                    step=ctx.step)


class UnfoldBackward(Function):
    """Sum sliding windows back into an array of ``shape``: the gradient of unfold."""
    raw = True
    label = "fold windows"
    backward_rule = "grad_g = grad.unfold(dim, size, step)"

    @staticmethod
    def forward(ctx, g, shape, dim, size, step):
        ctx.dim, ctx.size, ctx.step = dim, size, step
        if len(shape) == 0:
            return g.reshape(())
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        count = g.shape[dim]
        for k in range(size):
            region = (slice(None),) * dim + (slice(k, k + (count - 1) * step + 1, step),)
            out[region] += g[..., k]
        return out

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, dim=ctx.dim, size=ctx.size, step=ctx.step)


class AsStrided(Function):
    """Elements of a contiguous root array read at ``offset + sum(i_k * stride_k)`` (a view)."""
    raw = True
    is_view = True
    label = "as_strided"
    backward_rule = "grad_base = grad scatter-added at the strided positions"

    @staticmethod
    def forward(ctx, base, size, stride, offset):
        ctx.base_shape, ctx.size, ctx.stride, ctx.offset = base.shape, size, stride, offset
        flat = base.reshape(-1)[offset:]
        return _xp(ctx, base).lib.stride_tricks.as_strided(
            flat, size, tuple(s * base.itemsize for s in stride))

    @staticmethod
    def backward(ctx, grad):
        return AsStridedScatter.apply(grad, shape=ctx.base_shape, size=ctx.size,
                                      stride=ctx.stride, offset=ctx.offset)


class AsStridedScatter(Function):
    """Add ``g`` into zeros of ``shape`` at as_strided's positions: as_strided's gradient."""
    raw = True
    label = "as_strided scatter-add"
    backward_rule = "grad_g = grad.as_strided(size, stride, offset)"

    @staticmethod
    def forward(ctx, g, shape, size, stride, offset):
        ctx.shape, ctx.size, ctx.stride, ctx.offset = shape, size, stride, offset
        xp = ctx.xp
        index = xp.full(size, offset, dtype="int64")
        for k, (n, st) in enumerate(zip(size, stride)):
            index = index + (xp.arange(n) * st).reshape((n,) + (1,) * (len(size) - k - 1))
        out = xp.zeros(math.prod(shape), dtype=g.dtype)
        xp.add.at(out, index.reshape(-1), g.reshape(-1))
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return AsStrided.apply(grad.contiguous(), size=ctx.size, stride=ctx.stride,
                               offset=ctx.offset)


# ---- copies ------------------------------------------------------------------------------------
class Cat(Function):
    raw = True
    promote = "promote"
    label = "cat"
    backward_rule = "grad_i = grad.split(sizes, dim)[i]"

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [None if _legacy_empty(a.shape) else a.shape[dim] for a in arrays]
        kept = [a for a, s in zip(arrays, ctx.sizes) if s is not None]
        return ctx.xp.concatenate(kept or arrays, axis=dim if kept else 0)

    @staticmethod
    def backward(ctx, grad):
        sizes = [s for s in ctx.sizes if s is not None]
        if not sizes:
            return (grad,) * len(ctx.sizes)
        parts = iter(grad.split(sizes, ctx.dim))
        return tuple(next(parts) if s is not None else grad.new_zeros(0) for s in ctx.sizes)


class Stack(Function):
    raw = True
    promote = "promote"
    label = "stack"
    backward_rule = "grad_i = grad.unbind(dim)[i]"

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        return ctx.xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.unbind(ctx.dim)


class Repeat(Function):
    """Tensor.repeat (NumPy's tile with as many repeats as dims)."""
    raw = True
    label = "repeat"
    backward_rule = "grad_a = grad summed over the repeated copies"

    @staticmethod
    def forward(ctx, a, repeats):
        ctx.in_shape, ctx.repeats = a.shape, repeats
        return ctx.xp.tile(a, repeats)

    @staticmethod
    def backward(ctx, grad):
        lead = len(ctx.repeats) - len(ctx.in_shape)
        sizes = (1,) * lead + tuple(ctx.in_shape)
        split = [n for r, s in zip(ctx.repeats, sizes) for n in (r, s)]
        summed = grad.reshape(split).sum(tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.in_shape)


class RepeatInterleave(Function):
    """Each slice along ``dim`` repeated ``repeats`` times (an int, or one count per slice)."""
    raw = True
    label = "repeat_interleave"
    backward_rule = "grad_a = grad summed over each slice's copies"

    @staticmethod
    def forward(ctx, a, repeats, dim):
        ctx.in_shape, ctx.repeats, ctx.dim = a.shape, repeats, dim
        return ctx.xp.repeat(a, list(repeats) if isinstance(repeats, tuple) else repeats,
                             axis=dim)

    @staticmethod
    def backward(ctx, grad):
        dim, shape = ctx.dim, ctx.in_shape
        if isinstance(ctx.repeats, tuple):
            return SegmentSum.apply(grad, repeats=ctx.repeats, dim=dim)
        split = shape[:dim] + (shape[dim], ctx.repeats) + shape[dim + 1:]
        return grad.reshape(split).sum(dim + 1)


class SegmentSum(Function):
    """Sum consecutive slices along ``dim`` in groups of ``repeats[i]``: repeat_interleave's
    gradient."""
    raw = True
    label = "segment_sum"
    backward_rule = "grad_g = grad.repeat_interleave(repeats, dim)"

    @staticmethod
    def forward(ctx, g, repeats, dim):
        ctx.repeats, ctx.dim = repeats, dim
        xp = ctx.xp
        owner = xp.repeat(xp.arange(len(repeats)), list(repeats))
        shape = g.shape[:dim] + (len(repeats),) + g.shape[dim + 1:]
        out = xp.zeros(shape, dtype=g.dtype)
        xp.add.at(xp.moveaxis(out, dim, 0), owner, xp.moveaxis(g, dim, 0))
        return out

    @staticmethod
    def backward(ctx, grad):
        return RepeatInterleave.apply(grad, repeats=ctx.repeats, dim=ctx.dim)


class Flip(Function):
    raw = True
    label = "flip"
    backward_rule = "grad_a = grad.flip(dims)"

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a[tuple(slice(None, None, -1) if i in dims else slice(None)
                       for i in range(a.ndim))].copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, dims=ctx.dims)


class Rot90(Function):
    """Rotate ``k`` times by 90 degrees in the plane of ``dims``, from the first towards the
    second (a copy)."""
    raw = True
    label = "rot90"
    backward_rule = "grad_a = grad.rot90(-k, dims)"

    @staticmethod
    def forward(ctx, a, k, dims):
        ctx.k, ctx.dims = k, dims
        return ctx.xp.rot90(a, k, axes=dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Rot90.apply(grad, k=-ctx.k % 4, dims=ctx.dims)


class Roll(Function):
    raw = True
    label = "roll"
    backward_rule = "grad_a = grad.roll(-shifts, dims)"

    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(a, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, shifts=tuple(-s for s in ctx.shifts), dims=ctx.dims)


# ---- helpers -----------------------------------------------------------------------------------
def _dim(dim, ndim):
    return _wrap_dim(int(dim), ndim)


def _dims_arg(dims):
    """``f(0, 1)``, ``f((0, 1))`` and ``f(0)`` as a tuple of ints."""
    if isinstance(dims, (int, Tensor)):
        return (int(dims),)
    return tuple(int(d) for d in dims)


def _sizes(args, keyword):
    """Sizes given as varargs (``f(2, 3)``, ``f((2, 3))``) or by their keyword name."""
    return shape_arg(args) if keyword is None else shape_arg((keyword,))


def _ints(x):
    return "[" + ", ".join(str(int(s)) for s in x) + "]"


def _legacy_empty(shape):
    """A 1-D tensor of size 0, which cat skips whatever the other tensors' shapes (legacy)."""
    return len(shape) == 1 and shape[0] == 0


def _as_int_list(x):
    """A Tensor or sequence of ints as a Python list."""
    return x.tolist() if isinstance(x, Tensor) else [int(v) for v in x]


def _tensor_list(op, tensors, msg=None):
    """Check ``tensors`` is a non-empty sequence of Tensors, with PyTorch's errors."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    if not tensors:
        if msg is None:
            raise ValueError(f"torch.{op}(): expected a non-empty list of Tensors")
        raise RuntimeError(msg)
    return list(tensors)


# ---- view, reshape, permute ------------------------------------------------------------------
@method
def view(self, *shape, size=None, dtype=None):
    """``view(*shape)`` shares memory with different sizes; ``view(dtype)`` reinterprets bits."""
    if shape and isinstance(shape[0], _dtype.dtype):
        shape, dtype = shape[1:], shape[0]
    if dtype is not None:
        if shape:
            raise TypeError("view() received an invalid combination of arguments - got "
                            f"(torch.dtype, {type(shape[0]).__name__}), but expected one of:\n"
                            " * (torch.dtype dtype)\n * (tuple of ints size)\n")
        return _view_dtype(self, dtype)
    return View.apply(self, shape=_target_shape(_sizes(shape, size), self.numel()))


def _target_shape(shape, numel):
    """``shape`` with its -1 resolved against ``numel`` elements (PyTorch's errors)."""
    if numel == 0 and -1 in shape and 0 in shape:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {_ints(shape)} "
                           "because the unspecified dimension size -1 can be any value and is "
                           "ambiguous")
    return infer_shape(shape, numel)


def _view_dtype(self, dtype):
    old, new = self._data.dtype.itemsize, dtype.itemsize
    if old != new:
        what = f"to view {self.dtype._short} as {dtype._short} (different element sizes)"
        if self.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        stride = self._data.strides[-1] // old
        if stride != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride}")
        if new > old and self.shape[-1] % (new // old):
            raise RuntimeError(f"self.size(-1) must be divisible by {new // old} {what}, but "
                               f"got {self.shape[-1]}")
    return ViewDtype.apply(self, dtype=dtype.np)


@export
def reshape(input, *sizes, shape=None):
    shape = _target_shape(_sizes(sizes, shape), input.numel())
    if _view_array(input._data, shape) is not None:
        return View.apply(input, shape=shape)
    return Reshape.apply(input, shape=shape)


@method
def view_as(self, other):
    return view(self, other.shape)


@method
def reshape_as(self, other):
    return reshape(self, other.shape)


@export
def permute(input, *args, dims=None):
    dims = _sizes(args, dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is "
            f"not equal to len(dims) = {len(dims)}")
    return Permute.apply(input, dims=_permutation(dims, input.ndim))


def _permutation(dims, ndim):
    wrapped = tuple(_dim(d, ndim) for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return wrapped


def _swapped(ndim, dim0, dim1):
    d0, d1 = _dim(dim0, ndim), _dim(dim1, ndim)
    if ndim == 0:
        return ()
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return tuple(dims)


@export(aliases=("swapdims",))
def transpose(input, dim0, dim1):
    return Transpose.apply(input, dims=_swapped(input.ndim, dim0, dim1))


@export
def swapaxes(input, axis0, axis1):
    return transpose(input, axis0, axis1)


def _t_dims(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return tuple(range(input.ndim))[::-1]


@export
def t(input):
    """Transpose a matrix; 0-D and 1-D tensors are returned as views of themselves."""
    return T.apply(input, dims=_t_dims(input))


def _T(self):
    if self.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return Permute.apply(self, dims=tuple(range(self.ndim))[::-1])


def _matrix_transpose(self, what):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices or batches of "
                           f"matrices. Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _conj(x):
    return x.conj() if x.is_complex() else x


def _H(self):
    if self.ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor.{hint}")
    return _conj(transpose(self, 0, 1))


@export
def adjoint(input):
    """The conjugate transpose of the last two dims."""
    return _conj(_matrix_transpose(input, "adjoint()"))


method(property(_T), name="T")
method(property(lambda self: _matrix_transpose(self, "mT")), name="mT")
method(property(_H), name="H")
method(property(lambda self: _conj(_matrix_transpose(self, "mH"))), name="mH")


@export(aliases=("moveaxis",))
def movedim(input, source, destination):
    ndim = input.ndim
    src, dst = _dims_arg(source), _dims_arg(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({_ints(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({_ints(dst)} dims)")
    src = tuple(_dim(d, ndim) for d in src)
    dst = tuple(_dim(d, ndim) for d in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({_ints(ds)})")
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    return Permute.apply(input, dims=tuple(o if o is not None else next(rest) for o in order))


# ---- squeeze, unsqueeze, flatten ---------------------------------------------------------------
@export
@dim_alias
def squeeze(input, dim=None):
    return _squeeze(input, dim, 0)


def _squeeze(input, dim, first_overload):
    """squeeze, named by PyTorch's overload: ``first_overload`` (0, or 3 in place) for all
    dims, the next for one dim, the one after for a tuple of dims."""
    shape = input.shape
    if dim is None:
        dims, overload = range(input.ndim), first_overload
    else:
        dims = normalize_dims(dim, input.ndim)
        overload = first_overload + (2 if isinstance(dim, (tuple, list)) else 1)
    new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    if overload:
        return Squeeze.apply(input, shape=new, overload=overload)
    return Squeeze.apply(input, shape=new)


@export
@dim_alias
def unsqueeze(input, dim):
    return Unsqueeze.apply(input, shape=_unsqueezed(input, dim))


def _unsqueezed(input, dim):
    dim = _wrap_dim(int(dim), input.ndim + 1)
    shape = tuple(input.shape)
    return shape[:dim] + (1,) + shape[dim:]


@export
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (a view when the strides allow it)."""
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = tuple(input.shape)
    return reshape(input, shape[:start] + (-1,) + shape[end + 1:])


@export
@dim_alias
def unflatten(input, dim, sizes):
    dim = _dim(dim, input.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[dim]
    try:
        sizes = infer_shape(sizes, size)
    except RuntimeError as e:
        if sizes.count(-1) > 1:
            raise RuntimeError(f"unflatten got an unexpected error:\n{e}") from None
        raise RuntimeError(f"unflatten: Provided sizes {_ints(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({size}) in the input tensor") from None
    shape = tuple(input.shape)
    return View.apply(input, shape=shape[:dim] + sizes + shape[dim + 1:])


@export
def ravel(input):
    """The elements as 1-D: a view of a contiguous copy when need be (PyTorch's
    ``contiguous().view(-1)``)."""
    return View.apply(input.contiguous(), shape=(input.numel(),))


# ---- in-place metadata ops ------------------------------------------------------------------
def _become(self, new):
    """Give ``self`` the array and autograd history of its own view ``new`` (an in-place
    metadata change such as ``unsqueeze_``), and bump the shared version counter."""
    if STATE.enabled and self._requires_grad:
        _check_leaf(self)
        _check_multi_output_view(self)
    self._data = new._data
    if new._requires_grad:  # a retained grad stays with the old node, as in PyTorch
        self._grad_fn, self._output_nr = new._grad_fn, new._output_nr
    if self._base is not None:
        self._view_fn = new._view_fn
    self._vc[0] += 1
    return self


@method
def squeeze_(self, dim=None):
    return _become(self, _squeeze(self, dim, 3))


@method
def unsqueeze_(self, dim):
    return _become(self, Unsqueeze.apply(self, shape=_unsqueezed(self, dim), overload=1))


@method
def t_(self):
    return _become(self, T.apply(self, dims=_t_dims(self), overload=1))


@method
def transpose_(self, dim0, dim1):
    return _become(self, Transpose.apply(self, dims=_swapped(self.ndim, dim0, dim1),
                                         overload=1))


@method(aliases=("swapaxes_", "swapdims_"))
def _swap_(self, dim0, dim1):
    return transpose_(self, dim0, dim1)


# ---- broadcasting ------------------------------------------------------------------------------
@method
def expand(self, *args, size=None):
    sizes = _sizes(args, size)
    if len(sizes) < self.ndim:
        raise RuntimeError(
            f"expand(torch.{self.dtype._short}Tensor{{{_ints(self.shape)}}}, size="
            f"{_ints(sizes)}): the number of sizes provided ({len(sizes)}) must be greater or "
            f"equal to the number of dimensions in the tensor ({self.ndim})")
    lead = len(sizes) - self.ndim
    shape = []
    for i, s in enumerate(sizes):
        cur = self.shape[i - lead] if i >= lead else 1
        if s == -1:
            if i < lead:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = cur
        elif cur != 1 and cur != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"{_ints(sizes)}.  Tensor sizes: {_ints(self.shape)}")
        shape.append(s)
    shape = tuple(shape)
    if shape == self._data.shape:
        return SameShapeExpand.apply(self, shape=shape)
    return Expand.apply(self, shape=shape)


@method
def expand_as(self, other):
    return expand(self, other.shape)


@export
def broadcast_to(input, size):
    return expand(input, size)


@function
def broadcast_shapes(*shapes):
    """The shape all ``shapes`` broadcast to (ints count as 1-D shapes)."""
    result = []
    for i, s in enumerate(shapes):
        s = (int(s),) if isinstance(s, int) else tuple(int(d) for d in s)
        if len(s) > len(result):
            result = [1] * (len(s) - len(result)) + result
        for k in range(1, len(s) + 1):
            if s[-k] == result[-k] or s[-k] == 1:
                continue
            if result[-k] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {s[-k]} at {-k}! "
                    f"Mismatching argument at index {i} had {s}; but expected shape should be "
                    f"broadcastable to {_ints(result)}")
            result[-k] = s[-k]
    return Size(result)


@function
def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = ()
    for t in tensors:
        shape = _broadcast_pair(shape, tuple(t.shape))
    return tuple(t if t.shape == shape else expand(t, shape) for t in tensors)


def _broadcast_pair(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def _atleast(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def _at_least_1d(x):
    return reshape(x, 1) if x.ndim == 0 else x


def _at_least_2d(x):
    if x.ndim == 0:
        return reshape(x, 1, 1)
    return unsqueeze(x, 0) if x.ndim == 1 else x


def _at_least_3d(x):
    if x.ndim == 0:
        return reshape(x, 1, 1, 1)
    if x.ndim == 1:
        return unsqueeze(unsqueeze(x, 0), -1)
    return unsqueeze(x, 2) if x.ndim == 2 else x


@function
def atleast_1d(*tensors):
    return _atleast(tensors, _at_least_1d)


@function
def atleast_2d(*tensors):
    return _atleast(tensors, _at_least_2d)


@function
def atleast_3d(*tensors):
    return _atleast(tensors, _at_least_3d)


# ---- joining -----------------------------------------------------------------------------------
@function(aliases=("concat", "concatenate"))
@dim_alias
def cat(tensors, dim=0):
    """Concatenate along ``dim``; 1-D tensors of size 0 are skipped (PyTorch's legacy rule)."""
    tensors = _tensor_list("cat", tensors)
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    kept = [(i, t) for i, t in enumerate(tensors) if not _legacy_empty(t.shape)]
    if not kept:
        return Cat.apply(*tensors, dim=0)
    ref = kept[0][1]
    dim = _dim(dim, ref.ndim)
    for i, t in kept[1:]:
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t.shape[d] != ref.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in the "
                    "list.")
    return Cat.apply(*tensors, dim=dim)


@function
@dim_alias
def stack(tensors, dim=0):
    tensors = _tensor_list("stack", tensors, "stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{_ints(shape)} at entry 0 and {_ints(t.shape)} at entry {i}")
    return Stack.apply(*tensors, dim=_dim(dim, len(shape) + 1))


def _nonempty(op, tensors):
    return _tensor_list(op, tensors, f"{op} expects a non-empty TensorList")


@function
def hstack(tensors):
    tensors = [_at_least_1d(t) for t in _nonempty("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@function(aliases=("row_stack",))
def vstack(tensors):
    return cat([_at_least_2d(t) for t in _nonempty("vstack", tensors)], 0)


@function
def dstack(tensors):
    return cat([_at_least_3d(t) for t in _nonempty("dstack", tensors)], 2)


@function
def column_stack(tensors):
    tensors = _nonempty("column_stack", tensors)
    return cat([reshape(t, -1, 1) if t.ndim <= 1 else t for t in tensors], 1)


# ---- splitting ---------------------------------------------------------------------------------
def _split_ranges(size, step):
    return [(s, min(s + step, size)) for s in range(0, size, step)] or [(0, 0)]


@export
@dim_alias
def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Views of consecutive pieces along ``dim``: of one size (the last may be shorter), or of
    the listed sizes."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _dim(dim, tensor.ndim)
    size = tensor.shape[dim]
    sections = split_size if split_size_or_sections is None else split_size_or_sections
    if isinstance(sections, (int, Tensor)) and not (isinstance(sections, Tensor)
                                                    and sections.ndim):
        step = int(sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={step}")
        if step == 0 and size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        return Split.apply(tensor, dim=dim, pieces=tuple(_split_ranges(size, max(step, 1))))
    sizes = _as_int_list(sections)
    if sum(sizes) != size or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                           f"(input tensor's size at dimension {dim}), but got "
                           f"split_sizes={_ints(sizes)}")
    bounds, start = [], 0
    for s in sizes:
        bounds.append((start, start + s))
        start += s
    return SplitWithSizes.apply(tensor, dim=dim, pieces=tuple(bounds))


@export
@dim_alias
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = _dim(dim, input.ndim)
    size = input.shape[dim]
    if size == 0:
        return Split.apply(input, dim=dim, pieces=((0, 0),) * chunks)
    return split(input, -(-size // chunks), dim)


@export
@dim_alias
def unbind(input, dim=0):
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _dim(dim, input.ndim)
    return Unbind.apply(input, dim=dim, pieces=tuple(range(input.shape[dim])))


def _sections(indices_or_sections, kwargs):
    """The one of ``sections=``, ``indices=``, ``tensor_indices_or_sections=`` that was given
    (PyTorch's keyword names), or the positional argument."""
    return next(iter(kwargs.values())) if kwargs else indices_or_sections


@export
@dim_alias
def tensor_split(input, indices_or_sections=None, dim=0, **kwargs):
    """Split into n near-equal pieces (an int) or at the given indices (a list)."""
    indices_or_sections = _sections(indices_or_sections, kwargs)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.dtype is not _dtype.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {arg.dtype._short}")
        arg = arg.item() if arg.ndim == 0 else arg.tolist()
    dim = _dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(arg, int):
        if arg <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {arg}")
        base, extra = divmod(size, arg)
        starts = [i * base + min(i, extra) for i in range(arg + 1)]
        return _slices(input, dim, zip(starts[:-1], starts[1:]))
    cuts = [0] + [int(i) for i in arg] + [size]
    pieces = (slice(a, b).indices(size)[:2] for a, b in zip(cuts[:-1], cuts[1:]))
    return _slices(input, dim, ((a, max(a, b)) for a, b in pieces))


def _slices(input, dim, pieces):
    """One slice per (start, stop) piece: separate views, as PyTorch's tensor_split makes (each
    may be written in place, unlike the outputs of split)."""
    return tuple(Slice.apply(input, index=_piece_index(dim, p)) for p in pieces)


def _directional_split(op, input, arg, dim, min_dims):
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    size = input.shape[dim]
    if isinstance(arg, int) and (arg == 0 or size % arg):
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {size} is not divisible by the split_size {arg}!")
    return tensor_split(input, arg, dim)


@export
def hsplit(input, indices_or_sections=None, **kwargs):
    return _directional_split("hsplit", input, _sections(indices_or_sections, kwargs),
                              1 if input.ndim > 1 else 0, 1)


@export
def vsplit(input, indices_or_sections=None, **kwargs):
    return _directional_split("vsplit", input, _sections(indices_or_sections, kwargs), 0, 2)


@export
def dsplit(input, indices_or_sections=None, **kwargs):
    return _directional_split("dsplit", input, _sections(indices_or_sections, kwargs), 2, 3)


@export
@dim_alias
def narrow(input, dim, start, length):
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _dim(dim, input.ndim)
    size, start, length = input.shape[dim], int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return Slice.apply(input, index=_piece_index(dim, (start, start + length)))


@export
@dim_alias
def select(input, dim, index):
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _dim(dim, input.ndim)
    size, index = input.shape[dim], int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{_ints(input.shape)} at dimension {dim}")
    return Select.apply(input, index=_piece_index(dim, index % size))


@method
def unfold(self, dimension, size, step):
    """Windows of ``size`` elements every ``step`` along ``dimension``, as a new last dim."""
    dim = _dim(dimension, self.ndim)
    length = self.shape[dim] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.apply(self, dim=dim, size=int(size), step=int(step))


# ---- repeating ---------------------------------------------------------------------------------
@method
def repeat(self, *args, repeats=None):
    repeats = _sizes(args, repeats)
    if len(repeats) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    shape = (1,) * (len(repeats) - self.ndim) + tuple(self.shape)
    out_shape = [r * s for r, s in zip(repeats, shape)]
    for n in out_shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"{_ints(out_shape)}")
    return Repeat.apply(self, repeats=repeats)


@export
def tile(input, dims):
    dims = _dims_arg(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@export
@dim_alias
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or slice along ``dim``) ``repeats`` times."""
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated
        counts = _check_repeats(input)
        from .._creation import arange
        index = arange(len(counts), dtype=_dtype.int64, device=input.device)
        return RepeatInterleave.apply(index, repeats=tuple(counts), dim=0)
    if dim is None:
        input, dim = reshape(input, -1), 0
    dim = _dim(dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        counts = _check_repeats(repeats)
        if len(counts) != size:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {len(counts)} and input.size({dim}) = {size}")
        if output_size is not None and output_size != sum(counts):
            raise RuntimeError("allocated size does not match required size")
        return RepeatInterleave.apply(input, repeats=tuple(counts), dim=dim)
    if isinstance(repeats, Tensor):
        _check_repeats(repeats)
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None and output_size != size * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {size * repeats} "
                           f"but got {output_size}")
    return RepeatInterleave.apply(input, repeats=repeats, dim=dim)


def _check_repeats(repeats):
    if repeats.ndim > 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats.dtype not in (_dtype.int64, _dtype.int32):
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                  f"'{repeats.dtype._short}'")
    counts = [int(c) for c in repeats.reshape(-1).tolist()]
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    return counts


# ---- flips and rolls ---------------------------------------------------------------------------
@export
def flip(input, *args, dims=None):
    dims = normalize_dims(_sizes(args, dims), input.ndim)
    return Flip.apply(input, dims=dims)


@export
def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@export
def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


@export
def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (over the flattened tensor when dims is None)."""
    shifts = _dims_arg(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return Roll.apply(input, shifts=shifts, dims=None)
    dims = _dims_arg(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    return Roll.apply(input, shifts=shifts, dims=tuple(_dim(d, input.ndim) for d in dims))


@export
def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the
    second."""
    dims = _dims_arg(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    return Rot90.apply(input, k=k % 4, dims=(d0, d1))


# ---- strides ---------------------------------------------------------------------------------
def _data_ptr(a):
    iface = getattr(a, "__cuda_array_interface__", None) or a.__array_interface__
    return iface["data"][0]


@method
def stride(self, dim=None):
    """Steps in elements between neighbours along each dim."""
    strides = tuple(s // self._data.itemsize for s in self._data.strides)
    return strides if dim is None else strides[_wrap_dim(int(dim), self.ndim)]


@method(name="storage_offset")
def _storage_offset(self):
    """Where this tensor starts in its root tensor's memory, in elements."""
    root = self._base if self._base is not None else self
    return (_data_ptr(self._data) - _data_ptr(root._data)) // self._data.itemsize


@export
def as_strided(input, size, stride, storage_offset=None):
    """A view reading the root tensor's memory at ``offset + sum(i_k * stride_k)``."""
    size, stride = shape_arg((size,)), shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {_ints(stride)}")
    root = input._base if input._base is not None else input
    if not root._data.flags.c_contiguous:
        raise RuntimeError("as_strided: torchlite needs the base tensor to be contiguous")
    if input.requires_grad and not root.requires_grad:
        raise RuntimeError("as_strided: torchlite cannot differentiate as_strided of a view that "
                           "requires grad while its base does not (the gradient would be lost); "
                           "call .clone() on the view first")
    offset = _storage_offset(input) if storage_offset is None else int(storage_offset)
    need = 0 if 0 in size else offset + 1 + sum((n - 1) * st for n, st in zip(size, stride))
    if need > root.numel():
        item = root._data.itemsize
        raise RuntimeError(f"setStorage: sizes {_ints(size)}, strides {_ints(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size "
                           f"{root.numel() * item}")
    return AsStrided.apply(root, size=size, stride=stride, offset=offset)
