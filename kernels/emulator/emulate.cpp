// Runs the real kernel sources (host-emulated) on awkward sizes against
// float64 references: the fast tensor-core kernels here, the simple kernels
// in simple_*.cpp. Usage: emulate early|late [fast|simple|gemm|streamk|geglu|ln|ln_attn|conv|attn|norm_fused|chain|extra|rect]
#include "check.h"

#define DECL_TILE(T, s, tl)                                                                              \
  extern "C" void gemm_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int, float *, int *, \
                                  int);                                                                          \
  extern "C" void gemm_unaligned_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int,   \
                                            float *, int *, int);                                                \
  extern "C" void gemm_geglu_##tl##_##s(T *, const T *, const T *, const T *, int, int, int);                \
  extern "C" void gemm_geglu_unaligned_##tl##_##s(T *, const T *, const T *, const T *, int, int, int);      \
  extern "C" void conv2d_##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *, int, int, int, int, \
                                    int, int, int, int, int, int, int, int, int, float *, int *, int);           \
  extern "C" void conv2d_unaligned_##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *, int, int, \
                                              int, int, int, int, int, int, int, int, int, int, int, float *,   \
                                              int *, int);
#define DECL(T, s)                                                                                       \
  DECL_TILE(T, s, 128x128)                                                                               \
  DECL_TILE(T, s, 128x64)                                                                                \
  DECL_TILE(T, s, 64x128)                                                                                \
  extern "C" void flash_attention_d64_##s(T *, const T *, const T *, const T *, int, int, int, int, int, \
                                          int, float, int);
DECL(__half, f16)
DECL(__nv_bfloat16, bf16)

// ln_gemm.cu: the same GEMMs with a LayerNorm of x in the A loader.
#define DECL_LN_TILE(T, s, tl, v)                                                                        \
  extern "C" void ln_gemm##v##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *, const T *, \
                                       float, int, int, int, int, float *, int *, int);                   \
  extern "C" void ln_gemm_qkv##v##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *,     \
                                           const T *, float, int, int, int, float *, int *, int);         \
  extern "C" void ln_gemm_geglu##v##tl##_##s(T *, const T *, const T *, const T *, const T *, const T *,   \
                                             float, int, int, int);
#define DECL_LN(T, s)                                                                                    \
  DECL_LN_TILE(T, s, 128x128, _) DECL_LN_TILE(T, s, 128x64, _) DECL_LN_TILE(T, s, 64x128, _)             \
  DECL_LN_TILE(T, s, 128x128, _unaligned_) DECL_LN_TILE(T, s, 128x64, _unaligned_)                       \
  DECL_LN_TILE(T, s, 64x128, _unaligned_)
DECL_LN(__half, f16)
DECL_LN(__nv_bfloat16, bf16)

#define DECL_STREAMK(T, s, tl)                                                                        \
  extern "C" void gemm_streamk_##tl##_##s(T *, const T *, const T *, const T *, const T *, int, int, int, int, \
                                          float *, int *, int);
DECL_STREAMK(__half, f16, 128x128)
DECL_STREAMK(__half, f16, 128x64)
DECL_STREAMK(__half, f16, 64x128)
DECL_STREAMK(__nv_bfloat16, bf16, 128x128)
DECL_STREAMK(__nv_bfloat16, bf16, 128x64)
DECL_STREAMK(__nv_bfloat16, bf16, 64x128)

// ln_attention.cu: the query projection of a LayerNorm of x inside the
// flash-attention block.
#define DECL_LN_ATTN(T, s)                                                                               \
  extern "C" void ln_attention_d64_##s(T *, const T *, const T *, const T *, const T *, float, const T *, \
                                       const T *, int, int, int, int, int, int, float);
DECL_LN_ATTN(__half, f16)
DECL_LN_ATTN(__nv_bfloat16, bf16)

std::mt19937_64 rng(7);
int failures = 0;

using GemmFn = void (*)(void *, const void *, const void *, const void *, const void *, int, int, int, int, float *,
                       int *, int);

