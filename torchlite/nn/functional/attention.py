"""Attention (torch.nn.functional): scaled_dot_product_attention and the multi-head attention
forward of nn.MultiheadAttention, with PyTorch's mask semantics and shape checks.

Where PyTorch runs scaled_dot_product_attention as a fused kernel (CPU flash attention; flash or
memory-efficient attention on cuda), so does torchlite: one node (``FusedAttention``, flash-style
in ``_flash``: backward keeps no (L, S) weights) whose backward is one fused node too, and on
cuda fused CUDA kernels run its elementwise parts. Otherwise both are composites over
batched matmuls and the fused, max-shifted softmax primitive, so their gradients are PyTorch's;
rows whose every key is masked give zeros (PyTorch's safe softmax) instead of NaN.
"""
import math
import warnings

from ... import _creation, _dtype
from ...autograd.function import Function
from ...autograd.grad_mode import STATE
from ...ops._util import check_tensor
from ...ops.binary import _CPP_NAMES
from ...ops.shape import cat
from . import _flash
from .activation import softmax
from .dropout import dropout
from .linear import linear

# the private helpers are exported too: layers written against PyTorch call F._canonical_mask
__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "_canonical_mask",
           "_none_or_dtype", "_mha_shape_check"]

_NEG_INF = float("-inf")


def _check_sdpa_inputs(query, key, value, attn_mask):
    for t in (query, key, value):
        check_tensor("scaled_dot_product_attention", t)
    if query.dtype != key.dtype or query.dtype != value.dtype:
        q, k, v = (_CPP_NAMES[t.dtype.name] for t in (query, key, value))
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {q} key.dtype: {k} and value.dtype: {v} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} "
            "instead.")
    if attn_mask is not None and attn_mask.dtype not in (_dtype.bool, _dtype.float32,
                                                         query.dtype):
        m, q = (_CPP_NAMES[t.dtype.name] for t in (attn_mask, query))
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, "
                           f"but got attn_mask.dtype: {m} and  query.dtype: {q} instead.")


