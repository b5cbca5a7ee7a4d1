"""lr_scheduler vs PyTorch: lr (and momentum) sequences, state_dicts, warnings and errors."""
import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import torchlite

torch = pytest.importorskip("torch")

EPOCHS = 35


def _optimizer(lib, name="SGD", groups=2, **opts):
    """An optimizer over ``groups`` param groups of one toy parameter each (lr 0.1, 0.05)."""
    params = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    opts = {"lr": 0.1, **({"momentum": 0.9} if name == "SGD" else {}), **opts}
    param_groups = [{"params": [p], "lr": opts["lr"] / (i + 1)} for i, p in enumerate(params)]
    return getattr(lib.optim, name)(param_groups, **opts)


def _sched(lib, opt, spec):
    cls, kwargs = spec
    return getattr(lib.optim.lr_scheduler, cls)(opt, **kwargs)


def _record(opt, sched, epochs, metrics=None):
    """Per-epoch last_lr, group lrs and momentum / beta1 while stepping optimizer then
    scheduler."""
    rows = []
    for epoch in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        rows.append(_snapshot(opt, sched))
    return rows


def _snapshot(opt, sched):
    groups = opt.param_groups
    momentum = [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in groups]
    return list(map(float, sched.get_last_lr())), [g["lr"] for g in groups], momentum


def _assert_rows(l_rows, t_rows):
    for epoch, (l_row, t_row) in enumerate(zip(l_rows, t_rows)):
        for l_vals, t_vals in zip(l_row, t_row):
            np.testing.assert_allclose(l_vals, t_vals, rtol=1e-12, atol=1e-15,
                                       err_msg=f"epoch {epoch}")
    assert len(l_rows) == len(t_rows)


SPECS = [
    ("StepLR", {"step_size": 4}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 20], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": lambda e: 0.95 ** e}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.5, "total_iters": 10}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 8}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 20, "power": 2.0}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": EPOCHS}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "epochs": 5, "steps_per_epoch": 7,
                    "anneal_strategy": "linear", "three_phase": True}),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": EPOCHS, "cycle_momentum": False,
                    "pct_start": 0.5, "div_factor": 10.0, "final_div_factor": 100.0}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}),
    ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": 0.1, "step_size_up": 3,
                  "step_size_down": 5, "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "exp_range",
                  "gamma": 0.9}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4,
                  "scale_fn": lambda x: 0.5 ** x, "scale_mode": "iterations",
                  "cycle_momentum": False}),
]


def _spec_id(spec):
    cls, kwargs = spec
    return cls + "-" + "-".join(f"{k}" for k in kwargs)


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_lr_sequence_matches_torch_sgd(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t_opt, l_opt = _optimizer(torch), _optimizer(torchlite)
        t_s, l_s = _sched(torch, t_opt, spec), _sched(torchlite, l_opt, spec)
        _assert_rows([_snapshot(l_opt, l_s)], [_snapshot(t_opt, t_s)])
        _assert_rows(_record(l_opt, l_s, EPOCHS), _record(t_opt, t_s, EPOCHS))


@pytest.mark.parametrize("spec", [s for s in SPECS if s[0] in ("OneCycleLR", "CyclicLR")],
                         ids=_spec_id)
def test_momentum_cycling_uses_adam_betas(spec):
    t_opt, l_opt = _optimizer(torch, "Adam"), _optimizer(torchlite, "Adam")
    t_s, l_s = _sched(torch, t_opt, spec), _sched(torchlite, l_opt, spec)
    _assert_rows(_record(l_opt, l_s, EPOCHS), _record(t_opt, t_s, EPOCHS))
    assert [g["betas"] for g in l_opt.param_groups] == [g["betas"] for g in t_opt.param_groups]


def _chain(lib, opt):
    s = lib.optim.lr_scheduler
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=4),
                               s.ExponentialLR(opt, gamma=0.9)])


def _sequential(lib, opt):
    s = lib.optim.lr_scheduler
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=5),
                                s.CosineAnnealingLR(opt, T_max=10),
                                s.StepLR(opt, step_size=3, gamma=0.5)], milestones=[5, 15])


