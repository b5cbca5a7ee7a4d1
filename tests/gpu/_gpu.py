"""Why GPU tests skip here (None where CuPy sees a GPU), and helpers shared by tests/gpu."""
import torchlite


def gpu_reason():
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (install the cuda12 or cuda13 extra on a GPU machine)"
    try:
        if cupy.cuda.runtime.getDeviceCount() == 0:
            return "no CUDA device"
    except Exception as e:  # driver missing or broken: report why
        return f"CUDA unavailable: {e}"
    return None


def torch_cuda_reason():
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    return None if torch.cuda.is_available() else "this PyTorch build has no CUDA"


def nvrtc_reason():
    """Why kernels cannot be compiled here (None where NVRTC and the CUDA headers are installed)."""
    try:
        from cupy_backends.cuda.libs import nvrtc
        nvrtc.getVersion()
    except Exception as e:  # CuPy or the NVRTC library missing
        return f"NVRTC unavailable (install the test extra): {e}"
    from torchlite._kernels._compile import cuda_header_dir
    if cuda_header_dir() is None:
        return "CUDA headers (cuda_bf16.h) not found: install nvidia-cuda-runtime-cu12"
    return None


def host64(t):
    """A float64 NumPy copy of tensor ``t`` (None stays None): what GPU results are compared in."""
    return None if t is None else t.detach().cpu().to(torchlite.float64).numpy()
