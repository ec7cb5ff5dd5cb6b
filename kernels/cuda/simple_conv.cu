// Reference convolution, channels-last, as an implicit GEMM with the same
// 16×16 shared-memory tiling as simple_linear.cu:
//   x [B, H, W, Cin], w [Cout, KH, KW, Cin], bias [Cout], dst [B, Ho, Wo, Cout]
//   rows m = (b, oy, ox), columns n = cout, reduction k = (ky, kx, cin),
// zero padding. Block (16, 16), grid (ceil(B·Ho·Wo/16), ceil(Cout/16)):
// rows on x, which allows 2^31−1 blocks (a 1024² VAE conv has 2^20 rows).
#include "common.cuh"

#define TILE 16

template <typename T, typename P>
__device__ void conv2d_simple(T *dst, const T *x, const P *w, const P *bias, int B, int H, int W,
                              int Cin, int Ho, int Wo, int Cout, int KH, int KW, int stride, int pad) {
    __shared__ float xs[TILE][TILE + 1];
    __shared__ float ws[TILE][TILE + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int M = B * Ho * Wo, K = KH * KW * Cin;
    int m = blockIdx.x * TILE + ty, n = blockIdx.y * TILE + tx;
    int wrow = blockIdx.y * TILE + ty;
    // The output pixel of row m, for the input patch this thread loads.
    int ox = m % Wo, oy = (m / Wo) % Ho, b = m / (Wo * Ho);
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        int k = k0 + tx;
        float xv = 0.0f;
        if (m < M && k < K) {
            int ci = k % Cin, tap = k / Cin;
            int iy = oy * stride - pad + tap / KW, ix = ox * stride - pad + tap % KW;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) xv = to_f32(x[((size_t)(b * H + iy) * W + ix) * Cin + ci]);
        }
        xs[ty][tx] = xv;
        ws[ty][tx] = (wrow < Cout && k < K) ? to_f32(w[(size_t)wrow * K + k]) : 0.0f;
        __syncthreads();
        for (int kk = 0; kk < TILE; kk++) acc += xs[ty][kk] * ws[tx][kk];
        __syncthreads();
    }
    if (m < M && n < Cout) {
        if (bias) acc += to_f32(bias[n]);
        dst[(size_t)m * Cout + n] = from_f32<T>(acc);
    }
}

#define TYPE_PAIR(s, T, ps, P)                                                                      \
    extern "C" __global__ void conv2d_simple_##s##_##ps(T *d, const T *x, const P *w, const P *bias, \
                                                        int B, int H, int W, int Cin, int Ho, int Wo, \
                                                        int Cout, int KH, int KW, int stride, int pad) { \
        conv2d_simple(d, x, w, bias, B, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad);             \
    }
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)
