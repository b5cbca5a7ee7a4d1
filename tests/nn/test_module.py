"""nn.Module protocol: each test runs the same program with torch and torchlite and compares."""
import copy
import pickle
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch

import torchlite

from .helpers import copy_weights, outcome, same_program


def classes(lib):
    """The same small module classes on ``lib.nn.Module`` (so reprs and names match)."""
    nn = lib.nn

    class Leaf(nn.Module):
        def __init__(self, n=3, m=2, bias=True):
            super().__init__()
            self.n, self.m = n, m
            self.weight = nn.Parameter(lib.arange(float(n * m)).reshape(m, n) / 10)
            self.bias = nn.Parameter(lib.ones(m)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
            self.register_buffer("count", lib.zeros((), dtype=lib.int64))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            out = x @ self.weight.t()
            return out + self.bias if self.bias is not None else out

        def extra_repr(self):
            return f"n={self.n}, m={self.m}, bias={self.bias is not None}"

    class Multi(nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Leaf(3, 4)
            self.act = nn.Module()
            self.second = Leaf(4, 2)
            self.scale = nn.Parameter(lib.tensor(2.0))
            self.register_buffer("steps", lib.tensor([1, 2]))

        def forward(self, x):
            return self.second(self.first(x)) * self.scale

    class TwoIn(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))

        def forward(self, a, b, scale=1.0):
            return a * self.w * scale + b ** 2, a.sum() * 3

    return type("Classes", (), dict(Leaf=Leaf, Multi=Multi, Net=Net, TwoIn=TwoIn))


def _shares(a, b):
    """Whether writing to ``a`` shows in ``b`` (same memory)."""
    with torch.no_grad(), torchlite.no_grad():
        before = b.flatten()[0].item()
        a.flatten()[0].add_(1)
        changed = b.flatten()[0].item() != before
        a.flatten()[0].sub_(1)
    return changed


def names(pairs):
    return [name for name, _ in pairs]


# ---- registration and traversal --------------------------------------------------------------

def test_auto_registration_and_traversal():
    def program(lib):
        net = classes(lib).Net()
        return dict(
            params=names(net.named_parameters()),
            params_local=names(net.named_parameters(recurse=False)),
            params_prefix=names(net.named_parameters(prefix="model")),
            buffers=names(net.named_buffers()),
            buffers_local=names(net.named_buffers(recurse=False)),
            children=names(net.named_children()),
            modules=names(net.named_modules()),
            modules_prefix=names(net.named_modules(prefix="m")),
            n_children=len(list(net.children())), n_modules=len(list(net.modules())),
            n_params=len(list(net.parameters())), n_buffers=len(list(net.buffers())),
            in_dict=sorted(k for k in ("first", "scale", "steps") if k in net.__dict__),
            types=[type(net.scale).__name__ == "Parameter", net.first.bias is not None],
            none_param=names(classes(lib).Leaf(bias=False).named_parameters()),
            none_in_dict=classes(lib).Leaf(bias=False).bias,
        )
    same_program(program)


def test_register_methods():
    def program(lib):
        m = lib.nn.Module()
        m.register_parameter("p", lib.nn.Parameter(lib.ones(2)))
        m.register_buffer("b", lib.zeros(2))
        m.register_buffer("np_", lib.zeros(1), persistent=False)
        m.add_module("child", lib.nn.Module())
        m.register_module("other", lib.nn.Module())
        m.register_buffer("empty", None)
        m.register_parameter("nothing", None)
        m.buf2 = lib.nn.Buffer(lib.ones(3))
        m.buf3 = lib.nn.Buffer(lib.ones(1), persistent=False)
        return dict(sd=list(m.state_dict()), buffers=names(m.named_buffers()),
                    children=names(m.named_children()),
                    params=names(m.named_parameters()), buf2_type=type(m.buf2).__name__,
                    buf2_is_param=isinstance(m.buf2, lib.nn.Parameter),
                    none_attr=(m.empty, m.nothing))
    same_program(program)


REGISTER_ERRORS = [
    lambda lib, m: m.register_parameter("w", lib.ones(2)),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.register_parameter("", None),
    lambda lib, m: m.register_parameter(3, None),
    lambda lib, m: m.register_parameter("plain", None),
    lambda lib, m: m.register_parameter("nl", lib.nn.Parameter(lib.ones(2)) * 2),
    lambda lib, m: m.register_buffer("b", 3),
    lambda lib, m: m.register_buffer("a.b", lib.ones(1)),
    lambda lib, m: m.register_buffer("p", lib.ones(1)),
    lambda lib, m: m.register_buffer("", lib.ones(1)),
    lambda lib, m: m.add_module("c", 3),
    lambda lib, m: m.add_module("a.b", lib.nn.Module()),
    lambda lib, m: m.add_module("", lib.nn.Module()),
    lambda lib, m: m.add_module("plain", lib.nn.Module()),
    lambda lib, m: m.add_module(5, lib.nn.Module()),
    lambda lib, m: setattr(m, "p", 3),
    lambda lib, m: setattr(m, "p", lib.ones(2)),
    lambda lib, m: setattr(m, "c", 3),
    lambda lib, m: setattr(m, "b", 3),
    lambda lib, m: setattr(m, "b", [1.0]),
    lambda lib, m: setattr(m, "p", lib.nn.Parameter(lib.ones(2)) + 1),
]


@pytest.mark.parametrize("action", REGISTER_ERRORS)
def test_register_errors(action):
    def program(lib):
        m = lib.nn.Module()
        m.p = lib.nn.Parameter(lib.ones(2))
        m.c = lib.nn.Module()
        m.register_buffer("b", lib.ones(1))
        m.plain = 1
        action(lib, m)
        return sorted(m.state_dict())
    result = same_program(program)
    if action not in (REGISTER_ERRORS[-2],):
        assert result[0] == "raised", result


def test_assign_before_init():
    def program(lib):
        class Early(lib.nn.Module):
            def __init__(self, kind):
                if kind == "param":
                    self.p = lib.nn.Parameter(lib.ones(1))
                elif kind == "module":
                    self.c = lib.nn.Module()
                elif kind == "buffer":
                    self.register_buffer("b", lib.ones(1))
                else:
                    self.x = 1
                super().__init__()
        return [outcome(lambda: Early(k).__class__.__name__)
                for k in ("param", "module", "buffer", "plain")]
    same_program(program)


def test_getattr_delattr_dir():
    def program(lib):
        net = classes(lib).Net()
        out = [outcome(lambda: net.missing)]
        del net.scale
        del net.steps
        del net.act
        out.append(names(net.named_parameters()))
        out.append(names(net.named_buffers()))
        out.append(names(net.named_children()))
        out.append(outcome(lambda: net.scale))
        out.append(outcome(lambda: delattr(net, "nothing")))
        net.x = 5
        d = dir(net)
        out.append([k in d for k in ("first", "second", "x", "forward", "training",
                                     "_parameters", "scale")])
        out.append(hasattr(net, "first"))
        return out
    same_program(program)


def test_lambda_and_plain_attributes():
    def program(lib):
        m = lib.nn.Module()
        m.f = lambda x: x + 1
        m.items = [1, 2]
        m.tensor = lib.ones(2)   # a plain tensor is a plain attribute, not a buffer
        return dict(f=m.f(1), params=list(m.state_dict()), items=m.items,
                    in_dict=sorted(k for k in ("f", "items", "tensor") if k in m.__dict__),
                    buffers=names(m.named_buffers()))
    same_program(program)


def test_reassignment_moves_between_registries():
    def program(lib):
        m = lib.nn.Module()
        m.x = lib.nn.Parameter(lib.ones(1))
        m.c = lib.nn.Module()
        m.d = lib.nn.Module()
        m.c = lib.nn.Module()          # replace a child: keeps its place
        m.e = 5
        m.e = lib.nn.Module()          # plain attribute becomes a child
        m.x = None                     # a parameter slot may become None
        m.register_buffer("b", lib.ones(1))
        m.b = lib.zeros(2)             # assigning a tensor to a buffer name updates the buffer
        m.b = None
        return dict(children=names(m.named_children()), params=list(m._parameters.items()),
                    buffers=list(m._buffers.items()), e_type=type(m.e).__name__,
                    sd=list(m.state_dict()))
    same_program(program)


def test_shared_modules_and_tied_weights():
    def program(lib):
        Leaf = classes(lib).Leaf
        shared = Leaf(2, 2)
        root = lib.nn.Module()
        root.a = shared
        root.b = lib.nn.Module()
        root.b.inner = shared
        root.c = Leaf(2, 2)
        root.c.weight = root.a.weight   # tying
        return dict(
            modules=names(root.named_modules()),
            modules_all=names(root.named_modules(remove_duplicate=False)),
            params=names(root.named_parameters()),
            params_all=names(root.named_parameters(remove_duplicate=False)),
            buffers=names(root.named_buffers()),
            buffers_all=names(root.named_buffers(remove_duplicate=False)),
            sd=list(root.state_dict()),
            n_params=len(list(root.parameters())),
            children=names(root.b.named_children()),
            tied=root.c.weight is root.a.weight,
        )
    same_program(program)


def test_duplicate_child_under_two_names():
    def program(lib):
        root = lib.nn.Module()
        child = lib.nn.Module()
        root.x = child
        root.y = child
        return names(root.named_children()), names(root.named_modules())
    same_program(program)


# ---- state dict ------------------------------------------------------------------------------

def test_state_dict_contents_and_metadata():
    def program(lib):
        net = classes(lib).Net()
        sd = net.state_dict()
        kv = net.state_dict(keep_vars=True)
        pre = net.state_dict(prefix="root.")
        return dict(
            type=type(sd).__name__, keys=list(sd), values=list(sd.values()),
            metadata=dict(sd._metadata), prefixed=list(pre), prefixed_meta=dict(pre._metadata),
            detached=[v.requires_grad for v in sd.values()],
            shares=_shares(sd["first.weight"], net.first.weight),
            keep=[type(v).__name__ for v in kv.values()],
            keep_same=kv["scale"] is net.scale,
        )
    same_program(program)


def test_state_dict_positional_destination():
    def program(lib):
        net = classes(lib).Leaf()
        dest = OrderedDict()
        out = net.state_dict(destination=dest, prefix="p.")
        return out is dest, list(dest)
    same_program(program)


def test_load_state_dict_roundtrip_and_return():
    def program(lib):
        Net = classes(lib).Net
        src, dst = Net(), Net()
        with lib.no_grad():
            for p in src.parameters():
                p.mul_(3)
        ids = [id(p) for p in dst.parameters()]
        result = dst.load_state_dict(src.state_dict())
        return dict(result=repr(result), type=type(result).__name__, fields=list(result),
                    missing=result.missing_keys, values=list(dst.state_dict().values()),
                    identity=[id(p) for p in dst.parameters()] == ids)
    same_program(program)


def _broken_state(lib, kind):
    net = classes(lib).Net()
    sd = net.state_dict()
    if kind == "missing":
        del sd["first.weight"], sd["steps"]
    elif kind == "unexpected":
        sd["extra"] = lib.ones(1)
        sd["first.more"] = lib.ones(1)
    elif kind == "both":
        del sd["second.bias"]
        sd["zzz"] = lib.ones(1)
    elif kind == "size":
        sd["first.weight"] = lib.ones(2, 2)
        sd["scale"] = lib.ones(3)
    elif kind == "size_and_missing":
        sd["first.weight"] = lib.ones(2, 2)
        del sd["scale"]
    elif kind == "not_tensor":
        sd["scale"] = 3.0
    return net, sd


@pytest.mark.parametrize("kind", ["missing", "unexpected", "both", "size", "size_and_missing",
                                  "not_tensor"])
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors(kind, strict):
    def program(lib):
        net, sd = _broken_state(lib, kind)
        result = outcome(lambda: net.load_state_dict(sd, strict=strict))
        return result, list(net.state_dict().values())
    same_program(program)


def test_load_state_dict_type_error():
    same_program(lambda lib: classes(lib).Leaf().load_state_dict([1, 2]))


def test_load_state_dict_assign():
    def program(lib):
        net = classes(lib).Leaf()
        sd = {k: v.double() * 2 for k, v in net.state_dict().items()}
        old = net.weight
        result = net.load_state_dict(sd, assign=True)
        return dict(result=repr(result), new_obj=net.weight is not old,
                    is_param=type(net.weight).__name__, rg=net.weight.requires_grad,
                    dtype=net.weight.dtype, weight=net.weight, count=net.count,
                    shares=_shares(net.weight, sd["weight"]))
    same_program(program)


def test_load_state_dict_keeps_dtype_without_assign():
    def program(lib):
        net = classes(lib).Leaf()
        net.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
        return net.weight.dtype, net.count.dtype
    same_program(program)


def test_load_state_dict_nonpersistent_buffer_is_unexpected():
    def program(lib):
        net = classes(lib).Leaf()
        sd = net.state_dict()
        sd["scratch"] = lib.ones(2)
        return outcome(lambda: net.load_state_dict(sd))
    same_program(program)


def test_state_dict_hooks():
    def program(lib):
        net = classes(lib).Leaf()
        seen = []
        net.register_state_dict_post_hook(
            lambda mod, sd, prefix, local_metadata: seen.append((prefix, list(sd))))
        net.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, *rest: seen.append(("load", prefix, sorted(sd))))
        sd = net.state_dict()
        net.load_state_dict(sd)
        return seen
    same_program(program)


