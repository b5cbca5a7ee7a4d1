"""torchlite.nn.modules: Module, containers and layers."""
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .module import Module
