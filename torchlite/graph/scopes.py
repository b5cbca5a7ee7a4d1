"""Module scopes: the dotted path of the module running now ("model.blocks.0.attn").

The recorder listens to ``Module.__call__`` (``SCOPE_LISTENERS``) and keeps a stack of the
paths of the modules entered. A module's path comes from the ``named_modules()`` of the
outermost module it was reached from, walked once per recording and held weakly, so nothing
here keeps a model alive.
"""
import sys
import weakref


class ScopeTracker:
    """The stack of module paths entered; ``current`` is the innermost ("" outside modules).

    ``roots`` names modules whose own path is given (``{"model": model}``); other outermost
    modules are named by their class name."""

    def __init__(self, roots=None):
        self.stack = []
        self.types = {}        # path -> module class name
        self.error_scope = None  # innermost scope an exception left first
        self._paths = {}       # id(module) -> (weakref to module, path)
        self._params = {}      # id(parameter) -> (weakref to parameter, name)
        for name, module in (roots or {}).items():
            self._walk(module, name, param_prefix="")

    @property
    def current(self):
        return self.stack[-1] if self.stack else ""

    def path_of(self, module):
        entry = self._paths.get(id(module))
        if entry is not None and entry[0]() is module:
            return entry[1]
        return None

    def param_name(self, p):
        """The name of a parameter of a module seen so far ("fc.weight"), else None."""
        entry = self._params.get(id(p))
        if entry is not None and entry[0]() is p:
            return entry[1]
        return None

    def _walk(self, root, name, param_prefix=None):
        """Name ``root`` and its descendants; parameters of a named root keep PyTorch's names
        ("fc.weight"), those of other roots are prefixed by the root's path."""
        for sub, m in root.named_modules(remove_duplicate=False):
            path = f"{name}.{sub}" if sub else name
            if self.path_of(m) is None:
                self._paths[id(m)] = (weakref.ref(m), path)
        prefix = f"{name}." if param_prefix is None else param_prefix
        for pname, p in root.named_parameters():
            if self.param_name(p) is None:
                self._params[id(p)] = (weakref.ref(p), prefix + pname)

    def listener(self, module, event):
        """The ``SCOPE_LISTENERS`` callable: push on "enter", pop on "exit"."""
        if event == "enter":
            path = self.path_of(module)
            if path is None:
                parent = self.current
                name = type(module).__name__
                path = f"{parent}.{name}" if parent else name
                self._walk(module, path)
            self.types.setdefault(path, type(module).__name__)
            self.stack.append(path)
        elif self.stack:
            if self.error_scope is None and sys.exc_info()[1] is not None:
                self.error_scope = self.stack[-1]
            self.stack.pop()
