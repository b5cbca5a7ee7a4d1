"""DLPack: tensors share memory with PyTorch tensors and NumPy arrays both ways, in every dtype,
through ``__dlpack__`` and through the legacy capsules of ``to_dlpack``; PyTorch is the oracle for
what each exchange gives and for the errors."""
import ctypes
import gc

import ml_dtypes
import numpy as np
import pytest

import torchlite
from torchlite.utils import dlpack

torch = pytest.importorskip("torch", reason="PyTorch (the test oracle) is missing")

DTYPES = [str(d).removeprefix("torch.") for d in torchlite._dtype.ALL]


def torch_values(name):
    """A (2, 3) PyTorch tensor of dtype ``name`` with distinct values (bool: alternating)."""
    base = torch.arange(6).reshape(2, 3)
    if name == "bool":
        return base % 2 == 1
    if name.startswith("complex"):
        return (base + 0.5j * base).to(getattr(torch, name))
    return base.to(getattr(torch, name))


def same_tensor(tl_tensor, torch_tensor):
    """Equal dtype, shape, strides and values (values through lists: no DLPack involved).
    Strides of empty tensors are not compared: torchlite's are NumPy's zeros even without DLPack."""
    assert str(tl_tensor.dtype) == str(torch_tensor.dtype)
    assert tuple(tl_tensor.shape) == tuple(torch_tensor.shape)
    assert tl_tensor.stride() == torch_tensor.stride() or not tl_tensor.numel()
    assert tl_tensor.tolist() == torch_tensor.tolist()


def new_value(name):
    return True if name == "bool" else 7


@pytest.mark.parametrize("name", DTYPES)
def test_torch_from_dlpack_shares_a_torchlite_tensor(name):
    ref = torch_values(name)
    t = torchlite.tensor(ref.tolist(), dtype=getattr(torchlite, name))
    out = torch.from_dlpack(t)
    same_tensor(t, out)
    assert out.data_ptr() == t.data_ptr()
    out[0, 0] = new_value(name)
    assert t[0, 0].item() == new_value(name)


@pytest.mark.parametrize("name", DTYPES)
def test_torchlite_from_dlpack_shares_a_torch_tensor(name):
    src = torch_values(name)
    t = torchlite.from_dlpack(src)
    assert isinstance(t, torchlite.Tensor) and t.device == torchlite.device("cpu")
    same_tensor(t, src)
    assert t.data_ptr() == src.data_ptr() and not t.requires_grad
    t[0, 0] = new_value(name)
    assert src[0, 0].item() == new_value(name)


@pytest.mark.parametrize("name", DTYPES)
def test_legacy_capsules_both_ways(name):
    src = torch_values(name)
    t = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    same_tensor(t, src)
    t[1, 2] = new_value(name)  # writable, as in PyTorch (NumPy makes such arrays read-only)
    assert src[1, 2].item() == new_value(name)
    back = torch.from_dlpack(dlpack.to_dlpack(t))
    assert back.data_ptr() == src.data_ptr() and back.dtype == src.dtype


def test_numpy_both_ways():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = torchlite.from_dlpack(arr)
    assert t.dtype is torchlite.int32 and np.shares_memory(t.numpy(), arr)
    arr[0, 1] = -5
    assert t[0, 1].item() == -5
    t2 = torchlite.arange(4.0)
    out = np.from_dlpack(t2)
    assert out.dtype == np.float32 and np.shares_memory(out, t2.numpy())
    t2[3] = 9
    assert out[3] == 9


def test_read_only_numpy_is_written_through_as_in_pytorch():
    results = []
    for lib in (torch, torchlite):
        arr = np.zeros(3)
        arr.flags.writeable = False
        lib.from_dlpack(arr).add_(1)
        results.append(arr.tolist())
    assert results[0] == results[1] == [1.0, 1.0, 1.0]


def views(lib, base):
    """Non-contiguous, offset, expanded, 0-d and empty views, the same in both libraries."""
    return [base.t(), base[:, ::2], base[1], base[0, 1], base[:, :1].expand(2, 5),
            base[:0], base.reshape(3, 2)[1:]]


