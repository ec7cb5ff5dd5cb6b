// Checks of GroupNorm applied in a consumer's loader: norm.cu's
// groupnorm_table (statistics, then the last block's merge into a
// per-image (scale, shift) table, in one launch), then conv.cu's
// conv2d_norm (+ per-image bias, also when split-K's last split finishes) or
// gemm_norm.cu's gemm_norm, against float64 references of
// conv(pad(silu(gn(x)))) + bias + emb[b] + residual and
// act(silu(gn(x))·wᵀ + bias) + residual. Launch geometry as the Go launchers
// (kernels/norm_plan.go, norm_fused.go, tile_plan.go).
#include "check.h"
#include "common.cuh"

#define TABLE_PAIR(s, T, ps, P)                                                                         \
  extern "C" void groupnorm_table_##s##_##ps(float2 *, unsigned *, float *, const T *, const P *, const P *, int, \
                                             int, int, int, float);
TABLE_PAIR(f16, __half, f16, __half)
TABLE_PAIR(bf16, __nv_bfloat16, bf16, __nv_bfloat16)
TABLE_PAIR(f16, __half, f32, float)

#define NORM_DECL_TILE(T, s, tl)                                                                        \
  extern "C" void conv2d_norm_##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *, int, int, int, \
                                         int, int, int, int, int, int, int, int, const float2 *, int, float *, int *, int); \
  extern "C" void conv2d_norm_unaligned_##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *, int, \
                                                   int, int, int, int, int, int, int, int, int, int, const float2 *, \
                                                   int, float *, int *, int);                           \
  extern "C" void gemm_norm_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int,        \
                                       const float2 *, int, int, float *, int *, int);                  \
  extern "C" void gemm_norm_unaligned_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int,  \
                                                 int, const float2 *, int, int, float *, int *, int);
#define NORM_DECL(T, s)                                                                                 \
  NORM_DECL_TILE(T, s, 128x128)                                                                         \
  NORM_DECL_TILE(T, s, 128x64)                                                                          \
  NORM_DECL_TILE(T, s, 64x128)
NORM_DECL(__half, f16)
NORM_DECL(__nv_bfloat16, bf16)

