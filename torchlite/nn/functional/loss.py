"""Loss functions (torch.nn.functional): PyTorch's formulas, reductions, checks and messages.

The class-index losses are fused primitives: cross_entropy (no label smoothing) does log_softmax
and the pick of the target's log-probability in a few array passes, nll_loss the pick alone.
Their backward, ([softmax(x)] - onehot(target)) * weight[target] * grad / total_weight, is one
more primitive (ClassIndexGrad) whose own backward is in torchlite ops, so double backward works.
On cuda, cross_entropy of (N, C) logits (label smoothing too) is one kernel that saves the rows'
logsumexp, and its backward (CrossEntropyGrad) one more; the mean's total weight stays on the
device.
binary_cross_entropy is a primitive for PyTorch's clamped logs and gradient epsilon. Every other
loss (probability targets, label smoothing, the margin losses, ...) is a composite of torchlite
ops whose gradient equals PyTorch's.
"""
import contextlib
import math
import warnings

from ... import _dtype, _kernels
from ..._creation import arange as _arange
from ...autograd.function import Function
from ...autograd.grad_mode import STATE, no_grad
from ...linalg import vector_norm
from ...ops import unary as _unary
from ...ops.binary import where as _where
from ...ops._util import check_tensor
from ...ops._util import named
from ..._kernels import softmax as _softmax_kernels
from .activation import log_softmax, logsigmoid, softmax

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "triplet_margin_loss"]

_REDUCTIONS = ("none", "mean", "sum")
_BCE_EPS = 9.999999960041972e-13  # PyTorch's EPSILON is the float32 1e-12
# A value range (by itemsize) over which exp(x - max) stays a normal float: float32, float64.
_SAFE_EXP_RANGE = {4: 80.0, 8: 700.0}


# ---- reductions -------------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce):
    """The deprecated ``size_average`` / ``reduce`` pair as a reduction string (with the
    warning PyTorch gives)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=4)
    return ret


def _check_reduction(reduction):
    """PyTorch's ``_Reduction.get_enum``: 'elementwise_mean' is a deprecated 'mean'."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=4)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return _check_reduction(reduction)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _quiet(xp):
    """NumPy's floating-point warnings off (0/0 of an all-ignored batch is PyTorch's nan)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(divide="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


def _size_warning(input, target):
    if target.size() != input.size():
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted_mean(total, weight_sum):
    """total / weight_sum, nan when nothing counts (as PyTorch) yet with a zero gradient."""
    empty = weight_sum == 0
    return _where(empty, math.nan, total / weight_sum.masked_fill(empty, 1))


def _not_differentiable(fn, name, t):
    """PyTorch refuses a gradient for class weights and pos_weight."""
    if t is not None and t.requires_grad and STATE.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{name}'. This input cannot have requires_grad True.")


def _weighted(loss, weight, reduction):
    """torch 2.x's optional elementwise ``weight`` of l1_loss / mse_loss: mean divides by the
    weights' sum."""
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _check_weight_size(weight, input):
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")