def test_views_keep_their_strides_both_ways():
    ref = torch.arange(6.0).reshape(2, 3)
    mine = torchlite.arange(6.0).reshape(2, 3)
    for tl_view, torch_view in zip(views(torchlite, mine), views(torch, ref), strict=True):
        # a legacy capsule has no read-only flag: NumPy refuses expanded views, PyTorch does not
        for exported in (torch.from_dlpack(tl_view), torch.from_dlpack(dlpack.to_dlpack(tl_view))):
            assert exported.tolist() == torch_view.tolist()
            if tl_view.numel():
                assert exported.stride() == torch_view.stride()
                assert exported.data_ptr() == tl_view.data_ptr()
        same_tensor(torchlite.from_dlpack(torch_view), torch_view)


def test_expanded_import_refuses_in_place_writes_like_pytorch():
    for lib, src in ((torch, torchlite.zeros(1, 3)), (torchlite, torch.zeros(1, 3))):
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            lib.from_dlpack(src.expand(4, 3)).add_(1)
        lib.from_dlpack(src.expand(0, 3)).add_(1)  # nothing to write: no error


def test_memory_outlives_the_exporter():
    t = torchlite.arange(5.0)
    out = torch.from_dlpack(t)
    del t
    gc.collect()
    assert out.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    src = torch.arange(5.0)
    mine = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    del src
    gc.collect()
    assert mine.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_bfloat16_crosses_as_bfloat16_not_as_its_bits():
    values = np.array([1.5, -2.25, 3e38], dtype=ml_dtypes.bfloat16)
    out = torch.from_dlpack(torchlite.from_numpy(values.copy()))
    assert out.dtype == torch.bfloat16
    assert out.float().tolist() == values.astype(np.float32).tolist()
    back = torchlite.from_dlpack(torch.tensor([0.5, -1.0], dtype=torch.bfloat16))
    assert back.dtype is torchlite.bfloat16 and back.tolist() == [0.5, -1.0]


def test_device_and_capsule_versions_match_pytorch():
    mine, ref = torchlite.zeros(2), torch.zeros(2)
    assert mine.__dlpack_device__() == ref.__dlpack_device__()
    assert type(mine.__dlpack_device__()[0]).__name__ == "DLDeviceType"
    assert mine.__dlpack_device__()[0].name == ref.__dlpack_device__()[0].name == "kDLCPU"
    for max_version in (None, (0, 8), (1, 0)):
        name = repr(ref.__dlpack__(max_version=max_version)).split('"')[1]
        assert repr(mine.__dlpack__(max_version=max_version)).split('"')[1] == name
    assert dlpack.DLDeviceType.kDLCUDA == torch.utils.dlpack.DLDeviceType.kDLCUDA == 2


@pytest.mark.parametrize("kwargs, shared", [({}, True), ({"copy": False}, True),
                                            ({"copy": True}, False),
                                            ({"device": "cpu"}, True),
                                            ({"device": torchlite.device("cpu")}, True)])
def test_from_dlpack_copy_and_device(kwargs, shared):
    src = torch.arange(4.0)
    torch_kwargs = {k: torch.device(str(v)) if k == "device" else v for k, v in kwargs.items()}
    assert (torch.from_dlpack(src, **torch_kwargs).data_ptr() == src.data_ptr()) is shared
    out = torchlite.from_dlpack(src, **kwargs)
    assert (out.data_ptr() == src.data_ptr()) is shared and out.tolist() == src.tolist()


class OldExporter:
    """An exporter from before DLPack 1.0: ``__dlpack__`` takes only ``stream``."""

    def __init__(self, arr):
        self.arr = arr

    def __dlpack__(self, stream=None):
        return self.arr.__dlpack__()

    def __dlpack_device__(self):
        return self.arr.__dlpack_device__()


def test_old_exporters_are_retried_without_new_keywords():
    arr = np.arange(3.0)
    for copy, shared in ((None, True), (True, False)):
        ref = torch.from_dlpack(OldExporter(arr), copy=copy)
        mine = torchlite.from_dlpack(OldExporter(arr), copy=copy)
        assert (ref.data_ptr() == arr.ctypes.data) is shared
        assert (mine.data_ptr() == arr.ctypes.data) is shared and mine.tolist() == [0, 1, 2]


def test_export_copy_keyword():
    t = torchlite.arange(3.0)
    copied = torch.from_dlpack(t.__dlpack__(copy=True))
    assert copied.data_ptr() != t.data_ptr() and copied.tolist() == t.tolist()
    assert torch.from_dlpack(t.__dlpack__(copy=False)).data_ptr() == t.data_ptr()
    assert torch.from_dlpack(t.__dlpack__(dl_device=(1, 0))).data_ptr() == t.data_ptr()


