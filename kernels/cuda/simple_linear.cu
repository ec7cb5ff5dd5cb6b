// Reference GEMM for Linear: dst [M, N] = x [M, K] · w[N, K]ᵀ + bias [N].
// Plain shared-memory tiling (16×16 tile, one output per thread, float32
// accumulation): obviously right, used to check the tensor-core kernels and
// as their fallback. Block (16, 16), grid (ceil(M/16), ceil(N/16)): rows
// on x, which allows 2^31−1 blocks.
#include "common.cuh"

#define TILE 16

template <typename T, typename P>
__device__ void linear_simple(T *dst, const T *x, const P *w, const P *bias, int M, int N, int K) {
    __shared__ float xs[TILE][TILE + 1];
    __shared__ float ws[TILE][TILE + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int m = blockIdx.x * TILE + ty, n = blockIdx.y * TILE + tx;
    int wrow = blockIdx.y * TILE + ty; // the weight row this thread loads
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        int k = k0 + tx;
        xs[ty][tx] = (m < M && k < K) ? to_f32(x[(size_t)m * K + k]) : 0.0f;
        ws[ty][tx] = (wrow < N && k < K) ? to_f32(w[(size_t)wrow * K + k]) : 0.0f;
        __syncthreads();
        for (int kk = 0; kk < TILE; kk++) acc += xs[ty][kk] * ws[tx][kk];
        __syncthreads();
    }
    if (m < M && n < N) {
        if (bias) acc += to_f32(bias[n]);
        dst[(size_t)m * N + n] = from_f32<T>(acc);
    }
}

#define TYPE_PAIR(s, T, ps, P)                                                                    \
    extern "C" __global__ void linear_simple_##s##_##ps(T *d, const T *x, const P *w, const P *b, \
                                                        int M, int N, int K) {                   \
        linear_simple(d, x, w, b, M, N, K);                                                      \
    }
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)