namespace {

// The GroupNorm input: x [B, positions, C], gamma and beta, groups, eps,
// SiLU, and the statistics launch of kernels/norm_plan.go's planGroupNorm.
template <typename T, typename P> struct NormCase {
  int B, positions, C, groups;
  float eps;
  bool silu;
  Buf<T> x;
  Buf<P> gamma, beta;
  NormCase(int B_, int positions_, int C_, int groups_, float eps_, bool silu_, double mean)
      : B(B_), positions(positions_), C(C_), groups(groups_), eps(eps_), silu(silu_), x(size_t(B_) * positions_ * C_),
        gamma(C_), beta(C_) {
    x.randn(1.5, mean);
    // A ramp over positions: chunks differ in mean, so their merge matters.
    for (size_t i = 0; i < x.n; i++) x.p[i] = from_double<T>(x.at(i) + 3.0 * (i / C % positions) / positions);
    gamma.randn(1, 1);
    beta.randn(0.5);
  }

  // reference returns silu?(gn(x)) in float64.
  std::vector<double> reference() const {
    const int cpg = C / groups;
    std::vector<double> h(x.n);
    for (int b = 0; b < B; b++)
      for (int g = 0; g < groups; g++) {
        auto at = [&](int p, int c) { return (size_t(b) * positions + p) * C + g * cpg + c; };
        double mean = 0, var = 0, n = double(positions) * cpg;
        for (int p = 0; p < positions; p++)
          for (int c = 0; c < cpg; c++) mean += x.at(at(p, c)) / n;
        for (int p = 0; p < positions; p++)
          for (int c = 0; c < cpg; c++) var += std::pow(x.at(at(p, c)) - mean, 2) / n;
        for (int p = 0; p < positions; p++)
          for (int c = 0; c < cpg; c++) {
            double v = (x.at(at(p, c)) - mean) / std::sqrt(var + eps) * gamma.at(g * cpg + c) + beta.at(g * cpg + c);
            h[at(p, c)] = silu ? v / (1 + std::exp(-v)) : v;
          }
      }
    return h;
  }

  // table runs groupnorm_table into t ([B, C] pairs) and checks that the
  // last block left the counter at 0 for the next launch.
  void table(void (*fn)(float2 *, unsigned *, float *, const T *, const P *, const P *, int, int, int, int, float),
             Buf<float2> &t, const char *what) const {
    const int cpg = C / groups, bgs = B * groups;
    const int per = std::max({1, (8192 + cpg - 1) / cpg, (positions + 255) / 256});
    const int chunks = std::max(1, (positions + per - 1) / per);
    Buf<float> partial(size_t(bgs) * chunks * 3);
    Buf<unsigned> counter(1);
    counter.p[0] = 0;
    launch({unsigned(bgs), unsigned(chunks)}, 256, 0,
           [&] { fn(t.p, counter.p, partial.p, x.p, gamma.p, beta.p, positions, C, groups, per, eps); });
    if (counter.p[0] != 0) {
      fprintf(stderr, "  %s: groupnorm_table left its counter at %u\n", what, counter.p[0]);
      failures++;
    }
  }
};

// A tile launch as tile_plan.go makes it (see emulate.cpp's TileLaunch).
struct Tiles {
  int bm = 128, bn = 128, splits = 1;
  int kchunk(int K) const { return (((K + 31) / 32 + splits - 1) / splits) * 32; }
  int used(int K) const { return std::max(1, ((K + 31) / 32 + kchunk(K) / 32 - 1) / (kchunk(K) / 32)); }
  unsigned shared() const { return 4 * (bm + bn) * 32 * 2; }
  dim3u grid(int M, int N, int K) const {
    return {unsigned((M + bm - 1) / bm), unsigned((N + bn - 1) / bn), unsigned(used(K))};
  }
};

using ConvNormFn = void (*)(void *, const void *, const void *, const void *, const void *, const void *, int, int,
                            int, int, int, int, int, int, int, int, int, const float2 *, int, float *, int *, int);

// splits runs a tile kernel as the Go launcher does (tiles.go): with split-K
// it gets float32 partials and one zeroed semaphore per (x, y) tile, and the
// tile's last split finishes it in the same launch, leaving the semaphores
// at 0 for the next launch (checked).
template <class Launch> void run_split(const char *what, Tiles tl, int M, int N, int K, Launch kernel) {
  const int splits = tl.used(K);
  const dim3u grid = tl.grid(M, N, K);
  Buf<float> partial(splits > 1 ? size_t(splits) * M * N : 0);
  Buf<int> sem(splits > 1 ? size_t(grid.x) * grid.y : 0);
  memset(sem.p, 0, sem.n * sizeof(int));
  launch(grid, 256, tl.shared(), [&] { kernel(splits > 1 ? partial.p : nullptr, splits > 1 ? sem.p : nullptr); });
  for (size_t i = 0; i < sem.n; i++)
    if (sem.p[i] != 0) {
      printf("%-60s FAIL: split-K semaphore of tile %zu left at %d\n", what, i, sem.p[i]);
      failures++;
    }
}

template <typename T, typename P>
void test_conv_norm(const char *name, ConvNormFn fn, int B, int H, int W, int Cin, int groups,
                    int Cout, int k, int stride, int pad, bool silu, bool emb, bool res, double mean, Tiles tl,
                    void (*table_fn)(float2 *, unsigned *, float *, const T *, const P *, const P *, int, int, int, int,
                                     float)) {
  greset();
  NormCase<T, P> nc(B, H * W, Cin, groups, 1e-5f, silu, mean);
  const int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
  const int M = B * Ho * Wo, K = k * k * Cin;
  Buf<T> w(size_t(Cout) * K), bias(Cout), e(size_t(B) * Cout), r(size_t(M) * Cout), y(size_t(M) * Cout);
  w.randn(1 / std::sqrt((double)K));
  bias.randn(0.5);
  e.randn(1);
  r.randn(1);
  std::vector<double> h = nc.reference(), want(y.n);
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++)
        for (int co = 0; co < Cout; co++) {
          double s = bias.at(co) + (emb ? e.at(size_t(b) * Cout + co) : 0);
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue; // zero padding of the normalised map
              for (int ci = 0; ci < Cin; ci++)
                s += h[((size_t(b) * H + iy) * W + ix) * Cin + ci] * w.at((size_t(co) * k * k + ky * k + kx) * Cin + ci);
            }
          size_t i = ((size_t(b) * Ho + oy) * Wo + ox) * Cout + co;
          want[i] = s + (res ? r.at(i) : 0);
        }
  char what[240];
  snprintf(what, sizeof what, "%s B%d %dx%dx%d/%dg->%d k%d s%d p%d silu%d emb%d res%d mean%g splits%d", name, B, H, W,
           Cin, groups, Cout, k, stride, pad, silu, emb, res, mean, tl.used(K));
  Buf<float2> table(size_t(B) * Cin);
  nc.table(table_fn, table, what);
  const T *ep = emb ? e.p : nullptr, *rp = res ? r.p : nullptr;
  run_split(what, tl, M, Cout, K, [&](float *partial, int *sem) {
    fn(y.p, nc.x.p, w.p, bias.p, ep, rp, B, H, W, Cin, Ho, Wo, Cout, k, k, stride, pad, table.p, silu, partial, sem,
       tl.kchunk(K));
  });
  expect(what, y, want);
}

