"""Optimizers vs PyTorch: parameter trajectories, state_dicts, errors, signatures."""
import copy
import inspect
import warnings

import numpy as np
import pytest

import torchlite

torch = pytest.importorskip("torch")

STEPS = 20

# (optimizer name, options): every option combination that changes the update.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3, "maximize": True}),
    ("Adam", {"lr": 0.05, "foreach": True}),
    ("Adam", {"lr": 0.05, "capturable": False, "fused": None}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "maximize": True}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.05, "maximize": True, "betas": (0.5, 0.9)}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.01, "maximize": True}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 5, "lambd": 1e-2, "alpha": 0.5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.01, "t0": 0, "maximize": True}),
]

LBFGS_CASES = [
    {},
    {"lr": 0.5, "history_size": 3, "max_iter": 5},
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 4},
    {"tolerance_grad": 1e-3, "tolerance_change": 1e-4, "max_iter": 50},
]


def _case_id(case):
    name, opts = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in opts.items())


def _init_values(dtype=np.float64):
    rng = np.random.default_rng(0)
    return {"w": rng.standard_normal((4, 3)).astype(dtype),
            "b": rng.standard_normal(3).astype(dtype),
            "c": rng.standard_normal(2).astype(dtype),
            "x": rng.standard_normal((5, 4)).astype(dtype),
            "y": rng.standard_normal((5, 3)).astype(dtype)}


class Problem:
    """Plain parameters w, b, c of a quadratic + nonlinear loss, in either library."""

    def __init__(self, lib, dtype=np.float64, frozen=True):
        values = _init_values(dtype)
        self.lib = lib
        make = (lambda a: torch.tensor(a)) if lib is torch else torchlite.tensor
        self.params = [make(values[k]).requires_grad_() for k in ("w", "b", "c")]
        # a parameter that never gets a gradient: optimizers must skip it
        self.frozen = make(values["c"].copy()).requires_grad_() if frozen else None
        self.x, self.y = make(values["x"]), make(values["y"])

    def all_params(self):
        return self.params + ([self.frozen] if self.frozen is not None else [])

    def loss(self):
        w, b, c = self.params
        out = (self.x @ w + b).tanh()
        return (((out - self.y) ** 2).sum() + 0.5 * (c ** 2).sum() + 0.5 * (b ** 2).sum()
                + (c.sin() * b[:2]).sum() + 0.1 * (w ** 4).sum())

    def closure_for(self, opt):
        def closure():
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss
        return closure

    def numpy(self):
        return [p.detach().numpy().copy() for p in self.params]


def _run(problem, opt, steps):
    """Per-step parameter snapshots and losses."""
    traj, losses = [], []
    closure = problem.closure_for(opt)
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        traj.append(problem.numpy())
    return traj, losses


def _pair(name, opts, dtype=np.float64, groups=None):
    tp, lp = Problem(torch, dtype), Problem(torchlite, dtype)
    if groups is None:
        t_opt = getattr(torch.optim, name)(tp.all_params(), **opts)
        l_opt = getattr(torchlite.optim, name)(lp.all_params(), **opts)
    else:
        t_opt = getattr(torch.optim, name)(groups(tp), **opts)
        l_opt = getattr(torchlite.optim, name)(groups(lp), **opts)
    return tp, t_opt, lp, l_opt