// A tile kernel's launch as the Go launcher makes it (tile_plan.go): tile
// bm x bn, K cut into `splits` ranges of whole 32-wide steps (the count
// those ranges need), 4 stages of (bm+bn) x 32 elements of shared memory.
struct TileLaunch {
  int bm = 128, bn = 128, splits = 1;
  int kchunk(int K) const { return (((K + 31) / 32 + splits - 1) / splits) * 32; }
  int used_splits(int K) const { return std::max(1, ((K + 31) / 32 + kchunk(K) / 32 - 1) / (kchunk(K) / 32)); }
  unsigned shared() const { return 4 * (bm + bn) * 32 * 2; }
};

// run_tiles launches a tile kernel. With split-K it gets float32 partials
// and one zeroed semaphore per (x, y) tile, as the Go launcher gives it
// (tiles.go); the tile's last split finishes it in the same launch, and must
// leave every semaphore re-armed (0) for the next launch.
template <typename T, class Launch>
void run_tiles(const char *name, const TileLaunch &tl, int M, int N, int K, Launch kernel) {
  const int splits = tl.used_splits(K);
  dim3u grid{unsigned((M + tl.bm - 1) / tl.bm), unsigned((N + tl.bn - 1) / tl.bn), unsigned(splits)};
  if (splits == 1) {
    launch(grid, 256, tl.shared(), [&] { kernel((float *)nullptr, (int *)nullptr, tl.kchunk(K)); });
    return;
  }
  Buf<float> partial(size_t(splits) * M * N);
  Buf<int> sem(size_t(grid.x) * grid.y);
  memset(sem.p, 0, sem.n * sizeof(int));
  launch(grid, 256, tl.shared(), [&] { kernel(partial.p, sem.p, tl.kchunk(K)); });
  for (size_t i = 0; i < sem.n; i++)
    if (sem.p[i] != 0) {
      printf("%-60s FAIL: split-K semaphore of tile %zu left at %d, not re-armed\n", name, i, sem.p[i]);
      failures++;
      return;
    }
}

// finish_ref is the epilogue in float64: act(s) + res, or act(s + res)
// with ACT_AFTER_RESIDUAL (8) or-ed into act.
inline double finish_ref(double s, double res, int act) {
  const bool after = act & 8;
  if (after) s += res;
  if ((act & 7) == 1) s = s / (1 + std::exp(-s));
  if ((act & 7) == 2) s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
  return after ? s : s + res;
}

