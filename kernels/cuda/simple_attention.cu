// Reference attention: one block per (query row, head, batch), online
// softmax over chunks of blockDim.x keys with float32 statistics, so no
// Tq×Tk matrix exists and any head size works (the VAE's single head is 512
// wide). q [B, Tq, H·D], k and v [B, Tk, H·D], out [B, Tq, H·D].
// Grid (Tq, H, B); dynamic shared memory (2·D + blockDim.x + 32) floats.
#include "common.cuh"

template <typename T>
__device__ void attention_simple(T *out, const T *q, const T *k, const T *v, int Tq, int Tk, int H,
                                 int D, int causal, float scale) {
    extern __shared__ float smem[];
    float *qs = smem;              // the query row, pre-scaled
    float *acc = qs + D;           // unnormalised output row
    float *ps = acc + D;           // this chunk's probabilities
    float *scratch = ps + blockDim.x;
    int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, C = H * D, tid = threadIdx.x;
    const T *qrow = q + ((size_t)b * Tq + i) * C + h * D;
    for (int d = tid; d < D; d += blockDim.x) {
        qs[d] = to_f32(qrow[d]) * scale;
        acc[d] = 0.0f;
    }
    __syncthreads();
    int kend = causal ? min(Tk, i + 1) : Tk;
    float m = -INFINITY, l = 0.0f;
    for (int j0 = 0; j0 < kend; j0 += blockDim.x) {
        int j = j0 + tid;
        float s = -INFINITY;
        if (j < kend) {
            const T *krow = k + ((size_t)b * Tk + j) * C + h * D;
            s = 0.0f;
            for (int d = 0; d < D; d++) s += qs[d] * to_f32(krow[d]);
        }
        float mnew = fmaxf(m, block_max(s, scratch));
        float p = j < kend ? expf(s - mnew) : 0.0f;
        ps[tid] = p;
        float corr = expf(m - mnew); // 0 on the first chunk (m = -inf)
        l = l * corr + block_sum(p, scratch);
        int n = min((int)blockDim.x, kend - j0);
        const T *vbase = v + ((size_t)b * Tk + j0) * C + h * D;
        for (int d = tid; d < D; d += blockDim.x) {
            float a = acc[d] * corr;
            for (int jj = 0; jj < n; jj++) a += ps[jj] * to_f32(vbase[(size_t)jj * C + d]);
            acc[d] = a;
        }
        m = mnew;
        __syncthreads(); // ps is rewritten by the next chunk
    }
    T *orow = out + ((size_t)b * Tq + i) * C + h * D;
    for (int d = tid; d < D; d += blockDim.x) orow[d] = from_f32<T>(acc[d] / l);
}

#define ONE_TYPE(s, T)                                                                            \
    extern "C" __global__ void attention_simple_##s(T *o, const T *q, const T *k, const T *v,    \
                                                    int Tq, int Tk, int H, int D, int causal,    \
                                                    float scale) {                               \
        attention_simple(o, q, k, v, Tq, Tk, H, D, causal, scale);                               \
    }
FOR_EACH_FLOAT(ONE_TYPE)
