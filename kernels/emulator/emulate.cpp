// Runs the real kernel sources (host-emulated) on awkward sizes against
// float64 references: the fast tensor-core kernels here, the simple kernels
// in simple_*.cpp. Usage: emulate early|late [fast|simple|gemm|streamk|geglu|conv|attn|extra|rect]
#include "check.h"

#define DECL_TILE(T, s, tl)                                                                              \
  extern "C" void gemm_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int, float *, int); \
  extern "C" void gemm_unaligned_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int,   \
                                            float *, int);                                                       \
  extern "C" void gemm_geglu_##tl##_##s(T *, const T *, const T *, const T *, int, int, int);                \
  extern "C" void gemm_geglu_unaligned_##tl##_##s(T *, const T *, const T *, const T *, int, int, int);      \
  extern "C" void conv2d_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int, int, int, \
                                    int, int, int, int, int, float *, int);                                      \
  extern "C" void conv2d_unaligned_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int, \
                                              int, int, int, int, int, int, int, float *, int);
#define DECL(T, s)                                                                                       \
  DECL_TILE(T, s, 128x128)                                                                               \
  DECL_TILE(T, s, 128x64)                                                                                \
  DECL_TILE(T, s, 64x128)                                                                                \
  extern "C" void splitk_reduce_##s(T *, const float *, const T *, const T *, int, int, int, int);       \
  extern "C" void flash_attention_d64_##s(T *, const T *, const T *, const T *, int, int, int, int, int, \
                                          int, float, int);
DECL(__half, f16)
DECL(__nv_bfloat16, bf16)

#define DECL_STREAMK(T, s, tl)                                                                        \
  extern "C" void gemm_streamk_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int, \
                                          float *, int *, int);
DECL_STREAMK(__half, f16, 128x128)
DECL_STREAMK(__half, f16, 128x64)
DECL_STREAMK(__half, f16, 64x128)
DECL_STREAMK(__nv_bfloat16, bf16, 128x128)
DECL_STREAMK(__nv_bfloat16, bf16, 128x64)
DECL_STREAMK(__nv_bfloat16, bf16, 64x128)

std::mt19937_64 rng(7);
int failures = 0;

using GemmFn = void (*)(void *, const void *, const void *, const void *, const void *, int, int, int, int, float *,
                       int);
using ReduceFn = void (*)(void *, const float *, const void *, const void *, int, int, int, int);

// A tile kernel's launch as the Go launcher makes it (tile_plan.go): tile
// bm x bn, K cut into `splits` ranges of whole 32-wide steps (the count
// those ranges need), 4 stages of (bm+bn) x 40 elements of shared memory.
struct TileLaunch {
  int bm = 128, bn = 128, splits = 1;
  int kchunk(int K) const { return (((K + 31) / 32 + splits - 1) / splits) * 32; }
  int used_splits(int K) const { return std::max(1, ((K + 31) / 32 + kchunk(K) / 32 - 1) / (kchunk(K) / 32)); }
  unsigned shared() const { return 4 * (bm + bn) * 40 * 2; }
};

// run_tiles launches a tile kernel, and with split-K the reduce after it.
template <typename T, class Launch>
void run_tiles(const TileLaunch &tl, int M, int N, int K, T *y, const T *bias, const T *res, int act,
               ReduceFn reduce, Launch kernel) {
  const int splits = tl.used_splits(K);
  dim3u grid{unsigned((M + tl.bm - 1) / tl.bm), unsigned((N + tl.bn - 1) / tl.bn), unsigned(splits)};
  if (splits == 1) {
    launch(grid, 256, tl.shared(), [&] { kernel(bias, res, (float *)nullptr, tl.kchunk(K)); });
    return;
  }
  Buf<float> partial(size_t(splits) * M * N);
  launch(grid, 256, tl.shared(), [&] { kernel((const T *)nullptr, (const T *)nullptr, partial.p, tl.kchunk(K)); });
  launch({unsigned(std::min<size_t>((size_t(M) * N + 255) / 256, 3)), 1, 1}, 256, 0,
         [&] { reduce(y, partial.p, bias, res, M, N, splits, act); });
}

