"""Shape ops. View ops (``is_view = True``) return arrays sharing memory with their input."""
from ..autograd.function import Function
from ._registry import export, method
from ._util import infer_shape, normalize_dims, shape_arg


def _view_array(a, shape):
    """``a`` reshaped without copying, or None when its strides do not allow it."""
    try:
        return a.reshape(shape, copy=False)
    except ValueError:
        return None


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
    """reshape when a view is impossible: a copy."""
    raw = True
    label = "reshape"
    backward_rule = "grad_a = grad.reshape(a.shape)"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return ctx.xp.reshape(a, shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Expand(Function):
    raw = True
    is_view = True
    label = "expand"
    backward_rule = "grad_a = grad summed over the expanded dims"

    @staticmethod
    def forward(ctx, a, shape):
        return ctx.xp.broadcast_to(a, shape)

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
        return ctx.xp.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.permute(inverse)


@method
def view(self, *shape):
    return View.apply(self, shape=infer_shape(shape_arg(shape), self.numel()))


@export
def reshape(input, *shape):
    shape = infer_shape(shape_arg(shape), input.numel())
    if _view_array(input._data, shape) is not None:
        return View.apply(input, shape=shape)
    return Reshape.apply(input, shape=shape)


@method
def expand(self, *sizes):
    sizes = shape_arg(sizes)
    if len(sizes) < self.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{[{', '.join(map(str, self.shape))}]}}, size=[" +
            ", ".join(map(str, sizes)) + "]): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
            f"({self.ndim})")
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
                               f"[{', '.join(map(str, sizes))}].  Tensor sizes: "
                               f"[{', '.join(map(str, self.shape))}]")
        shape.append(s)
    shape = tuple(shape)
    if shape == self._data.shape:
        return View.apply(self, shape=shape)
    return Expand.apply(self, shape=shape)


@export
def permute(input, *dims):
    dims = shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is "
            f"not equal to len(dims) = {len(dims)}")
    return Permute.apply(input, dims=normalize_dims_ordered(dims, input.ndim))


def normalize_dims_ordered(dims, ndim):
    wrapped = tuple(normalize_dims(d, ndim)[0] for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return wrapped


@export(aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    dims = list(range(input.ndim))
    d0, d1 = normalize_dims(dim0, input.ndim)[0], normalize_dims(dim1, input.ndim)[0]
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, dims=tuple(dims))
