// CUDA's device math and atomics beyond <math.h>: intrinsics as their exact counterparts, the
// max/min overloads (floating ones are fmax/fmin: a NaN operand yields the other, as on the GPU),
// bit casts, and atomics as plain read-modify-writes (emulated threads never preempt each other).
#pragma once
#include <math.h>

#include <cstring>

#include "emu_half.h"

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }
inline float normcdff(float x) { return 0.5f * erfcf(-x * float(M_SQRT1_2)); }
inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
inline int __float2int_rn(float x) { return int(nearbyintf(x)); }
inline int __float2int_rz(float x) { return int(x); }

template <typename To, typename From> To emu_bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From));
    To out;
    std::memcpy(&out, &v, sizeof out);
    return out;
}
inline float __int_as_float(int v) { return emu_bit_cast<float>(v); }
inline float __uint_as_float(unsigned v) { return emu_bit_cast<float>(v); }
inline int __float_as_int(float v) { return emu_bit_cast<int>(v); }
inline unsigned __float_as_uint(float v) { return emu_bit_cast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return emu_bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return emu_bit_cast<long long>(v); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v ? __builtin_clz(unsigned(v)) : 32; }
inline int __ffs(int v) { return __builtin_ffs(v); }
template <typename T> T __ldg(const T* p) { return *p; }

#define EMU_MIN_MAX(T)                                   \
    inline T max(T a, T b) { return a > b ? a : b; }     \
    inline T min(T a, T b) { return a < b ? a : b; }
EMU_MIN_MAX(int)
EMU_MIN_MAX(unsigned)
EMU_MIN_MAX(long)
EMU_MIN_MAX(unsigned long)
EMU_MIN_MAX(long long)
EMU_MIN_MAX(unsigned long long)
#undef EMU_MIN_MAX
inline float max(float a, float b) { return fmaxf(a, b); }
inline float min(float a, float b) { return fminf(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(float a, double b) { return fmax(a, b); }
inline double min(float a, double b) { return fmin(a, b); }
inline double max(double a, float b) { return fmax(a, b); }
inline double min(double a, float b) { return fmin(a, b); }

#define EMU_ATOMIC(NAME, T, UPDATE)                      \
    inline T NAME(T* address, T v) {                     \
        const T old = *address;                          \
        *address = UPDATE;                               \
        return old;                                      \
    }
#define EMU_ATOMIC_ARITHMETIC(T)                         \
    EMU_ATOMIC(atomicAdd, T, old + v)                    \
    EMU_ATOMIC(atomicExch, T, v)
#define EMU_ATOMIC_INTEGER(T)                            \
    EMU_ATOMIC(atomicMax, T, old > v ? old : v)          \
    EMU_ATOMIC(atomicMin, T, old < v ? old : v)          \
    EMU_ATOMIC(atomicAnd, T, old & v)                    \
    EMU_ATOMIC(atomicOr, T, old | v)                     \
    EMU_ATOMIC(atomicXor, T, old ^ v)                    \
    inline T atomicCAS(T* address, T compare, T v) {     \
        const T old = *address;                          \
        if (old == compare) *address = v;                \
        return old;                                      \
    }
EMU_ATOMIC_ARITHMETIC(int)
EMU_ATOMIC_ARITHMETIC(unsigned)
EMU_ATOMIC_ARITHMETIC(unsigned long long)
EMU_ATOMIC_ARITHMETIC(float)
EMU_ATOMIC(atomicAdd, double, old + v)
EMU_ATOMIC(atomicAdd, __half, old + v)
EMU_ATOMIC(atomicAdd, __nv_bfloat16, old + v)
EMU_ATOMIC_INTEGER(int)
EMU_ATOMIC_INTEGER(unsigned)
EMU_ATOMIC_INTEGER(unsigned long long)
EMU_ATOMIC(atomicMax, long long, old > v ? old : v)
EMU_ATOMIC(atomicMin, long long, old < v ? old : v)
EMU_ATOMIC(atomicSub, int, old - v)
EMU_ATOMIC(atomicSub, unsigned, old - v)
#undef EMU_ATOMIC_INTEGER
#undef EMU_ATOMIC_ARITHMETIC
#undef EMU_ATOMIC