# ---- regression losses ------------------------------------------------------------------------

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean |input - target| (broadcast, with PyTorch's size warning)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = _unary.abs(input - target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted(loss, weight, reduction)
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean (input - target)^2 (broadcast, with PyTorch's size warning)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if not input.dtype.is_floating_point and not target.dtype.is_floating_point:
        raise NotImplementedError(f"\"mse_{input.device.type}\" not implemented for "
                                  f"'{input.dtype._short}'")
    loss = _unary.square(input - target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted(loss, weight, reduction)
    return named(_reduce(loss, reduction), "MseLossBackward0")


def _smooth(input, target, beta, scale):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; times ``scale`` (huber: delta)."""
    d = input - target
    ad = _unary.abs(d)
    quad = d * d * (0.5 / beta)
    return _where(ad < beta, quad, ad - 0.5 * beta) * scale


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic below ``beta``, linear above (beta = 0 is l1_loss)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _reduce(_unary.abs(input - target), reduction)
    return named(_reduce(_smooth(input, target, beta, 1.0), reduction), "SmoothL1LossBackward0")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic below ``delta``, delta-scaled linear above (delta * smooth_l1, beta=delta)."""
    _size_warning(input, target)
    if weight is None:
        reduction = _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    loss = _smooth(input, target, delta, delta)
    if weight is None:
        return named(_reduce(loss, reduction), "HuberLossBackward0")
    _check_weight_size(weight, input)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', "
                         "'mean', 'sum'.")
    return _reduce(loss * weight, reduction)


# ---- classification: class indices -----------------------------------------------------------

def _class_rows(xp, x, target, ignore_index):
    """(a, valid, safe): the logits as (rows, C) with the class dim last (float32 for 16-bit
    floats; a copy only for K-dim input), the non-ignored mask of the flat target, and class
    indices safe to gather with (ignored ones are 0). Out-of-range targets raise IndexError."""
    c = x.shape[1]
    a = (xp.moveaxis(x, 1, -1) if x.ndim > 2 else x).reshape(-1, c)
    if a.dtype.itemsize == 2:
        a = a.astype(xp.float32)
    t = target.reshape(-1)
    valid = t != ignore_index
    if not (t.astype(xp.uint64) >= c).any():  # one test for t < 0 or t >= c: all in range
        return a, valid, t
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
    return a, valid, xp.where(valid, t, 0)


def _fused_class_rows(xp, shape):
    """True when cross entropy of logits of ``shape`` ((C,) or (N, C), non-empty) runs the cuda
    kernels; K-dim logits keep the composed path."""
    return _kernels.fused(xp) and len(shape) <= 2 and 0 not in shape


def _shift(a, cpu):
    """What to subtract before exp: the row max, or on the CPU, where the values' range keeps
    every exp a normal float, the global max (a scalar subtract instead of NumPy's slow
    reduction over a short last axis; the result is the same up to rounding)."""
    if cpu and a.size > 4096:
        hi = a.max()
        if hi - a.min() < _SAFE_EXP_RANGE[a.dtype.itemsize]:
            return hi
    return a.max(axis=1, keepdims=True)


def _weigh_and_reduce(xp, nll, valid, safe, weight, reduction, shape):
    """(output, coef): per-position losses times weight[target] (0 where ignored), reduced
    (mean divides by the total weight; nan when it is 0, as PyTorch), and the factor
    d output / d nll per position (all ignored: 0, PyTorch's zero gradient)."""
    if weight is None:
        w = valid.astype(nll.dtype)
    else:
        w = weight.astype(nll.dtype)[safe]
        w *= valid
    nll *= w
    if reduction == "none":
        return nll.reshape(shape), w
    if reduction == "sum":
        return nll.sum(), w
    total = w.sum()
    with _quiet(xp):
        out = nll.sum() / total
    return out, w / xp.where(total == 0, 1, total)


class NllLoss(Function):
    """-x[n, target[n]] * weight[target[n]] over dim 1, reduced."""

    raw = True
    label = "nll_loss(x, target)"
    backward_rule = "grad_x = -onehot(target) * weight[target] * grad / total_weight"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = ctx.xp
        a, valid, safe = _class_rows(xp, x, target, ignore_index)
        nll = -a[xp.arange(a.shape[0]), safe]
        out, coef = _weigh_and_reduce(xp, nll, valid, safe, weight, reduction, target.shape)
        ctx.reduction = reduction
        ctx.save_for_backward(x, coef, safe)
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, coef, safe = ctx.saved_tensors
        return ClassIndexGrad.apply(grad, x, None, None, coef, safe,
                                    reduction=ctx.reduction), None, None


class CrossEntropy(Function):
    """Fused log_softmax over dim 1 and negative log-likelihood of class indices."""

    raw = True
    node_name = "NllLossBackward0"  # PyTorch's grad_fn of cross_entropy
    fused = None  # (ignore_index, label_smoothing) where the forward ran the cuda kernel
    label = "cross_entropy(x, target)"
    backward_rule = "grad_x = (softmax(x) - onehot(target)) * weight[target] * grad / total_weight"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing=0.0):
        xp = ctx.xp
        ctx.reduction = reduction
        if _fused_class_rows(xp, x.shape):
            out, lse, inv = _softmax_kernels.cross_entropy(x, target, weight, ignore_index,
                                                           reduction, label_smoothing)
            ctx.fused = (ignore_index, label_smoothing)
            if label_smoothing:
                ctx.node_name = "AddBackward0"  # PyTorch's: nll * (1 - e) + smooth * e / C
            ctx.save_for_backward(x, lse, inv, target, weight)
            return out.reshape(target.shape) if reduction == "none" else out
        a, valid, safe = _class_rows(xp, x, target, ignore_index)
        z = a - _shift(a, ctx.device.type == "cpu")
        picked = z[xp.arange(z.shape[0]), safe]
        xp.exp(z, out=z)
        s = z @ xp.ones(z.shape[1], z.dtype)  # a GEMV: far faster than sum(axis=1)
        nll = xp.log(s)
        nll -= picked
        out, coef = _weigh_and_reduce(xp, nll, valid, safe, weight, reduction, target.shape)
        ctx.save_for_backward(x, z, s, coef, safe)
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.fused is not None:
            ignore_index, label_smoothing = ctx.fused
            grad_x = CrossEntropyGrad.apply(grad, *ctx.saved_tensors, ignore_index=ignore_index,
                                            reduction=ctx.reduction,
                                            label_smoothing=label_smoothing)
            return grad_x, None, None
        x, z, s, coef, safe = ctx.saved_tensors
        return ClassIndexGrad.apply(grad, x, z, s, coef, safe,
                                    reduction=ctx.reduction), None, None


class ClassIndexGrad(Function):
    """The gradient of NllLoss (z None) or CrossEntropy w.r.t. the logits: -onehot(target) * c,
    plus softmax(x) * c from the forward's exp(x - shift) ``z`` and row sums ``s`` (rows =
    positions, class dim last). Its own backward is in torchlite ops (double backward)."""

    raw = True
    label = "([softmax(x)] - onehot(target)) * c"
    backward_rule = ("c = grad * coef; grad_x = softmax_backward(gg * c) (cross_entropy only); "
                     "grad_grad = sum(gg * ([softmax(x)] - onehot(target)), 1) * coef")

    @staticmethod
    def forward(ctx, grad, x, z, s, coef, safe, reduction):
        xp = ctx.xp
        scale = coef * (grad.reshape(-1) if reduction == "none" else grad)
        if z is None:
            out = xp.zeros((safe.shape[0], x.shape[1]), scale.dtype)
        else:
            out = z * (scale / s)[:, None]
        out[xp.arange(out.shape[0]), safe] -= scale
        if x.ndim > 2:
            out = xp.moveaxis(out.reshape(x.shape[:1] + x.shape[2:] + x.shape[1:2]), -1, 1)
        ctx.reduction, ctx.softmax = reduction, z is not None
        ctx.save_for_backward(grad, x, coef, safe)
        return xp.ascontiguousarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, gg):
        grad, x, coef, safe = ctx.saved_tensors
        lead = (x.shape[0], 1) + tuple(x.shape[2:])
        coef = coef.reshape(lead)
        p = softmax(x, 1) if ctx.softmax else None
        grad_grad = grad_x = None
        if ctx.needs_input_grad[1] and ctx.softmax:
            u = gg * (coef * grad.reshape(lead) if ctx.reduction == "none" else coef * grad)
            grad_x = p * (u - (u * p).sum(1, keepdim=True))
        if ctx.needs_input_grad[0]:
            r = -gg.gather(1, safe.reshape(lead))
            if ctx.softmax:
                r = r + (gg * p).sum(1, keepdim=True)
            r = r * coef
            grad_grad = r.reshape(grad.shape) if ctx.reduction == "none" else r.sum()
        return grad_grad, grad_x, None, None, None, None


