"""Containers vs torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from collections import OrderedDict

import pytest

from .helpers import outcome, same_program
from .test_module import classes, names


def layers(lib, n=3):
    Leaf = classes(lib).Leaf
    return [Leaf(i + 1, i + 2) for i in range(n)]


def summary(lib, container):
    """What a container holds, in comparable form."""
    return dict(repr=repr(container), len=len(container), keys=list(container._modules),
                params=names(container.named_parameters()), type=type(container).__name__)


# ---- Sequential ----------------------------------------------------------------------------

SEQUENTIAL_ACTIONS = [
    lambda lib, s: s[0], lambda lib, s: s[-1], lambda lib, s: s[-3], lambda lib, s: s[3],
    lambda lib, s: s[-4], lambda lib, s: s["0"], lambda lib, s: summary(lib, s[1:]),
    lambda lib, s: summary(lib, s[::-1]), lambda lib, s: summary(lib, s[5:]),
    lambda lib, s: type(s[0:1]).__name__,
    lambda lib, s: summary(lib, s.append(lib.nn.Module())),
    lambda lib, s: summary(lib, s.insert(1, lib.nn.Module())),
    lambda lib, s: summary(lib, s.insert(-1, lib.nn.Module())),
    lambda lib, s: summary(lib, s.insert(3, lib.nn.Module())),
    lambda lib, s: s.insert(5, lib.nn.Module()),
    lambda lib, s: s.insert(0, 3),
    lambda lib, s: summary(lib, s.extend([lib.nn.Module(), lib.nn.Module()])),
    lambda lib, s: (s.pop(1), summary(lib, s)),
    lambda lib, s: (s.pop(-1), summary(lib, s)),
    lambda lib, s: (s.__delitem__(0), summary(lib, s)),
    lambda lib, s: (s.__delitem__(slice(0, 2)), summary(lib, s)),
    lambda lib, s: s.__delitem__(7),
    lambda lib, s: (s.__setitem__(1, lib.nn.Module()), summary(lib, s)),
    lambda lib, s: (s.__setitem__(-1, lib.nn.Module()), summary(lib, s)),
    lambda lib, s: s.__setitem__(1, 5),
    lambda lib, s: summary(lib, s + lib.nn.Sequential(lib.nn.Module())),
    lambda lib, s: s + lib.nn.ModuleList(),
    lambda lib, s: summary(lib, s.__iadd__(lib.nn.Sequential(lib.nn.Module()))),
    lambda lib, s: summary(lib, s * 2), lambda lib, s: summary(lib, 2 * s),
    lambda lib, s: s * 0, lambda lib, s: s * 1.5,
    lambda lib, s: summary(lib, s.__imul__(2)),
    lambda lib, s: [type(m).__name__ for m in s],
    lambda lib, s: len(s), lambda lib, s: [k.isdigit() for k in dir(s) if k.isdigit()],
    lambda lib, s: s(lib.ones(2, 1)),
]


@pytest.mark.parametrize("action", SEQUENTIAL_ACTIONS)
def test_sequential(action):
    same_program(lambda lib: action(lib, lib.nn.Sequential(*layers(lib))), rtol=1e-6)


def test_sequential_forward_and_ordered_dict():
    def program(lib):
        Leaf = classes(lib).Leaf
        seq = lib.nn.Sequential(OrderedDict([("inp", Leaf(3, 4)), ("out", Leaf(4, 2))]))
        x = lib.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
        y = seq(x)
        y.sum().backward()
        return dict(summary=summary(lib, seq), y=y, grad=x.grad, inp=type(seq.inp).__name__,
                    sliced=list(seq[1:]._modules), item=seq[-1] is seq.out)
    same_program(program, rtol=1e-6)


def test_sequential_empty_and_nested_repr():
    def program(lib):
        nn = lib.nn
        Leaf = classes(lib).Leaf
        model = nn.Sequential(Leaf(), nn.Sequential(Leaf(2, 2), nn.Sequential()),
                              nn.ModuleList([Leaf(1, 1), Leaf(1, 1)]))
        return repr(nn.Sequential()), repr(model), nn.Sequential()(lib.ones(2))
    same_program(program)


# ---- ModuleList ------------------------------------------------------------------------------

MODULELIST_ACTIONS = [
    lambda lib, m: m[0], lambda lib, m: m[-1], lambda lib, m: m[3],
    lambda lib, m: summary(lib, m[1:]), lambda lib, m: summary(lib, m[::2]),
    lambda lib, m: summary(lib, m.append(lib.nn.Module())),
    lambda lib, m: (m.insert(1, lib.nn.Module()), summary(lib, m)),
    lambda lib, m: (m.insert(0, lib.nn.Module()), summary(lib, m)),
    lambda lib, m: summary(lib, m.extend([lib.nn.Module()])),
    lambda lib, m: m.extend(5),
    lambda lib, m: (m.pop(0), summary(lib, m)),
    lambda lib, m: (m.__delitem__(slice(1, None)), summary(lib, m)),
    lambda lib, m: (m.__delitem__(-1), summary(lib, m)),
    lambda lib, m: (m.__setitem__(-2, lib.nn.Module()), summary(lib, m)),
    lambda lib, m: summary(lib, m + lib.nn.ModuleList([lib.nn.Module()])),
    lambda lib, m: summary(lib, m.__iadd__([lib.nn.Module()])),
    lambda lib, m: m.append(3),
    lambda lib, m: m(lib.ones(1)),
    lambda lib, m: [k for k in dir(m) if k.isdigit()],
]


@pytest.mark.parametrize("action", MODULELIST_ACTIONS)
def test_module_list(action):
    same_program(lambda lib: action(lib, lib.nn.ModuleList(layers(lib))))


@pytest.mark.parametrize("pattern", [[0, 0, 0], [0, 0, 1, 1, 1, 0], [0, 1, 2], [0], [],
                                     [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]])
def test_module_list_repr_compression(pattern):
    def program(lib):
        Leaf, Multi = classes(lib).Leaf, classes(lib).Multi
        makers = [lambda: Leaf(2, 2), lambda: Multi(), lambda: lib.nn.Sequential(Leaf(1, 1))]
        ml = lib.nn.ModuleList([makers[i]() for i in pattern])
        outer = lib.nn.Sequential(ml)
        return repr(ml), repr(outer)
    same_program(program)


# ---- ModuleDict ------------------------------------------------------------------------------

MODULEDICT_ACTIONS = [
    lambda lib, d: d["a"], lambda lib, d: d["zz"], lambda lib, d: "a" in d,
    lambda lib, d: list(d), lambda lib, d: list(d.keys()),
    lambda lib, d: [type(v).__name__ for v in d.values()],
    lambda lib, d: [k for k, _ in d.items()],
    lambda lib, d: (d.pop("a"), summary(lib, d)),
    lambda lib, d: (d.__delitem__("b"), summary(lib, d)),
    lambda lib, d: (d.__setitem__("c", lib.nn.Module()), summary(lib, d)),
    lambda lib, d: (d.update([("x", lib.nn.Module()), ("a", lib.nn.Module())]), summary(lib, d)),
    lambda lib, d: (d.update(OrderedDict(z=lib.nn.Module())), summary(lib, d)),
    lambda lib, d: d.update([("x", lib.nn.Module(), 3)]),
    lambda lib, d: d.update([5]),
    lambda lib, d: d.update(5),
    lambda lib, d: (d.clear(), summary(lib, d)),
    lambda lib, d: d.__setitem__("bad.key", lib.nn.Module()),
    lambda lib, d: d.__setitem__("n", 5),
]


@pytest.mark.parametrize("action", MODULEDICT_ACTIONS)
def test_module_dict(action):
    def program(lib):
        Leaf = classes(lib).Leaf
        return action(lib, lib.nn.ModuleDict({"b": Leaf(1, 1), "a": Leaf(2, 2)}))
    same_program(program)


# ---- ParameterList / ParameterDict -----------------------------------------------------------

def _plist(lib):
    return lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4),
                                 lib.nn.Parameter(lib.ones(1, dtype=lib.float64),
                                                  requires_grad=False)])


PARAMLIST_ACTIONS = [
    lambda lib, p: repr(p), lambda lib, p: len(p), lambda lib, p: p[1], lambda lib, p: p[-1],
    lambda lib, p: p[3], lambda lib, p: repr(p[1:]), lambda lib, p: repr(p[::-1]),
    lambda lib, p: [type(v).__name__ for v in p],
    lambda lib, p: names(p.named_parameters()),
    lambda lib, p: (p.append(lib.ones(1)), repr(p), list(p.state_dict())),
    lambda lib, p: (p.append("text"), p.append(5), repr(p)),
    lambda lib, p: (p.extend([lib.ones(2)]), repr(p)),
    lambda lib, p: p.extend(lib.ones(2)),
    lambda lib, p: p.extend(3),
    lambda lib, p: (p.__setitem__(0, lib.zeros(5)), repr(p)),
    lambda lib, p: p.__setitem__(5, lib.zeros(5)),
    lambda lib, p: p(lib.ones(1)),
    lambda lib, p: repr(lib.nn.ParameterList()),
    lambda lib, p: repr(lib.nn.Sequential(p)),
    lambda lib, p: [k for k in dir(p) if k.isdigit()],
]


@pytest.mark.parametrize("action", PARAMLIST_ACTIONS)
def test_parameter_list(action):
    same_program(lambda lib: action(lib, _plist(lib)))


def _pdict(lib):
    return lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.ones(2, 3)), "b": lib.zeros(4),
                                 "d": lib.ones(1, dtype=lib.float64)})


PARAMDICT_ACTIONS = [
    lambda lib, p: repr(p), lambda lib, p: len(p), lambda lib, p: p["w"], lambda lib, p: p["q"],
    lambda lib, p: p[3], lambda lib, p: list(p), lambda lib, p: list(p.keys()),
    lambda lib, p: [type(v).__name__ for v in p.values()],
    lambda lib, p: [k for k, _ in p.items()], lambda lib, p: "w" in p,
    lambda lib, p: names(p.named_parameters()), lambda lib, p: list(p.state_dict()),
    lambda lib, p: (p.pop("b"), repr(p)), lambda lib, p: (p.popitem(), repr(p)),
    lambda lib, p: (p.setdefault("z", lib.ones(1)), p.setdefault("w"), repr(p)),
    lambda lib, p: (p.get("nope", 3), p.get("w")),
    lambda lib, p: repr(p.copy()), lambda lib, p: list(reversed(p)),
    lambda lib, p: (p.clear(), repr(p), len(p)),
    lambda lib, p: repr(p.fromkeys(["x", "y"], lib.ones(2))),
    lambda lib, p: (p.update([("n", lib.ones(1)), ("a", "text")]), repr(p)),
    lambda lib, p: (p.update({"y": lib.ones(1), "x": lib.ones(2)}), list(p)),
    lambda lib, p: p.update([("n", lib.ones(1), 2)]),
    lambda lib, p: p.update(5),
    lambda lib, p: repr(p | lib.nn.ParameterDict({"e": lib.ones(1)})),
    lambda lib, p: (p.__ior__(lib.nn.ParameterDict({"e": lib.ones(1)})), list(p)),
    lambda lib, p: p(lib.ones(1)),
    lambda lib, p: repr(lib.nn.ParameterDict()),
    lambda lib, p: (p.__delitem__("w"), list(p), names(p.named_parameters())),
]


@pytest.mark.parametrize("action", PARAMDICT_ACTIONS)
def test_parameter_dict(action):
    same_program(lambda lib: action(lib, _pdict(lib)))


def test_containers_in_state_dict_roundtrip():
    def program(lib):
        Leaf = classes(lib).Leaf
        model = lib.nn.ModuleDict({
            "seq": lib.nn.Sequential(Leaf(), lib.nn.ModuleList([Leaf(2, 2)])),
            "plist": lib.nn.ParameterList([lib.ones(2)]),
            "pdict": lib.nn.ParameterDict({"k": lib.ones(3)})})
        sd = model.state_dict()
        twin = lib.nn.ModuleDict({
            "seq": lib.nn.Sequential(Leaf(), lib.nn.ModuleList([Leaf(2, 2)])),
            "plist": lib.nn.ParameterList([lib.zeros(2)]),
            "pdict": lib.nn.ParameterDict({"k": lib.zeros(3)})})
        result = twin.load_state_dict(sd)
        return list(sd), dict(sd._metadata), repr(result), list(twin.state_dict().values())
    same_program(program)


def test_outcome_of_container_misuse():
    def program(lib):
        return [outcome(lambda: lib.nn.Sequential(5)),
                outcome(lambda: lib.nn.ModuleList([5])),
                outcome(lambda: lib.nn.ModuleDict({"a": 5}))]
    same_program(program)