def test_to_dlpack_exports_tensors_that_require_grad_like_pytorch():
    for lib in (torch, torchlite):
        x = lib.ones(2, requires_grad=True)
        assert torch.from_dlpack(lib.utils.dlpack.to_dlpack(x)).tolist() == [1.0, 1.0]
        assert torch.from_dlpack(x.detach()).tolist() == [1.0, 1.0]


def test_newer_major_versions_are_refused():
    """A capsule of DLPack 2.x may lay out its struct differently: refuse it, never misread it."""
    capsule = np.zeros(2).__dlpack__(max_version=(1, 0))
    pointer = ctypes.pythonapi.PyCapsule_GetPointer
    pointer.restype, pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    ctypes.c_uint32.from_address(pointer(capsule, b"dltensor_versioned")).value = 2
    with pytest.raises(BufferError, match="DLPack version 2.0"):
        dlpack.from_dlpack(capsule)
    ctypes.c_uint32.from_address(pointer(capsule, b"dltensor_versioned")).value = 1  # to free it


def test_departures_from_pytorch():
    """Documented in docs/differences.md: no uint16/32/64 tensors; negative strides raise (where
    PyTorch aborts the process)."""
    src = torch.zeros(3, dtype=torch.uint16)
    assert torch.from_dlpack(src).dtype == torch.uint16
    with pytest.raises(TypeError, match="numpy.uint16"):
        torchlite.from_dlpack(src)
    with pytest.raises(ValueError, match="negative"):
        torchlite.from_dlpack(np.arange(4.0)[::-1])


def _used_capsule(lib):
    capsule = lib.utils.dlpack.to_dlpack(lib.zeros(2))
    lib.from_dlpack(capsule)
    return lib.from_dlpack(capsule)


def _bf16_array(lib):
    return lib.from_dlpack(np.zeros(2, dtype=ml_dtypes.bfloat16))


# Bad inputs: the call raises in both libraries, with the same type; the regex names the problem.
BAD = {
    "requires_grad": (lambda m: m.zeros(2, requires_grad=True).__dlpack__(),
                      "Can't export tensors that require gradient, use tensor.detach\\(\\)"),
    "requires_grad_torch_consumer": (lambda m: torch.from_dlpack(m.ones(2, requires_grad=True)),
                                     "Can't export tensors that require gradient"),
    "requires_grad_numpy_consumer": (lambda m: np.from_dlpack(m.ones(2, requires_grad=True)),
                                     "Can't export tensors that require gradient"),
    "cpu_stream": (lambda m: m.zeros(2).__dlpack__(stream=1), "stream should be None on cpu"),
    "stream_type": (lambda m: m.zeros(2).__dlpack__(stream="s"), "stream must be ``int``"),
    "positional_stream": (lambda m: m.zeros(2).__dlpack__(None), "positional argument"),
    "dl_device_unknown": (lambda m: m.zeros(2).__dlpack__(dl_device=(3, 0)),
                          "Unsupported device_type: 3"),
    "dl_device_no_copy": (lambda m: m.zeros(2).__dlpack__(dl_device=(2, 0), copy=False),
                          "cannot move \\(i.e. copy=False\\) tensor from cpu to cuda:0"),
    "not_a_capsule": (lambda m: m.from_dlpack([1, 2]), "invalid capsule"),
    "capsule_used_twice": (_used_capsule, "consumed only once"),
    "capsule_with_device": (lambda m: m.from_dlpack(m.zeros(2).__dlpack__(), device="cpu"),
                            "device and copy kwargs not supported"),
    "device_int": (lambda m: m.from_dlpack(np.zeros(2), device=0),
                   "from_dlpack: unsupported device type: <class 'int'>"),
    "to_dlpack_not_tensor": (lambda m: m.utils.dlpack.to_dlpack(np.zeros(2)),
                             "must be Tensor, not"),
    "numpy_bfloat16_export": (_bf16_array, "DLPack only supports"),
    "numpy_bfloat16_import": (lambda m: np.from_dlpack(m.zeros(2, dtype=m.bfloat16)),
                              "Unsupported dtype in DLTensor"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_raise_like_pytorch(case):
    call, pattern = BAD[case]
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value), match=pattern):
        call(torchlite)
