"""torch.utils.data.distributed: the import path of DistributedSampler."""
from .sampler import DistributedSampler

__all__ = ["DistributedSampler"]
