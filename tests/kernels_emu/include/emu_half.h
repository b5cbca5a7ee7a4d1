// __half and __nv_bfloat16 as host types with CUDA's conversions: round to nearest, ties to even,
// subnormals kept, overflow to infinity, NaN to the canonical 0x7fff, as cuda_fp16.h /
// cuda_bf16.h do (and as NumPy's float16 and ml_dtypes' bfloat16 round).
#pragma once
#include <cmath>
#include <type_traits>

namespace emu {

// The 16-bit float format with `M` fraction bits and `E` exponent bits (half: 10, 5; bf16: 7, 8).
template <int M, int E> struct Format {
    static constexpr int bias = (1 << (E - 1)) - 1, emin = 1 - bias, emax = bias;
    static constexpr unsigned exponent_ones = (1u << E) - 1;

    static unsigned short encode(double x) {
        if (std::isnan(x)) return 0x7fff;
        const unsigned sign = std::signbit(x) ? 0x8000u : 0u;
        const double a = std::fabs(x);
        if (a == 0) return sign;
        if (a == INFINITY) return sign | (exponent_ones << M);
        // the quantum of a's binade (subnormal spacing below 2^emin); division by it is exact
        const double quantum = std::ldexp(1.0, std::max(std::ilogb(a), emin) - M);
        const double r = std::nearbyint(a / quantum) * quantum;  // ties to even (default mode)
        if (r >= std::ldexp(1.0, emax + 1)) return sign | (exponent_ones << M);  // overflow
        if (r < std::ldexp(1.0, emin))
            return sign | static_cast<unsigned>(std::ldexp(r, M - emin));
        const int e = std::ilogb(r);
        const unsigned fraction = static_cast<unsigned>(std::ldexp(r, M - e)) - (1u << M);
        return sign | (unsigned(e + bias) << M) | fraction;
    }

    static double decode(unsigned short bits) {
        const unsigned field = (bits >> M) & exponent_ones, fraction = bits & ((1u << M) - 1);
        double a;
        if (field == exponent_ones) a = fraction ? NAN : INFINITY;
        else if (field == 0) a = std::ldexp(double(fraction), emin - M);
        else a = std::ldexp(double(fraction + (1u << M)), int(field) - bias - M);
        return (bits & 0x8000u) ? -a : a;
    }
};

// A 16-bit float: converts from and to float like CUDA's; arithmetic rounds each result to the
// type (computed in double: exact or innocuously double-rounded for + - * /).
template <int M, int E> struct Float16 {
    unsigned short __x;

    Float16() = default;
    template <typename A, typename = std::enable_if_t<std::is_arithmetic_v<A>>>
    Float16(A value) : __x(Format<M, E>::encode(double(value))) {}
    operator float() const { return float(Format<M, E>::decode(__x)); }

    static Float16 from_bits(unsigned short bits) {
        Float16 h;
        h.__x = bits;
        return h;
    }
    double value() const { return Format<M, E>::decode(__x); }
    friend Float16 operator+(Float16 a, Float16 b) { return Float16(a.value() + b.value()); }
    friend Float16 operator-(Float16 a, Float16 b) { return Float16(a.value() - b.value()); }
    friend Float16 operator*(Float16 a, Float16 b) { return Float16(a.value() * b.value()); }
    friend Float16 operator/(Float16 a, Float16 b) { return Float16(a.value() / b.value()); }
    friend Float16 operator-(Float16 a) { return from_bits(a.__x ^ 0x8000u); }
    Float16& operator+=(Float16 b) { return *this = *this + b; }
    Float16& operator-=(Float16 b) { return *this = *this - b; }
    Float16& operator*=(Float16 b) { return *this = *this * b; }
    Float16& operator/=(Float16 b) { return *this = *this / b; }
    friend bool operator==(Float16 a, Float16 b) { return a.value() == b.value(); }
    friend bool operator!=(Float16 a, Float16 b) { return a.value() != b.value(); }
    friend bool operator<(Float16 a, Float16 b) { return a.value() < b.value(); }
    friend bool operator<=(Float16 a, Float16 b) { return a.value() <= b.value(); }
    friend bool operator>(Float16 a, Float16 b) { return a.value() > b.value(); }
    friend bool operator>=(Float16 a, Float16 b) { return a.value() >= b.value(); }
};

}  // namespace emu

typedef emu::Float16<10, 5> __half;
typedef emu::Float16<7, 8> __nv_bfloat16;

inline float __half2float(__half h) { return float(h); }
inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline __half __double2half(double d) { return __half(d); }
inline float __bfloat162float(__nv_bfloat16 h) { return float(h); }
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __double2bfloat16(double d) { return __nv_bfloat16(d); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __ushort_as_half(unsigned short bits) { return __half::from_bits(bits); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short bits) {
    return __nv_bfloat16::from_bits(bits);
}
