"""Every CuPy name torchlite looks up exists in the installed CuPy (14), found without a GPU.

torchlite's ops compute through ``xp`` (numpy or cupy), so a NumPy function CuPy lacks only
fails on a GPU. This audit reads every module under torchlite/ (ast) and collects the names
looked up on an array module: ``xp.NAME``, ``ctx.xp.NAME``, ``x._device.xp.linalg.NAME``,
``cupy.NAME``, ``cupyx.scipy.special.NAME``, ``getattr(xp, "NAME")``, and the dynamic lookups
``getattr(xp, cls.ufunc)`` / ``getattr(xp, name)`` (resolved through the class attributes of the
op classes or the string literals of the calling sites). Each must exist on the cupy module
(``hasattr`` needs no device), and every ufunc method used (``.at``, ``.reduce``,
``.accumulate``, ``.reduceat``, ``.outer``) must be implemented by that CuPy ufunc: CuPy's
unsupported ones raise ``NotImplementedError`` before touching a device. The keyword arguments
of each call must be ones CuPy's function takes, and NumPy-only ndarray attributes (``.ctypes``,
``__array_interface__``) may appear only where the array is a NumPy one.

Lookups inside a NumPy-only branch (``if xp.__name__ == "numpy":``) are not CuPy's; ``hasattr``
and ``getattr`` with a default tolerate a missing name by design.
"""
import ast
import collections
import importlib
import inspect
import pathlib

import numpy as np
import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed: the audit checks names in it")

import torchlite  # noqa: E402

ROOT = pathlib.Path(torchlite.__file__).parent
MODULE_ATTRS = {"xp", "_xp"}                      # ctx.xp, device.xp, device._xp, ...
MODULE_NAMES = {"xp": "cupy", "cupy": "cupy", "cupyx": "cupyx"}
MODULE_FACTORIES = {"_xp", "array_module", "_cupy"}  # functions returning numpy or cupy
UFUNC_METHODS = {"at", "reduce", "accumulate", "reduceat", "outer"}

# Names a dynamic lookup can take that neither class attributes nor call sites reveal:
# (file, variable) -> the names, read from the table the code takes them from.
EXPLICIT_DYNAMIC = {
    ("ops/indexing.py", "scatter"):
        lambda: [s for s, _ in importlib.import_module("torchlite.ops.indexing")._CUPY_AT.values()],
}

# ndarray attributes only NumPy has, used where the array is a NumPy one: name -> why
NUMPY_ONLY_ARRAY_ATTRIBUTES = {
    "ctypes": "serialization._pointer: behind isinstance(arr, np.ndarray)",
    "__array_interface__": "Tensor.data_ptr on cpu; ops/shape.py after __cuda_array_interface__ "
                           "(CuPy arrays have that one); utils/dlpack on np.from_dlpack's arrays",
    "__array_namespace__": "ops/indexing.ufunc_at on the host copy (out.get()) of a CuPy array",
}

# Names torchlite looks up on CuPy that CuPy 14 lacks, each used only where a CuPy-specific
# branch keeps it from running: name -> why that is safe.
ALLOWED_MISSING = {}