# ---- modes, grads, apply ---------------------------------------------------------------------

def test_train_eval():
    def program(lib):
        net = classes(lib).Net()
        out = [net.training]
        out.append(net.eval() is net)
        out.append([m.training for m in net.modules()])
        net.train()
        out.append([m.training for m in net.modules()])
        net.first.train(False)
        out.append([m.training for m in net.modules()])
        out.append(outcome(lambda: net.train("yes")))
        return out
    same_program(program)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    def program(lib):
        net = classes(lib).Net()
        net(lib.ones(2, 3)).sum().backward()
        grads = [p.grad for p in net.parameters()]
        net.zero_grad(set_to_none=set_to_none)
        return [p.grad for p in net.parameters()], \
            [p.grad is g for p, g in zip(net.parameters(), grads)]
    same_program(program)


def test_zero_grad_default_and_requires_grad_():
    def program(lib):
        net = classes(lib).Net()
        net(lib.ones(2, 3)).sum().backward()
        net.zero_grad()
        out = [[p.grad for p in net.parameters()]]
        out.append(net.requires_grad_(False) is net)
        out.append([p.requires_grad for p in net.parameters()])
        net.first.requires_grad_()
        out.append([p.requires_grad for p in net.parameters()])
        out.append([b.requires_grad for b in net.buffers()])
        return out
    same_program(program)


