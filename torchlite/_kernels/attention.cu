// The elementwise middle of flash-style attention (torchlite/nn/functional/_flash.py), on one
// block of scores laid out (rows, keys), row-major and contiguous: one thread block per row.
//
// A block's rows are `group_rows` consecutive query rows of each of its (batch, head) pairs, the
// first of them query row `row0`; under causal (top-left aligned) query row i attends keys 0..i,
// so row `row` of the block attends the keys left of attended(): the others get weight 0.
#include "common.cuh"

__device__ __forceinline__ int attended(long long row, int keys, int group_rows, int row0,
                                        int causal) {
    if (!causal) return keys;
    const long long last = (long long)row0 + row % group_rows;  // the row's query position
    return (int)min((long long)keys, last + 1);
}

// In place: scores -> softmax over the attended keys (0 elsewhere); lse[row] = log(sum(exp)).
// A row with no finite score (every key masked by a -inf bias) gives zeros and lse 0; a row with
// a NaN score gives NaN.
template <typename T>
__global__ void attention_softmax(T* scores, float* lse, int keys, int group_rows, int row0,
                                  int causal) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    T* x = scores + row * keys;
    const int valid = attended(row, keys, group_rows, row0, causal);
    float top = -INFINITY;
    for (int j = threadIdx.x; j < valid; j += blockDim.x) top = fmaxf(top, to_acc(x[j]));
    top = block_max(top, scratch);
    const float shift = top == -INFINITY ? 0.f : top;
    float total = 0.f;
    for (int j = threadIdx.x; j < valid; j += blockDim.x) total += expf(to_acc(x[j]) - shift);
    total = block_sum(total, scratch);
    // total is 0 only where every attended score is -inf (zeros, lse 0); a NaN score makes it
    // NaN, and the row NaN (softmax's value, as the composed path), never zeros
    const float inv = total == 0.f ? 0.f : 1.f / total;
    for (int j = threadIdx.x; j < keys; j += blockDim.x)
        x[j] = from_acc<T>(j < valid ? expf(to_acc(x[j]) - shift) * inv : 0.f);
    if (threadIdx.x == 0) lse[row] = total == 0.f ? 0.f : shift + logf(total);
}

// In place: scores -> the weights forward computed, exp(score - lse[row]) (0 where not attended).
template <typename T>
__global__ void attention_weights(T* scores, const float* lse, int keys, int group_rows,
                                  int row0, int causal) {
    const long long row = blockIdx.x;
    T* x = scores + row * keys;
    const int valid = attended(row, keys, group_rows, row0, causal);
    const float shift = lse[row];
    for (int j = threadIdx.x; j < keys; j += blockDim.x)
        x[j] = from_acc<T>(j < valid ? expf(to_acc(x[j]) - shift) : 0.f);
}

// In place: dp (grad v^T) -> the scores' gradient p * (dp - rowsum(p * dp)) * scale; p is 0
// where a key is not attended, and so is the result. A block row holds every attended key.
template <typename T>
__global__ void attention_score_grad(T* dp, const T* p, float scale, int keys) {
    __shared__ float scratch[32];
    const long long at = (long long)blockIdx.x * keys;
    float dot = 0.f;
    for (int j = threadIdx.x; j < keys; j += blockDim.x)
        dot += to_acc(p[at + j]) * to_acc(dp[at + j]);
    dot = block_sum(dot, scratch);
    for (int j = threadIdx.x; j < keys; j += blockDim.x)
        dp[at + j] = from_acc<T>(to_acc(p[at + j]) * (to_acc(dp[at + j]) - dot) * scale);
}
