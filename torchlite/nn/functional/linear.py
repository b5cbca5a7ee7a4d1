"""Linear maps (torch.nn.functional): linear and bilinear, batched through one matmul."""
from ...ops._util import check_tensor

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """input @ weight.T + bias; leading dims are flattened into one GEMM (as PyTorch does, so a
    shape mismatch reads "mat1 and mat2 shapes cannot be multiplied (AxB and CxD)")."""
    check_tensor("linear", input)
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