template <typename T>
void test_gemm(const char *name, GemmFn fn, int M, int N, int K, bool bias, bool res, int act, bool inplace,
               int xoff = 0, TileLaunch tl = {}) {
  greset();
  Buf<T> x(size_t(M) * K, xoff), w(size_t(N) * K, xoff), b(N), r(size_t(M) * N), y(size_t(M) * N);
  x.randn(1); w.randn(1 / std::sqrt((double)std::max(K, 1))); b.randn(0.5); r.randn(1);
  std::vector<double> want(size_t(M) * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += x.at(size_t(m) * K + k) * w.at(size_t(n) * K + k);
      if (bias) s += b.at(n);
      want[size_t(m) * N + n] = finish_ref(s, res ? r.at(size_t(m) * N + n) : 0.0, act);
    }
  Buf<T> &out = inplace ? r : y;
  run_tiles<T>(name, tl, M, N, K, [&](float *partial, int *sem, int kchunk) {
                 fn(out.p, x.p, w.p, bias ? b.p : nullptr, res ? r.p : nullptr, M, N, K, act, partial, sem, kchunk);
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
      want[size_t(m) * N + n] = finish_ref(s, res ? r.at(size_t(m) * N + n) : 0.0, act);
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

using ConvFn = void (*)(void *, const void *, const void *, const void *, const void *, const void *, int, int, int,
                        int, int, int, int, int, int, int, int, int, int, float *, int *, int);

// test_conv checks conv2d on an input read the ways conv.cu's loader can:
// with C1 > 0 the Cin channels are C1 from one tensor and Cin − C1 from
// another (a concatenation never written); with up, H x W is the enlarged
// size of a stored H/2 x W/2 input read nearest-2x.
template <typename T>
void test_conv(const char *name, ConvFn fn, int B, int H, int W, int Cin, int Cout, int k, int stride, int pad,
               bool res, int kw = 0, TileLaunch tl = {}, int C1 = 0, int up = 0) {
  if (!kw) kw = k;
  int kh = k;
  greset();
  const int Hs = H >> up, Ws = W >> up, Ca = C1 ? C1 : Cin, Cb = Cin - Ca;
  int Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1;
  Buf<T> xa(size_t(B) * Hs * Ws * Ca), xb(size_t(B) * Hs * Ws * Cb), w(size_t(Cout) * kh * kw * Cin), b(Cout),
      r(size_t(B) * Ho * Wo * Cout), y(size_t(B) * Ho * Wo * Cout);
  xa.randn(1); xb.randn(1, 0.5); w.randn(1 / std::sqrt((double)kh * kw * Cin)); b.randn(0.5); r.randn(1);
  auto x = [&](int bb, int iy, int ix, int ci) {
    size_t p = (size_t(bb) * Hs + (iy >> up)) * Ws + (ix >> up);
    return ci < Ca ? xa.at(p * Ca + ci) : xb.at(p * Cb + ci - Ca);
  };
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
                s += x(bb, iy, ix, ci) * w.at(((size_t(co) * kh + ky) * kw + kx) * Cin + ci);
            }
          size_t i = ((size_t(bb) * Ho + oy) * Wo + ox) * Cout + co;
          if (res) s += r.at(i);
          want[i] = s;
        }
  int M = B * Ho * Wo, K = kh * kw * Cin;
  run_tiles<T>(name, tl, M, Cout, K, [&](float *partial, int *sem, int kchunk) {
                 fn(y.p, xa.p, Cb ? xb.p : nullptr, w.p, b.p, res ? r.p : nullptr, B, H, W, Cin, Ca, up, Ho, Wo, Cout,
                    kh, kw, stride, pad, partial, sem, kchunk);
               });
  char what[200];
  snprintf(what, sizeof what, "%s B%d %dx%dx%d(C1 %d, up %d)->%d k%dx%d s%d p%d res%d splits%d", name, B, H, W, Cin,
           Ca, up, Cout, kh, kw, stride, pad, res, tl.used_splits(K));
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

// The LayerNorm-in-the-loader GEMMs (ln_gemm.cu) against float64: x rows of
// mean `mu` and spread `sd` (300 ± 2 is what a large-mean activation looks
// like), LN(x) computed in float64 and rounded to T, as the LayerNorm kernel
// stores it, then the GEMM in float64. The fused kernels round the same
// values from float32 statistics, so they differ from it by the GEMM's own
// error and the statistics' rounding only.
struct LnInputs {
  double mu = 0, sd = 1;
  float eps = 1e-5f;
};

template <typename T>
std::vector<double> ln_reference(const Buf<T> &x, const Buf<T> &g, const Buf<T> &b, int M, int K, float eps) {
  std::vector<double> out(size_t(M) * K);
  for (int m = 0; m < M; m++) {
    double mean = 0, var = 0;
    for (int k = 0; k < K; k++) mean += x.at(size_t(m) * K + k);
    mean /= K;
    for (int k = 0; k < K; k++) var += (x.at(size_t(m) * K + k) - mean) * (x.at(size_t(m) * K + k) - mean);
    const double rstd = 1 / std::sqrt(var / K + eps);
    for (int k = 0; k < K; k++)
      out[size_t(m) * K + k] =
          as_double(from_double<T>((x.at(size_t(m) * K + k) - mean) * rstd * g.at(k) + b.at(k)));
  }
  return out;
}

template <typename T> struct LnCase {
  Buf<T> x, g, b;
  std::vector<double> h; // LN(x) as stored
  LnCase(int M, int K, int xoff, LnInputs in) : x(size_t(M) * K, xoff), g(K), b(K) {
    x.randn(in.sd, in.mu);
    g.randn(0.5, 1);
    b.randn(0.5);
    h = ln_reference(x, g, b, M, K, in.eps);
  }
};

template <typename T>
double dot(const std::vector<double> &h, const Buf<T> &w, int m, int n, int K) {
  double s = 0;
  for (int k = 0; k < K; k++) s += h[size_t(m) * K + k] * w.at(size_t(n) * K + k);
  return s;
}

using LnGemmFn = void (*)(void *, const void *, const void *, const void *, const void *, const void *, const void *,
                          float, int, int, int, int, float *, int *, int);

template <typename T>
void test_ln_gemm(const char *name, LnGemmFn fn, int M, int N, int K, bool bias, bool res, int act, LnInputs in,
                  int xoff = 0, TileLaunch tl = {}) {
  greset();
  LnCase<T> c(M, K, xoff, in);
  Buf<T> w(size_t(N) * K, xoff), bb(N), r(size_t(M) * N), y(size_t(M) * N);
  w.randn(1 / std::sqrt((double)K)); bb.randn(0.5); r.randn(1);
  std::vector<double> want(size_t(M) * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = dot(c.h, w, m, n, K);
      if (bias) s += bb.at(n);
      if (act == 1) s = s / (1 + std::exp(-s));
      if (act == 2) s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
      if (res) s += r.at(size_t(m) * N + n);
      want[size_t(m) * N + n] = s;
    }
  run_tiles<T>(name, tl, M, N, K, [&](float *partial, int *sem, int kchunk) {
    fn(y.p, c.x.p, w.p, bias ? bb.p : nullptr, res ? r.p : nullptr, c.g.p, c.b.p, in.eps, M, N, K, act, partial, sem,
       kchunk);
  });
  char what[200];
  snprintf(what, sizeof what, "%s M%d N%d K%d x~%g±%g bias%d res%d act%d xoff%d splits%d", name, M, N, K, in.mu, in.sd,
           bias, res, act, xoff, tl.used_splits(K));
  expect(what, y, want);
}

using LnQkvFn = void (*)(void *, const void *, const void *, const void *, const void *, const void *, const void *,
                         float, int, int, int, float *, int *, int);

template <typename T>
void test_ln_qkv(const char *name, LnQkvFn fn, int M, int Nw, int K, LnInputs in, int xoff = 0, TileLaunch tl = {}) {
  greset();
  LnCase<T> c(M, K, xoff, in);
  Buf<T> w0(size_t(Nw) * K, xoff), w1(size_t(Nw) * K, xoff), w2(size_t(Nw) * K, xoff), y(size_t(M) * 3 * Nw);
  const double ws = 1 / std::sqrt((double)K);
  w0.randn(ws); w1.randn(ws); w2.randn(ws);
  const Buf<T> *ws3[3] = {&w0, &w1, &w2};
  std::vector<double> want(y.n);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < 3 * Nw; n++) want[size_t(m) * 3 * Nw + n] = dot(c.h, *ws3[n / Nw], m, n % Nw, K);
  run_tiles<T>(name, tl, M, 3 * Nw, K, [&](float *partial, int *sem, int kchunk) {
    fn(y.p, c.x.p, w0.p, w1.p, w2.p, c.g.p, c.b.p, in.eps, M, Nw, K, partial, sem, kchunk);
  });
  char what[200];
  snprintf(what, sizeof what, "%s M%d Nw%d K%d x~%g±%g xoff%d splits%d", name, M, Nw, K, in.mu, in.sd, xoff,
           tl.used_splits(K));
  expect(what, y, want);
}

using LnGegluFn = void (*)(void *, const void *, const void *, const void *, const void *, const void *, float, int,
                           int, int);

template <typename T>
void test_ln_geglu(const char *name, LnGegluFn fn, int M, int N, int K, bool bias, LnInputs in, int xoff = 0,
                   TileLaunch tl = {}) {
  greset();
  LnCase<T> c(M, K, xoff, in);
  Buf<T> w(size_t(2 * N) * K, xoff), bb(2 * N), y(size_t(M) * N);
  w.randn(1 / std::sqrt((double)K)); bb.randn(0.5);
  std::vector<double> want(y.n);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double v = dot(c.h, w, m, n, K), g = dot(c.h, w, m, N + n, K);
      if (bias) v += bb.at(n), g += bb.at(N + n);
      want[size_t(m) * N + n] = v * 0.5 * g * (1 + std::erf(g / std::sqrt(2.0)));
    }
  dim3u grid{unsigned((M + tl.bm - 1) / tl.bm), unsigned((N + tl.bn / 2 - 1) / (tl.bn / 2)), 1};
  launch(grid, 256, tl.shared(), [&] { fn(y.p, c.x.p, w.p, bias ? bb.p : nullptr, c.g.p, c.b.p, in.eps, M, N, K); });
  char what[200];
  snprintf(what, sizeof what, "%s M%d N%d K%d x~%g±%g bias%d xoff%d", name, M, N, K, in.mu, in.sd, bias, xoff);
  expect(what, y, want);
}