def _is_numpy_check(test):
    """``X.__name__ == "numpy"`` (alone or as a conjunct): a NumPy-only branch."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_is_numpy_check(v) for v in test.values)
    return (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq) and isinstance(test.left, ast.Attribute)
            and test.left.attr == "__name__" and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "numpy")


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Dynamic(collections.namedtuple("_Dynamic", "base expr method keywords where scope")):
    """``getattr(<array module>, expr)`` with a computed name, maybe with ``.method`` taken
    from its result or called with ``keywords``."""


class _Collector(ast.NodeVisitor):
    """The array-module lookups of one file: ``refs`` (dotted cupy path, where), ``calls``
    (dotted path, keyword names, where) and ``dynamic`` lookups to resolve."""

    def __init__(self, rel):
        self.rel = rel
        self.aliases = {}
        self.refs, self.calls, self.dynamic = [], [], []
        self.scope = []      # enclosing ClassDef / FunctionDef nodes

    def where(self, node):
        return f"torchlite/{self.rel}:{node.lineno}"

    def module_of(self, node):
        """The dotted CuPy path ``node`` evaluates to, if it is an array module or a member."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, MODULE_NAMES.get(node.id))
        if isinstance(node, ast.Attribute):
            if node.attr in MODULE_ATTRS:
                return "cupy"
            base = self.module_of(node.value)
            return base and f"{base}.{node.attr}"
        if isinstance(node, ast.Call):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if fname == "import_module":
                name = _literal(node.args[0]) if node.args else None
                return name if name and name.split(".")[0] in MODULE_NAMES else None
            if fname in MODULE_FACTORIES:
                return "cupy"
            if fname == "getattr" and len(node.args) == 2:
                base, name = self.module_of(node.args[0]), _literal(node.args[1])
                return base and name and f"{base}.{name}"
        return None

    def visit_Import(self, node):
        for a in node.names:
            root = a.name.split(".")[0]  # ``import cupyx.scipy`` binds cupyx
            if root in MODULE_NAMES:
                self.aliases[a.asname or root] = a.name if a.asname else root

    def visit_ImportFrom(self, node):
        if node.module and node.module.split(".")[0] in MODULE_NAMES:
            for a in node.names:
                self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                self.refs.append((f"{node.module}.{a.name}", self.where(node)))

    def visit_Assign(self, node):
        """``la = xp.linalg`` makes ``la`` an alias; any other value unmakes it."""
        base = self.module_of(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id not in MODULE_NAMES:
                if base:
                    self.aliases[target.id] = base
                else:
                    self.aliases.pop(target.id, None)
        self.generic_visit(node)

    def _scoped(self, node):
        self.scope.append(node)
        self.generic_visit(node)
        self.scope.pop()

    visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _scoped

    def visit_If(self, node):
        self.visit(node.test)
        if not _is_numpy_check(node.test):
            for stmt in node.body:
                self.visit(stmt)
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_IfExp(self, node):
        self.visit(node.test)
        if not _is_numpy_check(node.test):
            self.visit(node.body)
        self.visit(node.orelse)

    def _dynamic_getattr(self, node):
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr" and len(node.args) == 2
                and _literal(node.args[1]) is None and self.module_of(node.args[0]) is not None)

    def _record_dynamic(self, lookup, method=None, keywords=()):
        self.dynamic.append(_Dynamic(self.module_of(lookup.args[0]), lookup.args[1], method,
                                     keywords, self.where(lookup), list(self.scope)))
        for arg in lookup.args:
            self.visit(arg)

    def visit_Attribute(self, node):
        path = self.module_of(node)
        if path and node.attr not in MODULE_ATTRS:
            self.refs.append((path, self.where(node)))
        elif node.attr in UFUNC_METHODS and self._dynamic_getattr(node.value):
            self._record_dynamic(node.value, method=node.attr)
            return
        self.generic_visit(node)

    def visit_Call(self, node):
        keywords = tuple(k.arg for k in node.keywords if k.arg)
        path = self.module_of(node)
        if path and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            self.refs.append((path, self.where(node)))
        elif self._dynamic_getattr(node):
            self._record_dynamic(node)
            return
        if self._dynamic_getattr(node.func):
            self._record_dynamic(node.func, keywords=keywords)
            for arg in node.args + [k.value for k in node.keywords]:
                self.visit(arg)
            return
        func = self.module_of(node.func)
        if func and keywords:
            self.calls.append((func, keywords, self.where(node)))
        self.generic_visit(node)


def _collect():
    files = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        collector = _Collector(rel)
        tree = ast.parse(path.read_text(), str(path))
        collector.visit(tree)
        files[rel] = (tree, collector)
    return files


FILES = _collect()


def _call_site_literals(func_name, param_index, param_name):
    """The string literals every call ``func_name(...)`` in torchlite passes for a parameter;
    None where one passes something else."""
    names = []
    for tree, _ in FILES.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if (f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)) != func_name:
                continue
            arg = next((k.value for k in node.keywords if k.arg == param_name), None)
            if arg is None and param_index < len(node.args):
                arg = node.args[param_index]
            if arg is None:
                continue
            if _literal(arg) is None:
                return None
            names.append(_literal(arg))
    return names


def _class_attribute_values(rel, class_node, attr):
    """``attr`` of the class and of each of its subclasses (string values only)."""
    module = importlib.import_module("torchlite." + rel[:-3].replace("/", ".").removesuffix(
        ".__init__"))
    cls = getattr(module, class_node.name)
    seen, todo, names = set(), [cls], []
    while todo:
        c = todo.pop()
        if c in seen:
            continue
        seen.add(c)
        todo.extend(c.__subclasses__())
        value = getattr(c, attr, None)
        if isinstance(value, str):
            names.append(value)
    return names


