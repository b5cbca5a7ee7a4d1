"""torchlite.graph: the autograd graph as data, the op recorder and debugging helpers."""
