// Shared device helpers of torchlite's fused kernels: element loads and stores through an
// accumulation type (float for half / bfloat16 / float, double for double) and block reductions.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>

// NVRTC has no <math.h>: INFINITY and NAN for every kernel (the CPU emulator has its own)
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif

// `T* name`: the block's dynamic shared memory (the launch's shared_mem bytes) as T elements.
// Kernels declare it through this macro so that the CPU emulator (tests/kernels_emu) can supply
// its own definition.
#ifndef DYNAMIC_SHARED
#define DYNAMIC_SHARED(T, name)                                        \
    extern __shared__ __align__(16) unsigned char name##_bytes_[];     \
    T* name = reinterpret_cast<T*>(name##_bytes_)
#endif

template <typename T> struct Acc { typedef float type; };
template <> struct Acc<double> { typedef double type; };

__device__ __forceinline__ float to_acc(float x) { return x; }
__device__ __forceinline__ double to_acc(double x) { return x; }
__device__ __forceinline__ float to_acc(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_acc(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_acc(float x);
template <> __device__ __forceinline__ float from_acc<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_acc<__half>(float x) { return __float2half(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_acc<__nv_bfloat16>(float x) {
    return __float2bfloat16(x);
}
template <typename T> __device__ __forceinline__ T from_acc(double x) { return x; }

struct SumOp {
    template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};
struct MaxOp {
    template <typename A> __device__ __forceinline__ A operator()(A a, A b) const {
        return max(a, b);
    }
};

// op-combination of v over the 32 lanes of a warp (all of them call it); every lane gets it.
template <typename A, typename Op> __device__ __forceinline__ A warp_reduce(A v, Op op) {
    for (int offset = 16; offset > 0; offset >>= 1)
        v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// op-combination of v over the block (blockDim.x a multiple of 32, at most 1024; every thread
// calls it); every thread gets it. `scratch` holds 32 values of A in shared memory; `identity`
// fills the lanes past the block's warps.
template <typename A, typename Op> __device__ A block_reduce(A v, A* scratch, A identity, Op op) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_reduce(v, op);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : identity;
    return warp_reduce(v, op);
}

template <typename A> __device__ __forceinline__ A warp_sum(A v) { return warp_reduce(v, SumOp()); }
template <typename A> __device__ __forceinline__ A warp_max(A v) { return warp_reduce(v, MaxOp()); }
template <typename A> __device__ A block_sum(A v, A* scratch) {
    return block_reduce(v, scratch, A(0), SumOp());
}
template <typename A> __device__ A block_max(A v, A* scratch) {
    return block_reduce(v, scratch, A(-INFINITY), MaxOp());
}
