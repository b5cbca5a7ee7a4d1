"""Distances (torch.nn.functional): cosine_similarity and pairwise_distance."""
from ...ops._util import check_tensor

__all__ = ["cosine_similarity", "pairwise_distance"]


def _clamped_norm(x, dim, eps):
    """||x|| along ``dim`` (keepdim), clamped below at ``eps`` in value only: PyTorch clamps in
    place under no_grad, so the gradient is that of the unclamped norm."""
    norm = x.norm(2, dim, keepdim=True)
    return norm + (norm.clamp_min(eps) - norm).detach()


def _broadcast(a, b):
    """The broadcast shape of ``a`` and ``b``, or PyTorch's size-mismatch error."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i in range(n):
        if a[i] != b[i] and 1 not in (a[i], b[i]):
            raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b "
                               f"({b[i]}) at non-singleton dimension {i}")
    return tuple(max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / ||x1|| * x2 / ||x2||) along ``dim`` (inputs broadcast; norms >= eps)."""
    check_tensor("cosine_similarity", x1)
    check_tensor("cosine_similarity", x2, 2, "x2")
    shape = _broadcast(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim."""
    check_tensor("pairwise_distance", x1)
    check_tensor("pairwise_distance", x2, 2, "x2")
    _broadcast(x1.shape, x2.shape)
    dim = max(x1.ndim, x2.ndim, 1) - 1
    return (x1 - x2 + eps).norm(p, dim, keepdim=keepdim)
