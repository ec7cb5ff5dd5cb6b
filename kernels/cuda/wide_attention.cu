// The two helper kernels of attention with one wide head (the VAE's
// mid-block: 16,384 tokens at 1024², one head of 512), which the flash
// kernel (head size 64) does not take. The launcher (wide_attention.go)
// computes softmax(q·kᵀ·scale)·v for a block of queries at a time with the
// tensor-core GEMM: scores = q·kᵀ, softmax_rows on them in place, then
// out = p·(vᵀ)ᵀ, for which v is transposed once per image.
#include "common.cuh"

namespace wide {
constexpr int THREADS = 256;
constexpr int TILE = 32; // transpose tile edge
}

// Each row of s [rows, cols] becomes softmax(scale · row), in place. One
// block per row: the row's maximum, then the sum of exponentials, then the
// normalised values, all in float32 (s holds the GEMM's 16-bit scores).
template <typename T>
__device__ void softmax_rows(T *s, int cols, float scale) {
    __shared__ float scratch[32];
    T *row = s + (size_t)blockIdx.x * cols;
    float m = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, to_f32(row[c]) * scale);
    m = block_max(m, scratch);
    float sum = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) sum += __expf(to_f32(row[c]) * scale - m);
    sum = block_sum(sum, scratch);
    const float inv = 1.0f / sum;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) row[c] = from_f32<T>(__expf(to_f32(row[c]) * scale - m) * inv);
}

// dst [cols, rows] = srcᵀ for src [rows, cols], through a shared tile so that
// both the reads and the writes are coalesced. Block (32, 8), grid
// (ceil(cols/32), ceil(rows/32)); the +1 column avoids bank conflicts.
template <typename T>
__device__ void transpose(T *dst, const T *src, int rows, int cols) {
    __shared__ T tile[wide::TILE][wide::TILE + 1];
    const int c0 = blockIdx.x * wide::TILE, r0 = blockIdx.y * wide::TILE;
    for (int y = threadIdx.y; y < wide::TILE; y += blockDim.y) {
        const int r = r0 + y, c = c0 + threadIdx.x;
        if (r < rows && c < cols) tile[y][threadIdx.x] = src[(size_t)r * cols + c];
    }
    __syncthreads();
    for (int y = threadIdx.y; y < wide::TILE; y += blockDim.y) {
        const int c = c0 + y, r = r0 + threadIdx.x;
        if (r < rows && c < cols) dst[(size_t)c * rows + r] = tile[threadIdx.x][y];
    }
}

#define WIDE_TYPE(s, T)                                                                               \
    extern "C" __global__ void __launch_bounds__(wide::THREADS)                                      \
        softmax_rows_##s(T *x, int cols, float scale) { softmax_rows(x, cols, scale); }               \
    extern "C" __global__ void __launch_bounds__(wide::TILE * 8)                                     \
        transpose_##s(T *d, const T *x, int rows, int cols) { transpose(d, x, rows, cols); }

WIDE_TYPE(f16, __half)
WIDE_TYPE(bf16, __nv_bfloat16)
