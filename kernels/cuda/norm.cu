// LayerNorm and GroupNorm(+SiLU) with float32 statistics computed in two
// passes (mean, then squared deviations), never as E[x²] − E[x]², which
// cancels badly for large activations.
#include "common.cuh"

// One block per row of x [rows, C].
template <typename T, typename P>
__device__ void layernorm(T *dst, const T *x, const P *gamma, const P *beta, int C, float eps) {
    __shared__ float scratch[32];
    const T *row = x + (size_t)blockIdx.x * C;
    T *out = dst + (size_t)blockIdx.x * C;
    float s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) s += to_f32(row[c]);
    float mean = block_sum(s, scratch) / C;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float d = to_f32(row[c]) - mean;
        ss += d * d;
    }
    float rstd = rsqrtf(block_sum(ss, scratch) / C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        out[c] = from_f32<T>((to_f32(row[c]) - mean) * rstd * to_f32(gamma[c]) + to_f32(beta[c]));
}

// GroupNorm, level 1: block (bg, chunk) with bg = b·groups + g summarises
// positions [chunk·per, (chunk+1)·per) of group g in image b as
// (count, mean, M2) into partial[(bg·chunks + chunk)·3 ...].
template <typename T>
__device__ void groupnorm_stats(float *partial, const T *x, int positions, int C, int groups, int per) {
    __shared__ float scratch[32];
    int bg = blockIdx.x, chunk = blockIdx.y, chunks = gridDim.y;
    int b = bg / groups, g = bg - b * groups, cpg = C / groups;
    int p0 = chunk * per, p1 = min(positions, p0 + per);
    int n = max(p1 - p0, 0) * cpg;
    const T *base = x + ((size_t)b * positions + p0) * C + g * cpg;
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += to_f32(base[(size_t)(i / cpg) * C + i % cpg]);
    float mean = n > 0 ? block_sum(s, scratch) / n : 0.0f;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float d = to_f32(base[(size_t)(i / cpg) * C + i % cpg]) - mean;
        ss += d * d;
    }
    float m2 = block_sum(ss, scratch);
    if (threadIdx.x == 0) {
        float *o = partial + ((size_t)bg * chunks + chunk) * 3;
        o[0] = (float)n;
        o[1] = mean;
        o[2] = m2;
    }
}

// GroupNorm, level 2: one thread per (b, g) merges its chunks (Chan et al.'s
// parallel variance) into stats[bg·2] = mean, 1/sqrt(var + eps).
extern "C" __global__ void groupnorm_finalize(float *stats, const float *partial, int bgs, int chunks, float eps) {
    int bg = blockIdx.x * blockDim.x + threadIdx.x;
    if (bg >= bgs) return;
    float n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int c = 0; c < chunks; c++) {
        const float *p = partial + ((size_t)bg * chunks + c) * 3;
        float nb = p[0];
        if (nb == 0.0f) continue;
        float delta = p[1] - mean, total = n + nb;
        mean += delta * nb / total;
        m2 += p[2] + delta * delta * n * nb / total;
        n = total;
    }
    stats[2 * bg] = mean;
    stats[2 * bg + 1] = rsqrtf(m2 / n + eps);
}

// GroupNorm, apply: one thread per element of x [B, positions, C].
template <typename T, typename P>
__device__ void groupnorm_apply(T *dst, const T *x, const float *stats, const P *gamma, const P *beta,
                                int positions, int C, int groups, int total, int silu) {
    int cpg = C / groups;
    GRID_STRIDE(i, total) {
        int c = i % C;
        int b = i / C / positions;
        int bg = b * groups + c / cpg;
        float y = (to_f32(x[i]) - stats[2 * bg]) * stats[2 * bg + 1] * to_f32(gamma[c]) + to_f32(beta[c]);
        if (silu) y = y / (1.0f + expf(-y));
        dst[i] = from_f32<T>(y);
    }
}

#define ONE_TYPE(s, T)                                                                              \
    extern "C" __global__ void groupnorm_stats_##s(float *partial, const T *x, int positions, int C, \
                                                   int groups, int per) {                          \
        groupnorm_stats(partial, x, positions, C, groups, per);                                    \
    }
FOR_EACH_FLOAT(ONE_TYPE)

#define TYPE_PAIR(s, T, ps, P)                                                                      \
    extern "C" __global__ void layernorm_##s##_##ps(T *d, const T *x, const P *g, const P *b, int C, \
                                                    float eps) {                                   \
        layernorm(d, x, g, b, C, eps);                                                             \
    }                                                                                               \
    extern "C" __global__ void groupnorm_apply_##s##_##ps(T *d, const T *x, const float *stats,    \
                                                          const P *g, const P *b, int positions,  \
                                                          int C, int groups, int total, int silu) { \
        groupnorm_apply(d, x, stats, g, b, positions, C, groups, total, silu);                     \
    }
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)