class CrossEntropyGrad(Function):
    """The gradient of the fused (cuda) CrossEntropy w.r.t. its logits x (rows, C), from x and
    the rows' logsumexp ``lse``: grad * inv * (a softmax(x) - (1 - e) w_t onehot(t) - e / C w)
    per row with target t, a = (1 - e) w_t + e sum(w) / C, and 0 on ignored rows (``inv``: 1 /
    the mean's total weight, or 1). One kernel on cuda, xp elsewhere (fused kernels disabled
    after the forward); its own backward is in torchlite ops, so double backward works."""

    raw = True
    label = "(a softmax(x) - onehot_smoothed(target)) * c"
    backward_rule = ("c = grad * inv; grad_x = softmax_backward(gg * c * a); "
                     "grad_grad = sum(gg * (a softmax(x) - onehot_smoothed(target)), 1) * inv")

    @staticmethod
    def forward(ctx, grad, x, lse, inv, target, weight, ignore_index, reduction,
                label_smoothing):
        xp = ctx.xp
        ctx.reduction, ctx.ignore_index, ctx.label_smoothing = (reduction, ignore_index,
                                                                label_smoothing)
        ctx.save_for_backward(grad, x, inv, target, weight)
        if _kernels.fused(xp):
            return _softmax_kernels.cross_entropy_backward(grad, x, lse, inv, target, weight,
                                                           ignore_index, label_smoothing)
        e, c = label_smoothing, x.shape[1]
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)
        w = xp.ones(c, lse.dtype) if weight is None else weight.astype(lse.dtype)
        w_t = w[safe]
        out = xp.exp(x.astype(lse.dtype) - lse[:, None])
        out *= ((1 - e) * w_t + e / c * w.sum())[:, None]
        out -= e / c * w
        out[xp.arange(x.shape[0]), safe] -= (1 - e) * w_t
        out *= (grad.reshape(-1, 1) if grad.ndim else grad) * inv
        return xp.where(valid[:, None], out, 0).astype(x.dtype)

    @staticmethod
    def backward(ctx, gg):
        grad, x, inv, target, weight = ctx.saved_tensors
        e, c = ctx.label_smoothing, x.shape[1]
        valid = target != ctx.ignore_index
        safe = target.masked_fill(valid.logical_not(), 0)
        w = x.new_ones(c) if weight is None else weight.to(x.dtype)
        w_t = w[safe]
        a = (1 - e) * w_t + (e / c) * w.sum()
        k = valid.to(x.dtype) * inv.to(x.dtype)  # each row's factor of grad
        p = softmax(x, 1)
        grad_grad = grad_x = None
        if ctx.needs_input_grad[1]:
            u = gg * (k * a * grad.reshape(-1)).reshape(-1, 1)
            grad_x = p * (u - (u * p).sum(1, keepdim=True))
        if ctx.needs_input_grad[0]:
            r = a * (gg * p).sum(1) - (1 - e) * w_t * gg.gather(1, safe.reshape(-1, 1)).reshape(-1)
            r = (r - (e / c) * (gg @ w)) * k
            grad_grad = r.reshape(grad.shape) if ctx.reduction == "none" else r.sum()
        return grad_grad, grad_x, None, None, None, None


