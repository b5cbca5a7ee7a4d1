"""torch.utils: data loading (``torchlite.utils.data``), DLPack (``torchlite.utils.dlpack``)."""
from . import data, dlpack

__all__ = ["data", "dlpack"]
