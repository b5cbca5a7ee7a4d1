"""The op-spec table, split by op family (one module per torchlite/ops family)."""
import importlib
import pkgutil


def all_specs():
    specs = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        specs.extend(module.SPECS)
    return specs
