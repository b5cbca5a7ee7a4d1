"""Flash-style scaled dot product attention on arrays (NumPy or CuPy alike).

The (B, H, L, S) attention weights are not kept (but where they are small, ``keeps_weights``):
forward runs block by block of query rows and keeps each query row's log-sum-exp of its scores
(``lse``); backward recomputes a block's weights from it, ``p = exp(scores - lse)``. What backward
needs is q, k, v and lse: it grows with L, not with L * S.

A block (``_chunks``) is some (batch, head) pairs times some query rows, its scores about
``CHUNK_BYTES`` of the backend: small enough to stay in cache on a CPU, large enough to keep
cuBLAS busy on a GPU. Under ``is_causal`` (top-left aligned: row i attends keys 0..i) a block of
rows reads only the keys up to its last row, so long causal rows come in a few blocks at least.

Where CuPy runs with fused kernels (``torchlite._kernels.attention``) the elementwise middle of
each block is one kernel (causal mask by index, softmax and lse forward; the weights again and
the scores' gradient backward) between cuBLAS matmuls. Elsewhere it is composed through ``xp``.
"""
import functools

from ... import _kernels
from ..._kernels._compile import accumulation_dtype
from . import _scratch

_NEG_INF = float("-inf")
# bytes of scores per block, by array module
CHUNK_BYTES = {"numpy": 1 << 18, "cupy": 1 << 25}
# causal rows are cut into this many blocks at least (blocks of _MIN_ROWS rows at least), so
# that the keys right of a block's last row are skipped
_CAUSAL_BLOCKS = 4
_MIN_ROWS = 64


def _kernel_ops():
    from ..._kernels import attention
    return attention


