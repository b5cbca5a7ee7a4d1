// Fused Adam / AdamW over many tensors at once (PyTorch's multi-tensor apply).
//
// One launch updates up to ADAM_MAX_TENSORS tensors of one dtype. Their pointers, sizes and bias
// corrections travel by value in an AdamTensors kernel argument (no table in device memory, so no
// host-to-device copy per step and nothing to keep in sync when gradients are reallocated). Each
// tensor is cut into chunks of ADAM_CHUNK elements; block b updates chunk b of the launch, and the
// tensor it belongs to is the last one whose first chunk is <= b (chunk_start is a prefix sum).
//
// Per element, in Acc<T> (float for half / bfloat16 / float, double for double), PyTorch's math:
//   g = grad / grad_scale (stored back into grad when a scale is given); g = -g under maximize
//   AdamW: p *= 1 - lr * weight_decay            Adam with weight decay: g += weight_decay * p
//   m = lerp(m, g, 1 - beta1)                     v = beta2 * v + (1 - beta2) * g * g
//   amsgrad: vmax = max(vmax, v), denominator from vmax
//   p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps), step_size = lr / bias_correction1
// Bias corrections come from the host (per tensor, when the step counters live on the CPU) or from
// each tensor's float32 step counter on the device (fused=True), read by every block.
#include "common.cuh"

constexpr int ADAM_MAX_TENSORS = 48;
constexpr long long ADAM_CHUNK = 16384;

// Bits of the `flags` argument.
constexpr int ADAM_AMSGRAD = 1;
constexpr int ADAM_MAXIMIZE = 2;
constexpr int ADAM_DECOUPLED = 4;

struct AdamTensors {
    unsigned long long param[ADAM_MAX_TENSORS];
    unsigned long long grad[ADAM_MAX_TENSORS];
    unsigned long long exp_avg[ADAM_MAX_TENSORS];
    unsigned long long exp_avg_sq[ADAM_MAX_TENSORS];
    unsigned long long max_exp_avg_sq[ADAM_MAX_TENSORS];  // 0 without amsgrad
    unsigned long long step[ADAM_MAX_TENSORS];            // float* on the device, or 0: host steps
    long long numel[ADAM_MAX_TENSORS];
    double step_size[ADAM_MAX_TENSORS];                   // host steps: lr / (1 - beta1^step)
    double bias_correction2_sqrt[ADAM_MAX_TENSORS];       // host steps: sqrt(1 - beta2^step)
    int chunk_start[ADAM_MAX_TENSORS + 1];                // [count] = chunks of the launch
};
// The Python side (adam.py) builds the same layout as a NumPy structured dtype.
static_assert(sizeof(AdamTensors) == 9 * 8 * ADAM_MAX_TENSORS + 4 * (ADAM_MAX_TENSORS + 2),
              "AdamTensors layout changed: update TENSORS_DTYPE in adam.py");

// The tensor that block `block` works on: the last t < count with chunk_start[t] <= block.
__device__ __forceinline__ int adam_tensor_of(const AdamTensors& tl, int count, int block) {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (tl.chunk_start[mid] <= block) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

template <typename T>
__global__ void adam_multi_tensor(const __grid_constant__ AdamTensors tl, const int count,
                                  const double lr, const double beta1, const double beta2,
                                  const double eps, const double weight_decay, const int flags,
                                  const float* grad_scale, const float* found_inf) {
    typedef typename Acc<T>::type A;
    if (found_inf != nullptr && *found_inf != 0.0f) return;  // GradScaler skips this step
    const int t = adam_tensor_of(tl, count, blockIdx.x);
    const long long begin = (long long)(blockIdx.x - tl.chunk_start[t]) * ADAM_CHUNK;
    const long long end = min(tl.numel[t], begin + ADAM_CHUNK);

    double step_size = tl.step_size[t], bias_correction2_sqrt = tl.bias_correction2_sqrt[t];
    if (tl.step[t] != 0ull) {
        const double step = *reinterpret_cast<const float*>(tl.step[t]);
        step_size = lr / (1.0 - pow(beta1, step));
        bias_correction2_sqrt = sqrt(1.0 - pow(beta2, step));
    }
    const bool amsgrad = flags & ADAM_AMSGRAD, maximize = flags & ADAM_MAXIMIZE;
    const bool decoupled = flags & ADAM_DECOUPLED;
    const A decay = decoupled ? A(1.0 - lr * weight_decay) : A(weight_decay);
    const A one_minus_beta1 = A(1.0 - beta1), b2 = A(beta2), one_minus_beta2 = A(1.0 - beta2);
    const A a_step_size = A(step_size), a_bc2_sqrt = A(bias_correction2_sqrt), a_eps = A(eps);

    T* param = reinterpret_cast<T*>(tl.param[t]);
    T* grad = reinterpret_cast<T*>(tl.grad[t]);
    T* exp_avg = reinterpret_cast<T*>(tl.exp_avg[t]);
    T* exp_avg_sq = reinterpret_cast<T*>(tl.exp_avg_sq[t]);
    T* max_exp_avg_sq = reinterpret_cast<T*>(tl.max_exp_avg_sq[t]);

    for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
        A g = to_acc(grad[i]);
        if (grad_scale != nullptr) {
            g = A(double(g) / double(*grad_scale));
            grad[i] = from_acc<T>(g);
        }
        if (maximize) g = -g;
        A p = to_acc(param[i]);
        if (weight_decay != 0.0) {
            if (decoupled) p *= decay;
            else g += decay * p;
        }
        A m = to_acc(exp_avg[i]);
        m += one_minus_beta1 * (g - m);
        const A v = b2 * to_acc(exp_avg_sq[i]) + one_minus_beta2 * g * g;
        A second = v;
        if (amsgrad) {
            const A old = to_acc(max_exp_avg_sq[i]);
            second = (old != old || old > v) ? old : v;  // NaN-propagating max, as torch.maximum
            max_exp_avg_sq[i] = from_acc<T>(second);
        }
        const A denom = sqrt(second) / a_bc2_sqrt + a_eps;
        p -= a_step_size * m / denom;
        param[i] = from_acc<T>(p);
        exp_avg[i] = from_acc<T>(m);
        exp_avg_sq[i] = from_acc<T>(v);
    }
}

// step += 1 for every device step counter of the launch, unless GradScaler found an inf/NaN.
// Runs before adam_multi_tensor, which reads the counters.
__global__ void adam_count_steps(const __grid_constant__ AdamTensors tl, const int count,
                                 const float* found_inf) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t < count && (found_inf == nullptr || *found_inf == 0.0f)) {
        *reinterpret_cast<float*>(tl.step[t]) += 1.0f;
    }
}
