"""torch.utils: data loading (``torchlite.utils.data``)."""
from . import data

__all__ = ["data"]