template <typename T>
void test_gemm(const char *name, GemmFn fn, int M, int N, int K, bool bias, bool res, int act, bool inplace,
               int xoff = 0, TileLaunch tl = {}, ReduceFn reduce = nullptr) {
  greset();
  Buf<T> x(size_t(M) * K, xoff), w(size_t(N) * K, xoff), b(N), r(size_t(M) * N), y(size_t(M) * N);
  x.randn(1); w.randn(1 / std::sqrt((double)std::max(K, 1))); b.randn(0.5); r.randn(1);
  std::vector<double> want(size_t(M) * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += x.at(size_t(m) * K + k) * w.at(size_t(n) * K + k);
      if (bias) s += b.at(n);
      if (act == 1) s = s / (1 + std::exp(-s));
      if (act == 2) s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
      if (res) s += r.at(size_t(m) * N + n);
      want[size_t(m) * N + n] = s;
    }
  Buf<T> &out = inplace ? r : y;
  run_tiles<T>(tl, M, N, K, out.p, bias ? b.p : nullptr, res ? r.p : nullptr, act, reduce,
               [&](const T *bp, const T *rp, float *partial, int kchunk) {
                 fn(out.p, x.p, w.p, bp, rp, M, N, K, act, partial, kchunk);
               });
  char what[200];
  snprintf(what, sizeof what, "%s M%d N%d K%d bias%d res%d act%d inplace%d xoff%d splits%d", name, M, N, K, bias, res,
           act, inplace, xoff, tl.used_splits(K));
  expect(what, out, want);
}

using StreamkFn = void (*)(void *, const void *, const void *, const void *, const void *, int, int, int, int,
                           float *, int *, int);

// test_streamk runs gemm_streamk (streamk.cu) as streamk_plan.go launches
// it: `blocks` blocks (a small SM count, so tiles really split between
// blocks), tiles [0, sk_tiles) stream-K and the rest data-parallel, one
// partial slot and flag per block. It checks the result against float64,
// that every flag is lowered again, and that a second launch on the same
// workspace gives the same bits (flags reset, fixed summation order).
template <typename T>
void test_streamk(const char *name, StreamkFn fn, int M, int N, int K, bool bias, bool res, int act, bool inplace,
                  TileLaunch tl, int blocks, int sk_tiles) {
  greset();
  Buf<T> x(size_t(M) * K), w(size_t(N) * K), b(N), r(size_t(M) * N), y(size_t(M) * N), r0(size_t(M) * N);
  x.randn(1); w.randn(1 / std::sqrt((double)std::max(K, 1))); b.randn(0.5); r.randn(1);
  memcpy((void *)r0.p, (void *)r.p, r.n * sizeof(T));
  std::vector<double> want(size_t(M) * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += x.at(size_t(m) * K + k) * w.at(size_t(n) * K + k);
      if (bias) s += b.at(n);
      if (act == 1) s = s / (1 + std::exp(-s));
      if (act == 2) s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
      if (res) s += r.at(size_t(m) * N + n);
      want[size_t(m) * N + n] = s;
    }
  Buf<float> partial(size_t(blocks) * tl.bm * tl.bn);
  Buf<int> flags(blocks);
  memset((void *)flags.p, 0, blocks * sizeof(int));
  Buf<T> &out = inplace ? r : y;
  auto run = [&] {
    launch({unsigned(blocks), 1, 1}, 256, tl.shared(), [&] {
      fn(out.p, x.p, w.p, bias ? b.p : nullptr, res ? r.p : nullptr, M, N, K, act, partial.p, flags.p, sk_tiles);
    });
  };
  run();
  char what[200];
  snprintf(what, sizeof what, "%s M%d N%d K%d bias%d res%d act%d inplace%d blocks%d sk_tiles%d", name, M, N, K, bias,
           res, act, inplace, blocks, sk_tiles);
  expect(what, out, want);
  int raised = 0;
  for (int i = 0; i < blocks; i++) raised += flags.p[i] != 0;
  std::vector<T> first(out.p, out.p + out.n);
  if (inplace) memcpy((void *)r.p, (void *)r0.p, r.n * sizeof(T)); // the residual again
  run();
  bool same = memcmp(first.data(), out.p, out.n * sizeof(T)) == 0;
  for (int i = 0; i < blocks; i++) raised += flags.p[i] != 0;
  if (raised || !same) {
    printf("%-64s FAIL (%d flags left raised, second launch %s)\n", what, raised, same ? "identical" : "differs");
    failures++;
  }
}

