"""Sphinx configuration of the torchlite docs (``sphinx-build -W -b html docs docs/_build``).

Everything is built offline: no intersphinx, no CDN. The notebooks render from their stored
outputs; the torchlite widgets render from their static view (``_ext/torchlite_docs``).
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))          # torchlite_docs (and its entry point)
sys.path.insert(0, str(HERE.parent))            # torchlite from this checkout

project = "torchlite"
author = "torchlite developers"
copyright = "torchlite developers"
release = version = "0.1.0"

extensions = ["myst_nb", "sphinx.ext.autodoc",
              "torchlite_docs"]
exclude_patterns = ["_build", "images/*.md", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]  # notebooks may jump from "#" to "###"

# notebooks: rendered from their stored outputs, never executed by the docs build
nb_execution_mode = "off"
nb_ipywidgets_js = {}          # no widget manager from a CDN: torchlite views render statically
nb_output_stderr = "show"
myst_enable_extensions = ["colon_fence"]  # no dollarmath: MathJax would come from a CDN
myst_heading_anchors = 3

autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"     # signatures as written; PyTorch-style docstrings say the types

html_theme = "furo"
html_title = "torchlite"
html_static_path = []          # static_views.js is added by torchlite_docs
html_show_sourcelink = False