def _resolve(rel, expr, scope):
    """The names a dynamic lookup can take, or None when the audit cannot tell."""
    if (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name)
            and expr.value.id in ("cls", "ctx", "self")):
        classes = [s for s in scope if isinstance(s, ast.ClassDef)]
        return _class_attribute_values(rel, classes[-1], expr.attr) if classes else None
    if not isinstance(expr, ast.Name):
        return None
    if (rel, expr.id) in EXPLICIT_DYNAMIC:
        return EXPLICIT_DYNAMIC[rel, expr.id]()
    for fn in reversed([s for s in scope if not isinstance(s, ast.ClassDef)]):
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
        if expr.id in params:
            return _call_site_literals(fn.name, params.index(expr.id), expr.id)
    return None


def _references():
    """Every (dotted cupy path, where) torchlite looks up and every (path, keywords, where) it
    calls, dynamic lookups resolved; and the dynamic lookups the audit could not resolve."""
    refs, calls, unresolved = [], [], []
    for rel, (_, collector) in FILES.items():
        refs += collector.refs
        calls += collector.calls
        for site in collector.dynamic:
            names = _resolve(rel, site.expr, site.scope)
            if names is None:
                unresolved.append(f"{site.where}: getattr({site.base}, {ast.unparse(site.expr)})")
                continue
            suffix = f".{site.method}" if site.method else ""
            refs += [(f"{site.base}.{name}{suffix}", site.where) for name in names]
            if site.keywords:
                calls += [(f"{site.base}.{name}", site.keywords, site.where) for name in names]
    return refs, calls, unresolved


REFS, CALLS, UNRESOLVED = _references()


def _lookup(path):
    """The object at a dotted path in CuPy (submodules imported), or raise AttributeError."""
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        if not hasattr(obj, part):
            try:
                obj = importlib.import_module(".".join(parts[:i + 1]))
                continue
            except ImportError:
                raise AttributeError(f"{'.'.join(parts[:i])} has no attribute {part!r}") from None
        obj = getattr(obj, part)
    return obj


def _ufunc_method_supported(ufunc, method):
    """CuPy ufuncs have every method, but raise NotImplementedError("`cupy_NAME.METHOD` is not
    supported yet") for the ones they lack, before looking at the (here absent) arguments."""
    try:
        getattr(ufunc, method)(None, None) if method in ("at", "reduceat", "outer") \
            else getattr(ufunc, method)(None)
    except NotImplementedError:
        return False
    except Exception:  # noqa: BLE001  (any other error came from the missing arguments)
        return True
    return True


def _missing(path):
    """Why CuPy cannot serve the lookup ``path``, or None when it can."""
    try:
        _lookup(path)
    except AttributeError as e:
        return str(e)
    head, _, method = path.rpartition(".")
    if method in UFUNC_METHODS:
        ufunc = _lookup(head)
        if isinstance(ufunc, cupy.ufunc) and not _ufunc_method_supported(ufunc, method):
            return f"CuPy's {head}.{method} raises NotImplementedError"
    return None


def _rejected_keywords(path, keywords):
    """The keyword arguments CuPy's ``path`` does not take (None: it cannot tell).

    A CuPy ufunc says "Wrong arguments" for a keyword it does not take before it looks at the
    operands; other callables show their signature (unless they take ``**kwargs``)."""
    fn = _lookup(path)
    if isinstance(fn, cupy.ufunc):
        rejected = []
        for kw in keywords:
            try:
                fn(*[None] * fn.nin, **{kw: None})
            except TypeError as e:
                if "Wrong arguments" in str(e):
                    rejected.append(kw)
            except Exception:  # noqa: BLE001  (the keyword was taken; the operands were not)
                pass
        return rejected
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a Cython class or function without a signature
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return [kw for kw in keywords if kw not in params]


SAMPLE = """
import cupyx.scipy.special as sp
from cupyx import scatter_add

def f(ctx, x, name):
    import cupyx.scipy
    cupyx.scipy.ndimage
    xp = ctx.xp
    la = xp.linalg
    if xp.__name__ == "numpy":
        xp.numpy_only_name(x)
    xp.sin(x, out=x)
    la.solve(x, x)
    x._device.xp.random.rand()
    getattr(xp, "tril")(x)
    getattr(xp, "errstate", None)
    sp.erfinv(x)
    xp.add.at(x, 0, 1)
    getattr(xp, name).at(x, 0, 1)
    getattr(ctx.xp, name)(x, axis=0)
"""