// half_ulp is half the spacing of T's values at |v|: the most that rounding
// an exact value to T may move it.
template <typename T> double half_ulp(double v) {
  const int mant = std::is_same_v<T, __half> ? 10 : 7, emin = std::is_same_v<T, __half> ? -14 : -126;
  const int e = v == 0 ? emin : std::max(emin, (int)std::floor(std::log2(std::fabs(v))));
  return std::ldexp(0.5, e - mant);
}

// test_ln_rows reads back what the loader wrote: ln_gemm with w = I (K x K)
// stores each normalised element exactly (one product by 1, sums of zeros),
// so y is LN(x) as the loader rounded it to T. Each must be the float64
// LayerNorm rounded to T, off by at most half an ulp of T plus stats_tol:
// the error of the float32 statistics, measured here (shift and two passes:
// worst 3.2e-6 at 300 ± 2; dropping the shift makes it 1.1e-5 to 1.4e-5,
// which this fails, while the GEMM checks below, rounded to T, cannot tell).
template <typename T>
void test_ln_rows(const char *name, LnGemmFn fn, int M, int K, LnInputs in, int xoff = 0, TileLaunch tl = {}) {
  const double stats_tol = 5e-6;
  greset();
  Buf<T> x(size_t(M) * K, xoff), g(K), b(K), w(size_t(K) * K, xoff), y(size_t(M) * K);
  x.randn(in.sd, in.mu); g.randn(0.5, 1); b.randn(0.5);
  for (int n = 0; n < K; n++)
    for (int k = 0; k < K; k++) w.p[size_t(n) * K + k] = from_double<T>(n == k);
  run_tiles<T>(name, tl, M, K, K, [&](float *partial, int *sem, int kchunk) {
    fn(y.p, x.p, w.p, nullptr, nullptr, g.p, b.p, in.eps, M, K, K, 0, partial, sem, kchunk);
  });
  int bad = 0;
  double worst = 0;
  for (int m = 0; m < M; m++) {
    double mean = 0, var = 0;
    for (int k = 0; k < K; k++) mean += x.at(size_t(m) * K + k);
    mean /= K;
    for (int k = 0; k < K; k++) var += (x.at(size_t(m) * K + k) - mean) * (x.at(size_t(m) * K + k) - mean);
    const double rstd = 1 / std::sqrt(var / K + in.eps);
    for (int k = 0; k < K; k++) {
      const double want = (x.at(size_t(m) * K + k) - mean) * rstd * g.at(k) + b.at(k), got = y.at(size_t(m) * K + k);
      const double excess = std::fabs(got - want) - half_ulp<T>(want);
      worst = std::max(worst, excess);
      if (!(excess <= stats_tol)) {
        if (bad < 3) fprintf(stderr, "  %s: [%d,%d] got %.9g want %.9g\n", name, m, k, got, want);
        bad++;
      }
    }
  }
  printf("%-64s %s (worst beyond rounding %.3g)\n",
         (std::string(name) + " LN rows M" + std::to_string(M) + " K" + std::to_string(K) + " x~" +
          std::to_string((int)in.mu) + " splits" + std::to_string(tl.used_splits(K)))
             .c_str(),
         bad ? "FAIL" : "ok", worst);
  if (bad) failures++;
}