def _assert_traj(t_traj, l_traj, rtol, atol):
    for step, (ts, ls) in enumerate(zip(t_traj, l_traj)):
        for t, l in zip(ts, ls):
            np.testing.assert_allclose(l, t, rtol=rtol, atol=atol, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_torch_float64(case):
    name, opts = case
    tp, t_opt, lp, l_opt = _pair(name, opts)
    t_traj, t_loss = _run(tp, t_opt, STEPS)
    l_traj, l_loss = _run(lp, l_opt, STEPS)
    _assert_traj(t_traj, l_traj, 1e-10, 1e-12)
    np.testing.assert_allclose(l_loss, t_loss, rtol=1e-10)
    assert lp.frozen.grad is None
    np.testing.assert_array_equal(lp.frozen.detach().numpy(), tp.frozen.detach().numpy())


@pytest.mark.parametrize("case", [c for c in CASES if not c[1].get("maximize")][::3],
                         ids=_case_id)
def test_trajectory_matches_torch_float32(case):
    name, opts = case
    tp, t_opt, lp, l_opt = _pair(name, opts, np.float32)
    t_traj, _ = _run(tp, t_opt, STEPS)
    l_traj, _ = _run(lp, l_opt, STEPS)
    _assert_traj(t_traj, l_traj, 1e-4, 1e-5)
    assert all(p.dtype == torchlite.float32 for p in lp.params)


@pytest.mark.parametrize("opts", LBFGS_CASES, ids=lambda o: str(o))
def test_lbfgs_trajectory_matches_torch(opts):
    tp, t_opt, lp, l_opt = _pair("LBFGS", opts)
    t_traj, t_loss = _run(tp, t_opt, 5)
    l_traj, l_loss = _run(lp, l_opt, 5)
    _assert_traj(t_traj, l_traj, 1e-8, 1e-10)
    np.testing.assert_allclose(l_loss, t_loss, rtol=1e-8)
    t_state = t_opt.state[tp.params[0]]
    l_state = l_opt.state[lp.params[0]]
    assert l_state["func_evals"] == t_state["func_evals"]
    assert l_state["n_iter"] == t_state["n_iter"]
    assert sorted(l_state) == sorted(t_state)


def _two_groups(problem):
    w, b, c = problem.params
    return [{"params": [w], "lr": 0.02}, {"params": [b, c, problem.frozen], "weight_decay": 0.2}]


@pytest.mark.parametrize("name,opts", [("SGD", {"lr": 0.1, "momentum": 0.9}),
                                       ("Adam", {"lr": 0.05}), ("RMSprop", {"centered": True}),
                                       ("Adagrad", {"lr_decay": 0.01})])
def test_param_groups_with_own_options(name, opts):
    tp, t_opt, lp, l_opt = _pair(name, opts, groups=_two_groups)
    assert [g["lr"] for g in l_opt.param_groups] == [g["lr"] for g in t_opt.param_groups]
    _assert_traj(_run(tp, t_opt, 10)[0], _run(lp, l_opt, 10)[0], 1e-10, 1e-12)


def test_manual_lr_schedule_through_param_groups():
    tp, t_opt, lp, l_opt = _pair("SGD", {"lr": 0.1, "momentum": 0.9})
    t_c, l_c = tp.closure_for(t_opt), lp.closure_for(l_opt)
    for i in range(10):
        for opt in (t_opt, l_opt):
            opt.param_groups[0]["lr"] = 0.1 / (1 + i)
        t_opt.step(t_c)
        l_opt.step(l_c)
    _assert_traj([tp.numpy()], [lp.numpy()], 1e-10, 1e-12)


def test_tensor_betas_follow_torch():
    tp, t_opt, lp, l_opt = _pair("Adam", {"lr": 0.05})
    t_opt = torch.optim.Adam(tp.all_params(), lr=0.05,
                             betas=(torch.tensor(0.8), torch.tensor(0.99)))
    l_opt = torchlite.optim.Adam(lp.all_params(), lr=0.05,
                                 betas=(torchlite.tensor(0.8), torchlite.tensor(0.99)))
    assert isinstance(l_opt.defaults["betas"][0], torchlite.Tensor)
    # the bias corrections round in float32, like the betas (last-ulp differences remain)
    _assert_traj(_run(tp, t_opt, 5)[0], _run(lp, l_opt, 5)[0], 1e-5, 1e-6)


def test_tensor_lr_is_accepted():
    tp, t_opt, lp, l_opt = _pair("Adam", {"lr": 0.05})
    t_opt.param_groups[0]["lr"] = torch.tensor(0.05)
    l_opt.param_groups[0]["lr"] = torchlite.tensor(0.05)
    _assert_traj(_run(tp, t_opt, 5)[0], _run(lp, l_opt, 5)[0], 1e-6, 1e-8)


# ---- state_dict ---------------------------------------------------------------------------
def _to_lite(obj):
    """A torch state_dict structure with its tensors converted to torchlite."""
    if isinstance(obj, torch.Tensor):
        return torchlite.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_lite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_lite(v) for v in obj)
    return obj


