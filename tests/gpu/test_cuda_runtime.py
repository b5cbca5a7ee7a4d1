"""torchlite.cuda on a GPU: device queries, memory statistics, events, streams, device errors."""
import io

import numpy as np
import pytest

import torchlite

from ._gpu import gpu_reason

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))


def test_device_queries():
    assert torchlite.cuda.is_available() and torchlite.cuda.device_count() >= 1
    assert torchlite.accelerator.current_accelerator() == torchlite.device("cuda")
    props = torchlite.cuda.get_device_properties(0)
    assert props.total_memory > 2 ** 30 and props.name == torchlite.cuda.get_device_name()
    assert torchlite.cuda.current_device() == 0
    torchlite.cuda.set_device(0)
    torchlite.cuda.synchronize()


def test_memory_stats_follow_allocations():
    torchlite.cuda.empty_cache()
    torchlite.cuda.reset_peak_memory_stats()
    base = torchlite.cuda.memory_allocated()
    x = torchlite.empty(64, 1024, 1024, device="cuda")  # 256 MiB of float32
    assert torchlite.cuda.memory_allocated() - base >= 256 * 2 ** 20
    assert torchlite.cuda.memory_reserved() >= torchlite.cuda.memory_allocated()
    del x
    assert torchlite.cuda.memory_allocated() - base < 2 ** 20
    assert torchlite.cuda.max_memory_allocated() - base >= 256 * 2 ** 20
    torchlite.cuda.reset_peak_memory_stats()
    assert torchlite.cuda.max_memory_allocated() - base < 2 ** 20
    assert "Allocated memory" in torchlite.cuda.memory_summary()
    torchlite.cuda.empty_cache()


def test_event_timing_and_stream_context():
    start = torchlite.cuda.Event(enable_timing=True)
    end = torchlite.cuda.Event(enable_timing=True)
    a = torchlite.randn(1024, 1024, device="cuda")
    s = torchlite.cuda.Stream()
    start.record()
    with torchlite.cuda.stream(s):
        assert torchlite.cuda.current_stream() == s
        b = a @ a
    torchlite.cuda.current_stream().wait_stream(s)
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0
    np.testing.assert_allclose(b.cpu().numpy(), (a.cpu() @ a.cpu()).numpy(), rtol=1e-3,
                               atol=1e-3)


def test_tf32_switch_reaches_cupy():
    a = torchlite.randn(512, 512, device="cuda")
    exact = (a.double() @ a.double()).float().cpu().numpy()
    torchlite.backends.cuda.matmul.allow_tf32 = False
    full = np.abs((a @ a).cpu().numpy() - exact).max()
    torchlite.backends.cuda.matmul.allow_tf32 = True
    try:
        tf32 = np.abs((a @ a).cpu().numpy() - exact).max()
    finally:
        torchlite.backends.cuda.matmul.allow_tf32 = False
    assert tf32 > full  # TF32 rounds the inputs to 10 mantissa bits


def test_mixed_devices_and_transfers():
    a = torchlite.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices"):
        a + torchlite.ones(3)
    b = torchlite.arange(3.0).to("cuda", non_blocking=True)
    assert b.device.type == "cuda" and b.cpu().tolist() == [0.0, 1.0, 2.0]
    buf = io.BytesIO()
    torchlite.save({"b": b}, buf)
    buf.seek(0)
    loaded = torchlite.load(buf, map_location="cpu")
    assert loaded["b"].device.type == "cpu" and loaded["b"].tolist() == [0.0, 1.0, 2.0]
