"""Lookup tables (torch.nn.functional): embedding, embedding_bag, one_hot.

The embedding's gradient is a scatter-add of the output gradient rows into a zero table, done by
one primitive over all indices at once; the two primitives are each other's backward, so double
backward works. On cuda (fused kernels enabled) neither direction reads the indices on the host:
bounds are a device-side assert, as in PyTorch, and the scatter-add is atomic.
"""
import math

from ... import _kernels
from ..._creation import full, zeros
from ..._kernels import embedding as _embedding_kernels
from ..._tensor import Tensor, _make
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...ops._util import check_tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _row_factor(xp, idx, num_weights, padding_idx, scale_grad_by_freq, dtype):
    """Per-lookup gradient factor (idx.shape + (1,)): 0 at padding_idx, 1 / count with
    scale_grad_by_freq; None when every factor is 1."""
    factor = None
    if scale_grad_by_freq:
        counts = (_embedding_kernels.count_rows(idx, num_weights) if _kernels.fused(xp)
                  else xp.bincount(idx.reshape(-1), minlength=num_weights))
        factor = (1.0 / counts[idx]).astype(dtype)
    if padding_idx is not None:
        keep = (idx != padding_idx).astype(dtype)
        factor = keep if factor is None else factor * keep
    return None if factor is None else factor[..., None]