// check_ln_gemm runs every LN kernel kind on the transformer widths (320,
// 640, 1280), K that is not a multiple of 32 or of 8 (the unaligned
// kernels), M tails, every tile, split-K, f16 and bf16, and rows of a
// large mean.
void check_ln_gemm() {
  const LnInputs unit{}, large{300, 2};
  const TileLaunch t128x64{128, 64, 1}, t64x128{64, 128, 1};
  test_ln_rows<__half>("ln_gemm_128x128_f16", (LnGemmFn)ln_gemm_128x128_f16, 77, 320, large);
  test_ln_rows<__half>("ln_gemm_128x128_f16", (LnGemmFn)ln_gemm_128x128_f16, 77, 320, unit);
  test_ln_rows<__half>("ln_gemm_64x128_f16", (LnGemmFn)ln_gemm_64x128_f16, 65, 1280, large, 0, {64, 128, 3});
  test_ln_rows<__nv_bfloat16>("ln_gemm_128x64_bf16", (LnGemmFn)ln_gemm_128x64_bf16, 33, 640, large, 0, {128, 64, 1});
  test_ln_rows<__half>("ln_gemm_unaligned_128x128_f16", (LnGemmFn)ln_gemm_unaligned_128x128_f16, 70, 333, large, 1);
  test_ln_gemm<__half>("ln_gemm_128x128_f16", (LnGemmFn)ln_gemm_128x128_f16, 130, 136, 320, true, true, 2, unit);
  test_ln_gemm<__half>("ln_gemm_128x128_f16", (LnGemmFn)ln_gemm_128x128_f16, 77, 72, 320, true, false, 0, large);
  test_ln_gemm<__nv_bfloat16>("ln_gemm_128x64_bf16", (LnGemmFn)ln_gemm_128x64_bf16, 77, 72, 640, true, false, 0, large,
                              0, t128x64);
  test_ln_gemm<__half>("ln_gemm_64x128_f16", (LnGemmFn)ln_gemm_64x128_f16, 65, 129, 1280, true, true, 1, large, 0,
                       {64, 128, 3});
  test_ln_gemm<__half>("ln_gemm_128x64_f16", (LnGemmFn)ln_gemm_128x64_f16, 130, 64, 200, false, true, 0, large, 0,
                       {128, 64, 2});
  test_ln_gemm<__half>("ln_gemm_unaligned_128x128_f16", (LnGemmFn)ln_gemm_unaligned_128x128_f16, 33, 70, 45, true, false,
                       0, unit, 1);
  test_ln_gemm<__nv_bfloat16>("ln_gemm_unaligned_128x64_bf16", (LnGemmFn)ln_gemm_unaligned_128x64_bf16, 70, 33, 333,
                              true, true, 2, large, 1, {128, 64, 4});
  test_ln_gemm<__half>("ln_gemm_unaligned_64x128_f16", (LnGemmFn)ln_gemm_unaligned_64x128_f16, 5, 7, 3, true, true, 1,
                       large, 1, t64x128);

  test_ln_qkv<__half>("ln_gemm_qkv_128x128_f16", (LnQkvFn)ln_gemm_qkv_128x128_f16, 130, 128, 320, large);
  test_ln_qkv<__nv_bfloat16>("ln_gemm_qkv_128x64_bf16", (LnQkvFn)ln_gemm_qkv_128x64_bf16, 77, 64, 640, large, 0,
                             {128, 64, 2});
  test_ln_qkv<__half>("ln_gemm_qkv_64x128_f16", (LnQkvFn)ln_gemm_qkv_64x128_f16, 65, 128, 1280, unit, 0,
                      {64, 128, 3});
  test_ln_qkv<__half>("ln_gemm_qkv_unaligned_128x64_f16", (LnQkvFn)ln_gemm_qkv_unaligned_128x64_f16, 70, 64, 100,
                      large, 1, t128x64);

  test_ln_geglu<__half>("ln_gemm_geglu_128x128_f16", (LnGegluFn)ln_gemm_geglu_128x128_f16, 130, 72, 320, true, large);
  test_ln_geglu<__nv_bfloat16>("ln_gemm_geglu_64x128_bf16", (LnGegluFn)ln_gemm_geglu_64x128_bf16, 65, 40, 1280, true,
                               large, 0, t64x128);
  test_ln_geglu<__half>("ln_gemm_geglu_128x64_f16", (LnGegluFn)ln_gemm_geglu_128x64_f16, 77, 37, 640, false, unit, 0,
                        t128x64);
  test_ln_geglu<__nv_bfloat16>("ln_gemm_geglu_unaligned_128x128_bf16", (LnGegluFn)ln_gemm_geglu_unaligned_128x128_bf16,
                               33, 24, 45, true, large, 1);
}

