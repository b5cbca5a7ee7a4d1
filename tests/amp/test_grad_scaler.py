"""amp.GradScaler against torch.amp.GradScaler("cpu"): the same scale trajectory (growth,
backoff on a planted inf), the same skipped steps and parameters, state_dict and errors."""
import math

import numpy as np
import pytest

import torchlite

RNG = np.random.default_rng(3)
X, Y = RNG.standard_normal((8, 4)).astype(np.float32), RNG.standard_normal((8, 2)).astype(np.float32)
W0 = RNG.standard_normal((2, 4)).astype(np.float32)
INF_STEPS = {3, 4}
NAN_STEPS = {7}


def _trajectory(module):
    model = module.nn.Linear(4, 2, bias=False)
    with module.no_grad():
        model.weight.copy_(module.tensor(W0))
    opt = module.optim.SGD(model.parameters(), lr=0.1)
    scaler = module.amp.GradScaler("cpu", init_scale=2.0 ** 4, growth_interval=2,
                                   growth_factor=2.0, backoff_factor=0.25)
    scales, weights, trackers = [], [], []
    for step in range(10):
        opt.zero_grad()
        loss = module.nn.functional.mse_loss(model(module.tensor(X)), module.tensor(Y))
        scaler.scale(loss).backward()
        if step in INF_STEPS:
            model.weight.grad[0, 1] = math.inf
        if step in NAN_STEPS:
            model.weight.grad[1, 0] = math.nan
        if step == 5:
            scaler.unscale_(opt)  # explicit unscale (e.g. before clipping), then step
            module.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler.state_dict()["_growth_tracker"])
        weights.append(model.weight.detach().numpy().copy())
    return scales, trackers, weights, scaler.state_dict()


def test_trajectory_matches_torch(torch_oracle):
    scales, trackers, weights, state = _trajectory(torchlite)
    ref_scales, ref_trackers, ref_weights, ref_state = _trajectory(torch_oracle)
    assert scales == ref_scales
    assert trackers == ref_trackers
    assert state == ref_state
    for w, r in zip(weights, ref_weights):
        np.testing.assert_allclose(w, r, rtol=1e-5, atol=1e-6)
    # the planted inf/nan steps were skipped: the weights did not move
    for step in INF_STEPS | NAN_STEPS:
        np.testing.assert_array_equal(weights[step], weights[step - 1])


def _setup(module):
    model = module.nn.Linear(4, 2)
    opt = module.optim.SGD(model.parameters(), lr=0.1)
    scaler = module.amp.GradScaler("cpu")
    scaler.scale(model(module.tensor(X)).sum()).backward()
    return opt, scaler


@pytest.mark.parametrize("sequence, message", [
    (("unscale_", "unscale_"), "unscale_\\(\\) has already been called on this optimizer"),
    (("step", "unscale_"), "unscale_\\(\\) is being called after step\\(\\)"),
    (("step", "step"), "step\\(\\) has already been called since the last update\\(\\)"),
])
def test_call_order_errors_match_torch(torch_oracle, sequence, message):
    for module in (torchlite, torch_oracle):
        opt, scaler = _setup(module)
        getattr(scaler, sequence[0])(opt)
        with pytest.raises(RuntimeError, match=message):
            getattr(scaler, sequence[1])(opt)


def test_state_dict_round_trip_and_disabled_scaler(torch_oracle):
    scaler = torchlite.amp.GradScaler("cpu", init_scale=8.0, growth_interval=5)
    ref = torch_oracle.amp.GradScaler("cpu", init_scale=8.0, growth_interval=5)
    assert scaler.state_dict() == ref.state_dict()
    other = torchlite.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 8.0 and other.get_growth_interval() == 5
    off = torchlite.amp.GradScaler("cpu", enabled=False)
    assert not off.is_enabled() and off.state_dict() == {} and off.get_scale() == 1.0
    t = torchlite.ones(2)
    assert off.scale(t) is t
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        other.load_state_dict({})
    for module in (torchlite, torch_oracle):
        with pytest.raises(AssertionError, match="The growth factor must be > 1.0."):
            module.amp.GradScaler("cpu", growth_factor=1.0)


def test_scale_of_a_list_and_update_with_new_scale(torch_oracle):
    for module in (torchlite, torch_oracle):
        scaler = module.amp.GradScaler("cpu", init_scale=4.0)
        a, b = scaler.scale([module.ones(2), module.full((1,), 3.0)])
        assert a.tolist() == [4.0, 4.0] and b.tolist() == [12.0]
        scaler.update(new_scale=2.0)
        assert scaler.get_scale() == 2.0