def test_apply_order():
    def program(lib):
        net = classes(lib).Net()
        seen = []
        assert net.apply(lambda m: seen.append(type(m).__name__)) is net
        return seen
    same_program(program)


# ---- moving and casting ------------------------------------------------------------------------

CASTS = [lambda m: m.double(), lambda m: m.float(), lambda m: m.half(), lambda m: m.bfloat16(),
         lambda m: m.to(m_lib(m).float64), lambda m: m.to(dtype=m_lib(m).float16),
         lambda m: m.to("cpu"), lambda m: m.to("cpu", m_lib(m).float64), lambda m: m.cpu(),
         lambda m: m.type(m_lib(m).float64),
         lambda m: m.to(m_lib(m).zeros(1, dtype=m_lib(m).float64)),
         lambda m: m.to(m_lib(m).int32)]


def m_lib(m):
    return torch if isinstance(m, torch.nn.Module) else torchlite


@pytest.mark.parametrize("cast", CASTS)
def test_casts_keep_identity_and_move_grads(cast):
    def program(lib):
        net = classes(lib).Net()
        net(lib.ones(2, 3)).sum().backward()
        params = list(net.parameters())
        result = cast(net)
        return dict(same=result is net,
                    identity=[a is b for a, b in zip(params, net.parameters())],
                    dtypes=[p.dtype for p in net.parameters()],
                    grad_dtypes=[p.grad.dtype for p in net.parameters()],
                    buffers=[b.dtype for b in net.buffers()],
                    leaf=[p.is_leaf and p.requires_grad for p in net.parameters()],
                    values=[p.double() for p in net.parameters()])
    same_program(program)