def _assert_state_dicts_match(l_sd, t_sd, any_dtype=()):
    assert set(l_sd) == {"state", "param_groups"}
    assert l_sd["param_groups"] == t_sd["param_groups"]
    assert sorted(l_sd["state"]) == sorted(t_sd["state"])
    for key, t_state in t_sd["state"].items():
        l_state = l_sd["state"][key]
        assert list(l_state) == list(t_state)
        for name, t_val in t_state.items():
            l_val = l_state[name]
            if isinstance(t_val, torch.Tensor):
                assert isinstance(l_val, torchlite.Tensor), name
                assert name in any_dtype or str(l_val.dtype) == str(t_val.dtype), name
                assert tuple(l_val.shape) == tuple(t_val.shape), name
                np.testing.assert_allclose(l_val.numpy(), t_val.numpy(), rtol=1e-9, atol=1e-12)
            else:
                assert l_val == t_val, name


# 0-d float32 state other than 'step', which load_state_dict casts to the parameter's dtype
# (as PyTorch's does): the resumed run then differs in the last bits of those scalars
CAST_ON_LOAD = ("mu_product", "eta", "mu")
RESUME_TOL = {"NAdam": (1e-10, 1e-12), "ASGD": (1e-7, 1e-8)}

STATE_CASES = [("SGD", {"momentum": 0.9}), ("SGD", {}), ("Adam", {"amsgrad": True}),
               ("AdamW", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}),
               ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adagrad", {}),
               ("Adadelta", {}), ("Rprop", {}), ("ASGD", {"t0": 2})]