using GegluFn = void (*)(void *, const void *, const void *, const void *, int, int, int);

// test_geglu runs gemm_geglu: y[M,N] = (x·w[:N]ᵀ + b[:N]) · gelu(x·w[N:]ᵀ + b[N:])
// for w [2N, K], unsplit, grid ceil(M/bm) x ceil(N/(bn/2)).
template <typename T>
void test_geglu(const char *name, GegluFn fn, int M, int N, int K, bool bias, int xoff = 0, TileLaunch tl = {}) {
  greset();
  Buf<T> x(size_t(M) * K, xoff), w(size_t(2 * N) * K, xoff), b(2 * N), y(size_t(M) * N);
  x.randn(1); w.randn(1 / std::sqrt((double)std::max(K, 1))); b.randn(0.5);
  std::vector<double> want(size_t(M) * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double v = 0, g = 0;
      for (int k = 0; k < K; k++) {
        v += x.at(size_t(m) * K + k) * w.at(size_t(n) * K + k);
        g += x.at(size_t(m) * K + k) * w.at(size_t(N + n) * K + k);
      }
      if (bias) v += b.at(n), g += b.at(N + n);
      want[size_t(m) * N + n] = v * 0.5 * g * (1 + std::erf(g / std::sqrt(2.0)));
    }
  dim3u grid{unsigned((M + tl.bm - 1) / tl.bm), unsigned((N + tl.bn / 2 - 1) / (tl.bn / 2)), 1};
  launch(grid, 256, tl.shared(), [&] { fn(y.p, x.p, w.p, bias ? b.p : nullptr, M, N, K); });
  char what[200];
  snprintf(what, sizeof what, "%s M%d N%d K%d bias%d xoff%d", name, M, N, K, bias, xoff);
  expect(what, y, want);
}

using ConvFn = void (*)(void *, const void *, const void *, const void *, const void *, int, int, int, int, int,
                        int, int, int, int, int, int, float *, int);

template <typename T>
void test_conv(const char *name, ConvFn fn, int B, int H, int W, int Cin, int Cout, int k, int stride, int pad,
               bool res, int kw = 0, TileLaunch tl = {}, ReduceFn reduce = nullptr) {
  if (!kw) kw = k;
  int kh = k;
  greset();
  int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
  Buf<T> x(size_t(B) * H * W * Cin), w(size_t(Cout) * kh * kw * Cin), b(Cout), r(size_t(B) * Ho * Wo * Cout),
      y(size_t(B) * Ho * Wo * Cout);
  x.randn(1); w.randn(1 / std::sqrt((double)kh * kw * Cin)); b.randn(0.5); r.randn(1);
  std::vector<double> want(y.n);
  for (int bb = 0; bb < B; bb++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++)
        for (int co = 0; co < Cout; co++) {
          double s = b.at(co);
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              for (int ci = 0; ci < Cin; ci++)
                s += x.at(((size_t(bb) * H + iy) * W + ix) * Cin + ci) * w.at(((size_t(co) * kh + ky) * kw + kx) * Cin + ci);
            }
          size_t i = ((size_t(bb) * Ho + oy) * Wo + ox) * Cout + co;
          if (res) s += r.at(i);
          want[i] = s;
        }
  int M = B * Ho * Wo, K = kh * kw * Cin;
  run_tiles<T>(tl, M, Cout, K, y.p, b.p, res ? r.p : nullptr, 0, reduce,
               [&](const T *bp, const T *rp, float *partial, int kchunk) {
                 fn(y.p, x.p, w.p, bp, rp, B, H, W, Cin, Ho, Wo, Cout, kh, kw, stride, pad, partial, kchunk);
               });
  char what[200];
  snprintf(what, sizeof what, "%s B%d %dx%dx%d->%d k%dx%d s%d p%d res%d splits%d", name, B, H, W, Cin, Cout, kh, kw,
           stride, pad, res, tl.used_splits(K));
  expect(what, y, want);
}

using AttnFn = void (*)(void *, const void *, const void *, const void *, int, int, int, int, int, int, float, int);