def test_cast_then_train_step_updates_same_parameters():
    def program(lib):
        net = classes(lib).Leaf().double()
        opt_params = list(net.parameters())
        net(lib.ones(1, 3, dtype=lib.float64)).sum().backward()
        with lib.no_grad():
            for p in opt_params:
                p -= 0.1 * p.grad
        return list(net.state_dict().values())
    same_program(program)


# ---- get_submodule / get_parameter / get_buffer ----------------------------------------------

@pytest.mark.parametrize("call", [
    lambda n: n.get_submodule(""), lambda n: n.get_submodule("first"),
    lambda n: n.get_submodule("nope"), lambda n: n.get_submodule("first.nope"),
    lambda n: n.get_submodule("scale"), lambda n: n.get_submodule("first.weight"),
    lambda n: n.get_parameter("scale"), lambda n: n.get_parameter("first.weight"),
    lambda n: n.get_parameter("steps"), lambda n: n.get_parameter("first.nope"),
    lambda n: n.get_parameter("nope.weight"), lambda n: n.get_parameter("first.count"),
    lambda n: n.get_buffer("steps"), lambda n: n.get_buffer("first.count"),
    lambda n: n.get_buffer("first.scratch"), lambda n: n.get_buffer("scale"),
    lambda n: n.get_buffer("first.nope"), lambda n: n.get_buffer("nope.x"),
])
def test_get_submodule_parameter_buffer(call):
    same_program(lambda lib: call(classes(lib).Net()))


