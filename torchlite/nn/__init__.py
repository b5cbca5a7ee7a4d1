"""torchlite.nn: modules, parameters, functional, init, utils (PyTorch's torch.nn)."""
from .modules import Module, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .parameter import Buffer, Parameter
