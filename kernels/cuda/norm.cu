// LayerNorm and GroupNorm(+SiLU) with float32 statistics computed in two
// passes (mean, then squared deviations), never as E[x²] − E[x]², which
// cancels badly for large activations. Both passes work on x − shift, shift
// being the first value of the row or group: for values of a large mean
// (300 ± 2) the sums then stay at the size of the spread, and the mean is
// not rounded at the size of the values (x − shift is exact there).
#include "common.cuh"
#include "channels.cuh"

// ---- LayerNorm over rows of x [rows, C] ----
//
// The row is read from global memory once, into registers, and written once.
// layernorm_warp gives each row one warp (8 rows per 256-thread block, no
// barriers) and serves C ≤ 32·LN_VALUES; layernorm_block gives it a block
// of up to 256 threads (the launcher sizes it to the row) and serves
// C ≤ blockDim·LN_VALUES; layernorm reads the row three times from global
// memory and serves any C. LN_VALUES bounds the registers a thread holds
// the row in (ptxas: about 45 at 16), so that enough threads stay resident.

#define LN_VALUES 16

// ln_store writes one team's row: v holds the row's values c = first +
// k·stride (k < N, c < C) less the shift; mean (of v) and rstd are the row's.
template <int N, typename T, typename P>
__device__ __forceinline__ void ln_store(T *out, const float *v, int first, int stride, int C, float mean, float rstd,
                                         const P *gamma, const P *beta) {
#pragma unroll
    for (int k = 0; k < N; k++) {
        int c = first + k * stride;
        if (c < C) out[c] = from_f32<T>((v[k] - mean) * rstd * to_f32(gamma[c]) + to_f32(beta[c]));
    }
}

template <typename T, typename P>
__device__ void layernorm_warp(T *dst, const T *x, const P *gamma, const P *beta, int rows, int C, float eps) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return; // the whole warp: no barrier below
    const T *in = x + (size_t)row * C;
    float shift = to_f32(in[0]), v[LN_VALUES];
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < LN_VALUES; k++) {
        int c = lane + 32 * k;
        v[k] = c < C ? to_f32(in[c]) - shift : 0.0f;
        s += v[k];
    }
    float mean = warp_sum(s) / C;
    float ss = 0.0f;
#pragma unroll
    for (int k = 0; k < LN_VALUES; k++) {
        float d = lane + 32 * k < C ? v[k] - mean : 0.0f;
        ss += d * d;
    }
    float rstd = rsqrtf(warp_sum(ss) / C + eps);
    ln_store<LN_VALUES>(dst + (size_t)row * C, v, lane, 32, C, mean, rstd, gamma, beta);
}

template <typename T, typename P>
__device__ void layernorm_block(T *dst, const T *x, const P *gamma, const P *beta, int C, float eps) {
    __shared__ float scratch[32];
    const T *in = x + (size_t)blockIdx.x * C;
    float shift = to_f32(in[0]), v[LN_VALUES];
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < LN_VALUES; k++) {
        int c = threadIdx.x + blockDim.x * k;
        v[k] = c < C ? to_f32(in[c]) - shift : 0.0f;
        s += v[k];
    }
    float mean = block_sum(s, scratch) / C;
    float ss = 0.0f;
#pragma unroll
    for (int k = 0; k < LN_VALUES; k++) {
        float d = threadIdx.x + blockDim.x * k < C ? v[k] - mean : 0.0f;
        ss += d * d;
    }
    float rstd = rsqrtf(block_sum(ss, scratch) / C + eps);
    ln_store<LN_VALUES>(dst + (size_t)blockIdx.x * C, v, threadIdx.x, blockDim.x, C, mean, rstd, gamma, beta);
}

