"""Sphinx extensions of the torchlite docs: the tutorials from notebooks/, the static widget views,
the API reference of every public name and the ops page from the op-spec table."""
from . import api, docstrings, notebooks, ops, static_views


def setup(app):
    for module in (notebooks, static_views, docstrings, api, ops):
        module.setup(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