def _nested(lib, opt):
    s = lib.optim.lr_scheduler
    warm = s.LinearLR(opt, start_factor=0.2, total_iters=4)
    seq = s.SequentialLR(opt, [warm, s.ExponentialLR(opt, gamma=0.95)], milestones=[4])
    return s.ChainedScheduler([seq, s.MultiStepLR(opt, milestones=[8, 12])])


@pytest.mark.parametrize("build", [_chain, _sequential, _nested])
def test_composed_schedulers_match_torch(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_opt, l_opt = _optimizer(torch), _optimizer(torchlite)
        t_s, l_s = build(torch, t_opt), build(torchlite, l_opt)
    _assert_rows([_snapshot(l_opt, l_s)], [_snapshot(t_opt, t_s)])
    _assert_rows(_record(l_opt, l_s, EPOCHS), _record(t_opt, t_s, EPOCHS))


METRIC = [1.0, 0.9, 0.8, 0.8, 0.85, 0.81, 0.9, 0.79, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.71,
          0.72, 0.73, 0.74, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5,
          0.5, 0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("kwargs", [
    {"patience": 2},
    {"patience": 1, "factor": 0.5, "cooldown": 2},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 0},
    {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.01]},
    {"patience": 0, "factor": 0.1, "min_lr": 0.0, "eps": 1e-3},
], ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    t_opt, l_opt = _optimizer(torch), _optimizer(torchlite)
    t_s = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    l_s = torchlite.optim.lr_scheduler.ReduceLROnPlateau(l_opt, **kwargs)
    _assert_rows(_record(l_opt, l_s, EPOCHS, METRIC), _record(t_opt, t_s, EPOCHS, METRIC))
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(l_s, key) == getattr(t_s, key), key


def test_plateau_accepts_tensor_metric():
    opt = _optimizer(torchlite)
    sched = torchlite.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(torchlite.tensor(1.0))
    sched.step(torchlite.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.005])


# ---- state_dict ---------------------------------------------------------------------------
STATE_SPECS = [s for s in SPECS if s[0] not in ("LambdaLR", "MultiplicativeLR")] + [
    ("LambdaLR", {"lr_lambda": lambda e: 0.9 ** e})]


def _comparable(value):
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    if callable(value):
        return "<callable>"
    return value


@pytest.mark.parametrize("spec", STATE_SPECS, ids=_spec_id)
def test_state_dict_matches_torch_and_round_trips(spec):
    t_opt, l_opt = _optimizer(torch), _optimizer(torchlite)
    t_s, l_s = _sched(torch, t_opt, spec), _sched(torchlite, l_opt, spec)
    _record(t_opt, t_s, 10)
    _record(l_opt, l_s, 10)
    l_sd, t_sd = l_s.state_dict(), t_s.state_dict()
    assert sorted(l_sd) == sorted(t_sd)
    for key in t_sd:
        if not callable(t_sd[key]) and key not in ("_scale_fn_custom", "lr_lambdas"):
            assert _comparable(l_sd[key]) == _comparable(t_sd[key]), key

    saved = copy.deepcopy(l_sd)
    opt_state = copy.deepcopy(l_opt.state_dict())
    expected = _record(l_opt, l_s, 10)
    new_opt = _optimizer(torchlite)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = _sched(torchlite, new_opt, spec)
    new_opt.load_state_dict(opt_state)  # after building the scheduler, as PyTorch documents
    resumed.load_state_dict(saved)
    _assert_rows(_record(new_opt, resumed, 10), expected)


def test_composed_state_dict_round_trip():
    opt = _optimizer(torchlite)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = _sequential(torchlite, opt)
    _record(opt, sched, 7)
    saved = copy.deepcopy(sched.state_dict())
    assert len(saved["_schedulers"]) == 3 and "optimizer" not in saved
    opt_state = copy.deepcopy(opt.state_dict())
    expected = _record(opt, sched, 12)
    new_opt = _optimizer(torchlite)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = _sequential(torchlite, new_opt)
    new_opt.load_state_dict(opt_state)
    resumed.load_state_dict(saved)
    _assert_rows(_record(new_opt, resumed, 12), expected)