// Any C: one block per row, reading the row three times.
template <typename T, typename P>
__device__ void layernorm(T *dst, const T *x, const P *gamma, const P *beta, int C, float eps) {
    __shared__ float scratch[32];
    const T *row = x + (size_t)blockIdx.x * C;
    T *out = dst + (size_t)blockIdx.x * C;
    float shift = to_f32(row[0]), s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) s += to_f32(row[c]) - shift;
    float mean = block_sum(s, scratch) / C;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float d = to_f32(row[c]) - shift - mean;
        ss += d * d;
    }
    float rstd = rsqrtf(block_sum(ss, scratch) / C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        out[c] = from_f32<T>((to_f32(row[c]) - shift - mean) * rstd * to_f32(gamma[c]) + to_f32(beta[c]));
}

// ---- GroupNorm over groups of consecutive channels of x [B, positions, C] ----
//
// Two launches (kernels/norm_plan.go sizes them). groupnorm_stats: block
// (bg, chunk), bg = b·groups + g, writes the (count, mean, M2) of x − shift
// over positions [chunk·per, (chunk+1)·per) of group g in image b to
// partial[(bg·chunks + chunk)·3 ...], shift being the group's first value.
// groupnorm_apply: block (b·spans + s, a) normalises `span` consecutive
// groups (span·cpg channels, so that a warp's accesses are contiguous even
// for narrow groups) over positions [a·apply_per, (a+1)·apply_per): warp w
// first merges the chunks of group w of its span (Chan et al.'s parallel
// variance, in a fixed order, so that every block of a group gets the same
// bits).

#define GN_THREADS 256
#define GN_MAX_SPAN 8 // warps per block: one merges each group

struct Moments {
    float n, mean, m2;
};

// merge combines the moments of two disjoint sets.
__device__ __forceinline__ Moments merge(Moments a, Moments b) {
    if (b.n == 0.0f) return a;
    if (a.n == 0.0f) return b;
    float n = a.n + b.n, d = b.mean - a.mean;
    return {n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * (b.n / n))};
}

// Walk visits the elements start, start + stride, ... of a [rows, span,
// cpg] region as (p, g, c), carrying instead of dividing per element.
struct Walk {
    int p, g, c, dp, dg, dc;
    __device__ Walk(int start, int stride, int span, int cpg) {
        int w = span * cpg, r = start % w, q = stride % w;
        p = start / w, g = r / cpg, c = r % cpg;
        dp = stride / w, dg = q / cpg, dc = q % cpg;
    }
    __device__ __forceinline__ void next(int span, int cpg) {
        c += dc;
        if (c >= cpg) c -= cpg, g++;
        g += dg;
        if (g >= span) g -= span, p++;
        p += dp;
    }
};

