"""Value statistics, gradient flow, the training dashboard, TensorView, the backprop stepper and
tensor printing on a GPU: the numbers the CPU gives for the same values, computed on the device
and copied to the host once (counted through ``graph.values.to_host``). That the device part
never waits for the GPU is checked by queueing a long matmul chain first: the stream must still
be busy when the statistics have been queued."""
import time

import ml_dtypes
import numpy as np
import pytest

import torchlite
from torchlite.graph import gradient_flow, record, values
from torchlite.graph.values import SORT_LIMIT, array_stats

from ._gpu import gpu_reason

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

EXACT = ("numel", "nan", "inf", "zeros", "min", "max")


@pytest.fixture
def cp():
    import cupy
    return cupy


@pytest.fixture
def copies(monkeypatch):
    """The number of copies to the host made through ``graph.values.to_host``."""
    count = [0]
    real = values.to_host

    def counted(arr):
        count[0] += 1
        return real(arr)
    monkeypatch.setattr(values, "to_host", counted)
    return count


def _busy(cp, seconds=0.5):
    """Queue about ``seconds`` of matmuls on the current stream (timed once, then queued)."""
    x = cp.full((4096, 4096), 1.0 / 4096, cp.float64)
    (x @ x).sum()
    cp.cuda.get_current_stream().synchronize()
    t = time.perf_counter()
    x @ x
    cp.cuda.get_current_stream().synchronize()
    one = max(time.perf_counter() - t, 1e-4)
    for _ in range(int(seconds / one) + 1):
        x = x @ x
    return x


def _same_stats(gpu, cpu):
    for k in EXACT:
        assert gpu[k] == cpu[k], k
    for k in ("mean", "std"):
        assert (gpu[k] is None) == (cpu[k] is None), k
        if cpu[k] is not None:
            assert gpu[k] == pytest.approx(cpu[k], rel=1e-6, abs=1e-12), k
    assert gpu["hist"] == cpu["hist"]


def _cases():
    rng = np.random.default_rng(0)
    for n in (1, 7, SORT_LIMIT + 1, 3 * SORT_LIMIT):
        x = rng.standard_normal(n)
        for dtype in (np.float32, np.float64, np.float16, ml_dtypes.bfloat16):
            yield f"{np.dtype(dtype).name}-{n}", x.astype(dtype)
        if n > 3:
            bad = x.astype(np.float32)
            bad[::3], bad[1], bad[2] = np.nan, np.inf, -np.inf
            yield f"nonfinite-{n}", bad
    yield "int32", rng.integers(-50, 50, 3 * SORT_LIMIT).astype(np.int32)
    yield "bool", rng.random(100) > 0.5
    yield "constant", np.full(20000, 1e10, np.float32)


CASES = dict(_cases())


@pytest.mark.parametrize("name", list(CASES))
def test_array_stats_on_the_device_equal_the_host_in_one_copy(cp, copies, name):
    x = CASES[name]
    cpu = array_stats(x, np)
    t = torchlite.from_numpy(x.copy()).to("cuda")
    gpu = array_stats(t._data, t._device.xp)
    _same_stats(gpu, cpu)
    assert copies[0] == (1 if not (cpu["nan"] or cpu["inf"]) else 2)


def test_array_stats_across_device_chunks(cp):
    x = (np.random.default_rng(1).standard_normal(values.DEVICE_CHUNK + 5) * 3 + 100).astype(
        np.float32)
    _same_stats(array_stats(cp.asarray(x), cp), array_stats(x, np))


@pytest.mark.parametrize("n", [1000, 3 * SORT_LIMIT, values.DEVICE_CHUNK + 5])
def test_device_statistics_never_wait_for_the_gpu(cp, n):
    a = cp.asarray(np.random.default_rng(2).standard_normal(n).astype(np.float32))

    def queue():
        return [cp.count_nonzero(a == 0), *values.finite_stats(a, cp, a.min(), a.max())]
    values.host_floats(cp, queue())   # compiles the kernels, fills the memory pool
    busy = _busy(cp)
    pending = queue()
    assert not cp.cuda.get_current_stream().done, "a statistic waited for the GPU"
    assert len(values.host_floats(cp, pending)) > 20
    del busy


def test_recorded_stats_of_cuda_tensors_equal_the_cpu_stats(cp):
    x = torchlite.randn(3000, device="cuda", requires_grad=True)
    with record(values="stats") as g:
        y = (x * 2).exp()
        y.sum().backward()
    out = g.ops[1]["outputs"][0]
    assert out["device"] == "cuda:0"
    _same_stats(out["stats"], array_stats(y.detach().cpu().numpy(), np))
    leaf = next(n for n in g.nodes if n["kind"] != "op" and n["outputs"][0]["requires_grad"])
    _same_stats(leaf["outputs"][0]["grad_stats"], array_stats(x.grad.cpu().numpy(), np))


