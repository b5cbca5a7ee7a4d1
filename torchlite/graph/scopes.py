"""Module scopes: the dotted path of the module running now ("model.blocks.0.attn").

The recorder listens to ``Module.__call__`` (``SCOPE_LISTENERS``) and keeps a stack of the
paths of the modules entered. A module's path comes from the ``named_modules()`` of the
outermost module it was reached from, walked once per recording and held weakly, so nothing
here keeps a model alive. Parameters and buffers of the modules walked get their names
("fc.weight", "bn.running_mean") the same way.
"""
import sys
import weakref


class ScopeTracker:
    """The stack of module paths entered; ``current`` is the innermost ("" outside modules).

    ``roots`` names modules whose own path is given (``{"model": model}``); other outermost
    modules are named by their class name. ``params`` ({name: parameter}) names parameters
    before the modules' walk does."""

    def __init__(self, roots=None, params=None):
        self.stack = []
        self.types = {}        # path -> module class name
        self.error_scope = None  # innermost scope an exception left first
        self._paths = {}       # id(module) -> (weakref to module, path)
        self._tensors = {}     # id(parameter or buffer) -> (weakref to it, name, kind)
        self.add_tensors((params or {}).items(), "param")
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

    def tensor_name(self, t):
        """(name, "param" or "buffer") of a parameter or buffer of a module seen so far
        (("fc.weight", "param")), else None."""
        entry = self._tensors.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1:]
        return None

    def add_tensors(self, named, kind):
        """Name the tensors of ``named`` ({name: tensor}) as ``kind`` unless already named."""
        for tname, t in named:
            if self.tensor_name(t) is None:
                self._tensors[id(t)] = (weakref.ref(t), tname, kind)

    def _walk(self, root, name, param_prefix=None):
        """Name ``root`` and its descendants; parameters and buffers of a named root keep
        PyTorch's names ("fc.weight"), those of other roots are prefixed by the root's path."""
        for sub, m in root.named_modules(remove_duplicate=False):
            path = f"{name}.{sub}" if sub else name
            if self.path_of(m) is None:
                self._paths[id(m)] = (weakref.ref(m), path)
        prefix = f"{name}." if param_prefix is None else param_prefix
        self.add_tensors(((prefix + n, p) for n, p in root.named_parameters()), "param")
        self.add_tensors(((prefix + n, b) for n, b in root.named_buffers()), "buffer")

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
