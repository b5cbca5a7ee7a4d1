// Small kernels that exercise the emulator itself (tests/kernels_emu/test_emulator.py): block and
// warp reductions of common.cuh, dynamic shared memory, atomics, 16-bit conversions, 3-D indexing,
// and the faults and races the emulator must report. Valid CUDA: NVRTC compiles them too.
#include "common.cuh"

// y[row] = sum of x[row, :n] with one block per row (block_sum of common.cuh)
template <typename T>
__global__ void row_sums(const T* __restrict__ x, T* __restrict__ y, int n) {
    __shared__ typename Acc<T>::type scratch[32];
    const long long row = blockIdx.x;
    typename Acc<T>::type sum = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) sum += to_acc(x[row * n + i]);
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) y[row] = from_acc<T>(sum);
}

// per warp of the grid: y[2w] = warp_sum, y[2w + 1] = warp_max of its 32 values of x
template <typename T> __global__ void warp_reductions(const T* __restrict__ x, T* __restrict__ y) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const typename Acc<T>::type v = to_acc(x[i]);
    const typename Acc<T>::type sum = warp_sum(v), biggest = warp_max(v);
    if ((threadIdx.x & 31) == 0) {
        y[2 * (i / 32)] = from_acc<T>(sum);
        y[2 * (i / 32) + 1] = from_acc<T>(biggest);
    }
}

// Each lane's results of the shuffles and votes, in rows of out[8][threads] (int32 bits of x)
__global__ void warp_ops(const int* __restrict__ x, int* __restrict__ out) {
    const int t = threadIdx.x, n = blockDim.x, v = x[t];
    out[0 * n + t] = __shfl_sync(0xffffffffu, v, 5);
    out[1 * n + t] = __shfl_sync(0xffffffffu, v, t + 3, 8);
    out[2 * n + t] = __shfl_up_sync(0xffffffffu, v, 3);
    out[3 * n + t] = __shfl_down_sync(0xffffffffu, v, 2, 16);
    out[4 * n + t] = __shfl_xor_sync(0xffffffffu, v, 6);
    out[5 * n + t] = (int)__ballot_sync(0xffffffffu, v > 0);
    out[6 * n + t] = __all_sync(0xffffffffu, v > -1000) * 2 + __all_sync(0xffffffffu, v > 0);
    out[7 * n + t] = __any_sync(0xffffffffu, v > 90) * 2 + __any_sync(0xffffffffu, v > 1000);
}

// Reverses each block's segment of x through dynamic shared memory (any blockDim, n % blockDim)
template <typename T> __global__ void reverse_segments(const T* __restrict__ x, T* __restrict__ y,
                                                      int n) {
    DYNAMIC_SHARED(T, segment);
    const int start = blockIdx.x * blockDim.x, t = threadIdx.x;
    const int count = min(int(blockDim.x), n - start);
    if (t < count) segment[t] = x[start + t];
    __syncthreads();
    if (t < count) y[start + t] = segment[count - 1 - t];
}

// The same without the barrier: a race the emulator's thread order must expose.
template <typename T> __global__ void reverse_segments_racy(const T* __restrict__ x,
                                                           T* __restrict__ y, int n) {
    DYNAMIC_SHARED(T, segment);
    const int start = blockIdx.x * blockDim.x, t = threadIdx.x;
    const int count = min(int(blockDim.x), n - start);
    if (t < count) segment[t] = x[start + t];
    if (t < count) y[start + t] = segment[count - 1 - t];
}

// counts[b] = number of x in bin b (x in 0..bins-1); total += sum(x); largest = max(x)
__global__ void histogram(const int* __restrict__ x, long long n, int* __restrict__ counts,
                          float* __restrict__ total, int* __restrict__ largest) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        atomicAdd(&counts[x[i]], 1);
        atomicAdd(total, float(x[i]));
        atomicMax(largest, x[i]);
    }
}

// y = x rounded to T (the 16-bit conversions), back = y converted back to float
template <typename T> __global__ void round_trip(const float* __restrict__ x, T* __restrict__ y,
                                                float* __restrict__ back, long long n) {
    const long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = from_acc<T>(x[i]);
        back[i] = to_acc(y[i]);
    }
}

// y[z, y, x] = x + 1000 y + 1000000 z of each element's global 3-D index, for odd extents
__global__ void global_index(int* __restrict__ out, int nx, int ny, int nz) {
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y * blockDim.y + threadIdx.y;
    const int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x < nx && y < ny && z < nz)
        out[((long long)z * ny + y) * nx + x] = x + 1000 * y + 1000000 * z;
}

// Faulty kernels: each thread writes y[i] for i up to n inclusive (one past the end) ...
__global__ void write_past_end(float* __restrict__ y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) y[i] = 1.0f;
}

// ... or y[i - 1] for i from 0 (one before the start) ...
__global__ void write_before_start(float* __restrict__ y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i - 1] = 1.0f;
}

// ... threads past n return before the block's barrier ...
__global__ void barrier_after_return(float* __restrict__ y, int n) {
    __shared__ float s[256];
    const int i = threadIdx.x;
    if (i >= n) return;
    s[i] = 2.0f;
    __syncthreads();
    y[i] = s[n - 1 - i];
}

// ... and half a warp shuffles with the full mask.
__global__ void divergent_shuffle(float* __restrict__ y) {
    float v = threadIdx.x;
    if (threadIdx.x < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
    y[threadIdx.x] = v;
}

// A struct passed by value and an optional (null) pointer: y = x * scale + shift (+ bias)
struct Affine {
    float scale;
    double shift;
    int count;
};
__global__ void affine(const Affine a, const float* __restrict__ x, float* __restrict__ y,
                       const float* __restrict__ bias) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < a.count) y[i] = x[i] * a.scale + float(a.shift) + (bias != nullptr ? bias[i] : 0.0f);
}

// A device-side assert (what assert() expands to): every x must be positive.
__global__ void assert_positive(const float* __restrict__ x, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && !(x[i] > 0.0f)) __assertfail("x[i] > 0", __FILE__, __LINE__, __func__, 1);
}
