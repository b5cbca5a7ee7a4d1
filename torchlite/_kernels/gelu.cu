// GELU, x * Phi(x), and its derivative, elementwise over contiguous arrays (grid-stride loops):
// Phi through erf (tanh_form 0) or PyTorch's tanh approximation (tanh_form 1). Half types compute
// in float; the constants are rounded to the compute type, as the composed path's NumPy scalars.
#include "common.cuh"

#define GELU_SQRT_HALF 0.70710678118654752440
#define GELU_INV_SQRT_2PI 0.39894228040143267794
#define GELU_SQRT_2_OVER_PI 0.79788456080286535588
#define GELU_C 0.044715

template <typename A> __device__ __forceinline__ A gelu_value(A x, int tanh_form) {
    if (tanh_form) {
        const A u = (x * x * A(GELU_C) + A(1)) * x * A(GELU_SQRT_2_OVER_PI);
        return (tanh(u) + A(1)) * x * A(0.5);
    }
    return (erf(x * A(GELU_SQRT_HALF)) + A(1)) * x * A(0.5);
}

// d/dx gelu: Phi(x) + x * phi(x), or the derivative of 0.5 x (1 + tanh(k (x + c x^3))).
template <typename A> __device__ __forceinline__ A gelu_derivative(A x, int tanh_form) {
    if (tanh_form) {
        const A t = tanh((x * x * A(GELU_C) + A(1)) * x * A(GELU_SQRT_2_OVER_PI));
        const A inner = (x * x * A(3 * GELU_C) + A(1)) * A(GELU_SQRT_2_OVER_PI * 0.5) * x;
        return inner * (A(1) - t * t) + A(0.5) + A(0.5) * t;
    }
    return exp(x * x * A(-0.5)) * (x * A(GELU_INV_SQRT_2PI)) +
           A(0.5) * (erf(x * A(GELU_SQRT_HALF)) + A(1));
}

template <typename T>
__global__ void gelu_forward(const T* __restrict__ x, T* __restrict__ y, long long n,
                             int tanh_form) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        y[i] = from_acc<T>(gelu_value(to_acc(x[i]), tanh_form));
}

// out = gelu'(x) * grad (has_grad) or gelu'(x).
template <typename T>
__global__ void gelu_backward(const T* __restrict__ grad, const T* __restrict__ x,
                              T* __restrict__ out, long long n, int tanh_form, int has_grad) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        typename Acc<T>::type d = gelu_derivative(to_acc(x[i]), tanh_form);
        if (has_grad) d *= to_acc(grad[i]);
        out[i] = from_acc<T>(d);
    }
}