using LnAttnFn = void (*)(void *, const void *, const void *, const void *, const void *, float, const void *,
                          const void *, int, int, int, int, int, int, float);

// test_ln_attn checks ln_attention.cu against float64: LN(x) rounded to T
// (LnCase), q = LN(x)·wqᵀ rounded to T as the GEMM stores it, then the
// attention of test_attn on that q. k and v are rows of 2·C elements (a
// fused k/v buffer: k at 0, v at C), so the row strides are exercised.
template <typename T>
void test_ln_attn(const char *name, LnAttnFn fn, int B, int Tq, int Tk, int H, int Cin, LnInputs in) {
  greset();
  const int C = 64 * H, ldkv = 2 * C;
  LnCase<T> c(B * Tq, Cin, 0, in);
  Buf<T> wq(size_t(C) * Cin), kv(size_t(B) * Tk * ldkv), o(size_t(B) * Tq * C);
  wq.randn(1 / std::sqrt((double)Cin));
  kv.randn(1);
  std::vector<double> q(size_t(B) * Tq * C), want(o.n), s(Tk);
  for (int m = 0; m < B * Tq; m++)
    for (int n = 0; n < C; n++) q[size_t(m) * C + n] = as_double(from_double<T>(dot(c.h, wq, m, n, Cin)));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int i = 0; i < Tq; i++) {
        double mx = -INFINITY;
        for (int j = 0; j < Tk; j++) {
          double d = 0;
          for (int e = 0; e < 64; e++)
            d += q[(size_t(b) * Tq + i) * C + h * 64 + e] * kv.at((size_t(b) * Tk + j) * ldkv + h * 64 + e);
          s[j] = d / 8;
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < Tk; j++) sum += (s[j] = std::exp(s[j] - mx));
        for (int e = 0; e < 64; e++) {
          double a = 0;
          for (int j = 0; j < Tk; j++) a += s[j] * kv.at((size_t(b) * Tk + j) * ldkv + C + h * 64 + e);
          want[(size_t(b) * Tq + i) * C + h * 64 + e] = a / sum;
        }
      }
  // The flash-attention grid (128 queries per 256-thread block) with the
  // larger of the GEMM ring (4 * (128 + 64) * 32 * 2 bytes) and the
  // attention's tiles (55296 bytes), as ln_attention_plan.go launches it.
  launch({unsigned((Tq + 127) / 128), unsigned(H), unsigned(B)}, 256, 55296, [&] {
    fn(o.p, c.x.p, wq.p, c.g.p, c.b.p, in.eps, kv.p, kv.p + C, Tq, Tk, Cin, ldkv, ldkv, C, 0.125f);
  });
  char what[200];
  snprintf(what, sizeof what, "%s B%d Tq%d Tk%d H%d Cin%d x~%g±%g", name, B, Tq, Tk, H, Cin, in.mu, in.sd);
  expect(what, o, want);
}

