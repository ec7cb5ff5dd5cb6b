// Checks of simple_linear.cu and simple_conv.cu: 16×16 blocks, grid
// (ceil(rows/16), ceil(N/16)) as kernels/ops_gemm.go launches them, sizes
// that leave partial tiles in every dimension, with and without bias.
#include "check.h"
#include "common.cuh"

#define TYPE_PAIR(s, T, ps, P)                                                                    \
  extern "C" void linear_simple_##s##_##ps(T *, const T *, const P *, const P *, int, int, int); \
  extern "C" void conv2d_simple_##s##_##ps(T *, const T *, const P *, const P *, int, int, int, int, int, int, \
                                           int, int, int, int, int);
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)

static unsigned tiles(int n) { return unsigned((n + 15) / 16); }

template <typename T, typename P>
static void linear(void (*fn)(T *, const T *, const P *, const P *, int, int, int), int M, int N, int K, bool bias) {
  greset();
  Buf<T> x(size_t(M) * K), y(size_t(M) * N);
  Buf<P> w(size_t(N) * K), b(N);
  x.randn(1);
  w.randn(1 / std::sqrt((double)K));
  b.randn(0.5);
  std::vector<double> want(y.n);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = bias ? b.at(n) : 0;
      for (int k = 0; k < K; k++) s += x.at(size_t(m) * K + k) * w.at(size_t(n) * K + k);
      want[size_t(m) * N + n] = s;
    }
  launch({tiles(M), tiles(N)}, {16, 16}, 0, [&] { fn(y.p, x.p, w.p, bias ? b.p : nullptr, M, N, K); });
  char what[200];
  snprintf(what, sizeof what, "linear_simple_%s_%s M%d N%d K%d bias%d", type_name<T>(), type_name<P>(), M, N, K, bias);
  expect(what, y, want);
}

template <typename T, typename P>
static void conv(void (*fn)(T *, const T *, const P *, const P *, int, int, int, int, int, int, int, int, int, int, int),
                 int B, int H, int W, int Cin, int Cout, int KH, int KW, int stride, int pad, bool bias) {
  greset();
  int Ho = (H + 2 * pad - KH) / stride + 1, Wo = (W + 2 * pad - KW) / stride + 1;
  Buf<T> x(size_t(B) * H * W * Cin), y(size_t(B) * Ho * Wo * Cout);
  Buf<P> w(size_t(Cout) * KH * KW * Cin), b(Cout);
  x.randn(1);
  w.randn(1 / std::sqrt((double)KH * KW * Cin));
  b.randn(0.5);
  std::vector<double> want(y.n);
  for (int bb = 0; bb < B; bb++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++)
        for (int co = 0; co < Cout; co++) {
          double s = bias ? b.at(co) : 0;
          for (int ky = 0; ky < KH; ky++)
            for (int kx = 0; kx < KW; kx++) {
              int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              for (int ci = 0; ci < Cin; ci++)
                s += x.at(((size_t(bb) * H + iy) * W + ix) * Cin + ci) * w.at(((size_t(co) * KH + ky) * KW + kx) * Cin + ci);
            }
          want[((size_t(bb) * Ho + oy) * Wo + ox) * Cout + co] = s;
        }
  launch({tiles(B * Ho * Wo), tiles(Cout)}, {16, 16}, 0,
         [&] { fn(y.p, x.p, w.p, bias ? b.p : nullptr, B, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad); });
  char what[200];
  snprintf(what, sizeof what, "conv2d_simple_%s_%s B%d %dx%dx%d->%d k%dx%d s%d p%d bias%d", type_name<T>(), type_name<P>(),
           B, H, W, Cin, Cout, KH, KW, stride, pad, bias);
  expect(what, y, want);
}

void check_simple_linear_conv() {
#define RUN_PAIR(s, T, ps, P)                                                    \
  linear<T, P>(linear_simple_##s##_##ps, 77, 20, 37, true);                      \
  linear<T, P>(linear_simple_##s##_##ps, 5, 33, 16, false);                      \
  conv<T, P>(conv2d_simple_##s##_##ps, 2, 5, 7, 3, 17, 3, 3, 1, 1, true);        \
  conv<T, P>(conv2d_simple_##s##_##ps, 1, 9, 6, 5, 8, 3, 3, 2, 1, false);
  FOR_EACH_FLOAT_PAIR(RUN_PAIR)
  conv<float, float>(conv2d_simple_f32_f32, 1, 4, 6, 20, 7, 1, 1, 1, 0, true); // 1×1 projection
  conv<__half, __half>(conv2d_simple_f16_f16, 1, 6, 9, 4, 5, 1, 3, 2, 1, true); // KH ≠ KW, padding on both
}
