// Embedding lookups on cuda: the index bounds check as a device-side assert (PyTorch's CUDA
// behaviour), so a forward pass never reads the indices back on the host.
#include "common.cuh"

// One thread per index; an index outside [0, num) fails the kernel with "index out of range in
// self" (the CUDA context is unusable afterwards, as after PyTorch's device-side asserts).
template <typename I>
__global__ void embedding_check_indices(const I* idx, const long long n, const long long num) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && (idx[i] < 0 || (long long)idx[i] >= num)) {
        __assertfail("index out of range in self", __FILE__, __LINE__, __func__, 1);
    }
}