def _check_class_weight(weight, n_classes, spatial):
    if weight is None:
        return
    if spatial:
        if weight.numel() != n_classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
    elif weight.dim() != 1 or weight.numel() != n_classes:
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes "
                           f"or no classes but got weight tensor of shape: {list(weight.shape)}")


def _check_nll_args(input, target, weight):
    """PyTorch's nll_loss_nd checks; returns (input, target) with a batch dim added to 1-D
    input."""
    xs, ts = tuple(input.shape), tuple(target.shape)
    nd = len(xs)
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1 and xs[0] != (ts[0] if ts else 0):
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target batch_size "
                         f"({ts[0] if ts else 0}).")
    if nd <= 2 and len(ts) > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if nd == 4 and len(ts) != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {len(ts)}")
    if nd > 2 and xs[2:] != ts[1:]:
        if nd == 4:
            raise RuntimeError(f"size mismatch (got input: {list(xs)} , target: {list(ts)}")
        raise RuntimeError(f"Expected target size {[xs[0], *xs[2:]]}, got {list(ts)}")
    _check_class_weight(weight, xs[0 if nd == 1 else 1], nd > 2)
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{target.dtype._short}")
    if nd == 1:
        return input.unsqueeze(0), target.reshape(1)
    return input, target


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[n, target[n]] * weight[target[n]]; mean divides by the weights of non-ignored
    targets (input (N, C) or (N, C, d1, ...), or (C,) for one sample)."""
    check_tensor("nll_loss_nd", input)
    reduction = _reduction(size_average, reduce, reduction)
    return _class_index_loss(NllLoss, input, target, weight, ignore_index, reduction)


def _class_index_loss(fn, input, target, weight, ignore_index, reduction, **params):
    """Apply the NllLoss / CrossEntropy primitive after PyTorch's checks (1-D input: one
    sample; ``params``: CrossEntropy's label_smoothing)."""
    _not_differentiable("nll_loss_forward", "weight", weight)
    x, t = _check_nll_args(input, target, weight)
    if fn is CrossEntropy and not x.dtype.is_floating_point:
        which = "_lastdim" if x.dim() == 2 else ""
        raise NotImplementedError(f'"log_softmax{which}_kernel_impl" not implemented for '
                                  f"'{x.dtype._short}'")
    out = fn.apply(x, t, weight, ignore_index=ignore_index, reduction=reduction, **params)
    return out.reshape(()) if input.dim() == 1 and reduction == "none" else out