using GemmNormFn = void (*)(void *, const void *, const void *, const void *, const void *, int, int, int, int,
                            const float2 *, int, int, float *, int *, int);

template <typename T>
void test_gemm_norm(const char *name, GemmNormFn fn, int B, int positions, int K, int groups, int N,
                    bool silu, int act, bool res, double mean, Tiles tl,
                    void (*table_fn)(float2 *, unsigned *, float *, const T *, const T *, const T *, int, int, int, int,
                                     float)) {
  greset();
  NormCase<T, T> nc(B, positions, K, groups, 1e-6f, silu, mean);
  const int M = B * positions;
  Buf<T> w(size_t(N) * K), bias(N), r(size_t(M) * N), y(size_t(M) * N);
  w.randn(1 / std::sqrt((double)K));
  bias.randn(0.5);
  r.randn(1);
  std::vector<double> h = nc.reference(), want(y.n);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = bias.at(n);
      for (int k = 0; k < K; k++) s += h[size_t(m) * K + k] * w.at(size_t(n) * K + k);
      if (act == 1) s = s / (1 + std::exp(-s));
      want[size_t(m) * N + n] = s + (res ? r.at(size_t(m) * N + n) : 0);
    }
  char what[240];
  snprintf(what, sizeof what, "%s B%d P%d K%d/%dg N%d silu%d act%d res%d mean%g splits%d", name, B, positions, K,
           groups, N, silu, act, res, mean, tl.used(K));
  Buf<float2> table(size_t(B) * K);
  nc.table(table_fn, table, what);
  const T *rp = res ? r.p : nullptr;
  run_split(what, tl, M, N, K, [&](float *partial, int *sem) {
    fn(y.p, nc.x.p, w.p, bias.p, rp, M, N, K, act, table.p, positions, silu, partial, sem, tl.kchunk(K));
  });
  expect(what, y, want);
}

} // namespace

