"""DLPack on a GPU: cuda tensors share device memory with CuPy arrays (and PyTorch cuda tensors
where PyTorch has CUDA) both ways, in every dtype; CPU <-> cuda moves copy."""
import ml_dtypes
import numpy as np
import pytest

import torchlite
from torchlite.utils.dlpack import DLDeviceType

from ._gpu import gpu_reason, torch_cuda_reason

REASON = gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
          ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128]


def host_values(np_dtype):
    values = np.arange(6).reshape(2, 3)
    return (values % 2 == 1) if np_dtype is np.bool_ else values.astype(np_dtype)


@pytest.mark.parametrize("np_dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cupy_both_ways_share_device_memory(np_dtype):
    import cupy
    host = host_values(np_dtype)
    arr = cupy.asarray(host)
    t = torchlite.from_dlpack(arr)
    assert t.device == torchlite.device("cuda", 0) and t.dtype.np == np.dtype(np_dtype)
    assert t.data_ptr() == arr.data.ptr
    assert np.array_equal(t.cpu().numpy(), host)
    t[0, 0] = 1
    assert bool(arr[0, 0].get() == 1)
    back = cupy.from_dlpack(t)
    assert back.data.ptr == arr.data.ptr and back.dtype == np.dtype(np_dtype)
    back[1, 2] = 0
    assert t[1, 2].item() == 0


def test_strided_views_and_device():
    import cupy
    t = torchlite.arange(12.0, device="cuda").reshape(3, 4)
    assert t.__dlpack_device__() == (DLDeviceType.kDLCUDA, 0)
    view = cupy.from_dlpack(t.t()[1:])
    assert view.shape == (3, 3) and view.data.ptr == t.t()[1:].data_ptr()
    assert np.array_equal(view.get(), t.t()[1:].cpu().numpy())
    stream = cupy.cuda.Stream()
    assert cupy.from_dlpack(t).data.ptr == t.data_ptr()  # CuPy passes its current stream
    with stream:
        assert cupy.from_dlpack(t).data.ptr == t.data_ptr()


def test_requires_grad_is_refused_on_cuda_too():
    import cupy
    x = torchlite.ones(2, device="cuda", requires_grad=True)
    with pytest.raises(BufferError, match="require gradient"):
        cupy.from_dlpack(x)
    assert cupy.from_dlpack(x.detach()).data.ptr == x.data_ptr()


def test_moves_between_cpu_and_cuda_copy():
    import cupy
    host = np.arange(4.0)
    t = torchlite.from_dlpack(host, device="cuda")
    assert t.device.type == "cuda" and t.tolist() == host.tolist()
    with pytest.raises(ValueError, match="without copying"):
        torchlite.from_dlpack(host, device="cuda", copy=False)
    capsule = torchlite.from_numpy(host).__dlpack__(dl_device=(DLDeviceType.kDLCUDA, 0))
    moved = cupy.from_dlpack(capsule)
    assert moved.get().tolist() == host.tolist()
    back = torchlite.from_dlpack(cupy.asarray(host), device="cpu")
    assert back.device.type == "cpu" and back.tolist() == host.tolist()


@pytest.mark.skipif(torch_cuda_reason() is not None, reason=str(torch_cuda_reason()))
@pytest.mark.parametrize("name", ["bool", "int64", "float16", "bfloat16", "float32",
                                  "complex64"])
def test_torch_cuda_both_ways(name):
    import torch
    src = (torch.arange(6, device="cuda") % 3).to(getattr(torch, name))
    t = torchlite.from_dlpack(src)
    assert t.device == torchlite.device("cuda", 0) and str(t.dtype) == str(src.dtype)
    assert t.data_ptr() == src.data_ptr() and t.tolist() == src.tolist()
    out = torch.from_dlpack(t)
    assert out.device == src.device and out.data_ptr() == src.data_ptr()
    out[0] = 1
    assert t[0].item() == 1