def test_lambda_state_dict_saves_callable_objects():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate ** epoch

    for lib in (torch, torchlite):
        opt = _optimizer(lib, groups=1)
        sched = lib.optim.lr_scheduler.LambdaLR(opt, Decay())
        assert sched.state_dict()["lr_lambdas"] == [{"rate": 0.5}]
        sd = sched.state_dict()
        sd["lr_lambdas"] = [{"rate": 0.25}]
        sched.load_state_dict(sd)
        assert sched.lr_lambdas[0].rate == 0.25


def test_scheduler_pickles_with_its_optimizer():
    opt = _optimizer(torchlite)
    sched = torchlite.optim.lr_scheduler.StepLR(opt, 3)
    opt.step()
    sched.step()
    clone = pickle.loads(pickle.dumps(sched.state_dict()))
    assert clone["last_epoch"] == 1 and clone["_last_lr"] == sched.get_last_lr()


# ---- behaviour ----------------------------------------------------------------------------
def test_initial_lr_and_base_lrs():
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
        assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0
        assert sched.get_last_lr() == [0.1, 0.05]


def _warning_messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


def test_warns_when_scheduler_steps_before_optimizer():
    msgs = []
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        msgs.append(_warning_messages(sched.step))
    assert msgs[0] == msgs[1] and len(msgs[1]) == 1
    assert msgs[1][0].startswith("Detected call of `lr_scheduler.step()` before "
                                 "`optimizer.step()`.")


def test_no_warning_in_the_right_order():
    opt = _optimizer(torchlite)
    sched = torchlite.optim.lr_scheduler.StepLR(opt, 2)
    assert _warning_messages(lambda: (opt.step(), sched.step())) == []


def test_warns_when_optimizer_step_was_replaced():
    msgs = []
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        opt.step = lambda *a, **k: None
        msgs.append(_warning_messages(sched.step))
    assert msgs[0] == msgs[1] and "has been overridden" in msgs[1][0]


def test_get_lr_outside_step_warns_like_torch():
    msgs = []
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        msgs.append(_warning_messages(sched.get_lr))
    assert msgs[0] == msgs[1] == ["To get the last learning rate computed by the scheduler, "
                                  "please use `get_last_lr()`."]


def test_step_with_epoch_uses_closed_form_and_warns():
    rows = []
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)
        opt.step()
        msgs = _warning_messages(lambda: sched.step(7))
        rows.append((msgs, sched.get_last_lr()))
    assert rows[0] == rows[1]
    assert rows[1][1] == [0.1 * 0.25, 0.05 * 0.25]


def test_warm_restarts_with_fractional_epochs():
    lrs = []
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        opt.step()
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in np.arange(0, 20, 0.7):
                sched.step(float(epoch))
                seq.append(sched.get_last_lr())
        lrs.append(seq)
    np.testing.assert_allclose(lrs[1], lrs[0], rtol=1e-12)


def test_tensor_lr_is_filled_in_place():
    p = torchlite.zeros(2, requires_grad=True)
    lr = torchlite.tensor(0.1)
    opt = torchlite.optim.SGD([p], lr=lr)
    sched = torchlite.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and math.isclose(lr.item(), 0.05, rel_tol=1e-6)


def test_resume_requires_initial_lr():
    msgs = []
    for lib in (torch, torchlite):
        opt = _optimizer(lib)
        with pytest.raises(KeyError) as info:
            lib.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