void check_norm_fused() {
  // Rows spanning two images (30 positions per image, 128-row tiles),
  // 4-channel groups (a chunk spans two), padding taps, values 300 ± 2.
  test_conv_norm<__half, __half>("conv2d_norm_128x128_f16", (ConvNormFn)conv2d_norm_128x128_f16,
                                 2, 5, 6, 16, 4, 24, 3, 1, 1, true, true, true,
                                 300, {}, groupnorm_table_f16_f16);
  // Stride 2, bf16, the 64x128 tile, groups wider than a chunk.
  test_conv_norm<__nv_bfloat16, __nv_bfloat16>("conv2d_norm_64x128_bf16", (ConvNormFn)conv2d_norm_64x128_bf16,
                                               1, 9, 11, 32, 2, 40, 3, 2, 1,
                                               true, true, false, 0, {64, 128, 1}, groupnorm_table_bf16_bf16);
  // Cin % 8 != 0 (element-wise path), split-K finished by its last split,
  // float32 GroupNorm parameters, no SiLU.
  test_conv_norm<__half, float>("conv2d_norm_unaligned_128x64_f16", (ConvNormFn)conv2d_norm_unaligned_128x64_f16,
                                2, 7, 5, 12, 3, 20, 3, 1, 1, false, true, true,
                                300, {128, 64, 3}, groupnorm_table_f16_f32);
  // Three images in one tile, stride 2, unaligned bf16, split in two.
  test_conv_norm<__nv_bfloat16, __nv_bfloat16>("conv2d_norm_unaligned_128x128_bf16",
                                               (ConvNormFn)conv2d_norm_unaligned_128x128_bf16,
                                               3, 4, 4, 6, 2, 12, 3, 2, 1,
                                               true, true, false, 0, {128, 128, 2}, groupnorm_table_bf16_bf16);
  // Split-K on the aligned path around 300, without emb; a 1x1 conv (no padding).
  test_conv_norm<__half, __half>("conv2d_norm_128x128_f16", (ConvNormFn)conv2d_norm_128x128_f16,
                                 2, 9, 7, 24, 3, 72, 3, 1, 1, true, false, true,
                                 300, {128, 128, 3}, groupnorm_table_f16_f16);
  test_conv_norm<__half, __half>("conv2d_norm_128x64_f16", (ConvNormFn)conv2d_norm_128x64_f16,
                                 1, 8, 8, 40, 5, 16, 1, 1, 0, true, true, false,
                                 0, {128, 64, 1}, groupnorm_table_f16_f16);
  // Several statistics chunks per group (positions·cpg above 8192).
  test_conv_norm<__half, __half>("conv2d_norm_128x128_f16", (ConvNormFn)conv2d_norm_128x128_f16,
                                 1, 80, 60, 8, 2, 8, 3, 1, 1, true, true, false,
                                 300, {}, groupnorm_table_f16_f16);

  // proj_in: a GEMM over [B·positions, C] with rows spanning images.
  test_gemm_norm<__half>("gemm_norm_128x128_f16", (GemmNormFn)gemm_norm_128x128_f16, 2, 45,
                         32, 4, 40, false, 0, false, 300, {}, groupnorm_table_f16_f16);
  test_gemm_norm<__nv_bfloat16>("gemm_norm_unaligned_64x128_bf16", (GemmNormFn)gemm_norm_unaligned_64x128_bf16,
                                2, 70, 20, 5, 33, true, 0, true, 0, {64, 128, 1},
                                groupnorm_table_bf16_bf16);
  test_gemm_norm<__half>("gemm_norm_128x64_f16", (GemmNormFn)gemm_norm_128x64_f16, 2, 65, 96,
                         32, 72, true, 1, true, 300, {128, 64, 3}, groupnorm_table_f16_f16);
  test_gemm_norm<__nv_bfloat16>("gemm_norm_128x128_bf16", (GemmNormFn)gemm_norm_128x128_bf16, 3, 20, 64, 32, 24, false, 0, false, 300, {}, groupnorm_table_bf16_bf16);
}