def _smoothed_indices(logp, target, weight, ignore_index, reduction, label_smoothing):
    """PyTorch's label smoothing for class indices: (1 - eps) * nll + eps / C * smooth, where
    smooth = -sum_c weight_c logp_c over non-ignored targets."""
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    c = logp.shape[1]
    if weight is not None:
        logp = logp * weight.reshape((1, c) + (1,) * (logp.dim() - 2))
    ignored = target == ignore_index
    smooth = (-logp.sum(1)).masked_fill(ignored, 0.0)
    if reduction == "mean":
        keep = ignored.logical_not()
        count = keep.sum() if weight is None else weight[target.masked_select(keep)].sum()
        smooth = _weighted_mean(smooth.sum(), count.to(smooth.dtype))
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


def _prob_targets(logp, target, weight, reduction, label_smoothing):
    """-sum_c weight_c target_c logp_c, with targets smoothed toward uniform."""
    c = logp.shape[1]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((1, c) + (1,) * (logp.dim() - 2))
    if reduction == "none":
        return -prod.sum(1)
    total = -prod.sum()
    if reduction == "sum":
        return total
    if logp.numel() == 0:
        return total * math.nan
    return total / (logp.numel() // c)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim, then nll_loss (class indices: one fused primitive) or
    -sum(target * logp) (class probabilities: a target of the input's shape)."""
    check_tensor("cross_entropy_loss", input)
    reduction = _reduction(size_average, reduce, reduction)
    one = input.dim() == 1
    if input.shape == target.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {target.dtype._short}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        x, t = (input.unsqueeze(0), target.unsqueeze(0)) if one else (input, target)
        _check_class_weight(weight, x.shape[1], False)
        loss = _prob_targets(log_softmax(x, 1), t, weight, reduction, label_smoothing)
        return loss.squeeze(0) if one and reduction == "none" else loss
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if label_smoothing > 0.0 and not _fused_class_rows(input.device.xp, input.shape):
        logp = log_softmax(input, 0 if one else 1)
        if one:
            logp, target = logp.unsqueeze(0), target.reshape(1)
        loss = _smoothed_indices(logp, target, weight, ignore_index, reduction, label_smoothing)
        return loss.reshape(()) if one and reduction == "none" else loss
    return _class_index_loss(CrossEntropy, input, target, weight, ignore_index, reduction,
                             label_smoothing=label_smoothing)


# ---- binary classification --------------------------------------------------------------------

class BinaryCrossEntropy(Function):
    """-(t log x + (1 - t) log(1 - x)) with both logs clamped to >= -100, as PyTorch does."""

    raw = True
    label = "bce(x, t)"
    backward_rule = ("grad_x = grad * (x - t) / max(x (1 - x), 1e-12); "
                     "grad_t = grad * (max(log(1 - x), -100) - max(log(x), -100))")

    @staticmethod
    def forward(ctx, x, t):
        xp = ctx.xp
        if ((x < 0) | (x > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        if ((t < 0) | (t > 1)).any():
            raise RuntimeError("all elements of target should be between 0 and 1")
        with _quiet(xp):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return (t - 1) * log_1mx - t * log_x

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * (x - t) / (x * (1 - x)).clamp_min(_BCE_EPS)
        if ctx.needs_input_grad[1]:
            grad_t = grad * (_unary.log1p(-x).clamp_min(-100) - _unary.log(x).clamp_min(-100))
        return grad_x, grad_t


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities ``input`` against ``target`` (same size)."""
    check_tensor("binary_cross_entropy", input)
    reduction = _reduction(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the same "
                         "size.")
    _not_differentiable("binary_cross_entropy", "weight", weight)
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """(1 - t) x - (1 + (pos_weight - 1) t) log(sigmoid(x)): stable for any logit."""
    check_tensor("binary_cross_entropy_with_logits", input)
    reduction = _reduction(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    _not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    _not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    log_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
    loss = (1 - target) * input - log_weight * logsigmoid(input)
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


# ---- distributions ----------------------------------------------------------------------------

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log target - input), ``input`` given as log-probs;
    'batchmean' divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    elif reduction != "batchmean":
        reduction = _check_reduction(reduction)
    if log_target:
        loss = _unary.exp(target) * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (log_input), else input - target * log(input + eps); ``full``
    adds Stirling's approximation of log(target!) where target > 1."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_input:
        loss = _unary.exp(input) - target * input
    else:
        loss = input - target * _unary.log(input + eps)
    if full:
        stirling = target * _unary.log(target) - target + 0.5 * _unary.log(2 * math.pi * target)
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) with var clamped to >= eps (the clamp passes the
    gradient through, as in PyTorch)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and
                  sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (_unary.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---- margin and embedding losses --------------------------------------------------------------

def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1."""
    reduction = _reduction(size_average, reduce, reduction)
    dim = target.dim()
    if dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if dim == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(f"{dim}D target tensor expects {want}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + 1e-12
    mag2 = (input2 * input2).sum(dim) + 1e-12
    cos = prod / _unary.sqrt(mag1 * mag2)
    loss = _where(target == 1, 1 - cos, 0.0) + _where(target == -1, (cos - margin).clamp_min(0),
                                                      0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = _where(target != 1, (margin - input).clamp_min(0), 0.0) + \
        _where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(_unary.log1p(_unary.exp(-input * target)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-sample mean over classes of the binary logistic loss of each label."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum_{i != y} max(0, margin - x[y] + x[i])^p * weight[y] / C per sample."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    if input.dim() > 2 or (input.dim() == 2 and input.shape[1] == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    n, c = x.shape
    if target.dim() > 1 or target.numel() != n:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{n}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    t = target.reshape(n, 1)
    if bool(((t < 0).logical_or(t >= c)).any()):
        raise RuntimeError("target out of range")
    z = (x - x.gather(1, t) + margin).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t]
    z = z.masked_fill(t == _arange(c, device=input.device).reshape(1, c), 0.0)
    loss = z.sum(1) / c
    if input.dim() < 2 and reduction == "none":
        loss = loss.reshape(target.shape)
    return _reduce(loss, reduction)


def _pairwise_distance(x1, x2, p, eps):
    """||x1 - x2 + eps||_p over the last dim (PyTorch's pairwise_distance)."""
    dim = max(x1.dim(), x2.dim()) - 1
    return vector_norm(x1 - x2 + eps, p, dim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)); ``swap`` uses the smaller of
    d(anchor, negative) and d(positive, negative)."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(_pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)
