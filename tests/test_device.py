"""torchlite.device and torchlite.cuda against PyTorch: parsing, repr/str/eq/hash, errors."""
import pickle

import pytest

import torchlite

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is missing")
HAS_GPU = torchlite.cuda.is_available()

SPECS = [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("cpu", 0), ("cpu:0",), ("cuda:12",)]
BAD = [("gpu",), ("cuda:x",), ("cuda:-1",), ("cuda", -1), ("cuda:1", 1), ("",), (None,),
       (1.5,), ("CUDA",), ("cuda:01",), ("cuda: 1",), ("cuda:1:2",), ("cuda:",)]


@needs_torch
@pytest.mark.parametrize("args", SPECS, ids=str)
def test_device_matches_torch(args):
    d, t = torchlite.device(*args), torch.device(*args)
    assert (repr(d), str(d), d.type, d.index) == (repr(t), str(t), t.type, t.index)


@needs_torch
@pytest.mark.parametrize("args", BAD, ids=str)
def test_bad_device_strings(args):
    with pytest.raises(Exception) as expected:
        torch.device(*args)
    with pytest.raises(expected.type) as got:
        torchlite.device(*args)
    if expected.type is RuntimeError:
        assert str(got.value) == str(expected.value)


def test_keywords_and_copy():
    d = torchlite.device(type="cuda", index=3)
    assert str(d) == "cuda:3"
    assert torchlite.device(d) is d
    assert torchlite.device(2) == torchlite.device("cuda:2")
    assert pickle.loads(pickle.dumps(d)) == d


def test_eq_hash_identity():
    a, b = torchlite.device("cuda:1"), torchlite.device("cuda", 1)
    assert a == b and hash(a) == hash(b) and a is b
    assert torchlite.device("cpu") != torchlite.device("cuda")
    assert len({torchlite.device("cpu"), torchlite.device("cpu"), a}) == 2
    assert torchlite.device("cpu") != "cpu"  # as in PyTorch: a device is not its string


def test_immutable():
    with pytest.raises(AttributeError):
        torchlite.device("cpu").index = 1


def test_cpu_index_is_dropped_by_tensors():
    t = torchlite.zeros(2, device="cpu:0")
    assert t.device == torchlite.device("cpu") and t.is_cpu and t.get_device() == -1
    assert (t + torchlite.ones(2)).device == torchlite.device("cpu")


@pytest.mark.skipif(HAS_GPU, reason="checks the CPU-only behaviour")
@pytest.mark.parametrize("call", [
    lambda m: m.zeros(2).cuda(), lambda m: m.zeros(2, device="cuda"),
    lambda m: m.zeros(2).to("cuda"), lambda m: m.tensor([1.0], device="cuda:0")])
def test_cuda_without_gpu(call):
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|NVIDIA|CuPy"):
        call(torchlite)


@pytest.mark.skipif(HAS_GPU, reason="checks the CPU-only behaviour")
def test_cuda_module_without_gpu():
    assert torchlite.cuda.is_available() is False
    assert torchlite.cuda.device_count() == 0
    torchlite.cuda.manual_seed(0)
    torchlite.cuda.manual_seed_all(0)


@pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a GPU")
def test_cuda_roundtrip():
    t = torchlite.arange(6.0).cuda()
    assert t.device == torchlite.device("cuda:0") and t.is_cuda
    assert repr(t).endswith("device='cuda:0')")
    assert t.cpu().tolist() == list(range(6))
    assert torchlite.cuda.device_count() >= 1