template <typename T> void test_attn(const char *name, AttnFn fn, int B, int Tq, int Tk, int H, bool causal) {
  greset();
  int C = 64 * H;
  Buf<T> q(size_t(B) * Tq * C), k(size_t(B) * Tk * C), v(size_t(B) * Tk * C), o(size_t(B) * Tq * C);
  q.randn(2); k.randn(1); v.randn(1);
  std::vector<double> want(o.n), s(Tk);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int i = 0; i < Tq; i++) {
        double mx = -INFINITY;
        for (int j = 0; j < Tk; j++) {
          s[j] = -INFINITY;
          if (causal && j > i) continue;
          double d = 0;
          for (int e = 0; e < 64; e++) d += q.at((size_t(b) * Tq + i) * C + h * 64 + e) * k.at((size_t(b) * Tk + j) * C + h * 64 + e);
          s[j] = d / 8;
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < Tk; j++) sum += (s[j] = std::exp(s[j] - mx));
        for (int e = 0; e < 64; e++) {
          double a = 0;
          for (int j = 0; j < Tk; j++) a += s[j] * v.at((size_t(b) * Tk + j) * C + h * 64 + e);
          want[(size_t(b) * Tq + i) * C + h * 64 + e] = a / sum;
        }
      }
  // 128 queries per 256-thread block (attn::BQ, attn::THREADS; attention_plan.go).
  launch({unsigned((Tq + 127) / 128), unsigned(H), unsigned(B)}, 256, 55296,
         [&] { fn(o.p, q.p, k.p, v.p, Tq, Tk, C, C, C, C, 0.125f, causal); });
  char what[200];
  snprintf(what, sizeof what, "%s B%d Tq%d Tk%d H%d causal%d", name, B, Tq, Tk, H, causal);
  expect(what, o, want);
}

