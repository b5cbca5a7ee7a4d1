"""The API reference: one page per namespace (``api/<namespace>.rst``, written at build time),
each a ``.. torchlite-api:: <namespace>`` directive that documents every public name from its
docstring (autodoc), so a new op or layer appears without editing the docs.

Public names are the namespace's ``__all__``, else its attributes without a leading underscore
that are not modules. ``torchlite.Tensor`` has its own page with every public method.
"""
import importlib
import inspect
import types
from pathlib import Path

from sphinx.util.docutils import SphinxDirective

# the namespaces of the reference, in the order of the API index
NAMESPACES = ["torchlite", "torchlite.nn", "torchlite.nn.functional", "torchlite.nn.init",
              "torchlite.nn.utils", "torchlite.nn.utils.rnn", "torchlite.optim",
              "torchlite.optim.lr_scheduler", "torchlite.utils.data", "torchlite.utils.dlpack",
              "torchlite.linalg", "torchlite.autograd", "torchlite.autograd.functional",
              "torchlite.graph", "torchlite.viz", "torchlite.cuda", "torchlite.amp",
              "torchlite.serialization"]
TENSOR = "torchlite.Tensor"


def available_namespaces():
    """The namespaces of ``NAMESPACES`` that this torchlite has (``amp`` may not exist yet)."""
    found = []
    for name in NAMESPACES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
        else:
            found.append(name)
    return found


def public_names(module):
    """The documented names of a module, sorted case-insensitively (submodules have their own
    page)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return sorted({n for n in names if not isinstance(getattr(module, n), types.ModuleType)},
                  key=lambda n: (n.lower(), n))


def class_homes(namespaces):
    """{id(class): "namespace.Name"}: where each class exported by several namespaces is
    documented in full (the namespace closest to where it is defined; else the first)."""
    places = {}
    for ns in namespaces:
        module = importlib.import_module(ns)
        for name in public_names(module):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                places.setdefault(id(obj), []).append((ns, name, obj.__module__))

    def closeness(place):
        ns, _, defined_in = place
        return -len(ns) if defined_in == ns or defined_in.startswith(ns + ".") else 0

    return {key: "{}.{}".format(*min(found, key=closeness)[:2]) for key, found in places.items()}


def autodoc_lines(full, obj, home):
    """rST documenting ``full`` (namespace.name) with the autodoc directive that fits the object;
    a class documented in full elsewhere (``home``) gets a short entry pointing there."""
    namespace, name = full.rsplit(".", 1)
    if full == TENSOR:
        return [f".. py:class:: {name}", f"   :module: {namespace}", "   :no-index:", "",
                f"   The tensor class: see :doc:`{TENSOR}`."]
    if inspect.isclass(obj) and home != full:
        return [f".. py:class:: {name}", f"   :module: {namespace}", "",
                f"   The same class as :py:class:`{home}`."]
    if inspect.isclass(obj):
        return [f".. autoclass:: {full}", "   :members:"]
    if callable(obj):
        return [f".. autofunction:: {full}"]
    return [f".. autodata:: {full}", "   :no-value:"]


class ApiDirective(SphinxDirective):
    """``.. torchlite-api:: <module>``: the module's docstring, then every public name."""

    required_arguments = 1

    def run(self):
        namespace = self.arguments[0]
        if namespace == TENSOR:
            return self.parse_text_to_nodes(f".. autoclass:: {TENSOR}\n   :members:\n"
                                            "   :undoc-members:\n")
        module = importlib.import_module(namespace)
        homes = class_homes(available_namespaces())
        lines = [f".. automodule:: {namespace}", "   :no-members:"]
        for name in public_names(module):
            obj = getattr(module, name)
            lines += [""] + autodoc_lines(f"{namespace}.{name}", obj, homes.get(id(obj)))
        return self.parse_text_to_nodes("\n".join(lines))


def page_text(namespace):
    title = f"``{namespace}``"
    return f"{title}\n{'=' * len(title)}\n\n.. torchlite-api:: {namespace}\n"


def write_pages(folder):
    """The pages of the available namespaces and Tensor (rewritten only when they change);
    pages of namespaces that are gone are removed."""
    pages = {f"{ns}.rst": page_text(ns) for ns in [*available_namespaces(), TENSOR]}
    for old in folder.glob("torchlite*.rst"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        path = folder / name
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")


def _on_builder_inited(app):
    write_pages(Path(app.srcdir, "api"))


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("torchlite-api", ApiDirective)
