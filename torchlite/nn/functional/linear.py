"""Linear maps (torch.nn.functional): linear and bilinear, batched through one matmul."""
from ... import _creation
from ...autograd.function import Function
from ...ops._util import check_tensor

__all__ = ["linear", "bilinear"]


class Linear(Function):
    """x @ W.T + b as one node: leading dims folded into one GEMM, and gradients that come out
    contiguous in W's layout (so the engine stores them in .grad without copying)."""

    raw = True
    node_name = "AddmmBackward0"
    label = "x @ W.T + b"
    backward_rule = "grad_x = grad @ W; grad_W = grad^T @ x; grad_b = grad summed over rows"

    @staticmethod
    def forward(ctx, x, w, b):
        needs = ctx.needs_input_grad  # x is read only by grad_W, W only by grad_x (as PyTorch)
        if needs:
            ctx.save_for_backward(x if needs[1] else None, w if needs[0] else None)
        out = ctx.xp.matmul(x.reshape(-1, x.shape[-1]), w.T)
        out = out.astype(x.dtype, copy=False)  # bfloat16: ml_dtypes' matmul gives float32
        if b is not None:
            out += b
        return out.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        rows = grad.reshape(-1, grad.shape[-1])
        grad_x = grad.matmul(w) if need_x else None
        grad_w = rows.t().matmul(x.reshape(-1, x.shape[-1])) if need_w else None
        grad_b = None
        if need_b:  # the row sum as a GEMV: several times faster than a sum over axis 0
            ones = _creation.ones(rows.shape[0], dtype=rows.dtype, device=rows.device)
            grad_b = ones.matmul(rows)
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    """input @ weight.T + bias; leading dims are flattened into one GEMM (as PyTorch does, so a
    shape mismatch reads "mat1 and mat2 shapes cannot be multiplied (AxB and CxD)")."""
    check_tensor("linear", input)
    if input.ndim >= 2 and weight.ndim == 2 and input.shape[-1] == weight.shape[1] and \
            input.dtype is weight.dtype and (bias is None or (
                bias.dtype is input.dtype and bias.shape in ((weight.shape[0],), (1,), ()))):
        return Linear.apply(input, weight, bias)
    if input.ndim == 2:
        if bias is None:
            return input.mm(weight.t())
        return bias.addmm(input, weight.t())
    if input.ndim <= 1 or weight.ndim == 1:
        out = input.matmul(weight.t())
        return out if bias is None else out + bias
    lead = input.shape[:-1]
    out = linear(input.reshape(-1, input.shape[-1]), weight, bias)
    return out.reshape(*lead, out.shape[-1])


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k over the last dims of input1 and input2."""
    out_features, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {in2}")
    for i, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {a} and {b}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    w = weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = (x1.mm(w).reshape(-1, out_features, in2) * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_features)