def _chunks(shape, itemsize, budget, causal):
    """Index keys (batch part, heads, query rows) covering scores of ``shape`` (B, H, L, S),
    with each block's key count: blocks of query rows (under causal a few at least, each then
    reading the keys up to its last row), each cut into whole batch rows when they fit
    ``budget`` bytes of scores, else into heads of one batch row. The last rows come first:
    the first block of a head reads every key any of its blocks reads."""
    b, h, length, keys = shape
    row = keys * itemsize
    rows = min(length, max(budget // row, 1))
    if causal:
        rows = min(rows, max(_MIN_ROWS, -(-length // _CAUSAL_BLOCKS)))
    block = rows * row  # one head's scores in a block
    out = []
    for r in reversed(range(0, length, rows)):
        span = slice(r, r + rows)
        seen = min(r + rows, length, keys) if causal else keys
        if h * block <= budget:
            step = budget // (h * block)
            out += [((slice(i, i + step), slice(None), span), seen) for i in range(0, b, step)]
        else:
            step = max(budget // block, 1)
            out += [((i, slice(j, j + step), span), seen) for i in range(b)
                    for j in range(0, h, step)]
    return out


def _keys_first(xp):
    """NumPy reduces along contiguous memory fastest: its score blocks are laid out keys-first.
    Elsewhere they are rows-first, the layout the row-wise kernels read."""
    return xp.__name__ == "numpy"


def _bias(xp, mask, causal, length, keys, dtype):
    """The mask as one float array added to the scores (0 = attend, -inf = masked), 4-D
    (B or 1, H or 1, L or 1, S or 1), keys-first in memory where the score blocks are; None
    without a mask."""
    bias = None
    if causal:
        bias = xp.triu(xp.full((length, keys), _NEG_INF, dtype=dtype), 1)
    if mask is not None:
        if mask.dtype == bool:
            mask = xp.where(mask, xp.zeros((), dtype=dtype), xp.full((), _NEG_INF, dtype=dtype))
        bias = mask if bias is None else bias + mask
    if bias is None:
        return None
    bias = bias.reshape((1,) * (4 - bias.ndim) + bias.shape)
    if _keys_first(xp):
        bias = xp.moveaxis(xp.ascontiguousarray(xp.moveaxis(bias, -1, 0)), 0, -1)
    return bias


def _bias_part(bias, key, keys):
    """The part of a 4-D ``bias`` for block ``key`` and its first ``keys`` keys, broadcastable
    to the block's scores (dims of size 1 stay)."""
    index = tuple(k if n > 1 else (0 if isinstance(k, int) else slice(None))
                  for k, n in zip(key, bias.shape))
    return bias[index + (slice(0, keys),)]


def _empty_block(xp, lead, rows, keys, dtype):
    """An uninitialised block of scores, seen as (*lead, rows, keys), in the backend's layout;
    on NumPy from the scratch pool (``_release`` hands it back)."""
    if not _keys_first(xp):
        return xp.empty(lead + (rows, keys), dtype=dtype)
    n = len(lead) + 2
    block = _scratch.take(xp, (keys,) + lead + (rows,), dtype)
    return block.transpose(tuple(range(1, n)) + (0,))


def _release(*blocks):
    """Hand blocks of ``_empty_block`` that nothing refers to any more back to the pool."""
    for block in blocks:
        _scratch.give(block if block.base is None else block.base)


def _scores(xp, a, b):
    """a b^T as (..., rows, keys) in a fresh block; keys-first computed as b a^T, whose
    matrices then have unit inner stride (what BLAS writes)."""
    block = _empty_block(xp, a.shape[:-2], a.shape[-2], b.shape[-2], a.dtype)
    if not _keys_first(xp):
        return xp.matmul(a, b.swapaxes(-1, -2), out=block)
    xp.matmul(b, a.swapaxes(-1, -2), out=block.swapaxes(-1, -2))
    return block


def _flat(xp, s):
    """A block as a 2-D view and the axis of its keys: (keys, rows) keys-first, else (rows,
    keys). Reductions over the keys and row-wise updates then run over contiguous memory."""
    if _keys_first(xp):
        n = s.ndim - 1
        return s.transpose((n,) + tuple(range(n))).reshape(s.shape[-1], -1), 0
    return s.reshape(-1, s.shape[-1]), 1


def _in_acc(s, acc):
    """``s`` itself when it has the accumulation dtype, else a copy in it."""
    return s if s.dtype == acc else s.astype(acc)


def _softmax_lse(xp, s, acc, masked, lse):
    """``s`` becomes its softmax over the keys (in place); the rows' log-sum-exp goes to ``lse``
    (shaped as ``s`` without its last dim) unless it is None. Where ``masked``, rows with every
    key masked (all scores -inf) give zeros and lse 0."""
    flat, axis = _flat(xp, s)
    w = _in_acc(flat, acc)
    top = w.max(axis, keepdims=True)
    if masked:
        xp.copyto(top, 0, where=top == _NEG_INF)
    w -= top
    xp.exp(w, out=w)
    total = w.sum(axis, keepdims=True)
    if masked:
        xp.copyto(total, 1, where=total == 0)
    w /= total
    if w is not flat:
        flat[...] = w
    if lse is not None:
        lse[...] = (top + xp.log(total)).reshape(lse.shape)


def _weights(xp, s, lse, acc):
    """``s`` becomes exp(s - lse), the weights ``_softmax_lse`` gave (in place)."""
    flat, axis = _flat(xp, s)
    w = _in_acc(flat, acc)
    w -= lse.reshape((1, -1) if axis == 0 else (-1, 1))
    xp.exp(w, out=w)
    if w is not flat:
        flat[...] = w


def _score_grad(xp, dp, p, scale, acc):
    """``dp`` (grad v^T) becomes the scores' gradient p * (dp - rowsum(p * dp)) * scale (in
    place); ``p``: the block's weights, laid out as ``dp``."""
    flat, axis = _flat(xp, dp)
    weights = _flat(xp, p)[0]
    w = _in_acc(flat, acc)
    w *= weights
    w -= weights * w.sum(axis, keepdims=True)
    w *= scale
    if w is not flat:
        flat[...] = w


def _head_part(t, key, keys):
    """The keys/values of block ``key``: its (batch, head) pairs, the first ``keys`` rows."""
    return t[key[:2]][..., :keys, :]


def keeps_weights(q_shape, k_shape):
    """Whether forward keeps its weights for backward rather than backward recomputing them: only
    where they take no more memory than q, k, v and the output together (L S <= 2 (L + S) E,
    short sequences), so that what backward keeps stays linear in the sequence length."""
    length, keys, dim = q_shape[-2], k_shape[-2], q_shape[-1]
    return length * keys <= 2 * (length + keys) * dim


class _Blocks:
    """What forward and backward share about one call: the block plan, the mask as a bias
    (None where a kernel applies the causal mask by index), the scores of a block."""

    def __init__(self, xp, q, k, mask, causal, scale):
        self.xp, self.q, self.k, self.mask, self.causal, self.scale = xp, q, k, mask, causal, scale
        self.fused = _kernels.fused(xp) and q.dtype.itemsize <= 4
        self.acc = accumulation_dtype(q.dtype)
        self.plan = _chunks(q.shape[:3] + (k.shape[2],), q.dtype.itemsize,
                            CHUNK_BYTES.get(xp.__name__, 1 << 25), causal)

    @functools.cached_property
    def bias(self):
        q, k = self.q, self.k
        return _bias(self.xp, self.mask, self.causal and not self.fused, q.shape[2], k.shape[2],
                     q.dtype)

    def scores(self, key, keys):
        """(q * scale) k^T of block ``key`` (its first ``keys`` keys), with the bias added."""
        qs = (self.q[key] * self.scale).astype(self.q.dtype, copy=False)
        s = _scores(self.xp, qs, _head_part(self.k, key, keys))
        if self.bias is not None:
            s += _bias_part(self.bias, key, keys)
        return s


def _product_into(xp, target, a, b):
    """target[...] = a @ b: NumPy's matmul writes into a view of the target directly; elsewhere
    (CuPy, or a target of another dtype) the product is assigned."""
    if _keys_first(xp) and target.dtype == a.dtype:
        xp.matmul(a, b, out=target)
    else:
        target[...] = xp.matmul(a, b)


def _add_product(xp, target, a, b, first):
    """target = a @ b on a head's first block, target += a @ b on its others."""
    if first:
        _product_into(xp, target, a, b)
    else:
        target += xp.matmul(a, b)


def attention_forward(xp, q, k, v, mask, causal, scale, keep=False):
    """(out, lse, kept) of softmax(q k^T * scale + mask) v for q (B, H, L, E), k (B, H, S, E),
    v (B, H, S, Ev) and an optional bool / float mask broadcastable to (B, H, L, S); lse (B, H,
    L) in float32 (float64 for float64); where ``keep`` instead the blocks' weights (``kept``)
    and no lse. Rows whose every key is masked give zeros."""
    blocks = _Blocks(xp, q, k, mask, causal, scale)
    out = xp.empty(q.shape[:3] + v.shape[3:], dtype=q.dtype)
    lse = None if keep else xp.empty(q.shape[:3], dtype=blocks.acc)
    kept = []
    for key, keys in blocks.plan:
        s = blocks.scores(key, keys)
        if blocks.fused:
            rows = _kernel_ops().softmax_lse(s, key[2].start, causal)
            if lse is not None:
                lse[key] = rows
        else:  # a causal mask alone leaves every row a key
            _softmax_lse(xp, s, blocks.acc, mask is not None, None if keep else lse[key])
        _product_into(xp, out[key], s, _head_part(v, key, keys))
        if keep:
            kept.append(s)
        else:
            _release(s)
    return out, lse, tuple(kept)


def attention_backward(xp, grad, q, k, v, lse, mask, causal, scale, kept=()):
    """(grad_q, grad_k, grad_v) of ``attention_forward`` from its lse (or, where it kept them,
    the weights ``kept``): per block, p = exp(scores - lse), grad_v += p^T grad,
    ds = p * (grad v^T - rowsum(p * grad v^T)) * scale, grad_q = ds k, grad_k += ds^T q.
    A block holds every key its rows attend, so its row sums are whole. grad_k and grad_v add
    up in float32 (float64 for float64) over a head's blocks."""
    blocks = _Blocks(xp, q, k, mask, causal, scale)
    acc = blocks.acc
    gq = xp.empty(q.shape, dtype=q.dtype)
    gk, gv = xp.empty(k.shape, dtype=acc), xp.empty(v.shape, dtype=acc)
    first_rows = blocks.plan[0][0][2]
    read = blocks.plan[0][1]
    if read < k.shape[2]:  # causal, fewer queries than keys: the last keys get no gradient
        gk[..., read:, :] = 0
        gv[..., read:, :] = 0
    for i, (key, keys) in enumerate(blocks.plan):
        first = key[2] == first_rows
        g = grad[key]
        if kept:
            p = kept[i]
        else:
            p = blocks.scores(key, keys)
            if blocks.fused:
                _kernel_ops().weights(p, xp.ascontiguousarray(lse[key]), key[2].start, causal)
            else:
                _weights(xp, p, lse[key], acc)
        _add_product(xp, _head_part(gv, key, keys), p.swapaxes(-1, -2), g, first)
        ds = _scores(xp, g, _head_part(v, key, keys))
        if blocks.fused:
            _kernel_ops().score_grad(ds, p, scale)
        else:
            _score_grad(xp, ds, p, scale, acc)
        _product_into(xp, gq[key], ds, _head_part(k, key, keys))
        _add_product(xp, _head_part(gk, key, keys), ds.swapaxes(-1, -2), q[key], first)
        _release(ds)
        if not kept:
            _release(p)
    return gq, gk.astype(k.dtype, copy=False), gv.astype(v.dtype, copy=False)
