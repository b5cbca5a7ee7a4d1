// The CUDA dialect of torchlite's kernels as host C++ (g++ -std=c++20), so that the same .cu files
// run on the CPU under test (tests/kernels_emu). g++ includes this before the kernel source.
//
// Execution model: one block at a time; its threads are fibers (ucontext) run by one OS thread,
// each until it reaches a sync point (__syncthreads, a warp shuffle or vote) or returns. Between
// sync points a scheduler resumes them in a seeded random order, so a missing __syncthreads shows
// up as wrong results rather than passing by luck. The scheduler rejects what CUDA leaves
// undefined: a __syncthreads some threads of the block never reach, a warp op that not every lane
// of the mask reaches, lanes of a warp waiting at different sync points.
// `__shared__` is `static`: blocks run one at a time, so a function-static array is exactly one
// block's shared memory. Atomics are plain read-modify-writes: fibers never preempt each other.
#pragma once
#define __CUDA_EMU__ 1

#include <math.h>
#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __grid_constant__
#define __shared__ static

// `T* name`: the block's dynamic shared memory (the launch's shared_mem bytes, poisoned with 0xFF
// bytes at each block's start as CUDA leaves it uninitialised). common.cuh defines it for NVRTC.
#define DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(emu::scheduler.dynamic_shared)

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x = 1, unsigned y = 1, unsigned z = 1) : x(x), y(y), z(z) {}
};

inline uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
constexpr int warpSize = 32;

namespace emu {

enum class State { runnable, warp, block, done };

// One CUDA thread: its fiber and the sync point it waits at.
struct Lane {
    ucontext_t context;
    uint3 index;
    unsigned lane;               // index in its warp
    State state;
    const char* op;              // the sync point's name
    unsigned mask;               // a warp op's member mask
    int source;                  // the lane a shuffle reads; kVote for votes
    unsigned long long value;    // what this lane contributes (value bits or predicate)
    unsigned long long result;   // what the sync point gives back
};
constexpr int kVote = -1;

struct Scheduler {
    ucontext_t context;                  // where lanes return to
    std::vector<Lane> lanes;             // the running block's threads
    Lane* current = nullptr;             // the lane running now, null in the scheduler
    std::string error;                   // why the launch stops (empty while it runs)
    void* fault_address = nullptr;       // a memory fault's address
    unsigned char* dynamic_shared = nullptr;
};
inline Scheduler scheduler;

// Stop the launch from inside a lane: the scheduler reports `message` and runs nothing further.
[[noreturn]] inline void fail(const std::string& message) {
    scheduler.error = message;
    setcontext(&scheduler.context);
    std::abort();  // setcontext returns only on error
}

// Park the current lane at a sync point until the scheduler releases it; its result.
inline unsigned long long wait_at(State state, const char* op, unsigned mask, int source,
                                  unsigned long long value) {
    Lane& lane = *scheduler.current;
    lane.state = state;
    lane.op = op;
    lane.mask = mask;
    lane.source = source;
    lane.value = value;
    swapcontext(&lane.context, &scheduler.context);
    return lane.result;
}

template <typename T> unsigned long long bits_of(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "a warp value of <= 8 bytes");
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    return bits;
}

template <typename T> T from_bits(unsigned long long bits) {
    T v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

inline unsigned lane_id() { return scheduler.current->lane; }

// Lane `source`'s value of `v` (a lane outside the segment of `width` reads its own).
template <typename T> T shuffle(const char* op, unsigned mask, T v, int source, int width) {
    if (width <= 0 || width > 32 || (width & (width - 1)))
        fail(std::string(op) + ": width " + std::to_string(width) + " is not a power of 2 <= 32");
    return from_bits<T>(wait_at(State::warp, op, mask, source, bits_of(v)));
}

inline unsigned vote(const char* op, unsigned mask, int predicate) {
    return static_cast<unsigned>(wait_at(State::warp, op, mask, kVote, predicate != 0));
}

inline int block_barrier(const char* op, int predicate) {
    return static_cast<int>(wait_at(State::block, op, 0, 0, predicate != 0));
}

}  // namespace emu

inline void __syncthreads() { emu::block_barrier("__syncthreads", 0); }
inline int __syncthreads_count(int p) { return emu::block_barrier("__syncthreads_count", p); }
inline int __syncthreads_and(int p) {
    return emu::block_barrier("__syncthreads_and", p) ==
           static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
}
inline int __syncthreads_or(int p) { return emu::block_barrier("__syncthreads_or", p) != 0; }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::vote("__syncwarp", mask, 0); }
inline void __threadfence() {}
inline void __threadfence_block() {}
[[noreturn]] inline void __trap() { emu::fail("__trap()"); }
// what assert() calls in device code: a failed device-side assert stops the launch
[[noreturn]] inline void __assertfail(const char* message, const char* file, unsigned line,
                                      const char* function, size_t) {
    emu::fail(std::string("device-side assert triggered: ") + message + " (" + file + ":" +
              std::to_string(line) + ", " + function + ")");
}

template <typename T> T __shfl_sync(unsigned mask, T v, int source, int width = warpSize) {
    const unsigned lane = emu::lane_id(), base = lane & ~unsigned(width - 1);
    return emu::shuffle("__shfl_sync", mask, v, int(base + (source & (width - 1))), width);
}
template <typename T> T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
    const unsigned lane = emu::lane_id(), offset = lane & unsigned(width - 1);
    return emu::shuffle("__shfl_up_sync", mask, v, int(offset >= delta ? lane - delta : lane),
                        width);
}
template <typename T> T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
    const unsigned lane = emu::lane_id(), offset = lane & unsigned(width - 1);
    return emu::shuffle("__shfl_down_sync", mask, v,
                        int(offset + delta < unsigned(width) ? lane + delta : lane), width);
}
template <typename T> T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
    const unsigned lane = emu::lane_id(), last = lane | unsigned(width - 1);
    const unsigned source = lane ^ unsigned(lane_mask);
    return emu::shuffle("__shfl_xor_sync", mask, v, int(source <= last ? source : lane), width);
}
inline unsigned __ballot_sync(unsigned mask, int p) { return emu::vote("__ballot_sync", mask, p); }
inline int __all_sync(unsigned mask, int p) {
    return (emu::vote("__all_sync", mask, p) & mask) == mask;
}
inline int __any_sync(unsigned mask, int p) {
    return (emu::vote("__any_sync", mask, p) & mask) != 0;
}

#include "emu_half.h"
#include "emu_math.h"