@pytest.mark.parametrize("case", STATE_CASES, ids=_case_id)
def test_state_dict_structure_matches_torch(case):
    name, opts = case
    tp, t_opt, lp, l_opt = _pair(name, opts, groups=_two_groups)
    _run(tp, t_opt, 3)
    _run(lp, l_opt, 3)
    _assert_state_dicts_match(l_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("case", STATE_CASES + [("LBFGS", {"history_size": 4})], ids=_case_id)
def test_state_dict_round_trip_continues_identically(case):
    name, opts = case
    steps = 3 if name == "LBFGS" else 10
    ref = Problem(torchlite)
    ref_opt = getattr(torchlite.optim, name)(ref.all_params(), **opts)
    ref_traj, _ = _run(ref, ref_opt, 2 * steps)

    first = Problem(torchlite)
    opt = getattr(torchlite.optim, name)(first.all_params(), **opts)
    _run(first, opt, steps)
    saved = copy.deepcopy(opt.state_dict())
    resumed = Problem(torchlite)
    for p, q in zip(resumed.params, first.params):
        p.data.copy_(q.data)
    new_opt = getattr(torchlite.optim, name)(resumed.all_params(), **opts)
    new_opt.load_state_dict(saved)
    traj, _ = _run(resumed, new_opt, steps)
    _assert_traj(ref_traj[steps:], traj, *RESUME_TOL.get(name, (0, 0)))


@pytest.mark.parametrize("case", STATE_CASES, ids=_case_id)
def test_load_torch_state_dict_then_follow_torch(case):
    name, opts = case
    tp, t_opt, lp, l_opt = _pair(name, opts)
    _run(tp, t_opt, 5)
    for p, q in zip(lp.params, tp.params):
        p.data.copy_(torchlite.tensor(q.detach().numpy()))
    l_opt.load_state_dict(_to_lite(copy.deepcopy(t_opt.state_dict())))
    # loading casts every state tensor but 'step' to the parameter's dtype, as PyTorch does
    _assert_state_dicts_match(l_opt.state_dict(), t_opt.state_dict(), any_dtype=CAST_ON_LOAD)
    _assert_traj(_run(tp, t_opt, 5)[0], _run(lp, l_opt, 5)[0],
                 *RESUME_TOL.get(name, (1e-10, 1e-12)))


def test_load_state_dict_errors_match_torch():
    for lib in (torch, torchlite):
        p = Problem(lib)
        opt = lib.optim.SGD(p.params, lr=0.1)
        sd = opt.state_dict()
        with pytest.raises(ValueError, match="different number of parameter groups"):
            opt.load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
        bad = copy.deepcopy(sd)
        bad["param_groups"][0]["params"] = [0]
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            opt.load_state_dict(bad)


def test_legacy_state_dict_gets_defaults_and_tensor_step():
    for lib in (torch, torchlite):
        p = Problem(lib)
        opt = lib.optim.Adam(p.params, lr=0.05)
        _run(p, opt, 2)
        sd = copy.deepcopy(opt.state_dict())
        for state in sd["state"].values():
            state["step"] = 2
        del sd["param_groups"][0]["amsgrad"]
        opt.load_state_dict(sd)
        assert opt.param_groups[0]["amsgrad"] is False
        step = opt.state[p.params[0]]["step"]
        assert isinstance(step, lib.Tensor) and step.dtype == lib.float32 and float(step) == 2


def test_state_is_defaultdict_keyed_by_parameter():
    p = Problem(torchlite)
    opt = torchlite.optim.Adam(p.params)
    assert opt.state[p.params[0]] == {}
    _run(p, opt, 1)
    state = opt.state[p.params[0]]
    assert list(state) == ["step", "exp_avg", "exp_avg_sq"]
    assert state["step"].dtype == torchlite.float32 and state["step"].item() == 1.0


def test_named_parameters_are_saved_as_param_names():
    for lib in (torch, torchlite):
        p = Problem(lib)
        opt = lib.optim.SGD(list(zip("wbc", p.params)), lr=0.1)
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b", "c"]


# ---- behaviour ----------------------------------------------------------------------------
def test_step_records_nothing_and_bumps_versions():
    p = Problem(torchlite)
    opt = torchlite.optim.Adam(p.params, lr=0.1)
    p.loss().backward()
    versions = [q._version for q in p.params]
    opt.step()
    assert all(q._version > v for q, v in zip(p.params, versions))
    assert all(q.grad_fn is None and q.is_leaf for q in p.params)
    assert p.frozen._version == 0
    state = opt.state[p.params[0]]
    assert all(not t.requires_grad and t.grad_fn is None for t in state.values())


def test_step_returns_closure_loss_and_none_without():
    p = Problem(torchlite)
    opt = torchlite.optim.SGD(p.params, lr=0.1)
    assert opt.step() is None
    loss = opt.step(p.closure_for(opt))
    assert isinstance(loss, torchlite.Tensor) and loss.requires_grad


def test_closure_runs_with_grad_enabled():
    p = Problem(torchlite)
    opt = torchlite.optim.SGD(p.params, lr=0.1)
    with torchlite.no_grad():
        loss = opt.step(p.closure_for(opt))
    assert loss.requires_grad


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    for lib in (torch, torchlite):
        p = Problem(lib)
        opt = lib.optim.SGD(p.params, lr=0.1)
        p.loss().backward()
        opt.zero_grad(set_to_none=set_to_none)
        for q in p.params:
            if set_to_none:
                assert q.grad is None
            else:
                assert q.grad is not None and not q.grad.requires_grad
                assert float(q.grad.abs().sum()) == 0.0


def test_add_param_group_and_duplicates():
    for lib in (torch, torchlite):
        p = Problem(lib)
        opt = lib.optim.SGD(p.params[:1], lr=0.1, momentum=0.9)
        opt.add_param_group({"params": p.params[1], "lr": 0.5})
        assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
        assert isinstance(opt.param_groups[1]["params"], list)
        with pytest.raises(ValueError, match="^some parameters appear in more than one "
                                             "parameter group$"):
            opt.add_param_group({"params": [p.params[0]]})
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([p.params[2], p.params[2]], lr=0.1)


def test_optimizer_repr_matches_torch():
    for name, opts in [("SGD", {"lr": 0.1, "momentum": 0.9}), ("AdamW", {}), ("LBFGS", {})]:
        tp, t_opt, lp, l_opt = _pair(name, opts, groups=None)
        assert repr(l_opt) == repr(t_opt)


def test_signatures_match_torch():
    for name in ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad",
                 "Adadelta", "LBFGS", "Rprop", "ASGD"]:
        t_sig = inspect.signature(getattr(torch.optim, name))
        l_sig = inspect.signature(getattr(torchlite.optim, name))
        assert list(l_sig.parameters) == list(t_sig.parameters), name
        for (tn, tpar), lpar in zip(t_sig.parameters.items(), l_sig.parameters.values()):
            assert lpar.kind == tpar.kind, (name, tn)
            assert lpar.default == tpar.default, (name, tn)


