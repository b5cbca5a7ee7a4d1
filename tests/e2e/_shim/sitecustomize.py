"""Run plain PyTorch scripts on torchlite: ``import torch`` (and every ``torch.<sub>``) resolves to
``torchlite`` (``torchlite.<sub>``).

tests/e2e/test_e2e.py puts this directory first on PYTHONPATH of the script's subprocess only, so
Python imports this module at start-up in the script's interpreter and in every process it spawns
(DataLoader workers included); the scripts themselves stay unmodified PyTorch code. The real torch
can then not be imported at all in those processes.
"""
import importlib
import importlib.abc
import importlib.util
import sys


class _TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finder + loader that hands out the torchlite module for each torch module name."""

    @staticmethod
    def _target(name):
        return "torchlite" + name[len("torch"):]

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        if importlib.util.find_spec(self._target(fullname)) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(self._target(spec.name))

    def exec_module(self, module):
        """The torchlite module is already executed."""


sys.meta_path.insert(0, _TorchAlias())
