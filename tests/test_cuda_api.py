"""torchlite.cuda, accelerator and backends on a machine without a GPU behave like CPU-only
PyTorch: same return values, same exception types (PyTorch 2.13 CPU is the oracle)."""
import importlib.util

import pytest

import torchlite

pytestmark = pytest.mark.skipif(torchlite.cuda.is_available(),
                                reason="these check the CPU-only behaviour; tests/gpu runs the "
                                       "GPU ones")

CALLS = {
    "is_available": lambda m: m.cuda.is_available(),
    "device_count": lambda m: m.cuda.device_count(),
    "current_device": lambda m: m.cuda.current_device(),
    "set_device_cpu": lambda m: m.cuda.set_device("cpu"),
    "get_device_name": lambda m: m.cuda.get_device_name(),
    "get_device_properties": lambda m: m.cuda.get_device_properties(0),
    "get_device_capability": lambda m: m.cuda.get_device_capability(),
    "synchronize": lambda m: m.cuda.synchronize(),
    "manual_seed": lambda m: m.cuda.manual_seed(1),
    "manual_seed_all": lambda m: m.cuda.manual_seed_all(1),
    "memory_allocated": lambda m: m.cuda.memory_allocated(),
    "max_memory_allocated": lambda m: m.cuda.max_memory_allocated(),
    "memory_reserved": lambda m: m.cuda.memory_reserved(),
    "max_memory_reserved": lambda m: m.cuda.max_memory_reserved(),
    "empty_cache": lambda m: m.cuda.empty_cache(),
    "memory_stats": lambda m: dict(m.cuda.memory_stats()),
    "mem_get_info": lambda m: m.cuda.mem_get_info(),
    "Event": lambda m: m.cuda.Event(enable_timing=True),
    "Stream": lambda m: m.cuda.Stream(),
    "current_stream": lambda m: m.cuda.current_stream(),
    "stream_none": lambda m: m.cuda.stream(None).__enter__(),
    "is_bf16_supported": lambda m: m.cuda.is_bf16_supported(),
    "is_initialized": lambda m: m.cuda.is_initialized(),
    "init": lambda m: m.cuda.init(),
    "tensor_on_cuda": lambda m: m.ones(2, device="cuda"),
    "Tensor.cuda": lambda m: m.ones(2).cuda(),
    "to_cuda_non_blocking": lambda m: m.ones(2).to("cuda", non_blocking=True),
    "accelerator.is_available": lambda m: m.accelerator.is_available(),
    "accelerator.current_accelerator": lambda m: m.accelerator.current_accelerator(),
    "accelerator.device_count": lambda m: m.accelerator.device_count(),
    "accelerator.current_device_index": lambda m: m.accelerator.current_device_index(),
    "backends.cuda.matmul.allow_tf32": lambda m: m.backends.cuda.matmul.allow_tf32,
    "backends.cudnn.allow_tf32": lambda m: m.backends.cudnn.allow_tf32,
    "backends.cudnn.benchmark": lambda m: m.backends.cudnn.benchmark,
    "backends.cudnn.deterministic": lambda m: m.backends.cudnn.deterministic,
    "backends.cudnn.enabled": lambda m: m.backends.cudnn.enabled,
    "backends.cudnn.is_available": lambda m: m.backends.cudnn.is_available(),
}


def _outcome(module, call):
    try:
        return "returns", call(module)
    except Exception as e:  # the exception type is the behaviour under test
        return "raises", type(e)


@pytest.mark.parametrize("name", CALLS)
def test_cpu_only_behaviour_matches_torch(torch_oracle, name):
    kind, got = _outcome(torchlite, CALLS[name])
    ref_kind, ref = _outcome(torch_oracle, CALLS[name])
    assert kind == ref_kind, (name, got, ref)
    if kind == "raises":
        assert got is ref
    else:
        assert got == ref or (got is None and ref is None)


