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
  extern "C" void groupnorm_table_##s##_##ps(float2 *, unsigned *, float *, const T *, const T *, int, const P *, \
                                             const P *, int, int, int, int, float);
TABLE_PAIR(f16, __half, f16, __half)
TABLE_PAIR(bf16, __nv_bfloat16, bf16, __nv_bfloat16)
TABLE_PAIR(f16, __half, f32, float)

// conv2d_norm's parameters: y, x, x2, w, bias, emb, emb_ld, residual, B, H, W, Cin,
// C1, up, Ho, Wo, Cout, KH, KW, stride, pad, table, silu, skip, skip2, Cskip,
// Cskip1, wskip, bskip, partial, sem, kchunk.
#define CONV_NORM_ARGS(T)                                                                               \
  T *, const T *, const T *, const T *, const T *, const T *, int, const T *, int, int, int, int, int, int, int, int, int, \
      int, int, int, int, const float2 *, int, const T *, const T *, int, int, const T *, const T *, float *, int *, int
#define NORM_DECL_TILE(T, s, tl)                                                                        \
  extern "C" void conv2d_norm_##tl##_##s(CONV_NORM_ARGS(T));                                          \
  extern "C" void conv2d_norm_unaligned_##tl##_##s(CONV_NORM_ARGS(T));                                \
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
  // With C1 < C the statistics read channels [0, C1) from xa and the rest
  // from xb (split() makes them), as a ResBlock's cat(h, skip).
  void table(void (*fn)(float2 *, unsigned *, float *, const T *, const T *, int, const P *, const P *, int, int, int,
                        int, float),
             Buf<float2> &t, const char *what, const T *xa, const T *xb, int C1) const {
    const int cpg = C / groups, bgs = B * groups;
    const int per = std::max({1, (8192 + cpg - 1) / cpg, (positions + 255) / 256});
    const int chunks = std::max(1, (positions + per - 1) / per);
    Buf<float> partial(size_t(bgs) * chunks * 3);
    Buf<unsigned> counter(1);
    counter.p[0] = 0;
    launch({unsigned(bgs), unsigned(chunks)}, 256, 0,
           [&] { fn(t.p, counter.p, partial.p, xa, xb, C1, gamma.p, beta.p, positions, C, groups, per, eps); });
    if (counter.p[0] != 0) {
      fprintf(stderr, "  %s: groupnorm_table left its counter at %u\n", what, counter.p[0]);
      failures++;
    }
  }
};

// split copies channels [0, C1) of each row of x [rows, C] into a and the
// rest into b: one tensor read as two sources.
template <typename T> void split(const Buf<T> &x, int C, int C1, Buf<T> &a, Buf<T> &b) {
  const size_t rows = x.n / C;
  for (size_t r = 0; r < rows; r++)
    for (int c = 0; c < C; c++) {
      if (c < C1) a.p[r * C1 + c] = x.p[r * C + c];
      else b.p[r * (C - C1) + c - C1] = x.p[r * C + c];
    }
}

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

using ConvNormFn = void (*)(CONV_NORM_ARGS(void));

// How test_conv_norm reads its input (conv.cu's loader): C1 > 0 takes the
// Cin channels as C1 from one tensor and the rest from another; up reads a
// stored H/2 x W/2 input nearest-2x; Cskip > 0 adds the skip segment, a 1x1
// convolution of a second input [B,Ho,Wo,Cskip] (Cskip1 > 0: in two
// tensors) with its own weights and bias.
struct ConvRead {
  int C1 = 0, up = 0, Cskip = 0, Cskip1 = 0;
};

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
                    void (*table_fn)(float2 *, unsigned *, float *, const T *, const T *, int, const P *, const P *, int,
                                     int, int, int, float),
                    ConvRead rd = {}) {
  greset();
  const int up = rd.up, Hs = H >> up, Ws = W >> up; // the stored input
  NormCase<T, P> nc(B, Hs * Ws, Cin, groups, 1e-5f, silu, mean);
  const int Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1;
  const int M = B * Ho * Wo, K0 = k * k * Cin, K = K0 + rd.Cskip;
  // emb is columns [8, 8 + Cout) of a [B, Cout + 16] matrix (all the
  // ResBlocks' projections side by side): its rows are ld apart.
  const int ld = Cout + 16, off = 8;
  Buf<T> w(size_t(Cout) * K0), bias(Cout), e(size_t(B) * ld), r(size_t(M) * Cout), y(size_t(M) * Cout);
  Buf<T> sk(size_t(M) * rd.Cskip), ws(size_t(Cout) * rd.Cskip), bs(Cout);
  w.randn(1 / std::sqrt((double)K0));
  bias.randn(0.5);
  e.randn(1);
  r.randn(1);
  sk.randn(1, 0.5);
  ws.randn(1 / std::sqrt((double)std::max(rd.Cskip, 1)));
  bs.randn(0.5);
  std::vector<double> h = nc.reference(), want(y.n);
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++)
        for (int co = 0; co < Cout; co++) {
          double s = bias.at(co) + (emb ? e.at(size_t(b) * ld + off + co) : 0);
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue; // zero padding of the normalised map
              const size_t p = (size_t(b) * Hs + (iy >> up)) * Ws + (ix >> up);
              for (int ci = 0; ci < Cin; ci++)
                s += h[p * Cin + ci] * w.at((size_t(co) * k * k + ky * k + kx) * Cin + ci);
            }
          size_t i = ((size_t(b) * Ho + oy) * Wo + ox) * Cout + co;
          if (rd.Cskip) { // the skip segment: un-normalised, at the output pixel
            s += bs.at(co);
            for (int c = 0; c < rd.Cskip; c++) s += sk.at(i / Cout * rd.Cskip + c) * ws.at(size_t(co) * rd.Cskip + c);
          }
          want[i] = s + (res ? r.at(i) : 0);
        }
  char what[240];
  snprintf(what, sizeof what, "%s B%d %dx%dx%d(C1 %d up %d)/%dg->%d k%d s%d p%d silu%d emb%d res%d skip%d(%d) mean%g splits%d",
           name, B, H, W, Cin, rd.C1, up, groups, Cout, k, stride, pad, silu, emb, res, rd.Cskip, rd.Cskip1, mean,
           tl.used(K));
  // Two sources: the same values, split at C1 (and the skip input at Cskip1).
  const int C1 = rd.C1 ? rd.C1 : Cin, S1 = rd.Cskip1 ? rd.Cskip1 : rd.Cskip;
  Buf<T> xa(nc.x.n / Cin * C1), xb(nc.x.n / Cin * (Cin - C1)), ska(size_t(M) * S1), skb(size_t(M) * (rd.Cskip - S1));
  split(nc.x, Cin, C1, xa, xb);
  if (rd.Cskip) split(sk, rd.Cskip, S1, ska, skb);
  const T *x2 = C1 < Cin ? xb.p : nullptr, *sk2 = S1 < rd.Cskip ? skb.p : nullptr;
  Buf<float2> table(size_t(B) * Cin);
  nc.table(table_fn, table, what, xa.p, x2, C1);
  const T *ep = emb ? e.p + off : nullptr, *rp = res ? r.p : nullptr;
  const T *skp = rd.Cskip ? ska.p : nullptr, *wsp = rd.Cskip ? ws.p : nullptr, *bsp = rd.Cskip ? bs.p : nullptr;
  run_split(what, tl, M, Cout, K, [&](float *partial, int *sem) {
    fn(y.p, xa.p, x2, w.p, bias.p, ep, ld, rp, B, H, W, Cin, C1, up, Ho, Wo, Cout, k, k, stride, pad, table.p, silu, skp,
       sk2, rd.Cskip, S1, wsp, bsp, partial, sem, tl.kchunk(K));
  });
  expect(what, y, want);
}