def _models():
    torchlite.manual_seed(0)
    cpu = torchlite.nn.Sequential(torchlite.nn.Linear(20, 30), torchlite.nn.ReLU(),
                                  torchlite.nn.Linear(30, 5))
    gpu = torchlite.nn.Sequential(torchlite.nn.Linear(20, 30), torchlite.nn.ReLU(),
                                  torchlite.nn.Linear(30, 5)).to("cuda")
    gpu.load_state_dict({k: v.to("cuda") for k, v in cpu.state_dict().items()})
    return cpu, gpu


def _loss(model, device):
    x = torchlite.from_numpy(np.random.default_rng(3).standard_normal((8, 20)).astype(
        np.float32)).to(device)
    return model(x).square().mean()


def test_gradient_flow_on_the_gpu_equals_the_cpu(cp, copies):
    cpu, gpu = _models()
    _loss(cpu, "cpu").backward()
    _loss(gpu, "cuda").backward()
    before = copies[0]
    flow_gpu = gradient_flow(gpu, lr=0.1)
    assert copies[0] - before == 1   # every norm and zero count in one copy
    flow_cpu = gradient_flow(cpu, lr=0.1)
    for r_gpu, r_cpu in zip(flow_gpu, flow_cpu):
        for k in ("grad_norm", "weight_norm", "update_ratio", "zero_frac"):
            assert r_gpu[k] == pytest.approx(r_cpu[k], rel=1e-5), (r_cpu["name"], k)
        assert r_gpu["flags"] == r_cpu["flags"]


def test_dashboard_copies_a_statistics_step_once_and_matches_the_cpu(cp, copies):
    from torchlite.viz import TrainingDashboard

    rows = {}
    for device, model in zip(("cpu", "cuda"), _models()):
        # not plain SGD: the update ratios come from the parameters' change
        opt = torchlite.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
        dash = TrainingDashboard(model, opt, every=2, activations=True)
        for step in range(5):
            opt.zero_grad()
            loss = _loss(model, device)
            loss.backward()
            opt.step()
            before = copies[0]
            dash.log(step, loss=loss, acc=torchlite.tensor(0.5, device=device))
            if device == "cuda":   # loss, metrics, norms, ratios, activations: one copy
                assert copies[0] - before == 1
        rows[device] = dash.history
    for key in ("layers",):
        np.testing.assert_allclose(np.array(rows["cuda"][key], np.float64),
                                   np.array(rows["cpu"][key], np.float64), rtol=1e-4)
    np.testing.assert_allclose(np.array(rows["cuda"]["activations"]["rows"], np.float64),
                               np.array(rows["cpu"]["activations"]["rows"], np.float64),
                               rtol=1e-4, atol=1e-6)
    assert rows["cuda"]["series"]["loss"] == pytest.approx(rows["cpu"]["series"]["loss"],
                                                           rel=1e-5)


def test_parameter_norms_never_wait_for_the_gpu(cp):
    _, gpu = _models()
    _loss(gpu, "cuda").backward()
    params = [(p._device, p._grad._data) for p in gpu.parameters()]
    values.norms(params)   # warm-up
    busy = _busy(cp)
    pending = [values._squared_norm(cp, a) for _, a in params]
    assert not cp.cuda.get_current_stream().done, "a norm waited for the GPU"
    assert len(values.host_floats(cp, pending)) == len(params)
    del busy


def test_print_of_a_large_cuda_tensor_equals_the_cpu_print(cp):
    t = torchlite.randn(300, 400)
    text = repr(t.to("cuda"))
    assert "device='cuda:0'" in text
    assert text.replace(",\n       device='cuda:0'", "").replace(", device='cuda:0'", "") == \
        repr(t)


def test_tensor_view_and_stepper_on_the_gpu_equal_the_cpu(cp):
    from torchlite.viz import TensorView
    from torchlite.viz._backprop import backprop_steps

    t = torchlite.randn(40, 30)
    gpu, cpu = TensorView(t.to("cuda")), TensorView(t)
    assert gpu.summary() == cpu.summary() + " cuda:0"
    assert gpu.image_png() == cpu.image_png()
    steps = {}
    w0 = np.random.default_rng(4).standard_normal((5, 7)).astype(np.float32)
    for device in ("cpu", "cuda"):
        w = torchlite.from_numpy(w0.copy()).to(device).requires_grad_()
        steps[device] = backprop_steps((w.tanh() * 3).sum(), names={"w": w})[1]
    assert len(steps["cuda"]) == len(steps["cpu"])
    for a, b in zip(steps["cuda"], steps["cpu"]):
        got, ref = a["grad_in"][0], b["grad_in"][0]
        assert got.keys() == ref.keys()
        if "summary" in ref:   # 35 entries: only the four summary numbers were copied
            assert got["summary"] == pytest.approx(ref["summary"], rel=1e-6)
        else:
            assert got["text"] == ref["text"]