class Embedding(Function):
    raw = True
    label = "weight[indices]"
    backward_rule = "grad_weight = scatter_add(zeros, indices, grad) (0 at padding_idx)"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        ctx.params = (weight.shape[0], padding_idx, scale_grad_by_freq)
        ctx.save_for_backward(indices)
        return weight.take(indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        num, padding_idx, scale = ctx.params
        return EmbeddingBackward.apply(grad, indices, num_weights=num, padding_idx=padding_idx,
                                       scale_grad_by_freq=scale), None


class EmbeddingBackward(Function):
    raw = True
    label = "scatter_add(zeros, indices, grad)"
    backward_rule = "grad_grad = grad_weight_grad[indices] (0 at padding_idx, not rescaled)"

    @staticmethod
    def forward(ctx, grad, indices, num_weights, padding_idx, scale_grad_by_freq):
        xp = ctx.xp
        ctx.padding_idx = padding_idx
        ctx.save_for_backward(indices)
        factor = _row_factor(xp, indices, num_weights, padding_idx, scale_grad_by_freq,
                             grad.dtype)
        if factor is not None:
            grad = grad * factor
        return _scatter_rows(xp, indices.reshape(-1), grad.reshape(-1, grad.shape[-1]),
                             num_weights)

    @staticmethod
    def backward(ctx, grad_weight_grad):
        indices, = ctx.saved_tensors
        padding_idx = ctx.padding_idx
        out = Embedding.apply(grad_weight_grad, indices)
        if padding_idx is not None:  # PyTorch's double backward masks padding, never scales
            keep = indices._data != padding_idx
            out = out * _make(keep[..., None].astype(out._data.dtype), indices.device)
        return out, None


def _scatter_rows(xp, idx, rows, num):
    """zeros((num, D)) with ``rows[k]`` added at row ``idx[k]``. Many repeats (idx longer than
    the table, as in small vocabularies) sum runs of sorted indices with add.reduceat, which
    is several times faster on NumPy than add.at's per-element accumulation; on cuda one atomic
    scatter-add (no sort of the indices)."""
    if _kernels.fused(xp):
        return _embedding_kernels.scatter_rows(idx, rows, num)
    out = xp.zeros((num, rows.shape[1]), dtype=rows.dtype)
    if idx.size > num and xp.__name__ == "numpy":
        order = xp.argsort(idx, kind="stable")
        ordered = idx[order]
        starts = xp.flatnonzero(xp.concatenate(([True], ordered[1:] != ordered[:-1])))
        out[ordered[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
    else:
        xp.add.at(out, idx, rows)
    return out


def _check_indices(input, weight):
    check_tensor("embedding", input)
    if str(input._data.dtype) not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{input.type()} instead (while checking arguments for embedding)")
    arr = input._data
    if _kernels.fused(input.device.xp):
        _embedding_kernels.check_indices(arr, weight.shape[0])
    elif arr.size and (int(arr.min()) < 0 or int(arr.max()) >= weight.shape[0]):
        raise IndexError("index out of range in self")


def _padding_index(padding_idx, num_embeddings):
    """PyTorch's normalisation of padding_idx (negative counts from the end; None stays)."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _renorm_(weight, input, max_norm, norm_type):
    """Rescale in place (no grad) the looked-up rows whose norm exceeds ``max_norm``."""
    with no_grad():
        rows = input.reshape(-1).unique()
        picked = weight[rows]
        norms = picked.norm(norm_type, dim=1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).where(norms > max_norm, 1.0)
        weight[rows] = picked * scale


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``input``; no gradient reaches the ``padding_idx`` row."""
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    _check_indices(input, weight)
    if sparse:
        raise NotImplementedError("torchlite has no sparse tensors: use sparse=False")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


def _type_repr(obj):
    return "<class 'torch.Tensor'>" if isinstance(obj, Tensor) else str(type(obj))


def _bag_layout(input, offsets, include_last_offset):
    """(flat indices, bag id per index, number of bags) with PyTorch's argument checks."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {_type_repr(offsets)}")
        bags, length = input.shape
        xp = input.device.xp
        bag = xp.repeat(xp.arange(bags), length)
        return input.reshape(-1), bag, bags
    if input.ndim != 1:
        raise ValueError("input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    xp = input.device.xp
    starts = offsets._data
    if include_last_offset:
        starts = starts[:-1]
    bag = xp.searchsorted(starts, xp.arange(input.shape[0]), side="right") - 1
    return input, bag, starts.shape[0]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings (bags given by offsets or by input's rows)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    if per_sample_weights is not None and per_sample_weights.shape != input.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    idx, bag, bags = _bag_layout(input, offsets, include_last_offset)
    xp = idx.device.xp
    device = idx.device
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights.reshape(-1)
    if padding_idx is not None:
        kept = xp.nonzero(idx._data != padding_idx)[0]
        bag = bag[kept]
        keep = _make(kept, device)
        idx = idx[keep]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[keep]
    emb = embedding(idx, weight, None, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        emb = emb * per_sample_weights.unsqueeze(1)
    counts = xp.bincount(bag, minlength=bags)
    dim = weight.shape[1]
    if mode == "max":
        return _bag_max(emb, bag, counts, bags, dim, device)
    out = zeros(bags, dim, dtype=weight.dtype, device=device).index_add(
        0, _make(bag, device), emb)
    if mode == "mean":
        denom = xp.maximum(counts, 1).astype(weight._data.dtype)[:, None]
        out = out / _make(denom, device)
    return out


def _bag_max(emb, bag, counts, bags, dim, device):
    """Per-bag maxima: scatter into a (bags, longest, dim) -inf block and reduce; empty bags
    give 0 as in PyTorch."""
    xp = device.xp
    longest = max(int(counts.max()) if counts.size else 0, 1)
    first = xp.cumsum(counts) - counts
    slot = bag * longest + (xp.arange(bag.shape[0]) - first[bag])
    block = full((bags * longest, dim), -math.inf, dtype=emb.dtype, device=device)
    block = block.index_copy(0, _make(slot, device), emb)
    out = block.reshape(bags, longest, dim).amax(1)
    return out.where(_make((counts > 0)[:, None], device), 0.0)


def one_hot(tensor, num_classes=-1):
    """int64 tensor with a trailing dim of size ``num_classes``: 1 at each class index."""
    check_tensor("one_hot", tensor)
    if str(tensor._data.dtype) != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    arr = tensor._data
    if arr.size == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if int(arr.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        top = int(arr.max())
        if num_classes == -1:
            num_classes = top + 1
        elif top >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = tensor.device.xp
    out = (arr[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return _make(out, tensor.device)