# ---- forward hooks -------------------------------------------------------------------------

def test_call_runs_forward_and_missing_forward():
    def program(lib):
        out = classes(lib).Leaf()(lib.ones(2, 3))
        return out, outcome(lambda: lib.nn.Module()(1))
    same_program(program)


def test_forward_pre_hooks():
    def program(lib):
        m = classes(lib).TwoIn()
        log = []

        def plain(mod, args):
            log.append(("plain", len(args)))
            return (args[0] * 2, args[1])

        def single(mod, args):
            log.append(("single", len(args)))

        def kw(mod, args, kwargs):
            log.append(("kw", sorted(kwargs)))
            return args, {**kwargs, "scale": 10.0}

        def first(mod, args):
            log.append(("first",))
        h1 = m.register_forward_pre_hook(plain)
        m.register_forward_pre_hook(single)
        m.register_forward_pre_hook(kw, with_kwargs=True)
        m.register_forward_pre_hook(first, prepend=True)
        a, b = lib.ones(3), lib.full((3,), 2.0)
        out1 = m(a, b, scale=1.0)
        h1.remove()
        out2 = m(a, b, scale=1.0)
        return log, out1, out2
    same_program(program)


def test_forward_pre_hook_returning_non_tuple():
    def program(lib):
        m = classes(lib).Leaf()
        m.register_forward_pre_hook(lambda mod, args: args[0] + 1)
        return m(lib.zeros(1, 3))
    same_program(program)


def test_forward_hooks():
    def program(lib):
        m = classes(lib).TwoIn()
        log = []

        def plain(mod, args, output):
            log.append(("plain", len(args), len(output)))
            return output[0] + 100, output[1]

        def kw(mod, args, kwargs, output):
            log.append(("kw", sorted(kwargs)))

        m.register_forward_hook(plain)
        m.register_forward_hook(kw, with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("prepended"), prepend=True)
        out = m(lib.ones(3), lib.ones(3), scale=2.0)
        return log, out
    same_program(program)


def test_forward_hook_always_call():
    def program(lib):
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Boom()
        log = []
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)),
                                always_call=True)
        m.register_forward_hook(lambda mod, args, out: log.append("normal"))
        return outcome(lambda: m(lib.ones(1))), log
    same_program(program)


def test_hook_handles_and_context_manager():
    def program(lib):
        m = classes(lib).Leaf()
        log = []
        with m.register_forward_hook(lambda *a: log.append("ctx")):
            m(lib.ones(1, 3))
        m(lib.ones(1, 3))
        h = m.register_forward_pre_hook(lambda *a: log.append("pre"))
        h.remove()
        h.remove()
        m(lib.ones(1, 3))
        return log, len(m._forward_hooks), len(m._forward_pre_hooks)
    same_program(program)


# ---- backward hooks --------------------------------------------------------------------------