using GemmNormFn = void (*)(void *, const void *, const void *, const void *, const void *, int, int, int, int,
                            const float2 *, int, int, float *, int *, int);

template <typename T>
void test_gemm_norm(const char *name, GemmNormFn fn, int B, int positions, int K, int groups, int N,
                    bool silu, int act, bool res, double mean, Tiles tl,
                    void (*table_fn)(float2 *, unsigned *, float *, const T *, const T *, int, const T *, const T *, int,
                                     int, int, int, float)) {
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
  nc.table(table_fn, table, what, nc.x.p, nullptr, K);
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

  // An up block's ResBlock, scaled down. conv1 of cat(h, skip): 40 + 24
  // channels in 4 groups of 16 (group 2 straddles the sources), split-K.
  test_conv_norm<__half, __half>("conv2d_norm_128x64_f16", (ConvNormFn)conv2d_norm_128x64_f16,
                                 2, 6, 7, 64, 4, 32, 3, 1, 1, true, true, false,
                                 300, {128, 64, 3}, groupnorm_table_f16_f16, {40});
  // 12 + 18 channels in 5 groups of 6: C1 neither a multiple of the group
  // size nor of 8 (unaligned path), bf16.
  test_conv_norm<__nv_bfloat16, __nv_bfloat16>("conv2d_norm_unaligned_128x128_bf16",
                                               (ConvNormFn)conv2d_norm_unaligned_128x128_bf16,
                                               2, 5, 6, 30, 5, 16, 3, 1, 1, true, true, true,
                                               0, {}, groupnorm_table_bf16_bf16, {12});
  // conv2 with the skip segment: 3x3 over 24 channels, then 16 + 24 skip
  // channels (two sources), tails in M and N, split-K across the segments'
  // boundary (K0 = 216); with a residual too.
  test_conv_norm<__half, __half>("conv2d_norm_128x128_f16", (ConvNormFn)conv2d_norm_128x128_f16,
                                 2, 9, 7, 24, 3, 72, 3, 1, 1, true, false, true,
                                 300, {128, 128, 3}, groupnorm_table_f16_f16, {0, 0, 40, 16});
  test_conv_norm<__nv_bfloat16, __nv_bfloat16>("conv2d_norm_64x128_bf16", (ConvNormFn)conv2d_norm_64x128_bf16,
                                               1, 8, 5, 16, 2, 40, 3, 1, 1, true, false, false,
                                               0, {64, 128, 1}, groupnorm_table_bf16_bf16, {0, 0, 8});
  // Both sources and the skip segment (one ResBlock's conv1 input feeds
  // conv2's skip), and a normalised input read nearest-2x.
  test_conv_norm<__half, __half>("conv2d_norm_128x64_f16", (ConvNormFn)conv2d_norm_128x64_f16,
                                 1, 6, 6, 32, 4, 24, 3, 1, 1, false, false, false,
                                 0, {}, groupnorm_table_f16_f16, {8, 0, 48, 32});
  test_conv_norm<__half, __half>("conv2d_norm_128x128_f16", (ConvNormFn)conv2d_norm_128x128_f16,
                                 2, 10, 6, 16, 4, 24, 3, 1, 1, true, true, false,
                                 300, {128, 128, 2}, groupnorm_table_f16_f16, {0, 1});

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
