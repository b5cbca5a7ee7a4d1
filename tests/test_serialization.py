"""torchlite.save / torchlite.load against PyTorch as the oracle: files move both ways, shared
storages stay shared, weights_only refuses code, saves are atomic, corrupt files fail clearly."""
import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import torchlite as tl
import torchlite.serialization as ser

torch = pytest.importorskip("torch", reason="torch is the oracle of these tests")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


class Point:
    """A user class for the safe_globals tests (pickled by reference to this module)."""

    def __init__(self, x, y):
        self.x, self.y = x, y


def to_np(t):
    """A tensor of either library as a NumPy array (bfloat16 widened to float32)."""
    if isinstance(t, tl.Tensor):
        return np.asarray(t.detach().float() if t.dtype == tl.bfloat16 else t.detach())
    return (t.detach().float() if t.dtype == torch.bfloat16 else t.detach()).numpy()


def assert_same(tl_t, torch_t):
    assert str(tl_t.dtype) == str(torch_t.dtype)
    assert tuple(tl_t.shape) == tuple(torch_t.shape)
    assert tl_t.requires_grad == torch_t.requires_grad
    np.testing.assert_array_equal(to_np(tl_t), to_np(torch_t))


def torch_sample(name, shape=(3, 4)):
    dt = getattr(torch, name)
    if name == "bool":
        return torch.rand(shape) > 0.5
    if dt.is_floating_point or dt.is_complex:
        return (torch.randn(shape, dtype=torch.float64) * 10).to(dt)
    return torch.randint(0, 100, shape).to(dt)


def tl_sample(name, shape=(3, 4)):
    return tl.tensor(to_np(torch_sample(name, shape))).to(getattr(tl, name))


def torch_roundtrip(obj, **kwargs):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return tl.load(buf, **kwargs)


def tl_roundtrip(obj, **kwargs):
    buf = io.BytesIO()
    tl.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, **kwargs)


