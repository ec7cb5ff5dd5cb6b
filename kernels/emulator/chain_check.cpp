// Checks of linear_chain.cu: up to three Linears on a few rows in one
// launch, each layer waiting for the previous one's items, against float64
// references of act(h·wᵀ + bias + residual) layer by layer (each layer's
// output rounded to T, as the kernel stores it). Grids of one block (the
// first block takes every item) and of more blocks than items (the extra
// blocks find nothing left); the counters must be zero again afterwards.
#include "check.h"
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#define CHAIN_DECL(s, T)                                                                                \
  extern "C" void linear_chain_##s(const T *, int, int, const T *, const T *, const T *, T *, int, int, int, \
                                   const T *, const T *, const T *, T *, int, int, int, const T *, const T *, \
                                   const T *, T *, int, int, int, int *);
CHAIN_DECL(f16, __half)
CHAIN_DECL(bf16, __nv_bfloat16)

namespace {

constexpr int kCounters = 5; // linear_chain.cu's CHAIN_COUNTERS

template <typename T> struct ChainCaseLayer {
  int n, k, act;
  bool bias, residual;
  Buf<T> w, b, r, out;
  ChainCaseLayer(int rows, int n_, int k_, int act_, bool bias_, bool residual_)
      : n(n_), k(k_), act(act_), bias(bias_), residual(residual_), w(size_t(n_) * k_), b(n_), r(size_t(rows) * n_),
        out(size_t(rows) * n_) {
    w.randn(1 / std::sqrt((double)k_));
    b.randn(0.5);
    r.randn(1);
  }
};

double activate_ref(double v, int act) { return act == 1 ? v / (1 + std::exp(-v)) : v; }

template <typename T>
void test_chain(const char *name, void (*fn)(const T *, int, int, const T *, const T *, const T *, T *, int, int,
                                            int, const T *, const T *, const T *, T *, int, int, int, const T *,
                                            const T *, const T *, T *, int, int, int, int *),
                int rows, int k0, std::vector<std::array<int, 4>> spec, unsigned blocks) {
  greset();
  Buf<T> x(size_t(rows) * k0);
  x.randn(1);
  std::vector<std::unique_ptr<ChainCaseLayer<T>>> L;
  int k = k0;
  for (auto &s : spec) { // n, act, bias, residual
    L.push_back(std::make_unique<ChainCaseLayer<T>>(rows, s[0], k, s[1], s[2] != 0, s[3] != 0));
    k = s[0];
  }
  // Reference: each layer from the previous layer's rounded output.
  std::vector<double> in(x.n);
  for (size_t i = 0; i < x.n; i++) in[i] = x.at(i);
  std::vector<std::vector<double>> want;
  for (auto &l : L) {
    std::vector<double> out(size_t(rows) * l->n);
    for (int m = 0; m < rows; m++)
      for (int n = 0; n < l->n; n++) {
        double s = l->bias ? l->b.at(n) : 0;
        for (int kk = 0; kk < l->k; kk++) s += in[size_t(m) * l->k + kk] * l->w.at(size_t(n) * l->k + kk);
        if (l->residual) s += l->r.at(size_t(m) * l->n + n);
        out[size_t(m) * l->n + n] = activate_ref(s, l->act);
      }
    want.push_back(out);
    in = out;
    for (auto &v : in) v = as_double(from_double<T>(v)); // stored as T, read back by the next layer
  }
  Buf<int> counters(kCounters);
  memset(counters.p, 0, sizeof(int) * kCounters);
  auto arg = [&](size_t i) { return i < L.size() ? L[i].get() : L[0].get(); };
  auto P = [](ChainCaseLayer<T> *l, bool on, const Buf<T> &b) { return on ? (const T *)b.p : (const T *)nullptr; };
  launch({blocks, 1, 1}, 256, 0, [&] {
    auto *a = arg(0), *b = arg(1), *c = arg(2);
    fn(x.p, rows, (int)L.size(), a->w.p, P(a, a->bias, a->b), P(a, a->residual, a->r), a->out.p, a->n, a->k, a->act,
       b->w.p, P(b, b->bias, b->b), P(b, b->residual, b->r), b->out.p, b->n, b->k, b->act, c->w.p,
       P(c, c->bias, c->b), P(c, c->residual, c->r), c->out.p, c->n, c->k, c->act, counters.p);
  });
  for (size_t i = 0; i < L.size(); i++) {
    char what[200];
    snprintf(what, sizeof what, "%s rows%d layer%zu %dx%d act%d bias%d res%d blocks%u", name, rows, i, L[i]->n,
             L[i]->k, L[i]->act, L[i]->bias, L[i]->residual, blocks);
    expect(what, L[i]->out, want[i]);
  }
  for (int i = 0; i < kCounters; i++)
    if (counters.p[i] != 0) {
      printf("%-64s FAIL: counter %d left at %d\n", name, i, counters.p[i]);
      failures++;
    }
}

} // namespace

void check_linear_chain() {
  // The UNet's time embedding at toy widths: SiLU, then SiLU after the
  // label residual, then the ResBlocks' projections in one wide layer.
  test_chain<__half>("linear_chain_f16", linear_chain_f16, 4, 64, {{{96, 1, 1, 0}}, {{96, 1, 1, 1}}, {{300, 0, 1, 0}}},
                     1);
  test_chain<__half>("linear_chain_f16", linear_chain_f16, 4, 64, {{{96, 1, 1, 0}}, {{96, 1, 1, 1}}, {{300, 0, 1, 0}}},
                     40);
  // One row and eight, k past one 256-wide sweep and not a multiple of
  // it, n not a multiple of an item (32 columns) nor of a warp's 4.
  test_chain<__nv_bfloat16>("linear_chain_bf16", linear_chain_bf16, 1, 264, {{{33, 0, 0, 0}}}, 3);
  test_chain<__nv_bfloat16>("linear_chain_bf16", linear_chain_bf16, 8, 520, {{{72, 1, 0, 1}}, {{8, 0, 1, 1}}}, 2);
  test_chain<__half>("linear_chain_f16", linear_chain_f16, 3, 8, {{{8, 1, 1, 1}}, {{37, 0, 0, 0}}}, 5);
}