def _backward_program(lib, modify=None, b_requires_grad=True, pre_modify=None):
    m = classes(lib).TwoIn()
    log = []

    def hook(mod, grad_input, grad_output):
        log.append(("hook", type(mod).__name__, grad_input, grad_output))
        return modify(grad_input) if modify else None

    def pre(mod, grad_output):
        log.append(("pre", grad_output))
        return pre_modify(grad_output) if pre_modify else None

    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre)
    a = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    b = lib.tensor([3.0, 1.0, 2.0], requires_grad=b_requires_grad)
    x, y = m(a, b)
    (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward(retain_graph=True)
    return log, a.grad, b.grad, m.w.grad


def test_full_backward_hook_values():
    same_program(lambda lib: _backward_program(lib))


def test_full_backward_hook_input_without_grad():
    same_program(lambda lib: _backward_program(lib, b_requires_grad=False))


def test_full_backward_hook_replaces_grad_input():
    same_program(lambda lib: _backward_program(
        lib, modify=lambda gi: tuple(None if g is None else g * 10 for g in gi)))


def test_full_backward_pre_hook_replaces_grad_output():
    same_program(lambda lib: _backward_program(
        lib, pre_modify=lambda go: tuple(None if g is None else g + 1 for g in go)))


def test_full_backward_hook_on_nested_sequential():
    def program(lib):  # float32 sums may differ in the last bit
        Leaf = classes(lib).Leaf
        model = lib.nn.Sequential(Leaf(3, 4), Leaf(4, 2))
        log = []
        for i, sub in enumerate(model):
            sub.register_full_backward_hook(
                lambda mod, gi, go, i=i: log.append((i, gi, go)))
        model.register_full_backward_hook(lambda mod, gi, go: log.append(("seq", gi, go)))
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        model(x).pow(2).sum().backward()
        return log, x.grad
    same_program(program, rtol=1e-6)


def test_full_backward_hook_input_not_requiring_grad():
    def program(lib):
        m = classes(lib).Leaf()
        log = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
        m(lib.ones(1, 3)).sum().backward()
        return log, m.weight.grad
    same_program(program)


# ---- repr --------------------------------------------------------------------------------------

def test_repr_layouts():
    def program(lib):
        C = classes(lib)
        nn = lib.nn
        empty = nn.Module()
        leaf = C.Leaf()
        multi = C.Multi()
        multi.child = C.Leaf(1, 1)
        nested = nn.Sequential(C.Leaf(), nn.Sequential(C.Leaf(2, 2), C.Multi()),
                               nn.ModuleList([C.Leaf(2, 2)] * 3 + [C.Leaf(3, 3)]
                                             + [C.Leaf(4, 4), C.Leaf(4, 4)]))
        net = C.Net()
        net.more = nn.ModuleDict({"a": C.Leaf(), "b": nn.ModuleList()})
        return [repr(empty), repr(leaf), repr(multi), repr(nested), repr(net), str(net),
                repr(nn.Sequential()), repr(nn.ModuleList([nn.Module()]))]
    same_program(program)


# ---- pickling and copying --------------------------------------------------------------------

def _copy_program(lib, copier):
    C = classes(lib)
    net = C.Net()
    net.tied = C.Leaf(3, 4)
    net.tied.weight = net.first.weight
    net.f = 7
    net(lib.ones(2, 3)).sum().backward()
    net.eval()
    twin = copier(net)
    out = dict(
        type=type(twin).__name__, params=names(twin.named_parameters()),
        params_all=names(twin.named_parameters(remove_duplicate=False)),
        sd=list(twin.state_dict().values()),
        types=[type(p).__name__ for p in twin.parameters()],
        rg=[p.requires_grad for p in twin.parameters()],
        tied=twin.tied.weight is twin.first.weight, fresh=twin.first.weight is not net.first.weight,
        training=[m.training for m in twin.modules()], f=twin.f,
        nonpersistent=names(twin.named_buffers()),
        repr=repr(twin),
    )
    with lib.no_grad():
        twin.first.weight.add_(1)
    out["independent"] = bool((net.first.weight != twin.first.weight).all())
    out["call"] = twin(lib.ones(1, 3))
    return out


def test_deepcopy():
    def program(lib):
        out = _copy_program(lib, copy.deepcopy)
        return out
    result = same_program(program)
    assert result[1][-1][1][0][0] != "raised"


def test_deepcopy_keeps_grads():
    def program(lib):
        net = classes(lib).Leaf()
        net(lib.ones(1, 3)).sum().backward()
        twin = copy.deepcopy(net)
        return [p.grad for p in twin.parameters()], twin.weight.grad is not net.weight.grad
    same_program(program)


def test_pickle_roundtrip():
    # classes must be importable to pickle: use module-level ones
    for lib, cls in ((torch, PickleNetTorch), (torchlite, PickleNetLite)):
        net = cls()
        net.tied = net.a
        blob = pickle.dumps(net)
        twin = pickle.loads(blob)
        assert type(twin) is cls
        assert isinstance(twin.a.w, lib.nn.Parameter)
        assert twin.tied is twin.a and twin.b.w is twin.a.w
        np.testing.assert_array_equal(twin.a.w.detach().numpy(), net.a.w.detach().numpy())
        assert names(twin.named_parameters()) == ["a.w"]
        assert twin.a.w.requires_grad
        assert names(twin.named_buffers()) == ["r"]


def _make_pickle_net(lib):
    class Inner(lib.nn.Module):
        def __init__(self, w=None):
            super().__init__()
            self.w = w if w is not None else lib.nn.Parameter(lib.arange(3.0))

    class PickleNet(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Inner()
            self.b = Inner(self.a.w)
            self.register_buffer("r", lib.ones(2), persistent=False)

    suffix = "Torch" if lib is torch else "Lite"
    Inner.__qualname__ = Inner.__name__ = f"Inner{suffix}"
    PickleNet.__qualname__ = PickleNet.__name__ = f"PickleNet{suffix}"
    setattr(sys.modules[__name__], Inner.__name__, Inner)
    return PickleNet


PickleNetTorch = _make_pickle_net(torch)
PickleNetLite = _make_pickle_net(torchlite)


def test_pickled_module_repr_matches():
    lite = repr(pickle.loads(pickle.dumps(PickleNetLite())))
    assert lite.replace("Lite", "Torch") == repr(PickleNetTorch())


# ---- Parameter / Buffer types --------------------------------------------------------------

def test_parameter_types():
    def program(lib):
        p = lib.nn.Parameter(lib.ones(2))
        q = lib.nn.Parameter(lib.ones(2), requires_grad=False)
        e = lib.nn.Parameter()
        b = lib.nn.Buffer(lib.ones(2))
        return dict(
            isinstance=[isinstance(p, lib.nn.Parameter), isinstance(p, lib.Tensor),
                        isinstance(b, lib.Tensor), isinstance(b, lib.nn.Parameter),
                        isinstance(lib.ones(1), lib.nn.Parameter)],
            rg=[p.requires_grad, q.requires_grad, e.requires_grad, b.requires_grad],
            leaf=[p.is_leaf, (p * 2).is_leaf], empty=e, repr=[repr(p), repr(q), repr(e)],
            derived=type(p * 2).__name__, detached=type(p.detach()).__name__,
            clone=type(p.clone()).__name__, deep=type(copy.deepcopy(p)).__name__,
            persistent=b.persistent, nb=lib.nn.Buffer(lib.ones(1), persistent=False).persistent,
        )
    same_program(program)


def test_parameter_shares_memory():
    def program(lib):
        t = lib.zeros(3)
        p = lib.nn.Parameter(t)
        with lib.no_grad():
            p.add_(1)
        return t, outcome(lambda: lib.nn.Parameter([1.0]))
    result = same_program(program)
    assert result[1][0][4] == [1.0, 1.0, 1.0]


# ---- performance ------------------------------------------------------------------------------

def test_copy_weights_helper_both_ways():
    net_t, net_l = classes(torch).Net(), classes(torchlite).Net()
    with torch.no_grad():
        for p in net_t.parameters():
            p.mul_(-2)
    copy_weights(net_t, net_l)
    for (k, a), b in zip(net_l.state_dict().items(), net_t.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    copy_weights(classes(torchlite).Net(), net_t)
    assert float(net_t.scale) == 2.0


# ---- more of the protocol ------------------------------------------------------------------

def _module_hooks(lib):
    return lib.nn.modules.module


def test_global_hooks():
    def program(lib):
        mm = _module_hooks(lib)
        net = lib.nn.Sequential(classes(lib).Leaf(3, 2))
        log = []
        handles = [
            mm.register_module_forward_pre_hook(lambda m, a: log.append(("pre", type(m)
                                                                          .__name__))),
            mm.register_module_forward_hook(lambda m, a, o: log.append(("fwd", type(m)
                                                                         .__name__))),
            mm.register_module_full_backward_hook(
                lambda m, gi, go: log.append(("bwd", type(m).__name__, go))),
            mm.register_module_full_backward_pre_hook(
                lambda m, go: log.append(("bpre", type(m).__name__))),
        ]
        try:
            x = lib.ones(1, 3, requires_grad=True)
            net(x).sum().backward()
        finally:
            for h in handles:
                h.remove()
        net(lib.ones(1, 3))
        return log
    same_program(program)


def test_registration_hooks():
    def program(lib):
        mm = _module_hooks(lib)
        log = []
        handles = [
            mm.register_module_parameter_registration_hook(
                lambda m, n, p: log.append(("param", n))),
            mm.register_module_buffer_registration_hook(lambda m, n, b: log.append(("buf", n))),
            mm.register_module_module_registration_hook(lambda m, n, c: log.append(("mod", n))),
        ]
        try:
            classes(lib).Net()
        finally:
            for h in handles:
                h.remove()
        return log
    same_program(program)


def test_set_submodule():
    def program(lib):
        net = classes(lib).Net()
        out = [outcome(lambda: net.set_submodule("first", lib.nn.Module())),
               outcome(lambda: net.set_submodule("second.new", lib.nn.Module())),
               outcome(lambda: net.set_submodule("second.other", lib.nn.Module(), strict=True)),
               outcome(lambda: net.set_submodule("", lib.nn.Module())),
               outcome(lambda: net.set_submodule("first", 3)),
               outcome(lambda: net.set_submodule("scale", lib.nn.Module())),
               outcome(lambda: net.set_submodule("nope.x", lib.nn.Module()))]
        return out, names(net.named_modules())
    same_program(program)


def test_state_dict_pre_and_load_post_hooks():
    def program(lib):
        net = classes(lib).Net()
        log = []
        net.first.register_state_dict_pre_hook(lambda m, prefix, keep: log.append((prefix, keep)))

        def post(module, keys):
            log.append((list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()
        net.register_load_state_dict_post_hook(post)
        sd = net.state_dict(keep_vars=True)
        del sd["scale"]
        result = net.load_state_dict(sd)
        bad = lib.nn.Module()
        bad.register_state_dict_post_hook(lambda *a: {})
        return log, repr(result), outcome(bad.state_dict)
    same_program(program)


def test_state_dict_positional_args_warn():
    for lib in (torch, torchlite):
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            sd = classes(lib).Leaf().state_dict(None, "pre.")
        assert list(sd) == ["pre.weight", "pre.bias", "pre.count"]


def test_extra_state():
    def program(lib):
        class WithExtra(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = lib.nn.Parameter(lib.ones(1))
                self.state = {"step": 0}

            def get_extra_state(self):
                return dict(self.state)

            def set_extra_state(self, state):
                self.state = state
        a, b = WithExtra(), WithExtra()
        a.state["step"] = 7
        sd = a.state_dict()
        b.load_state_dict(sd)
        missing = outcome(lambda: WithExtra().load_state_dict({"w": lib.ones(1)}))
        unexpected = outcome(lambda: lib.nn.Module().load_state_dict({"_extra_state": 1}))
        return list(sd), b.state, missing, unexpected
    same_program(program)


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, 2), {}), ((), {"x": 1})])
def test_init_arguments(args, kwargs):
    same_program(lambda lib: lib.nn.Module(*args, **kwargs))


def test_pre_hook_with_kwargs_bad_return():
    def program(lib):
        m = classes(lib).Leaf()
        m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        return m(lib.ones(1, 3))
    same_program(program)


def test_backward_hook_bad_return_length():
    def program(lib):
        m = classes(lib).TwoIn()
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0],))
        a = lib.ones(3, requires_grad=True)
        x, _ = m(a, lib.ones(3, requires_grad=True))
        return outcome(lambda: x.sum().backward())
    same_program(program)