int main(int argc, char **argv) {
  cp_late = argc > 1 && std::string(argv[1]) == "late";
  printf("cp.async lands %s\n", cp_late ? "late (at wait_group)" : "early (at issue)");
  std::string only = argc > 2 ? argv[2] : "";
  bool all = only == "", fast = all || only == "fast", simple = all || only == "simple";
  if (fast || only == "gemm") {
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 130, 136, 200, true, false, 0, false);
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 77, 72, 8, true, true, 1, false);
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 200, 129, 104, true, true, 2, true);
    test_gemm<__nv_bfloat16>("gemm_128x128_bf16", (GemmFn)gemm_128x128_bf16, 130, 136, 200, true, true, 2, false);
    test_gemm<__half>("gemm_unaligned_128x128_f16", (GemmFn)gemm_unaligned_128x128_f16, 33, 70, 36, true, false, 0, false);
    test_gemm<__half>("gemm_unaligned_128x128_f16", (GemmFn)gemm_unaligned_128x128_f16, 5, 7, 3, true, true, 1, false, 1);
    test_gemm<__nv_bfloat16>("gemm_unaligned_128x128_bf16", (GemmFn)gemm_unaligned_128x128_bf16, 129, 130, 45, false, true, 0, true, 1);
    // The half tiles, and split-K (partials, then splitk_reduce) on tails in
    // M, N and K, with every epilogue operand, in place, and unaligned.
    const TileLaunch t128x64{128, 64, 1}, t64x128{64, 128, 1};
    test_gemm<__half>("gemm_128x64_f16", (GemmFn)gemm_128x64_f16, 130, 136, 200, true, true, 1, false, 0, t128x64);
    test_gemm<__nv_bfloat16>("gemm_64x128_bf16", (GemmFn)gemm_64x128_bf16, 130, 136, 200, true, true, 2, false, 0, t64x128);
    test_gemm<__half>("gemm_unaligned_64x128_f16", (GemmFn)gemm_unaligned_64x128_f16, 70, 33, 45, true, false, 0, false, 1, t64x128);
    test_gemm<__nv_bfloat16>("gemm_unaligned_128x64_bf16", (GemmFn)gemm_unaligned_128x64_bf16, 129, 70, 45, false, true, 0, true, 1, t128x64);
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 77, 72, 200, true, true, 2, true, 0, {128, 128, 3},
                      (ReduceFn)splitk_reduce_f16);
    test_gemm<__half>("gemm_128x64_f16", (GemmFn)gemm_128x64_f16, 130, 72, 264, true, false, 1, false, 0, {128, 64, 2},
                      (ReduceFn)splitk_reduce_f16);
    test_gemm<__nv_bfloat16>("gemm_unaligned_64x128_bf16", (GemmFn)gemm_unaligned_64x128_bf16, 65, 129, 333, true, true, 2,
                             false, 1, {64, 128, 4}, (ReduceFn)splitk_reduce_bf16);
  }
  if (fast || only == "gemm" || only == "streamk") {
    // Stream-K on 4 to 7 "SMs": tiles split between two and three blocks,
    // a block inside one tile, data-parallel tiles after the stream-K ones,
    // tails in M, N and K, every epilogue operand, the residual aliasing y.
    const TileLaunch t128{128, 128, 1}, t128x64{128, 64, 1}, t64x128{64, 128, 1};
    // 2x2 tiles of 7 steps = 28 iterations on 5 blocks: 5 or 6 each.
    test_streamk<__half>("gemm_streamk_128x128_f16", (StreamkFn)gemm_streamk_128x128_f16, 200, 136, 200, true, false, 0,
                         false, t128, 5, 4);
    // 3x2 tiles of 4 steps on 7 blocks: every range shorter than a tile.
    test_streamk<__nv_bfloat16>("gemm_streamk_128x64_bf16", (StreamkFn)gemm_streamk_128x64_bf16, 300, 72, 104, true, true,
                                2, true, t128x64, 7, 6);
    // 3x3 tiles: 5 stream-K (4 + one wave of 1 more), 4 data-parallel on 4 blocks.
    test_streamk<__half>("gemm_streamk_64x128_f16", (StreamkFn)gemm_streamk_64x128_f16, 130, 300, 264, true, true, 1,
                         false, t64x128, 4, 5);
    // More blocks than iterations: blocks with empty ranges.
    test_streamk<__nv_bfloat16>("gemm_streamk_128x128_bf16", (StreamkFn)gemm_streamk_128x128_bf16, 77, 40, 72, false,
                                true, 0, true, t128, 5, 1);
    test_streamk<__half>("gemm_streamk_128x64_f16", (StreamkFn)gemm_streamk_128x64_f16, 129, 130, 328, false, false, 2,
                         false, t128x64, 4, 6);
    test_streamk<__nv_bfloat16>("gemm_streamk_64x128_bf16", (StreamkFn)gemm_streamk_64x128_bf16, 65, 129, 40, true, true,
                                1, true, t64x128, 3, 4);
  }
  if (fast || only == "gemm" || only == "geglu") {
    // GEGLU in the epilogue: every tile, tails in M, N (odd, and an odd
    // number of 8-column groups) and K, no bias, and unaligned.
    const TileLaunch t128x64{128, 64, 1}, t64x128{64, 128, 1};
    test_geglu<__half>("gemm_geglu_128x128_f16", (GegluFn)gemm_geglu_128x128_f16, 130, 72, 200, true);
    test_geglu<__nv_bfloat16>("gemm_geglu_128x128_bf16", (GegluFn)gemm_geglu_128x128_bf16, 77, 40, 8, false);
    test_geglu<__half>("gemm_geglu_128x64_f16", (GegluFn)gemm_geglu_128x64_f16, 130, 37, 104, true, 0, t128x64);
    test_geglu<__nv_bfloat16>("gemm_geglu_64x128_bf16", (GegluFn)gemm_geglu_64x128_bf16, 65, 136, 72, true, 0, t64x128);
    test_geglu<__half>("gemm_geglu_unaligned_128x128_f16", (GegluFn)gemm_geglu_unaligned_128x128_f16, 33, 24, 45, true, 1);
    test_geglu<__nv_bfloat16>("gemm_geglu_unaligned_128x64_bf16", (GegluFn)gemm_geglu_unaligned_128x64_bf16, 5, 7, 3, true, 1,
                              t128x64);
    test_geglu<__half>("gemm_geglu_unaligned_64x128_f16", (GegluFn)gemm_geglu_unaligned_64x128_f16, 70, 33, 36, false, 1,
                       t64x128);
  }
  if (fast || only == "conv") {
    test_conv<__half>("conv2d_128x128_f16", (ConvFn)conv2d_128x128_f16, 2, 9, 13, 16, 136, 3, 1, 1, false);
    test_conv<__half>("conv2d_128x128_f16", (ConvFn)conv2d_128x128_f16, 1, 17, 15, 8, 24, 3, 2, 1, true);
    test_conv<__nv_bfloat16>("conv2d_128x128_bf16", (ConvFn)conv2d_128x128_bf16, 1, 8, 8, 24, 40, 1, 1, 0, true);
    test_conv<__half>("conv2d_unaligned_128x128_f16", (ConvFn)conv2d_unaligned_128x128_f16, 1, 10, 7, 3, 20, 3, 1, 1, false);
    test_conv<__nv_bfloat16>("conv2d_unaligned_128x128_bf16", (ConvFn)conv2d_unaligned_128x128_bf16, 2, 6, 5, 4, 12, 3, 2, 1, true);
    test_conv<__half>("conv2d_128x64_f16", (ConvFn)conv2d_128x64_f16, 2, 9, 13, 16, 136, 3, 1, 1, true, 0, {128, 64, 1});
    test_conv<__nv_bfloat16>("conv2d_64x128_bf16", (ConvFn)conv2d_64x128_bf16, 1, 17, 15, 8, 72, 3, 2, 1, false, 0, {64, 128, 1});
    test_conv<__half>("conv2d_unaligned_64x128_f16", (ConvFn)conv2d_unaligned_64x128_f16, 1, 10, 7, 3, 20, 3, 1, 1, true, 0, {64, 128, 1});
    test_conv<__half>("conv2d_128x64_f16", (ConvFn)conv2d_128x64_f16, 1, 9, 11, 40, 72, 3, 1, 1, true, 0, {128, 64, 3},
                      (ReduceFn)splitk_reduce_f16);
    test_conv<__nv_bfloat16>("conv2d_unaligned_128x128_bf16", (ConvFn)conv2d_unaligned_128x128_bf16, 2, 6, 5, 29, 12, 3, 2, 1,
                             false, 0, {128, 128, 2}, (ReduceFn)splitk_reduce_bf16);
  }
  if (fast || only == "attn") {
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 1, 70, 77, 2, false);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 1, 77, 77, 1, true);
    test_attn<__nv_bfloat16>("attn_bf16", (AttnFn)flash_attention_d64_bf16, 1, 130, 150, 1, false);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 1, 140, 140, 1, true);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 1, 256, 256, 1, true);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 2, 5, 1, 1, false);
  }
  if (only == "extra" || only == "rect") {
    test_conv<__half>("conv2d_128x128_f16", (ConvFn)conv2d_128x128_f16, 1, 9, 11, 16, 24, 3, 2, 1, true, 5);
    test_conv<__half>("conv2d_unaligned_128x128_f16", (ConvFn)conv2d_unaligned_128x128_f16, 1, 9, 11, 5, 24, 1, 1, 1, false, 3);
  }
  if (only == "extra") {
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 128, 128, 32, false, false, 0, false);
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 256, 256, 1280, true, true, 1, true);
    test_gemm<__nv_bfloat16>("gemm_128x128_bf16", (GemmFn)gemm_128x128_bf16, 1, 300, 640, true, false, 2, false);
    test_gemm<__half>("gemm_unaligned_128x128_f16", (GemmFn)gemm_unaligned_128x128_f16, 70, 33, 333, true, true, 2, false, 3);
    test_conv<__half>("conv2d_128x128_f16", (ConvFn)conv2d_128x128_f16, 2, 11, 9, 64, 72, 3, 1, 1, true);
    test_conv<__nv_bfloat16>("conv2d_128x128_bf16", (ConvFn)conv2d_128x128_bf16, 1, 16, 16, 16, 16, 3, 2, 1, false);
    test_conv<__half>("conv2d_unaligned_128x128_f16", (ConvFn)conv2d_unaligned_128x128_f16, 1, 5, 6, 12, 20, 1, 1, 0, true);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 1, 64, 64, 1, false);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 2, 100, 77, 3, false);
    test_attn<__nv_bfloat16>("attn_bf16", (AttnFn)flash_attention_d64_bf16, 1, 300, 300, 2, false);
    test_attn<__nv_bfloat16>("attn_bf16", (AttnFn)flash_attention_d64_bf16, 2, 77, 77, 2, true);
    test_attn<__half>("attn_f16", (AttnFn)flash_attention_d64_f16, 1, 64, 154, 2, false);
  }
  if (simple || only == "elementwise") check_elementwise();
  if (simple || only == "cast") check_casts();
  if (simple || only == "norm") check_norm();
  if (simple || only == "linear") check_simple_linear_conv();
  if (simple || only == "attention_simple") check_simple_attention();
  printf("%d failures\n", failures);
  return failures != 0;
}