def test_collector_finds_each_kind_of_lookup():
    """The audit's collector on a sample: what it must find, and the NumPy-only branch and the
    guarded getattr it must not."""
    collector = _Collector("sample.py")
    collector.visit(ast.parse(SAMPLE))
    paths = {p for p, _ in collector.refs}
    assert paths == {"cupyx.scatter_add", "cupyx.scipy", "cupyx.scipy.ndimage", "cupy.__name__",
                     "cupy.sin", "cupy.linalg",
                     "cupy.linalg.solve", "cupy.random", "cupy.random.rand", "cupy.tril",
                     "cupyx.scipy.special.erfinv", "cupy.add", "cupy.add.at"}
    assert [(p, k) for p, k, _ in collector.calls] == [("cupy.sin", ("out",))]
    assert [(d.base, ast.unparse(d.expr), d.method, d.keywords) for d in collector.dynamic] == [
        ("cupy", "name", "at", ()), ("cupy", "name", None, ("axis",))]


def test_the_checks_tell_a_gap_from_a_name_cupy_has():
    assert _missing("cupy.linalg.solve") is None and _missing("cupy.add.at") is None
    assert _missing("cupyx.scipy.special.erfinv") is None
    assert "no attribute" in _missing("cupy.no_such_function")
    assert "NotImplementedError" in _missing("cupy.maximum.accumulate")
    assert _rejected_keywords("cupy.add", ("out", "dtype", "bogus")) == ["bogus"]
    assert _rejected_keywords("cupy.argsort", ("axis", "order")) == ["order"]


def test_the_audit_sees_the_lookups_it_must():
    """On torchlite itself: each kind of lookup is found (static, aliased, class-attribute and
    call-site resolved dynamic ones)."""
    paths = {p for p, _ in REFS}
    assert {"cupy.linalg.solve", "cupy.add.at", "cupy.sin", "cupy.maximum", "cupy.tril_indices",
            "cupy.amax", "cupy.argmax", "cupy.remainder", "cupyx.scatter_max"} <= paths
    assert len(paths) > 150


def test_every_dynamic_lookup_is_resolved():
    assert not UNRESOLVED, "dynamic lookups the audit cannot resolve (add an EXPLICIT_DYNAMIC "\
                           "entry):\n" + "\n".join(UNRESOLVED)


def test_every_name_torchlite_looks_up_exists_in_cupy():
    gaps = collections.defaultdict(set)
    for path, where in REFS:
        reason = _missing(path)
        if reason and path not in ALLOWED_MISSING:
            gaps[f"{path} ({reason})"].add(where)
    assert not gaps, f"CuPy {cupy.__version__} lacks:\n" + "\n".join(
        f"{gap}: {', '.join(sorted(w))}" for gap, w in sorted(gaps.items()))


def test_every_keyword_torchlite_passes_is_taken_by_cupy():
    gaps = collections.defaultdict(set)
    for path, keywords, where in CALLS:
        if _missing(path) is None:
            for kw in _rejected_keywords(path, keywords) or ():
                gaps[f"{path}({kw}=...)"].add(where)
    assert not gaps, f"CuPy {cupy.__version__} does not take:\n" + "\n".join(
        f"{gap}: {', '.join(sorted(w))}" for gap, w in sorted(gaps.items()))


def test_allow_list_entries_are_still_missing():
    """An allowed name CuPy has gained, or torchlite no longer uses, leaves the list."""
    used = {p for p, _ in REFS}
    for path in ALLOWED_MISSING:
        assert path in used and _missing(path), path


def _attribute_names():
    names = collections.defaultdict(set)
    for rel, (tree, _) in FILES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                names[node.attr].add(f"torchlite/{rel}:{node.lineno}")
    return names


def test_numpy_only_ndarray_attributes_are_used_on_numpy_arrays_only():
    """Attributes numpy.ndarray has and cupy.ndarray lacks (``.ctypes``, ``__array_interface__``
    ...) may appear only where the array is known to be a NumPy one (listed with the reason)."""
    numpy_only = {n for n in set(dir(np.ndarray)) - set(dir(cupy.ndarray))
                  if not n.startswith("__") or n.startswith("__array")}
    used = _attribute_names()
    unchecked = {n: sorted(used[n]) for n in numpy_only if used.get(n)
                 and n not in NUMPY_ONLY_ARRAY_ATTRIBUTES}
    assert not unchecked, unchecked