def test_defaults_match_torch():
    for name in ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad",
                 "Adadelta", "LBFGS", "Rprop", "ASGD"]:
        t_opt = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
        l_opt = getattr(torchlite.optim, name)([torchlite.zeros(2, requires_grad=True)])
        assert l_opt.defaults == t_opt.defaults, name


def test_step_hooks():
    p = Problem(torchlite)
    opt = torchlite.optim.SGD(p.params, lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    opt.step()
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


def test_pickle_round_trip():
    import pickle
    p = Problem(torchlite)
    opt = torchlite.optim.Adam(p.params, lr=0.05)
    _run(p, opt, 2)
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.defaults == opt.defaults and len(clone.state) == 3


def test_sgd_default_state_is_empty_without_momentum():
    p = Problem(torchlite)
    opt = torchlite.optim.SGD(p.params, lr=0.1)
    _run(p, opt, 2)
    assert opt.state_dict()["state"] == {}


def test_complex_parameters_follow_torch():
    rng = np.random.default_rng(3)
    z0 = (rng.standard_normal(4) + 1j * rng.standard_normal(4))
    for name in ["SGD", "Adam", "RMSprop", "Adagrad"]:
        results = []
        for lib in (torch, torchlite):
            z = lib.tensor(z0.copy()).requires_grad_()
            opt = getattr(lib.optim, name)([z], lr=0.05)
            for _ in range(5):
                z.grad = z.detach().clone() * 2  # the gradient of |z|^2
                opt.step()
            results.append(z.detach().numpy())
        np.testing.assert_allclose(results[1], results[0], rtol=1e-10)


# ---- errors -------------------------------------------------------------------------------
ERROR_CASES = [
    ("SGD", {"lr": -1}, "Invalid learning rate: -1"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adam", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("Adam", {"betas": (0.9, 1)}, "Invalid beta parameter at index 1: 1"),
    ("AdamW", {"lr": -0.5}, "Invalid learning rate: -0.5"),
    ("Adamax", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("NAdam", {"momentum_decay": -1}, "Invalid momentum_decay value: -1"),
    ("RAdam", {"eps": -1}, "Invalid epsilon value: -1"),
    ("RMSprop", {"alpha": -1}, "Invalid alpha value: -1"),
    ("RMSprop", {"momentum": -1}, "Invalid momentum value: -1"),
    ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
    ("Adagrad", {"initial_accumulator_value": -1},
     "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("LBFGS", {"lr": -1}, "Invalid learning rate: -1"),
    ("Rprop", {"etas": (1.1, 1.2)}, "Invalid eta values: 1.1, 1.2"),
    ("ASGD", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize("name,opts,message", ERROR_CASES)
def test_argument_errors_match_torch(name, opts, message):
    for lib in (torch, torchlite):
        with pytest.raises(ValueError) as info:
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **opts)
        assert str(info.value) == message


FUSED_REFUSALS = [(name, opts) for name in ("SGD", "Adam", "AdamW", "Adagrad")
                  for opts in ({"fused": True, "differentiable": True},
                               {"fused": True, "foreach": True})]


@pytest.mark.parametrize("name,opts", FUSED_REFUSALS)
def test_fused_refusals_match_torch(name, opts):
    messages = []
    for lib in (torch, torchlite):
        with pytest.raises(RuntimeError) as info:
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], lr=0.1, **opts)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def _errors(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001  (comparing the exceptions themselves)
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("make", [
    lambda lib: lib.optim.SGD([], lr=0.1),
    lambda lib: lib.optim.SGD(lib.zeros(2, requires_grad=True), lr=0.1),
    lambda lib: lib.optim.SGD([1.0], lr=0.1),
    lambda lib: lib.optim.SGD({lib.zeros(2, requires_grad=True)}, lr=0.1),
    lambda lib: lib.optim.SGD([{"params": {lib.zeros(2, requires_grad=True)}}], lr=0.1),
    lambda lib: lib.optim.SGD([lib.zeros(2, requires_grad=True) * 2], lr=0.1),
    lambda lib: lib.optim.LBFGS([{"params": [lib.zeros(2, requires_grad=True)]},
                                 {"params": [lib.zeros(2, requires_grad=True)]}]),
    lambda lib: lib.optim.SGD([("a", lib.zeros(2, requires_grad=True)),
                               lib.zeros(2, requires_grad=True)], lr=0.1),
    lambda lib: lib.optim.Adam([lib.zeros(2, requires_grad=True)], betas=(0.9, 1)),
    lambda lib: lib.optim.Adam([lib.zeros(2, requires_grad=True)], lr=lib.tensor(0.1),
                               foreach=True),
    lambda lib: lib.optim.Adam([lib.zeros(2, requires_grad=True)],
                               betas=(lib.tensor(0.9), lib.tensor(0.99)), foreach=True),
    lambda lib: lib.optim.Adam([lib.zeros(2, requires_grad=True)],
                               betas=(lib.tensor([0.9, 0.8]), lib.tensor(0.99))),
    lambda lib: lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2])),
], ids=["empty", "tensor", "not-tensor", "set", "group-set", "non-leaf", "lbfgs-groups",
        "mixed-names", "int-beta", "tensor-lr-foreach", "tensor-betas-foreach",
        "tensor-betas-size", "tensor-lr-size"])
def test_construction_errors_match_torch(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_err = _errors(lambda: make(torch))
        l_err = _errors(lambda: make(torchlite))
    assert l_err == t_err


def test_lbfgs_rejects_unknown_line_search():
    for lib in (torch, torchlite):
        p = Problem(lib)
        opt = lib.optim.LBFGS(p.params, line_search_fn="armijo")
        with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
            opt.step(p.closure_for(opt))


# ---- cuda (skips without CuPy and a GPU) ---------------------------------------------------
@pytest.mark.skipif(not torchlite.cuda.is_available(), reason="needs CuPy and a CUDA device")
@pytest.mark.parametrize("case", [("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
                                  ("Adam", {"lr": 0.05, "amsgrad": True}),
                                  ("AdamW", {"lr": 0.05}), ("NAdam", {"lr": 0.05}),
                                  ("RAdam", {"lr": 0.05}),
                                  ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                                  ("Adagrad", {"lr": 0.1}), ("Adadelta", {}), ("Adamax", {}),
                                  ("Rprop", {}), ("ASGD", {"t0": 3}),
                                  ("LBFGS", {"line_search_fn": "strong_wolfe"})],
                         ids=_case_id)
def test_cuda_trajectory_matches_cpu(case):
    name, opts = case
    cpu = Problem(torchlite)
    gpu = Problem(torchlite)
    gpu.params = [p.detach().cuda().requires_grad_() for p in gpu.params]
    gpu.frozen = gpu.frozen.detach().cuda().requires_grad_()
    gpu.x, gpu.y = gpu.x.cuda(), gpu.y.cuda()
    cpu_opt = getattr(torchlite.optim, name)(cpu.all_params(), **opts)
    gpu_opt = getattr(torchlite.optim, name)(gpu.all_params(), **opts)
    steps = 3 if name == "LBFGS" else 10
    cpu_traj, _ = _run(cpu, cpu_opt, steps)
    gpu_traj = []
    closure = gpu.closure_for(gpu_opt)
    for _ in range(steps):
        gpu_opt.step(closure)
        gpu_traj.append([p.detach().cpu().numpy() for p in gpu.params])
    _assert_traj(cpu_traj, gpu_traj, 1e-9, 1e-11)
    state = gpu_opt.state_dict()["state"]
    assert all(v.device.type == "cuda" for s in state.values() for k, v in s.items()
               if isinstance(v, torchlite.Tensor) and k not in ("step", "mu_product")
               and v.dim() > 0)


# ---- checkpoints (torchlite.save / torch.load and back) ------------------------------------
@pytest.mark.parametrize("case", [("SGD", {"lr": 0.05, "momentum": 0.9}),
                                  ("AdamW", {"lr": 0.05, "amsgrad": True}),
                                  ("NAdam", {"lr": 0.05}), ("Adagrad", {"lr": 0.1})],
                         ids=_case_id)
def test_optimizer_checkpoints_move_between_libraries(case, tmp_path):
    name, opts = case
    tp, t_opt, lp, l_opt = _pair(name, opts)
    _run(tp, t_opt, 4)
    _run(lp, l_opt, 4)
    torchlite.save(l_opt.state_dict(), tmp_path / "lite.pt")
    torch.save(t_opt.state_dict(), tmp_path / "torch.pt")

    # torch resumes from torchlite's checkpoint, torchlite from torch's: both continue alike
    t2 = Problem(torch)
    for p, q in zip(t2.params, tp.params):
        p.data.copy_(q.data)
    t2_opt = getattr(torch.optim, name)(t2.all_params(), **opts)
    t2_opt.load_state_dict(torch.load(tmp_path / "lite.pt"))
    l2 = Problem(torchlite)
    for p, q in zip(l2.params, lp.params):
        p.data.copy_(q.data)
    l2_opt = getattr(torchlite.optim, name)(l2.all_params(), **opts)
    l2_opt.load_state_dict(torchlite.load(tmp_path / "torch.pt"))
    t_traj = _run(tp, t_opt, 4)[0]
    # (loading casts NAdam's float32 'mu_product' to float64 in both libraries)
    _assert_traj(t_traj, _run(t2, t2_opt, 4)[0], 1e-9, 1e-11)
    _assert_traj(t_traj, _run(l2, l2_opt, 4)[0], 1e-9, 1e-11)


# ---- with nn modules -----------------------------------------------------------------------
@pytest.mark.parametrize("name,opts", [("AdamW", {"lr": 1e-2}),
                                       ("SGD", {"lr": 0.1, "momentum": 0.9,
                                                "nesterov": True})])
def test_mlp_training_with_scheduler_matches_torch(name, opts):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 8))
    y = rng.integers(0, 3, 16)
    losses = []
    for lib in (torch, torchlite):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.Tanh(), lib.nn.Linear(16, 3))
        model.double()
        if lib is torch:
            init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        else:  # the same initial weights as torch's model
            model.load_state_dict({k: torchlite.tensor(v) for k, v in init.items()})
        opt = getattr(lib.optim, name)(model.parameters(), **opts)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=20)
        xs, ys = lib.tensor(x), lib.tensor(y)
        run = []
        for _ in range(20):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(xs), ys)
            loss.backward()
            opt.step()
            sched.step()
            run.append(loss.item())
        losses.append((run, [p.detach().numpy() for p in model.parameters()]))
    np.testing.assert_allclose(losses[1][0], losses[0][0], rtol=1e-10)
    for lp, tp in zip(losses[1][1], losses[0][1]):
        np.testing.assert_allclose(lp, tp, rtol=1e-9, atol=1e-12)
