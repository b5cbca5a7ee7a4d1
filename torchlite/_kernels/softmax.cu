// Row kernels of the softmax family: softmax / log_softmax forward and backward over the last
// axis of a contiguous (rows, n) array, and cross entropy of class-index targets fused with the
// logsumexp of its logits (forward: per-row loss and logsumexp in one pass; backward: the logits'
// gradient in one pass from the logits and the saved logsumexp).
//
// Geometry of the row kernels: `per_warp` rows (n <= 1024) take one warp each, blockDim.x / 32
// rows per block; longer rows take one block each (grid.x = rows). `per_warp` is uniform over the
// grid, so the block reductions in its else-branch are reached by every thread of a block.
#include "common.cuh"

__device__ __forceinline__ float acc_exp(float x) { return expf(x); }
__device__ __forceinline__ double acc_exp(double x) { return exp(x); }
__device__ __forceinline__ float acc_log(float x) { return logf(x); }
__device__ __forceinline__ double acc_log(double x) { return log(x); }

template <typename T> using AccT = typename Acc<T>::type;

template <typename A> __device__ __forceinline__ A group_sum(A v, A* scratch, int per_warp) {
    return per_warp ? warp_sum(v) : block_sum(v, scratch);
}

template <typename A> __device__ __forceinline__ A group_max(A v, A* scratch, int per_warp) {
    return per_warp ? warp_max(v) : block_max(v, scratch);
}

// This thread's row, its index in the row's group of threads and the group's width.
struct RowSlot {
    long long row;
    int lane, width;
};

__device__ __forceinline__ RowSlot row_slot(int per_warp) {
    if (per_warp) {
        return {(long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5),
                (int)(threadIdx.x & 31), 32};
    }
    return {(long long)blockIdx.x, (int)threadIdx.x, (int)blockDim.x};
}

// Online max and sum of exp(v - max) over one thread's elements, with the two-pass softmax's
// special values (PyTorch's): +inf or nan make s nan (exp(inf - inf), exp(nan)); -inf adds 0, its
// exp(-inf - m) deferred: when every element of a row is -inf, the group combine gives nan.
template <typename A> struct MaxSum {
    A m, s;
    __device__ __forceinline__ MaxSum() : m(-INFINITY), s(0) {}
    __device__ __forceinline__ void add(A v) {
        if (v > m) {  // a new max: rescale the sum, add exp(v - v)
            s = s * acc_exp(m - v) + (v == A(INFINITY) ? A(NAN) : A(1));
            m = v;
        } else if (v != A(-INFINITY)) {
            s += acc_exp(v - m);
        }
    }
    // (row max, row sum of exp(x - row max)) over the group
    __device__ __forceinline__ void combine(A* scratch, int per_warp) {
        const A row_max = group_max(m, scratch, per_warp);
        s = group_sum(s * acc_exp(m - row_max), scratch, per_warp);
        m = row_max;
    }
};

// y = softmax(x) or log_softmax(x) (`log`) over each row of n elements.
template <typename T>
__global__ void softmax_forward(const T* x, T* y, long long rows, long long n, int log,
                                int per_warp) {
    typedef AccT<T> A;
    __shared__ A scratch[32];
    const RowSlot slot = row_slot(per_warp);
    if (slot.row >= rows) return;  // per_warp only: a whole warp leaves, no block barrier follows
    const T* xr = x + slot.row * n;
    T* yr = y + slot.row * n;
    MaxSum<A> stats;
    for (long long i = slot.lane; i < n; i += slot.width) stats.add(to_acc(xr[i]));
    stats.combine(scratch, per_warp);
    if (log) {
        const A log_sum = acc_log(stats.s);
        for (long long i = slot.lane; i < n; i += slot.width)
            yr[i] = from_acc<T>((to_acc(xr[i]) - stats.m) - log_sum);
    } else {
        for (long long i = slot.lane; i < n; i += slot.width)
            yr[i] = from_acc<T>(acc_exp(to_acc(xr[i]) - stats.m) / stats.s);
    }
}

// The input gradient from the output y and its gradient g, per row:
// softmax: y * (g - sum(g * y)); log_softmax (`log`): g - exp(y) * sum(g).
template <typename T>
__global__ void softmax_backward(const T* g, const T* y, T* out, long long rows, long long n,
                                 int log, int per_warp) {
    typedef AccT<T> A;
    __shared__ A scratch[32];
    const RowSlot slot = row_slot(per_warp);
    if (slot.row >= rows) return;  // per_warp only, as in softmax_forward
    const long long base = slot.row * n;
    A dot = 0;
    for (long long i = slot.lane; i < n; i += slot.width)
        dot += log ? to_acc(g[base + i]) : to_acc(g[base + i]) * to_acc(y[base + i]);
    dot = group_sum(dot, scratch, per_warp);
    for (long long i = slot.lane; i < n; i += slot.width) {
        const A gi = to_acc(g[base + i]), yi = to_acc(y[base + i]);
        out[base + i] = from_acc<T>(log ? gi - acc_exp(yi) * dot : yi * (gi - dot));
    }
}

// ---- cross entropy of class indices ----------------------------------------------------------
//
// Per row r of `classes` logits with target t (ignored where t == ignore_index), class weights w
// (all 1 without `has_weight`), W = sum(w) (`weight_sum`, read only with `has_weight`) and label
// smoothing e: loss_r = (1 - e) w_t (lse_r - x_t) + e / C * (W lse_r - sum_c w_c x_c), the weight
// w_r = w_t; ignored rows give 0 and 0. A target outside [0, C) that is not ignored gives nan
// loss and weight (PyTorch's CUDA kernels assert on the device; a host check would sync).