# ---- errors -------------------------------------------------------------------------------
def _err(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as exc:  # noqa: BLE001  (comparing the exceptions themselves)
        return type(exc), str(exc)
    return None


def _s(lib):
    return lib.optim.lr_scheduler


ERROR_CASES = {
    "not-optimizer": lambda lib: _s(lib).StepLR(object(), 2),
    "constant-factor": lambda lib: _s(lib).ConstantLR(_optimizer(lib), factor=2.0),
    "linear-start": lambda lib: _s(lib).LinearLR(_optimizer(lib), start_factor=0),
    "linear-end": lambda lib: _s(lib).LinearLR(_optimizer(lib), end_factor=1.5),
    "lambda-count": lambda lib: _s(lib).LambdaLR(_optimizer(lib), [lambda e: 1.0]),
    "multiplicative-type": lambda lib: _s(lib).MultiplicativeLR(_optimizer(lib), 0.5),
    "warm-T0": lambda lib: _s(lib).CosineAnnealingWarmRestarts(_optimizer(lib), T_0=0),
    "warm-Tmult": lambda lib: _s(lib).CosineAnnealingWarmRestarts(_optimizer(lib), 2,
                                                                  T_mult=0),
    "warm-eta": lambda lib: _s(lib).CosineAnnealingWarmRestarts(_optimizer(lib), 2,
                                                                eta_min="x"),
    "onecycle-none": lambda lib: _s(lib).OneCycleLR(_optimizer(lib), 0.1),
    "onecycle-total": lambda lib: _s(lib).OneCycleLR(_optimizer(lib), 0.1, total_steps=0),
    "onecycle-epochs": lambda lib: _s(lib).OneCycleLR(_optimizer(lib), 0.1, epochs=0,
                                                      steps_per_epoch=2),
    "onecycle-pct": lambda lib: _s(lib).OneCycleLR(_optimizer(lib), 0.1, total_steps=5,
                                                   pct_start=1),
    "onecycle-anneal": lambda lib: _s(lib).OneCycleLR(_optimizer(lib), 0.1, total_steps=5,
                                                      anneal_strategy="exp"),
    "onecycle-max-lr-len": lambda lib: _s(lib).OneCycleLR(_optimizer(lib), [0.1],
                                                          total_steps=5),
    "onecycle-no-momentum": lambda lib: _s(lib).OneCycleLR(_optimizer(lib, "Adagrad"), 0.1,
                                                           total_steps=5),
    "onecycle-overstep": lambda lib: [s.step() for s in [_s(lib).OneCycleLR(
        _optimizer(lib), 0.1, total_steps=2)] for _ in range(3)],
    "cyclic-mode": lambda lib: _s(lib).CyclicLR(_optimizer(lib), 0.01, 0.1, mode="sine"),
    "cyclic-no-momentum": lambda lib: _s(lib).CyclicLR(_optimizer(lib, "Adagrad"), 0.01, 0.1),
    "plateau-factor": lambda lib: _s(lib).ReduceLROnPlateau(_optimizer(lib), factor=1.0),
    "plateau-mode": lambda lib: _s(lib).ReduceLROnPlateau(_optimizer(lib), mode="avg"),
    "plateau-threshold-mode": lambda lib: _s(lib).ReduceLROnPlateau(_optimizer(lib),
                                                                    threshold_mode="x"),
    "plateau-min-lrs": lambda lib: _s(lib).ReduceLROnPlateau(_optimizer(lib), min_lr=[0.1]),
    "sequential-empty": lambda lib: _s(lib).SequentialLR(_optimizer(lib), [], []),
    "sequential-milestones": lambda lib: [
        _s(lib).SequentialLR(o, [_s(lib).StepLR(o, 2)], milestones=[3])
        for o in [_optimizer(lib)]],
    "sequential-plateau": lambda lib: [
        _s(lib).SequentialLR(o, [_s(lib).ReduceLROnPlateau(o)], milestones=[])
        for o in [_optimizer(lib)]],
    "chained-empty": lambda lib: _s(lib).ChainedScheduler([]),
    "chained-not-scheduler": lambda lib: _s(lib).ChainedScheduler([object()],
                                                                  optimizer=_optimizer(lib)),
    "warm-negative-epoch": lambda lib: _s(lib).CosineAnnealingWarmRestarts(
        _optimizer(lib), 2).step(-1),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_match_torch(name):
    t_err = _err(lambda: ERROR_CASES[name](torch))
    l_err = _err(lambda: ERROR_CASES[name](torchlite))
    assert t_err is not None
    assert l_err == t_err


def test_sequential_different_optimizer_error_matches_in_shape():
    for lib in (torch, torchlite):
        a, b = _optimizer(lib), _optimizer(lib)
        with pytest.raises(ValueError, match="^SequentialLR expects all schedulers to belong "
                                             "to the same optimizer, but got scheduler StepLR "
                                             "at index 0 has"):
            _s(lib).SequentialLR(a, [_s(lib).StepLR(b, 2)], milestones=[])