// x may be two tensors' channels (channels.cuh: a ResBlock's cat(h, skip));
// a group may straddle the two.
template <typename T>
__device__ void groupnorm_stats(float *partial, Channels<T> x, int positions, int groups, int per) {
    __shared__ float scratch[32];
    int bg = blockIdx.x, chunk = blockIdx.y, chunks = gridDim.y;
    int b = bg / groups, g = bg - b * groups, cpg = x.C / groups;
    int p0 = chunk * per, rows = max(min(positions, p0 + per) - p0, 0);
    float shift = to_f32(*x.at((size_t)b * positions, g * cpg));
    const size_t first = (size_t)b * positions + p0; // pixel of row 0
    float s = 0.0f;
    for (Walk w(threadIdx.x, blockDim.x, 1, cpg); w.p < rows; w.next(1, cpg))
        s += to_f32(*x.at(first + w.p, g * cpg + w.c)) - shift;
    int n = rows * cpg;
    float mean = n > 0 ? block_sum(s, scratch) / n : 0.0f;
    float ss = 0.0f;
    for (Walk w(threadIdx.x, blockDim.x, 1, cpg); w.p < rows; w.next(1, cpg)) {
        float d = to_f32(*x.at(first + w.p, g * cpg + w.c)) - shift - mean;
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

// warp_moments merges chunks 0..chunks-1 of one group's partials; lane 0
// gets the whole group's, through a fixed tree (the other lanes, parts).
__device__ __forceinline__ Moments warp_moments(const float *p, int chunks) {
    int lane = threadIdx.x & 31;
    Moments m = {0.0f, 0.0f, 0.0f};
    for (int c = lane; c < chunks; c += 32) m = merge(m, Moments{p[3 * c], p[3 * c + 1], p[3 * c + 2]});
    for (int o = 16; o > 0; o >>= 1) {
        Moments other = {__shfl_xor_sync(0xffffffffu, m.n, o), __shfl_xor_sync(0xffffffffu, m.mean, o),
                         __shfl_xor_sync(0xffffffffu, m.m2, o)};
        m = merge(m, other);
    }
    return m;
}

template <typename T, typename P>
__device__ void groupnorm_apply(T *dst, const T *x, const float *partial, const P *gamma, const P *beta,
                                int positions, int C, int groups, int span, int chunks, int apply_per, float eps,
                                int silu) {
    __shared__ float smean[GN_MAX_SPAN], srstd[GN_MAX_SPAN], sshift[GN_MAX_SPAN];
    int spans = groups / span, cpg = C / groups;
    int b = blockIdx.x / spans, g0 = (blockIdx.x - b * spans) * span;
    int warp = threadIdx.x >> 5;
    if (warp < span) {
        int g = g0 + warp;
        Moments m = warp_moments(partial + ((size_t)b * groups + g) * chunks * 3, chunks);
        if ((threadIdx.x & 31) == 0) {
            smean[warp] = m.mean;
            srstd[warp] = rsqrtf(m.m2 / m.n + eps);
            sshift[warp] = to_f32(x[(size_t)b * positions * C + g * cpg]); // as in groupnorm_stats
        }
    }
    __syncthreads();
    int p0 = blockIdx.y * apply_per, rows = max(min(positions, p0 + apply_per) - p0, 0);
    size_t offset = ((size_t)b * positions + p0) * C + g0 * cpg;
    const T *in = x + offset;
    T *out = dst + offset;
    const P *gg = gamma + g0 * cpg, *bb = beta + g0 * cpg;
    for (Walk w(threadIdx.x, blockDim.x, span, cpg); w.p < rows; w.next(span, cpg)) {
        int c = w.g * cpg + w.c;
        size_t at = (size_t)w.p * C + c;
        float y = (to_f32(in[at]) - sshift[w.g] - smean[w.g]) * srstd[w.g] * to_f32(gg[c]) + to_f32(bb[c]);
        if (silu) y = y / (1.0f + expf(-y));
        out[at] = from_f32<T>(y);
    }
}

// ---- GroupNorm as a table for a consumer's loader (norm_loader.cuh) ----
//
// groupnorm_table is groupnorm_stats in the same grid, after which the last
// block to finish (a counter in backend memory, which that block resets to
// 0 for the next launch) merges every group's partials in the fixed order of
// groupnorm_apply and writes, per image b and channel c,
//
//   table[b·C + c] = (scale, shift): scale = gamma[c]·rstd,
//                    shift = beta[c] − (x_first + mean)·scale
//
// so that normalising is one fma, v·scale + shift, in the loader of the op
// that reads the normalised tensor; nothing else is written. x_first + mean
// is the group's mean: its float32 rounding moves the output by about
// 1e-7·|mean|·scale, far below an f16 or bf16 output's rounding. One launch,
// deterministic (the merge order does not depend on which block is last).
//
// x is the channels of x then of x2 (x2 null when C1 == C): the input of an
// up block's ResBlock, cat(h, skip), is never written (channels.cuh).

// load_moments reads partial statistics another block wrote, from L2 (not
// a stale L1 line).
__device__ __forceinline__ Moments load_moments(const float *p) {
    return Moments{__ldcg(p), __ldcg(p + 1), __ldcg(p + 2)};
}

template <typename T, typename P>
__device__ void groupnorm_table(float2 *table, unsigned *counter, float *partial, Channels<T> x, const P *gamma,
                                const P *beta, int positions, int groups, int per, float eps) {
    __shared__ unsigned ticket[1];
    const int C = x.C;
    groupnorm_stats(partial, x, positions, groups, per);
    if (threadIdx.x == 0) {
        __threadfence(); // this block's partial (thread 0 wrote it) before its ticket
        ticket[0] = atomicAdd(counter, 1u);
    }
    __syncthreads();
    if (ticket[0] != gridDim.x * gridDim.y - 1) return;
    __threadfence(); // every other block's partial is visible after its ticket
    int lane = threadIdx.x & 31, warps = blockDim.x >> 5, chunks = gridDim.y, cpg = C / groups;
    for (int bg = threadIdx.x >> 5; bg < (int)gridDim.x; bg += warps) {
        const float *p = partial + (size_t)bg * chunks * 3;
        Moments m = {0.0f, 0.0f, 0.0f};
        for (int c = lane; c < chunks; c += 32) m = merge(m, load_moments(p + 3 * c));
        for (int o = 16; o > 0; o >>= 1) {
            Moments other = {__shfl_xor_sync(0xffffffffu, m.n, o), __shfl_xor_sync(0xffffffffu, m.mean, o),
                             __shfl_xor_sync(0xffffffffu, m.m2, o)};
            m = merge(m, other);
        }
        // Lane 0's merge, the same tree as warp_moments (partners merge in
        // swapped order, so the other lanes' bits may differ).
        float mean = __shfl_sync(0xffffffffu, m.mean, 0), m2 = __shfl_sync(0xffffffffu, m.m2, 0),
              n = __shfl_sync(0xffffffffu, m.n, 0);
        float rstd = rsqrtf(m2 / n + eps);
        int b = bg / groups, g = bg - b * groups;
        float center = to_f32(*x.at((size_t)b * positions, g * cpg)) + mean;
        for (int c = g * cpg + lane; c < (g + 1) * cpg; c += 32) {
            float scale = rstd * to_f32(gamma[c]);
            table[(size_t)b * C + c] = make_float2(scale, to_f32(beta[c]) - center * scale);
        }
    }
    if (threadIdx.x == 0) *counter = 0;
}

#define ONE_TYPE(s, T)                                                                              \
    extern "C" __global__ void groupnorm_stats_##s(float *partial, const T *x, int positions, int C, \
                                                   int groups, int per) {                          \
        groupnorm_stats(partial, one_source(x, C), positions, groups, per);                        \
    }
FOR_EACH_FLOAT(ONE_TYPE)

#define TYPE_PAIR(s, T, ps, P)                                                                         \
    extern "C" __global__ void layernorm_##s##_##ps(T *d, const T *x, const P *g, const P *b, int C,    \
                                                    float eps) {                                      \
        layernorm(d, x, g, b, C, eps);                                                                \
    }                                                                                                  \
    extern "C" __global__ void layernorm_warp_##s##_##ps(T *d, const T *x, const P *g, const P *b,     \
                                                         int rows, int C, float eps) {                \
        layernorm_warp(d, x, g, b, rows, C, eps);                                                     \
    }                                                                                                  \
    extern "C" __global__ void layernorm_block_##s##_##ps(T *d, const T *x, const P *g, const P *b,    \
                                                          int C, float eps) {                         \
        layernorm_block(d, x, g, b, C, eps);                                                          \
    }                                                                                                  \
    extern "C" __global__ void groupnorm_apply_##s##_##ps(                                            \
        T *d, const T *x, const float *partial, const P *g, const P *b, int positions, int C, int groups, \
        int span, int chunks, int apply_per, float eps, int silu) {                                    \
        groupnorm_apply(d, x, partial, g, b, positions, C, groups, span, chunks, apply_per, eps, silu); \
    }                                                                                                  \
    extern "C" __global__ void groupnorm_table_##s##_##ps(float2 *t, unsigned *counter, float *partial, \
                                                          const T *x, const T *x2, int C1, const P *g,  \
                                                          const P *b, int positions, int C, int groups, \
                                                          int per, float eps) {                        \
        groupnorm_table(t, counter, partial, Channels<T>{x, x2, C1, C}, g, b, positions, groups, per, eps); \
    }
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)