template <typename A> struct ClassWeight {
    const A* weight;
    int has_weight;
    __device__ __forceinline__ A operator[](long long c) const {
        return has_weight ? weight[c] : A(1);
    }
};

template <typename T>
__global__ void cross_entropy_forward(const T* x, const long long* target, const AccT<T>* weight,
                                      const AccT<T>* weight_sum, int has_weight, AccT<T>* loss,
                                      AccT<T>* row_weight, AccT<T>* lse, long long rows,
                                      long long classes, long long ignore_index,
                                      AccT<T> smoothing, int per_warp) {
    typedef AccT<T> A;
    __shared__ A scratch[32];
    const RowSlot slot = row_slot(per_warp);
    if (slot.row >= rows) return;  // per_warp only, as in softmax_forward
    const T* xr = x + slot.row * classes;
    const ClassWeight<A> w{weight, has_weight};
    // the smoothing term's sum_c w_c x_c, taken about the row's first logit (a finite reference
    // keeps W lse - sum_c w_c x_c free of cancellation for large logits)
    A ref = to_acc(xr[0]);
    ref = isfinite(ref) ? ref : A(0);
    MaxSum<A> stats;
    A weighted = 0;
    for (long long i = slot.lane; i < classes; i += slot.width) {
        const A v = to_acc(xr[i]);
        stats.add(v);
        if (smoothing != A(0)) weighted += w[i] * (v - ref);
    }
    stats.combine(scratch, per_warp);
    if (smoothing != A(0)) weighted = group_sum(weighted, scratch, per_warp);
    if (slot.lane != 0) return;
    const A log_sum = acc_log(stats.s);
    lse[slot.row] = stats.m + log_sum;
    const long long t = target[slot.row];
    A row_loss = 0, wt = 0;
    if (t != ignore_index) {
        if (t < 0 || t >= classes) {
            row_loss = wt = A(NAN);
        } else {
            wt = w[t];
            row_loss = wt * (log_sum - (to_acc(xr[t]) - stats.m));
            if (smoothing != A(0)) {
                const A total_w = has_weight ? *weight_sum : A(classes);
                const A smooth = total_w * (stats.m + log_sum - ref) - weighted;
                row_loss = (A(1) - smoothing) * row_loss + smoothing / A(classes) * smooth;
            }
        }
    }
    loss[slot.row] = row_loss;
    row_weight[slot.row] = wt;
}

// One block: out = sum(loss) ('sum') or sum(loss) / sum(row_weight) ('mean', nan when the
// weights sum to 0, as PyTorch); inv = the factor of each row's gradient: 1 / sum(row_weight)
// for 'mean' (0 when that sum is 0: PyTorch's zero gradient), else 1.
template <typename T>
__global__ void cross_entropy_reduce(const AccT<T>* loss, const AccT<T>* row_weight,
                                     long long rows, int mean, T* out, AccT<T>* inv) {
    typedef AccT<T> A;
    __shared__ A scratch[32];
    A total = 0, weights = 0;
    for (long long i = threadIdx.x; i < rows; i += blockDim.x) {
        total += loss[i];
        if (mean) weights += row_weight[i];
    }
    total = block_sum(total, scratch);
    weights = block_sum(weights, scratch);
    if (threadIdx.x != 0) return;
    if (mean) {
        out[0] = from_acc<T>(weights == A(0) ? A(NAN) : total / weights);
        inv[0] = weights == A(0) ? A(0) : A(1) / weights;
    } else {
        out[0] = from_acc<T>(total);
        inv[0] = A(1);
    }
}

// The logits' gradient of cross_entropy_forward's loss, one thread per element:
// grad_x[r, c] = g_r inv (a_r softmax(x)[r, c] - (1 - e) w_t [c == t] - e / C w_c),
// a_r = (1 - e) w_t + e W / C; 0 on ignored rows, nan on rows with an out-of-range target.
// g is one value per row (`grad_per_row`, reduction 'none') or one for all.
template <typename T>
__global__ void cross_entropy_backward(const T* x, const AccT<T>* lse, const long long* target,
                                       const AccT<T>* weight, const AccT<T>* weight_sum,
                                       int has_weight, const T* grad, int grad_per_row,
                                       const AccT<T>* inv, T* out, long long rows,
                                       long long classes, long long ignore_index,
                                       AccT<T> smoothing) {
    typedef AccT<T> A;
    const ClassWeight<A> w{weight, has_weight};
    const long long total = rows * classes;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const long long r = i / classes, c = i - r * classes;
        const long long t = target[r];
        A value = 0;
        if (t != ignore_index) {
            if (t < 0 || t >= classes) {
                value = A(NAN);
            } else {
                const A wt = w[t], share = smoothing / A(classes);
                const A total_w = has_weight ? *weight_sum : A(classes);
                const A a = (A(1) - smoothing) * wt + share * total_w;
                A d = a * acc_exp(to_acc(x[i]) - lse[r]) - share * w[c];
                if (c == t) d -= (A(1) - smoothing) * wt;
                value = to_acc(grad[grad_per_row ? r : 0]) * inv[0] * d;
            }
        }
        out[i] = from_acc<T>(value);
    }
}