def rewrite(raw, edit):
    """A checkpoint's bytes with each record replaced by ``edit(name, data)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)))
    return out.getvalue()


def relocated(raw, location):
    """A checkpoint whose storages are tagged with another location (``cuda:0``)."""
    old, new = b"X\x03\x00\x00\x00cpu", b"X" + struct.pack("<I", len(location)) + location.encode()
    return rewrite(raw, lambda n, d: d.replace(old, new) if n.endswith("data.pkl") else d)


def saved_by_tl(obj):
    buf = io.BytesIO()
    tl.save(obj, buf)
    return buf.getvalue()


# ---- PyTorch -> torchlite ---------------------------------------------------------------

@pytest.mark.parametrize("name", DTYPES)
def test_torch_file_every_dtype(name):
    src = {"t": torch_sample(name), "scalar": torch_sample(name, ()),
           "empty": torch_sample(name, (0, 3)), "strided": torch_sample(name, (4, 6))[::2, 1::2],
           "transposed": torch_sample(name, (2, 5)).t()}
    out = torch_roundtrip(src)
    for key, t in src.items():
        assert_same(out[key], t)


def test_torch_state_dict_loads_into_torchlite_model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 2))
    net(torch.randn(5, 4))  # running stats move
    sd = torch_roundtrip(net.state_dict())
    assert isinstance(sd, collections.OrderedDict)
    assert list(sd) == list(net.state_dict())
    assert sd._metadata == net.state_dict()._metadata
    for key, t in net.state_dict().items():
        assert_same(sd[key], t)
    mine = tl.nn.Sequential(tl.nn.Linear(4, 8), tl.nn.BatchNorm1d(8), tl.nn.ReLU(),
                            tl.nn.Linear(8, 2))
    mine.load_state_dict(sd)
    net.eval()
    mine.eval()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(to_np(mine(tl.tensor(x))), to_np(net(torch.tensor(x))),
                               rtol=1e-5, atol=1e-6)


def test_torch_optimizer_state_dict():
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    src = opt.state_dict()
    out = torch_roundtrip(src)
    assert out["param_groups"] == src["param_groups"]
    assert out["state"].keys() == src["state"].keys()
    for i, state in src["state"].items():
        for key, t in state.items():
            assert_same(out["state"][i][key], t)


def test_torch_nested_containers_and_python_values():
    t = torch.arange(4.0)
    src = {"list": [t, 1, 2.5, "s", None, True], "tuple": (t, (t * 2,)), "set": {1, 2},
           "complex": 1 - 2j, "bytes": b"\x00\xff", "bytearray": bytearray(b"ab"),
           "dtype": torch.bfloat16, "device": torch.device("cpu"), "size": torch.Size([2, 3]),
           "counter": collections.Counter("aab"), "nested": {"deep": [{"x": t[1:]}]}}
    out = torch_roundtrip(src)
    assert out["list"][1:] == [1, 2.5, "s", None, True]
    assert out["set"] == {1, 2} and out["complex"] == 1 - 2j
    assert out["bytes"] == b"\x00\xff" and out["bytearray"] == bytearray(b"ab")
    assert out["dtype"] is tl.bfloat16 and out["device"] == tl.device("cpu")
    assert out["size"] == tl.Size([2, 3]) and isinstance(out["size"], tl.Size)
    assert out["counter"] == collections.Counter("aab")
    assert_same(out["tuple"][1][0], t * 2)
    assert_same(out["nested"]["deep"][0]["x"], t[1:])


def test_torch_shared_storage_comes_back_shared():
    base = torch.arange(12.0)
    weight = torch.nn.Parameter(torch.randn(3, 2))
    src = {"base": base, "view": base[2:8].view(2, 3).t(), "again": base, "tied1": weight,
           "tied2": weight, "other": torch.nn.Parameter(weight.data)}
    out = torch_roundtrip(src)
    assert out["again"] is out["base"] and out["tied2"] is out["tied1"]
    assert isinstance(out["tied1"], tl.nn.Parameter) and out["tied1"].requires_grad
    assert_same(out["view"], src["view"])
    out["base"][3] = -1.0  # the view sees writes to its base
    assert out["view"][1, 0].item() == -1.0
    with tl.no_grad():
        out["tied1"][0, 0] = 42.0
    assert out["other"][0, 0].item() == 42.0


def test_torch_legacy_format():
    base = torch.arange(6, dtype=torch.float64)
    buf = io.BytesIO()
    torch.save({"a": base, "v": base[1:4], "i": torch.tensor([1, 2])}, buf,
               _use_new_zipfile_serialization=False)
    buf.seek(0)
    out = tl.load(buf)
    assert_same(out["a"], base)
    assert_same(out["v"], base[1:4])
    assert_same(out["i"], torch.tensor([1, 2]))
    out["a"][2] = 100.0
    assert out["v"][1].item() == 100.0


def test_torch_file_loads_without_torch(tmp_path):
    """torchlite never imports torch: a PyTorch checkpoint loads where torch cannot be imported."""
    import subprocess
    import sys
    path = tmp_path / "w.pt"
    torch.save({"w": torch.arange(6.0).view(2, 3), "step": 7}, path)
    code = ("import sys; sys.modules['torch'] = None; import torchlite; "
            f"d = torchlite.load({str(path)!r}); print(d['w'].sum().item(), d['step'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["15.0", "7"]


def test_torch_whole_module_loads_as_torchlite_module():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    mine = torch_roundtrip(net, weights_only=False)
    assert type(mine) is tl.nn.Sequential and repr(mine) == repr(net)
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(to_np(mine(tl.tensor(x))), to_np(net(torch.tensor(x))),
                               rtol=1e-6)


def test_legacy_truncated():
    buf = io.BytesIO()
    torch.save({"a": torch.arange(100.0)}, buf, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="legacy checkpoint"):
        tl.load(io.BytesIO(buf.getvalue()[:-50]))


# ---- torchlite -> PyTorch ---------------------------------------------------------------

@pytest.mark.parametrize("name", DTYPES)
def test_torchlite_file_every_dtype(name):
    src = {"t": tl_sample(name), "scalar": tl_sample(name, ()), "empty": tl_sample(name, (0, 3)),
           "strided": tl_sample(name, (4, 6))[::2, 1::2], "transposed": tl_sample(name, (2, 5)).t()}
    out = tl_roundtrip(src, weights_only=True)
    for key, t in src.items():
        assert_same(t, out[key])


def test_torchlite_shared_storage_in_torch():
    base = tl.arange(12.0)
    src = {"base": base, "view": base[2:8].view(2, 3).t(), "again": base,
           "expanded": base[:3].expand(4, 3), "windows": base.unfold(0, 3, 2)}
    out = tl_roundtrip(src, weights_only=True)
    assert out["again"] is out["base"]
    for key in ("expanded", "windows"):
        assert out[key].untyped_storage().data_ptr() == out["base"].untyped_storage().data_ptr()
        assert_same(src[key], out[key])
    assert out["expanded"].stride() == (0, 1) and out["windows"].stride() == (2, 1)
    assert out["view"].untyped_storage().data_ptr() == out["base"].untyped_storage().data_ptr()
    assert out["view"].storage_offset() == 2 and out["view"].stride() == (1, 3)
    assert_same(src["view"], out["view"])


def test_fortran_ordered_numpy_memory_keeps_its_layout():
    arr = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    src = {"t": tl.from_numpy(arr), "v": tl.from_numpy(arr[:, 1:])}
    out = tl_roundtrip(src, weights_only=True)
    assert out["t"].stride() == (1, 2) and out["v"].storage_offset() == 2
    assert out["v"].untyped_storage().data_ptr() == out["t"].untyped_storage().data_ptr()
    for key in src:
        assert_same(src[key], out[key])


def test_torchlite_file_layout():
    raw = saved_by_tl({"a": tl.ones(3), "b": tl.zeros(2, dtype=tl.int64)})
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert z.namelist() == [
            "archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
            "archive/byteorder", "archive/data/0", "archive/data/1", "archive/version",
            "archive/.data/serialization_id"]
        assert z.read("archive/version") == b"3\n"
        assert z.read("archive/byteorder") == b"little"
        assert z.read("archive/data.pkl")[:2] == b"\x80\x02"  # protocol 2
        assert np.frombuffer(z.read("archive/data/1"), "<i8").tolist() == [0, 0]
        for info in z.infolist():  # every record's data starts on a 64-byte boundary
            name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:][:4])
            assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0
            assert info.compress_type == zipfile.ZIP_STORED


class _Stream:
    """A write-only or read-only stream: no seek, no tell (a pipe or a socket)."""

    def __init__(self, data=b""):
        self.buf = io.BytesIO(data)

    def write(self, data):
        return self.buf.write(data)

    def flush(self):
        pass

    def read(self, n=-1):
        return self.buf.read(n)

    def seekable(self):
        return False


def test_unseekable_streams():
    out = _Stream()
    tl.save({"w": tl.arange(3.0)}, out)
    raw = out.buf.getvalue()
    assert torch.load(io.BytesIO(raw))["w"].tolist() == [0.0, 1.0, 2.0]
    assert tl.load(_Stream(raw))["w"].tolist() == [0.0, 1.0, 2.0]


def test_archive_named_after_file_stem(tmp_path):
    tl.save(tl.ones(2), tmp_path / "model.v1.pt")
    with zipfile.ZipFile(tmp_path / "model.v1.pt") as z:
        assert z.namelist()[0] == "model.v1/data.pkl"
    tl.save(tl.ones(2), str(tmp_path / "plain"))
    assert torch.load(str(tmp_path / "plain")).tolist() == [1.0, 1.0]
    assert tl.load(tmp_path / "model.v1.pt").tolist() == [1.0, 1.0]


def test_torchlite_state_dict_and_parameters_in_torch():
    tl.manual_seed(0)
    mine = tl.nn.Sequential(tl.nn.Linear(4, 3), tl.nn.LayerNorm(3), tl.nn.Linear(3, 2))
    sd = tl_roundtrip(mine.state_dict(), weights_only=True)
    assert isinstance(sd, collections.OrderedDict)
    assert sd._metadata == mine.state_dict()._metadata
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3),
                              torch.nn.Linear(3, 2))
    net.load_state_dict(sd)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(to_np(net(torch.tensor(x))), to_np(mine(tl.tensor(x))),
                               rtol=1e-5, atol=1e-6)
    params = tl_roundtrip({"p": mine[0].weight, "g": tl.ones(2, requires_grad=True)})
    assert isinstance(params["p"], torch.nn.Parameter) and params["p"].requires_grad
    assert params["g"].requires_grad and type(params["g"]) is torch.Tensor


def test_torchlite_optimizer_state_dict_in_torch():
    net = tl.nn.Linear(3, 2)
    opt = tl.optim.Adam(net.parameters(), lr=0.01)
    net(tl.ones(4, 3)).sum().backward()
    opt.step()
    src = opt.state_dict()
    out = tl_roundtrip(src, weights_only=True)
    assert out["param_groups"] == src["param_groups"]
    for i, state in src["state"].items():
        for key, t in state.items():
            assert_same(t, out["state"][i][key])
    back = tl.load(io.BytesIO(saved_by_tl(src)))
    assert back["param_groups"] == src["param_groups"]


def test_torchlite_python_values_in_torch():
    src = {"dtype": tl.float16, "device": tl.device("cpu"), "size": tl.Size([1, 2]), "c": 2j,
           "set": {3}, "bytes": b"xy", "none": None}
    out = tl_roundtrip(src, weights_only=True)
    assert out == {"dtype": torch.float16, "device": torch.device("cpu"),
                   "size": torch.Size([1, 2]), "c": 2j, "set": {3}, "bytes": b"xy",
                   "none": None}
    assert tl.load(io.BytesIO(saved_by_tl(src))) == src


def test_views_of_one_memory_as_two_dtypes_refused_like_torch():
    x = tl.ones(2)
    with pytest.raises(RuntimeError) as mine:
        tl.save([x, x.view(tl.int32)], io.BytesIO())
    y = torch.ones(2)
    with pytest.raises(RuntimeError) as theirs:
        torch.save([y, y.view(torch.int32)], io.BytesIO())
    assert str(mine.value) == str(theirs.value)


# ---- torchlite -> torchlite -------------------------------------------------------------

def test_whole_module_roundtrip_needs_weights_only_false():
    tl.manual_seed(0)
    model = tl.nn.Sequential(tl.nn.Linear(3, 4), tl.nn.ReLU(), tl.nn.Linear(4, 1))
    raw = saved_by_tl({"model": model, "epoch": 3})
    out = tl.load(io.BytesIO(raw), weights_only=False)
    x = tl.randn(2, 3)
    assert type(out["model"]) is tl.nn.Sequential and out["epoch"] == 3
    np.testing.assert_array_equal(to_np(out["model"](x)), to_np(model(x)))
    assert repr(out["model"]) == repr(model)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL "
                       "torchlite.nn.modules.container.Sequential was not an allowed global"):
        tl.load(io.BytesIO(raw))


def test_tied_parameters_roundtrip():
    a, b = tl.nn.Linear(3, 3), tl.nn.Linear(3, 3)
    b.weight = a.weight
    out = tl.load(io.BytesIO(saved_by_tl({"a": a, "b": b})), weights_only=False)
    assert out["a"].weight is out["b"].weight
    out = tl.load(io.BytesIO(saved_by_tl([a.weight, tl.nn.Parameter(a.weight.detach())])))
    with tl.no_grad():
        out[0][1, 1] = 7.0
    assert out[1][1, 1].item() == 7.0


def test_mmap_load_is_copy_on_write(tmp_path):
    path = tmp_path / "w.pt"
    tl.save({"w": tl.arange(10.0), "i": tl.arange(4)}, path)
    before = path.read_bytes()
    out = tl.load(path, mmap=True)
    assert out["w"].tolist() == list(map(float, range(10))) and out["i"].tolist() == [0, 1, 2, 3]
    out["w"].add_(1.0)
    assert out["w"][0].item() == 1.0 and path.read_bytes() == before
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        tl.load(io.BytesIO(before), mmap=True)
    legacy = io.BytesIO()
    torch.save(torch.ones(1), legacy, _use_new_zipfile_serialization=False)
    (tmp_path / "old.pt").write_bytes(legacy.getvalue())
    with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
        tl.load(str(tmp_path / "old.pt"), mmap=True)


def test_big_endian_checkpoint():
    src = {"f": tl.arange(5.0), "c": tl.tensor([1 + 2j]), "b": tl.tensor([True, False])}
    raw = saved_by_tl(src)

    def to_big(name, data):
        if name.endswith("byteorder"):
            return b"big"
        if "/data/" in name:
            dtype = {"0": "<f4", "1": "<c8", "2": "|b1"}[name.rsplit("/", 1)[1]]
            return np.frombuffer(data, dtype).byteswap().tobytes()
        return data
    out = tl.load(io.BytesIO(rewrite(raw, to_big)))
    for key, t in src.items():
        np.testing.assert_array_equal(to_np(out[key]), to_np(t))


# ---- map_location -----------------------------------------------------------------------

@pytest.mark.parametrize("where", [None, "cpu", b"cpu", tl.device("cpu"), {"cpu": "cpu"},
                                   lambda storage, loc: storage, lambda storage, loc: None,
                                   lambda storage, loc: storage.cpu()])
def test_map_location_forms(where):
    out = tl.load(io.BytesIO(saved_by_tl({"a": tl.ones(2)})), map_location=where)
    assert out["a"].device == tl.device("cpu") and out["a"].tolist() == [1.0, 1.0]


def test_map_location_for_cuda_checkpoints():
    raw = relocated(saved_by_tl({"a": tl.arange(3.0), "v": tl.ones(2)}), "cuda:0")
    assert torch.load(io.BytesIO(raw), map_location="cpu")["a"].tolist() == [0.0, 1.0, 2.0]
    seen = []

    def record(storage, location):
        seen.append((location, storage.device))
        return storage
    out = tl.load(io.BytesIO(raw), map_location=record)
    assert seen == [("cuda:0", tl.device("cpu"))] * 2 and out["a"].tolist() == [0.0, 1.0, 2.0]
    out = tl.load(io.BytesIO(raw), map_location={"cuda:0": "cpu"})
    assert out["a"].device == tl.device("cpu")
    if tl.cuda.is_available():
        assert tl.load(io.BytesIO(raw))["a"].device.type == "cuda"
        assert tl.load(io.BytesIO(raw), map_location="cuda")["v"].is_cuda
        return
    for where in (None, "cuda", tl.device("cuda:0"), lambda s, loc: None):
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA "
                           r"device but torch.cuda.is_available\(\) is False"):
            tl.load(io.BytesIO(raw), map_location=where)


# ---- atomic saves -----------------------------------------------------------------------

def test_failed_pickling_leaves_previous_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    tl.save({"step": 1, "w": tl.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        tl.save({"w": tl.zeros(3), "b": tl.zeros(2), "bad": lambda: None}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    assert tl.load(path)["step"] == 1


def test_failed_write_leaves_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    tl.save({"w": tl.ones(3)}, path)
    before = path.read_bytes()
    real = zipfile.ZipFile.writestr
    calls = []

    def failing(self, info, data, *args, **kwargs):
        calls.append(info)
        if len(calls) == 5:  # after data.pkl and the headers: inside the storages
            raise OSError("disk full")
        return real(self, info, data, *args, **kwargs)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        tl.save({"w": tl.zeros(3), "v": tl.zeros(4)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]


def test_new_file_gets_normal_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    tl.save(tl.ones(1), tmp_path / "new.pt")
    assert os.stat(tmp_path / "new.pt").st_mode & 0o777 == 0o666 & ~umask
    os.chmod(tmp_path / "new.pt", 0o600)
    tl.save(tl.ones(1), tmp_path / "new.pt")
    assert os.stat(tmp_path / "new.pt").st_mode & 0o777 == 0o600


# ---- malicious and broken files ---------------------------------------------------------

class _Payload:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def _marker_cmd(tmp_path):
    return f"touch {tmp_path / 'pwned'}"


def malicious_payloads(tmp_path):
    """Hand-made pickles that would run code: raw opcodes and __reduce__ payloads."""
    cmd = _marker_cmd(tmp_path)
    raw_system = b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd.encode() \
        + b"\x85R."
    code = f"__import__('os').system({cmd!r})"
    raw_eval = b"\x80\x02c__builtin__\neval\nX" + struct.pack("<I", len(code)) \
        + code.encode() + b"\x85R."
    return {
        "os.system": raw_system,
        "eval": raw_eval,
        "reduce": pickle.dumps({"w": [1, _Payload(os.system, cmd)]}, protocol=2),
        "exec": pickle.dumps(_Payload(exec, code), protocol=4),
    }


def _checkpoint_with_pickle(data_pkl):
    raw = saved_by_tl({"w": tl.ones(2)})
    return rewrite(raw, lambda n, d: data_pkl if n.endswith("data.pkl") else d)


@pytest.mark.parametrize("kind", ["os.system", "eval", "reduce", "exec"])
@pytest.mark.parametrize("container", ["zip", "raw"])
def test_malicious_pickle_never_runs(tmp_path, kind, container):
    payload = malicious_payloads(tmp_path)[kind]
    raw = _checkpoint_with_pickle(payload) if container == "zip" else payload
    with pytest.raises(pickle.UnpicklingError) as mine:
        tl.load(io.BytesIO(raw))
    assert not (tmp_path / "pwned").exists()
    assert str(mine.value).startswith("Weights only load failed.")
    if container == "zip" and kind != "exec":  # PyTorch's message, word for word (its
        # unpickler reads protocol 2 only: protocol 4 opcodes fail there differently)
        with pytest.raises(pickle.UnpicklingError) as theirs:
            torch.load(io.BytesIO(raw))
        assert str(mine.value) == str(theirs.value)
        assert not (tmp_path / "pwned").exists()


def test_unsupported_global_message_names_the_global(tmp_path):
    raw = _checkpoint_with_pickle(malicious_payloads(tmp_path)["eval"])
    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL eval was not an "
                       r"allowed global by default\. Please use `torch\.serialization\."
                       r"add_safe_globals\(\[eval\]\)`"):
        tl.load(io.BytesIO(raw))
    raw = _checkpoint_with_pickle(malicious_payloads(tmp_path)["os.system"])
    with pytest.raises(pickle.UnpicklingError, match="whose module posix is blocked|whose module "
                       "os is blocked"):
        tl.load(io.BytesIO(raw))


def test_forged_tensor_outside_its_storage_is_refused():
    raw = saved_by_tl({"w": tl.ones(2)})

    def forge(name, data):
        if not name.endswith("data.pkl"):
            return data
        # size (2,) -> (9,): a view reaching past the 2-element storage
        return data.replace(b"K\x02\x85", b"K\x09\x85", 1)
    with pytest.raises(RuntimeError, match=r"setStorage: sizes \[9\], strides \[1\], storage "
                       r"offset 0, and itemsize 4 requiring a storage size of 36 are out of "
                       r"bounds for storage of size 8"):
        tl.load(io.BytesIO(rewrite(raw, forge)))


def test_safe_globals_allow_user_classes():
    raw = saved_by_tl({"p": Point(1, 2), "w": tl.ones(1)})
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}.Point was not"):
        tl.load(io.BytesIO(raw))
    with ser.safe_globals([Point]):
        assert tl.load(io.BytesIO(raw))["p"].y == 2
    assert Point not in ser.get_safe_globals()
    ser.add_safe_globals([Point])
    try:
        assert tl.load(io.BytesIO(raw))["p"].x == 1
    finally:
        ser.clear_safe_globals()
    assert tl.load(io.BytesIO(raw), weights_only=False)["p"].x == 1


def test_truncated_file_fails_like_torch(tmp_path):
    raw = saved_by_tl({"w": tl.ones(100)})
    for cut in (100, len(raw) // 2, len(raw) - 10):
        with pytest.raises(RuntimeError) as mine:
            tl.load(io.BytesIO(raw[:cut]))
        with pytest.raises(RuntimeError) as theirs:
            torch.load(io.BytesIO(raw[:cut]))
        assert str(mine.value) == str(theirs.value)
        assert str(mine.value).startswith("PytorchStreamReader failed reading zip archive: "
                                          "failed finding central directory")
    path = tmp_path / "cut.pt"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match="failed finding central directory"):
        tl.load(path)
    with pytest.raises(EOFError):
        tl.load(io.BytesIO(b""))


def test_corrupt_storage_bytes_detected():
    raw = bytearray(saved_by_tl({"w": tl.ones(100)}))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        info = z.getinfo("archive/data/0")
    start = info.header_offset + 30 + struct.unpack("<HH", raw[info.header_offset + 26:][:4])[0] \
        + struct.unpack("<HH", raw[info.header_offset + 26:][:4])[1]
    raw[start + 5] ^= 0xFF
    with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading file "
                       "archive/data/0"):
        tl.load(io.BytesIO(bytes(raw)))


def test_not_a_checkpoint():
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        tl.load(io.BytesIO(b"garbage!" * 10))
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                       "pickle_module is specified"):
        tl.load(io.BytesIO(saved_by_tl(1)), pickle_module=pickle, weights_only=True)
    assert tl.load(io.BytesIO(saved_by_tl(1)), pickle_module=pickle) == 1


# ---- safetensors ------------------------------------------------------------------------

SAFETENSORS_DTYPES = [d for d in DTYPES if d != "complex128"]


@pytest.mark.parametrize("name", SAFETENSORS_DTYPES)
def test_safetensors_roundtrip_and_torch_reads_it(tmp_path, name):
    pytest.importorskip("safetensors", reason="safetensors is an optional extra")
    import safetensors.torch
    import torchlite.safetensors as st
    src = {"a": tl_sample(name), "s": tl_sample(name, ()), "t": tl_sample(name, (3, 2)).t()}
    path = tmp_path / "w.safetensors"
    st.save_file(src, path, metadata={"format": "pt"})
    back = st.load_file(path)
    theirs = safetensors.torch.load_file(path)
    for key, t in src.items():
        assert back[key].dtype == t.dtype
        np.testing.assert_array_equal(to_np(back[key]), to_np(t))
        assert_same(t, theirs[key])
    assert tl.load(path)["a"].tolist() == src["a"].tolist()
    assert st.load(st.save(src))["t"].tolist() == src["t"].tolist()


def test_safetensors_written_by_torch(tmp_path):
    pytest.importorskip("safetensors", reason="safetensors is an optional extra")
    import safetensors.torch
    import torchlite.safetensors as st
    src = {name: torch_sample(name) for name in SAFETENSORS_DTYPES}
    safetensors.torch.save_file(src, tmp_path / "t.safetensors")
    out = st.load_file(tmp_path / "t.safetensors")
    for key, t in src.items():
        assert_same(out[key], t)
    out["float32"].add_(1.0)  # loaded tensors are writable
    with pytest.raises(RuntimeError, match="dict map_location is not supported"):
        tl.load(tmp_path / "t.safetensors", map_location={"cpu": "cpu"})
    with pytest.raises(ValueError, match="Key `x` is invalid, expected torch.Tensor"):
        st.save_file({"x": 1}, tmp_path / "bad.safetensors")
