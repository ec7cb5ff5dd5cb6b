// Checks of simple_attention.cu: grid (Tq, H, B), 128 threads, dynamic shared
// memory (2·D + 128 + 32) floats, scale 1/sqrt(D), as kernels/ops_attention.go
// launches it (the runtime's canary catches writes past those bytes).
#include "check.h"
#include "common.cuh"

#define ONE_TYPE(s, T) \
  extern "C" void attention_simple_##s(T *, const T *, const T *, const T *, int, int, int, int, int, float);
FOR_EACH_FLOAT(ONE_TYPE)

template <typename T>
static void attention(void (*fn)(T *, const T *, const T *, const T *, int, int, int, int, int, float), int B, int Tq,
                      int Tk, int H, int D, bool causal) {
  greset();
  const int threads = 128;
  int C = H * D;
  Buf<T> q(size_t(B) * Tq * C), k(size_t(B) * Tk * C), v(size_t(B) * Tk * C), o(size_t(B) * Tq * C);
  q.randn(2);
  k.randn(1);
  v.randn(1);
  float scale = float(1 / std::sqrt((double)D));
  std::vector<double> want(o.n), s(Tk);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int i = 0; i < Tq; i++) {
        int kend = causal ? std::min(Tk, i + 1) : Tk;
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < kend; j++) {
          double d = 0;
          for (int e = 0; e < D; e++) d += q.at((size_t(b) * Tq + i) * C + h * D + e) * k.at((size_t(b) * Tk + j) * C + h * D + e);
          s[j] = d * scale;
          mx = std::max(mx, s[j]);
        }
        for (int j = 0; j < kend; j++) sum += (s[j] = std::exp(s[j] - mx));
        for (int e = 0; e < D; e++) {
          double a = 0;
          for (int j = 0; j < kend; j++) a += s[j] * v.at((size_t(b) * Tk + j) * C + h * D + e);
          want[(size_t(b) * Tq + i) * C + h * D + e] = a / sum;
        }
      }
  size_t shared = size_t(2 * D + threads + 32) * 4;
  launch({unsigned(Tq), unsigned(H), unsigned(B)}, threads, shared,
         [&] { fn(o.p, q.p, k.p, v.p, Tq, Tk, H, D, causal, scale); });
  char what[200];
  snprintf(what, sizeof what, "attention_simple_%s B%d Tq%d Tk%d H%d D%d causal%d", type_name<T>(), B, Tq, Tk, H, D, causal);
  expect(what, o, want);
}

void check_simple_attention() {
#define RUN_ONE(s, T)                                                                  \
  attention<T>(attention_simple_##s, 2, 5, 77, 3, 24, false);  /* cross-attention, T=77 */ \
  attention<T>(attention_simple_##s, 1, 77, 77, 1, 40, true);  /* causal text encoder */   \
  attention<T>(attention_simple_##s, 1, 3, 300, 2, 8, false);  /* three key chunks */      \
  attention<T>(attention_simple_##s, 1, 2, 20, 1, 200, false); /* D above the block */
  FOR_EACH_FLOAT(RUN_ONE)
}
