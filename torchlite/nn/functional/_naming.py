"""PyTorch's grad_fn name on the last node of an op that torchlite writes as a composite."""


def named(out, node_name):
    """``out`` with its grad_fn (if any) named ``node_name``: PyTorch computes the op in one
    node, torchlite in several whose gradients (and double gradients) equal it."""
    if out.grad_fn is not None:
        out.grad_fn.node_name = node_name
    return out