// check_ln_attn covers query tails (Tq not a multiple of 128, one block and
// several), the text lengths 77 and 154, SDXL's widths 640 and 1280 and a
// small one, several heads and batches, both types, large-mean rows.
void check_ln_attn() {
  const LnInputs large{300, 2}, unit{};
  test_ln_attn<__half>("ln_attention_d64_f16", (LnAttnFn)ln_attention_d64_f16, 2, 70, 77, 2, 64, large);
  test_ln_attn<__half>("ln_attention_d64_f16", (LnAttnFn)ln_attention_d64_f16, 1, 200, 77, 2, 640, large);
  test_ln_attn<__nv_bfloat16>("ln_attention_d64_bf16", (LnAttnFn)ln_attention_d64_bf16, 1, 130, 154, 3, 1280, large);
  test_ln_attn<__nv_bfloat16>("ln_attention_d64_bf16", (LnAttnFn)ln_attention_d64_bf16, 2, 33, 154, 2, 72, unit);
  test_ln_attn<__half>("ln_attention_d64_f16", (LnAttnFn)ln_attention_d64_f16, 1, 257, 154, 2, 1280, unit);
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
    // The half tiles, and split-K (partials, the last split finishing the tile) on tails in
    // M, N and K, with every epilogue operand, in place, and unaligned.
    const TileLaunch t128x64{128, 64, 1}, t64x128{64, 128, 1};
    test_gemm<__half>("gemm_128x64_f16", (GemmFn)gemm_128x64_f16, 130, 136, 200, true, true, 1, false, 0, t128x64);
    test_gemm<__nv_bfloat16>("gemm_64x128_bf16", (GemmFn)gemm_64x128_bf16, 130, 136, 200, true, true, 2, false, 0, t64x128);
    test_gemm<__half>("gemm_unaligned_64x128_f16", (GemmFn)gemm_unaligned_64x128_f16, 70, 33, 45, true, false, 0, false, 1, t64x128);
    test_gemm<__nv_bfloat16>("gemm_unaligned_128x64_bf16", (GemmFn)gemm_unaligned_128x64_bf16, 129, 70, 45, false, true, 0, true, 1, t128x64);
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 77, 72, 200, true, true, 2, true, 0, {128, 128, 3});
    test_gemm<__half>("gemm_128x64_f16", (GemmFn)gemm_128x64_f16, 130, 72, 264, true, false, 1, false, 0, {128, 64, 2});
    test_gemm<__nv_bfloat16>("gemm_unaligned_64x128_bf16", (GemmFn)gemm_unaligned_64x128_bf16, 65, 129, 333, true, true, 2,
                             false, 1, {64, 128, 4});
    // SiLU after the residual add (act 1 | 8: the time embedding's
    // SiLU(time_embed + label)), whole tiles and split-K, in place.
    test_gemm<__half>("gemm_128x128_f16", (GemmFn)gemm_128x128_f16, 2, 136, 200, true, true, 9, false);
    test_gemm<__nv_bfloat16>("gemm_128x64_bf16", (GemmFn)gemm_128x64_bf16, 2, 72, 264, true, true, 9, true, 0, {128, 64, 3});
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
    test_conv<__half>("conv2d_128x64_f16", (ConvFn)conv2d_128x64_f16, 1, 9, 11, 40, 72, 3, 1, 1, true, 0, {128, 64, 3});
    test_conv<__nv_bfloat16>("conv2d_unaligned_128x128_bf16", (ConvFn)conv2d_unaligned_128x128_bf16, 2, 6, 5, 29, 12, 3, 2, 1,
                             false, 0, {128, 128, 2});
    // Two sources: 24 + 16 channels (chunks from each), split-K; 12 + 9
    // (unaligned: a chunk straddles the two), stride 2.
    test_conv<__half>("conv2d_128x64_f16", (ConvFn)conv2d_128x64_f16, 2, 7, 9, 40, 24, 3, 1, 1, true, 0, {128, 64, 3}, 24);
    test_conv<__nv_bfloat16>("conv2d_unaligned_64x128_bf16", (ConvFn)conv2d_unaligned_64x128_bf16, 1, 9, 8, 21, 16, 3, 2,
                             1, false, 0, {64, 128, 1}, 12);
    // Nearest 2x (the Upsample): 2x(5x7) with padding taps at every edge,
    // split-K; unaligned; and together with two sources.
    test_conv<__half>("conv2d_128x128_f16", (ConvFn)conv2d_128x128_f16, 2, 10, 14, 32, 40, 3, 1, 1, false, 0, {128, 128, 2}, 0, 1);
    test_conv<__nv_bfloat16>("conv2d_unaligned_128x64_bf16", (ConvFn)conv2d_unaligned_128x64_bf16, 1, 6, 8, 5, 12, 3, 1, 1,
                             true, 0, {128, 64, 1}, 0, 1);
    test_conv<__half>("conv2d_64x128_f16", (ConvFn)conv2d_64x128_f16, 1, 8, 6, 24, 16, 3, 1, 1, true, 0, {64, 128, 1}, 8, 1);
  }
  if (fast || only == "ln") check_ln_gemm();
  if (fast || only == "ln_attn") check_ln_attn();
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
  if (fast || only == "norm_fused") check_norm_fused();
  if (fast || only == "chain") check_linear_chain();
  if (simple || only == "elementwise") check_elementwise();
  if (simple || only == "cast") check_casts();
  if (simple || only == "norm") check_norm();
  if (simple || only == "linear") check_simple_linear_conv();
  if (simple || only == "attention_simple") check_simple_attention();
  printf("%d failures\n", failures);
  return failures != 0;
}
