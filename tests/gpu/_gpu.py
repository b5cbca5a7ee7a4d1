"""Why GPU tests skip here (None where CuPy sees a GPU), shared by tests/gpu."""


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