def _repeat_kv_heads(query, key, value):
    """Grouped-query attention: repeat each key/value head to match the query heads."""
    q_heads, kv_heads = query.size(-3), key.size(-3)
    if q_heads == kv_heads:
        return key, value
    if q_heads % kv_heads or q_heads % value.size(-3):
        raise RuntimeError("Number of heads in key and value must divide the number of heads "
                           "in query")
    return (key.repeat_interleave(q_heads // kv_heads, dim=-3),
            value.repeat_interleave(q_heads // value.size(-3), dim=-3))


def _causal_keep(query, key):
    """The top-left aligned lower-triangular (L, S) keep-mask of is_causal."""
    L, S = query.size(-2), key.size(-2)
    return _creation.ones((L, S), dtype=_dtype.bool, device=query.device).tril()


def _safe_softmax(scores):
    """softmax over the last dim, with zeros (and zero gradient) for rows that are all -inf."""
    dead = (scores == _NEG_INF).all(-1, keepdim=True)
    weights = softmax(scores.masked_fill(dead, 0.0), dim=-1)
    return weights.masked_fill(dead, 0.0)


# the dtypes of the fused node by device: PyTorch's fused kernels (CPU flash attention; flash
# and memory-efficient attention on cuda, where float64 takes the composed math path)
_FUSED_DTYPES = {"cpu": (_dtype.float32, _dtype.float64),
                 "cuda": (_dtype.float16, _dtype.bfloat16, _dtype.float32)}


def _fusable(query, key, value, attn_mask, dropout_p):
    """Whether PyTorch runs this call as a fused kernel (one graph node): 4-D inputs of one
    float dtype that kernel takes (``_FUSED_DTYPES``) and batch shape with one head size, no
    dropout, a mask that needs no gradient (bool, or of the query's dtype), 2-D or 4-D and
    broadcastable to the scores; none empty."""
    if query.ndim != 4 or dropout_p > 0.0 or query.dtype not in _FUSED_DTYPES.get(
            query.device.type, ()) or not query.numel() or not key.numel():
        return False
    b, h, length, e = query.shape
    if key.shape[:2] != (b, h) or value.shape[:2] != (b, h) or key.shape[-1] != e or \
            value.shape[-1] != e or key.shape[2] != value.shape[2]:
        return False
    if attn_mask is None:
        return True
    scores = (b, h, length, key.shape[2])
    return not attn_mask.requires_grad and attn_mask.device == query.device and \
        attn_mask.dtype in (_dtype.bool, query.dtype) and attn_mask.ndim in (2, 4) and \
        all(m in (1, n) for m, n in zip(attn_mask.shape[::-1], scores[::-1]))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v over the last two dims (batch dims broadcast).

    ``attn_mask`` is a bool keep-mask (True = attend) or a float mask added to the scores;
    ``is_causal`` adds the lower-triangular mask (combined with ``attn_mask`` when both are
    given); ``dropout_p`` drops attention weights whenever it is > 0, as in PyTorch. Where
    PyTorch runs a fused kernel (see ``_fusable``) this is one fused node too, which keeps no
    (L, S) weights for backward.
    """
    _check_sdpa_inputs(query, key, value, attn_mask)
    if enable_gqa:
        key, value = _repeat_kv_heads(query, key, value)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    if _fusable(query, key, value, attn_mask, dropout_p):
        return FusedAttention.apply(query, key, value, mask=attn_mask, causal=is_causal,
                                    scale=scale)
    weights = _attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights.matmul(value)


def _attention_weights(query, key, attn_mask, is_causal, scale):
    """softmax(q k^T * scale + mask) in torchlite ops (differentiable to any order)."""
    scores = (query * scale).matmul(key.transpose(-2, -1))
    masked = attn_mask is not None
    if is_causal:
        keep = _causal_keep(query, key)
        if attn_mask is not None and attn_mask.dtype == _dtype.bool:
            keep = keep.logical_and(attn_mask)
            attn_mask = None
        scores = scores.masked_fill(keep.logical_not(), _NEG_INF)
    if attn_mask is not None:
        if attn_mask.dtype == _dtype.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), _NEG_INF)
        else:
            scores = scores + attn_mask
    return _safe_softmax(scores) if masked else softmax(scores, dim=-1)


# ---- the fused node ------------------------------------------------------------------------

# PyTorch's node on cuda: flash attention for half precisions without a mask, else the
# memory-efficient kernel
_CUDA_NODE = ("ScaledDotProductEfficientAttentionBackward0",
              "ScaledDotProductFlashAttentionBackward0")


class FusedAttention(Function):
    """softmax(q k^T * scale + mask) v in one node, flash-style (``_flash``): keeps q, k, v and
    each query row's log-sum-exp; the (L, S) weights only where they are no larger than q, k, v
    and the output (``_flash.keeps_weights``). Rows with every key masked give zeros."""

    raw = True
    node_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    label = "softmax(q k^T * scale + mask) v"
    backward_rule = ("p = exp(q k^T * scale + mask - lse); grad_v = p^T grad; ds = p * (grad v^T "
                     "- rowsum(p * grad v^T)); grad_q = ds k * scale; grad_k = ds^T q * scale")

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale):
        xp = ctx.xp
        if xp.__name__ != "numpy":
            ctx.node_name = _CUDA_NODE[mask is None and q.dtype.itemsize == 2]
        out, lse, kept = _flash.attention_forward(
            xp, q, k, v, None if mask is None else mask._data, causal, scale,
            keep=_flash.keeps_weights(q.shape, k.shape))
        ctx.scale, ctx.mask, ctx.causal = scale, mask, causal
        ctx.save_for_backward(q, k, v, lse, *kept)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, lse, *kept = ctx.saved_tensors
        if STATE.enabled:  # create_graph: the same gradients in differentiable torchlite ops
            return _attention_grads(grad, q, k, v, ctx.mask, ctx.causal, ctx.scale)
        return FusedAttentionBackward.apply(grad, q, k, v, lse, ctx.mask, *kept,
                                            causal=ctx.causal, scale=ctx.scale, name=ctx.name())


def _attention_grads(grad, q, k, v, mask, causal, scale):
    """FusedAttention's (grad_q, grad_k, grad_v) in torchlite ops."""
    p = _attention_weights(q, k, mask, causal, scale)
    dp = grad.matmul(v.transpose(-2, -1))
    ds = p * (dp - (dp * p).sum(-1, keepdim=True)) * scale
    return ds.matmul(k), ds.transpose(-2, -1).matmul(q), p.transpose(-2, -1).matmul(grad)


class FusedAttentionBackward(Function):
    """FusedAttention's (grad_q, grad_k, grad_v), block by block from its log-sum-exp
    (first order only: under create_graph FusedAttention differentiates ``_attention_grads``)."""

    raw = True
    node_name = "ScaledDotProductFlashAttentionForCpuBackwardBackward0"
    label = "attention backward"
    backward_rule = "see FusedAttention"

    @staticmethod
    def forward(ctx, grad, q, k, v, lse, mask, *kept, causal, scale, name):
        ctx.node_name = name.removesuffix("0") + "Backward0"
        return _flash.attention_backward(ctx.xp, grad, q, k, v, lse, mask, causal, scale, kept)


# ---- multi-head attention ------------------------------------------------------------------

def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's checks of the ranks of the inputs; True when the input is batched."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.dim()}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked) as a float mask of -inf / 0 in ``target_type``."""
    if mask is None:
        return None
    if mask.dtype != _dtype.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    if not mask.dtype.is_floating_point:
        mask = _creation.zeros_like(mask, dtype=target_type).masked_fill_(mask, _NEG_INF)
    return mask


def _none_or_dtype(input):
    return None if input is None else input.dtype


def _in_projection(query, key, value, w, b, separate):
    """q, k, v projections from the packed (3E, E) weight or the three separate weights."""
    if separate is None:
        w_q, w_k, w_v = w.chunk(3)
    else:
        w_q, w_k, w_v = separate
    b_q, b_k, b_v = (None,) * 3 if b is None else b.chunk(3)
    if key is value and separate is None:
        if query is key:
            return linear(query, w, b).chunk(3, -1)
        k, v = linear(key, w[w_q.size(0):], None if b is None else b[b_q.size(0):]).chunk(2, -1)
        return linear(query, w_q, b_q), k, v
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _check_attn_mask(attn_mask, tgt_len, src_len, bsz, num_heads):
    """A 2-D mask gets a leading dim of 1; a 3-D one must be (bsz * num_heads, L, S)."""
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {(bsz * num_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _pad_last(mask):
    """One more (unmasked, 0) key column on the right of a float mask."""
    if mask is None:
        return None
    zeros = _creation.zeros((*mask.shape[:-1], 1), dtype=mask.dtype, device=mask.device)
    return cat([mask, zeros], -1)


def _heads(x, length, bsz, num_heads, head_dim):
    """(length, bsz, E) -> (bsz * num_heads, length, head_dim)."""
    return x.reshape(length, bsz * num_heads, head_dim).transpose(0, 1)


def _static(static, bsz, num_heads, head_dim, name):
    if static.size(0) != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got "
                             f"{static.size(0)}")
    if static.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                             f"{static.size(2)}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """PyTorch's multi-head attention on (L, N, E) inputs (or unbatched (L, E)).

    Returns (attn_output, attn_weights); the weights are averaged over heads when
    ``average_attn_weights`` and None unless ``need_weights``.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        separate = None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    if attn_mask is not None:
        attn_mask = _check_attn_mask(attn_mask, tgt_len, src_len, bsz, num_heads)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = _heads(q, tgt_len, bsz, num_heads, head_dim)
    k = _heads(k, k.shape[0], bsz, num_heads, head_dim) if static_k is None else \
        _static(static_k, bsz, num_heads, head_dim, "static_k")
    v = _heads(v, v.shape[0], bsz, num_heads, head_dim) if static_v is None else \
        _static(static_v, bsz, num_heads, head_dim, "static_v")
    if add_zero_attn:
        zeros = _creation.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = cat([k, zeros], 1)
        v = cat([v, zeros], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.size(1)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if attn_mask is not None:
            weights = attn_mask.baddbmm(q_scaled, k.transpose(-2, -1))
        else:
            weights = q_scaled.bmm(k.transpose(-2, -1))
        weights = softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights.bmm(v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
