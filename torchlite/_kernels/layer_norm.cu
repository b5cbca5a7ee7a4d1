// Layer norm over the trailing dims: rows of n contiguous elements, standardised by their mean and
// biased variance (two passes in the accumulation type A, as the composed path), then scaled and
// shifted by per-column weight and bias (given in A). Its backward is one kernel per row for the
// input's gradient and a two-stage deterministic column reduction for the weight's and bias's.
#include "common.cuh"

// Sum of v over the threads of one row: a warp (blockDim.x == 32: blockDim.y rows per block) or
// the whole block (blockDim.y == 1). blockDim.x is uniform, so block_sum's barriers are reached by
// every thread of the block. `scratch` holds 32 values of A in shared memory.
template <typename A> __device__ __forceinline__ A row_sum(A v, A* scratch) {
    return blockDim.x == 32 ? warp_sum(v) : block_sum(v, scratch);
}

enum { HAS_WEIGHT = 1, HAS_BIAS = 2 };

// y = xhat * weight + bias with xhat = (x - mean) * rstd. `flags` (HAS_WEIGHT | HAS_BIAS) says
// which parameters exist; without either, y is xhat and only y is written. mean and rstd get one
// value per row. Rows are strided over the grid (a row's threads all take the same steps).
template <typename T>
__global__ void layer_norm_forward(const T* __restrict__ x, const typename Acc<T>::type* weight,
                                   const typename Acc<T>::type* bias, T* y, T* xhat, T* mean_out,
                                   T* rstd_out, long long rows, long long n,
                                   typename Acc<T>::type eps, int flags) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    for (long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y; row < rows;
         row += (long long)gridDim.x * blockDim.y) {
        const long long base = row * n;
        A s = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) s += to_acc(x[base + j]);
        const A mean = row_sum(s, scratch) / A(n);
        A q = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            const A d = to_acc(x[base + j]) - mean;
            q += d * d;
        }
        const A rstd = A(1) / sqrt(row_sum(q, scratch) / A(n) + eps);
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            const A h = (to_acc(x[base + j]) - mean) * rstd;
            A out = h;
            if (flags) {
                xhat[base + j] = from_acc<T>(h);
                if (flags & HAS_WEIGHT) out *= weight[j];
                if (flags & HAS_BIAS) out += bias[j];
            }
            y[base + j] = from_acc<T>(out);
        }
        if (threadIdx.x == 0) {
            mean_out[row] = from_acc<T>(mean);
            rstd_out[row] = from_acc<T>(rstd);
        }
    }
}

// grad_x = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) per row, gh = g * weight (g without
// HAS_WEIGHT in flags), written in A as the composed path does.
template <typename T>
__global__ void layer_norm_backward_input(const T* __restrict__ g, const T* __restrict__ xhat,
                                          const T* __restrict__ rstd,
                                          const typename Acc<T>::type* weight,
                                          typename Acc<T>::type* gx, long long rows, long long n,
                                          int flags) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    for (long long row = (long long)blockIdx.x * blockDim.y + threadIdx.y; row < rows;
         row += (long long)gridDim.x * blockDim.y) {
        const long long base = row * n;
        A s1 = 0, s2 = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            A gh = to_acc(g[base + j]);
            if (flags & HAS_WEIGHT) gh *= weight[j];
            s1 += gh;
            s2 += gh * to_acc(xhat[base + j]);
        }
        const A mean_gh = row_sum(s1, scratch) / A(n);
        const A mean_ghx = row_sum(s2, scratch) / A(n);
        const A r = to_acc(rstd[row]);
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            A gh = to_acc(g[base + j]);
            if (flags & HAS_WEIGHT) gh *= weight[j];
            gx[base + j] = (gh - mean_gh - to_acc(xhat[base + j]) * mean_ghx) * r;
        }
    }
}

enum { COLS = 32, ROW_THREADS = 8 };

// Column sums of g * xhat (gw, with HAS_WEIGHT in flags) and of g (gb, with HAS_BIAS) over the
// rows [blockIdx.y * chunk, +chunk): one partial sum per column and chunk, at gw[blockIdx.y * n +
// column]. Block (COLS, ROW_THREADS): COLS adjacent columns, ROW_THREADS rows at a time.
template <typename T>
__global__ void layer_norm_backward_params(const T* __restrict__ g, const T* __restrict__ xhat,
                                           typename Acc<T>::type* gw, typename Acc<T>::type* gb,
                                           long long rows, long long n, long long chunk,
                                           int flags) {
    typedef typename Acc<T>::type A;
    __shared__ A part_w[ROW_THREADS][COLS], part_b[ROW_THREADS][COLS];
    const long long col = (long long)blockIdx.x * COLS + threadIdx.x;
    const long long start = (long long)blockIdx.y * chunk;
    const long long end = min(rows, start + chunk);
    A w = 0, b = 0;
    if (col < n) {
        for (long long r = start + threadIdx.y; r < end; r += ROW_THREADS) {
            const A gv = to_acc(g[r * n + col]);
            if (flags & HAS_WEIGHT) w += gv * to_acc(xhat[r * n + col]);
            b += gv;
        }
    }
    part_w[threadIdx.y][threadIdx.x] = w;
    part_b[threadIdx.y][threadIdx.x] = b;
    __syncthreads();
    if (threadIdx.y == 0 && col < n) {
        for (int k = 1; k < ROW_THREADS; ++k) {
            w += part_w[k][threadIdx.x];
            b += part_b[k][threadIdx.x];
        }
        const long long at = (long long)blockIdx.y * n + col;
        if (flags & HAS_WEIGHT) gw[at] = w;
        if (flags & HAS_BIAS) gb[at] = b;
    }
}

// out[c] = sum over k < chunks of part[k * n + c], in order (the second stage of the above).
template <typename A>
__global__ void column_sum(const A* __restrict__ part, A* __restrict__ out, long long chunks,
                           long long n) {
    for (long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x; c < n;
         c += (long long)gridDim.x * blockDim.x) {
        A s = 0;
        for (long long k = 0; k < chunks; ++k) s += part[k * n + c];
        out[c] = s;
    }
}