def test_backward_hook_fires_once_per_backward_and_grad_mode():
    def program(lib):
        m = classes(lib).Leaf()
        log = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append("hook"))
        x = lib.ones(1, 3, requires_grad=True)
        with lib.no_grad():
            m(x)
        y = m(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return log, x.grad
    same_program(program)


def test_non_full_backward_hook():
    def program(lib):
        m = classes(lib).Leaf()
        log = []
        m.register_backward_hook(lambda mod, gi, go: log.append((type(mod).__name__, go)))
        x = lib.ones(2, 3, requires_grad=True)
        (m(x) * lib.tensor([1.0, 2.0])).sum().backward()
        return log, outcome(lambda: m.register_full_backward_hook(lambda *a: None))
    same_program(program)


# ---- CUDA (skips without a GPU) --------------------------------------------------------------

needs_cuda = pytest.mark.skipif(not torchlite.cuda.is_available(), reason="no CUDA device")


@needs_cuda
@pytest.mark.parametrize("move", [lambda m: m.cuda(), lambda m: m.to("cuda"),
                                  lambda m: m.to("cuda", torchlite.float64),
                                  lambda m: m.cuda(0)])
def test_cuda_moves_keep_identity_and_grads(move):
    net = classes(torchlite).Net()
    net(torchlite.ones(2, 3)).sum().backward()
    params = list(net.parameters())
    expected = [p.detach().double().numpy() for p in params]
    assert move(net) is net
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(p.is_cuda and p.grad.is_cuda and p.is_leaf for p in net.parameters())
    assert all(b.is_cuda for b in net.buffers())
    out = net(torchlite.ones(2, 3, device="cuda", dtype=params[0].dtype))
    out.sum().backward()
    net.cpu()
    assert all(not p.is_cuda and not p.grad.is_cuda for p in net.parameters())
    for p, e in zip(net.parameters(), expected):
        np.testing.assert_allclose(p.detach().double().numpy(), e, rtol=1e-6)


@needs_cuda
def test_cuda_state_dict_roundtrip_and_hooks():
    net = classes(torchlite).Net().cuda()
    log = []
    net.first.register_full_backward_hook(lambda m, gi, go: log.append(gi[0].device.type))
    x = torchlite.ones(2, 3, device="cuda", requires_grad=True)
    net(x).sum().backward()
    assert log == ["cuda"]
    cpu_net = classes(torchlite).Net()
    assert repr(cpu_net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"
    assert not cpu_net.first.weight.is_cuda