@pytest.mark.parametrize("name, call", [
    # CPU-only PyTorch fails these on a missing C binding (AttributeError / KeyError); a CUDA build
    # without a device raises its "not compiled"/"no device" error kind, which torchlite follows.
    ("set_device", lambda: torchlite.cuda.set_device(0)),
    ("reset_peak_memory_stats", torchlite.cuda.reset_peak_memory_stats),
    ("memory_summary", torchlite.cuda.memory_summary),
    ("device context", lambda: torchlite.cuda.device(0).__enter__()),
])
def test_device_functions_raise_not_compiled(name, call):
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        call()


def test_not_compiled_error_says_why_there_is_no_gpu():
    """Installed CuPy without a driver or device, or no CuPy: the error names the cause."""
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled: .*CuPy"):
        torchlite.cuda.current_device()


def test_is_built_means_cupy_is_installed(torch_oracle):
    """PyTorch's is_built() is True for a CUDA build on a machine without a usable GPU; torchlite's
    CUDA build is CuPy, so it follows CuPy's presence (CPU-only PyTorch's False without CuPy)."""
    has_cupy = importlib.util.find_spec("cupy") is not None
    assert torchlite.backends.cuda.is_built() is has_cupy
    if not has_cupy:
        assert torch_oracle.backends.cuda.is_built() is False


def test_backend_switches_are_settable():
    b = torchlite.backends
    saved = (b.cuda.matmul.allow_tf32, b.cudnn.allow_tf32, b.cudnn.benchmark,
             b.cudnn.deterministic)
    try:
        b.cuda.matmul.allow_tf32 = True
        b.cudnn.allow_tf32 = False
        b.cudnn.benchmark = True
        b.cudnn.deterministic = True
        assert (b.cuda.matmul.allow_tf32, b.cudnn.allow_tf32, b.cudnn.benchmark,
                b.cudnn.deterministic) == (True, False, True, True)
    finally:
        (b.cuda.matmul.allow_tf32, b.cudnn.allow_tf32, b.cudnn.benchmark,
         b.cudnn.deterministic) = saved


def test_cuda_autocast_and_scaler_disable_themselves_with_torch_warnings(torch_oracle):
    for mod in (torchlite, torch_oracle):
        with pytest.warns(UserWarning, match="CUDA is not available"):
            ctx = mod.autocast("cuda")
        with ctx:
            assert not mod.is_autocast_enabled("cuda")
        with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
            assert not mod.amp.GradScaler("cuda").is_enabled()


def test_mixed_device_error_message_names_both_devices():
    """Function.apply's device check, with a tensor that claims to live on cuda:0 (no GPU here
    to make a real one; tests/gpu runs the same check with one)."""
    cpu = torchlite.ones(2)
    fake = torchlite.ones(2)
    fake._device = torchlite.device("cuda", 0)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices, cuda:0 and cpu!"):
        cpu + fake


def _cuda_checkpoint(torch):
    """A PyTorch checkpoint whose storages say 'cuda:0' (PyTorch's CPU build cannot make one:
    the location string in data.pkl, a protocol-2 BINUNICODE, is rewritten)."""
    import io
    import zipfile
    buf = io.BytesIO()
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "step": 3}, buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                assert b"X\x03\x00\x00\x00cpu" in data
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize("map_location", ["cpu", "dict", "callable", "device"])
def test_load_cuda_checkpoint_with_map_location(torch_oracle, map_location):
    import io
    blob = _cuda_checkpoint(torch_oracle)
    where = {"cpu": "cpu", "dict": {"cuda:0": "cpu"},
             "callable": lambda storage, loc: storage, "device": None}[map_location]
    for module in (torchlite, torch_oracle):
        loc = module.device("cpu") if where is None else where
        state = module.load(io.BytesIO(blob), map_location=loc)
        assert state["step"] == 3 and state["w"].device.type == "cpu"
        assert state["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_load_cuda_checkpoint_without_map_location_raises_like_torch(torch_oracle):
    import io
    blob = _cuda_checkpoint(torch_oracle)
    for module in (torch_oracle, torchlite):
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA "
                                               "device but torch.cuda.is_available\\(\\) is False"):
            module.load(io.BytesIO(blob))
