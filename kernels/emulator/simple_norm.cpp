// Checks of norm.cu: the three LayerNorm kernels and the two GroupNorm
// launches, with the geometry and chunking of kernels/norm.go and
// kernels/norm_plan.go. Inputs have a large mean so that a one-pass
// variance would show, and eps is large enough to matter.
#include "check.h"
#include "common.cuh"

#define ONE_TYPE(s, T) extern "C" void groupnorm_stats_##s(float *, const T *, int, int, int, int);
FOR_EACH_FLOAT(ONE_TYPE)
#define TYPE_PAIR(s, T, ps, P)                                                                          \
  extern "C" void layernorm_##s##_##ps(T *, const T *, const P *, const P *, int, float);              \
  extern "C" void layernorm_block_##s##_##ps(T *, const T *, const P *, const P *, int, float);        \
  extern "C" void layernorm_warp_##s##_##ps(T *, const T *, const P *, const P *, int, int, float);    \
  extern "C" void groupnorm_apply_##s##_##ps(T *, const T *, const float *, const P *, const P *, int, int, \
                                             int, int, int, int, float, int);
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)

template <typename T, typename P> struct LayerNormFns {
  void (*warp)(T *, const T *, const P *, const P *, int, int, float);
  void (*block)(T *, const T *, const P *, const P *, int, float);
  void (*long_rows)(T *, const T *, const P *, const P *, int, float);
};

// kind: 0 layernorm_warp (8 rows per 256-thread block), 1 layernorm_block
// (one block per row of the fewest warps holding 16 values each), 2
// layernorm (one 256-thread block per row), as kernels/norm_plan.go.
template <typename T, typename P>
static void layernorm(LayerNormFns<T, P> fns, int kind, int rows, int C, float eps, double mean) {
  greset();
  Buf<T> x(size_t(rows) * C), y(size_t(rows) * C);
  Buf<P> gamma(C), beta(C);
  x.randn(2, mean);
  gamma.randn(1, 1);
  beta.randn(0.5);
  std::vector<double> want(y.n);
  for (int r = 0; r < rows; r++) {
    double mean = 0, var = 0;
    for (int c = 0; c < C; c++) mean += x.at(size_t(r) * C + c) / C;
    for (int c = 0; c < C; c++) var += std::pow(x.at(size_t(r) * C + c) - mean, 2) / C;
    for (int c = 0; c < C; c++)
      want[size_t(r) * C + c] = (x.at(size_t(r) * C + c) - mean) / std::sqrt(var + eps) * gamma.at(c) + beta.at(c);
  }
  const char *name = "layernorm";
  if (kind == 0) {
    name = "layernorm_warp";
    launch((rows + 7) / 8, 256, 0, [&] { fns.warp(y.p, x.p, gamma.p, beta.p, rows, C, eps); });
  } else if (kind == 1) {
    name = "layernorm_block";
    launch(rows, 32 * ((C + 511) / 512), 0, [&] { fns.block(y.p, x.p, gamma.p, beta.p, C, eps); });
  } else {
    launch(rows, 256, 0, [&] { fns.long_rows(y.p, x.p, gamma.p, beta.p, C, eps); });
  }
  char what[200];
  snprintf(what, sizeof what, "%s_%s_%s rows%d C%d eps%g mean%g", name, type_name<T>(), type_name<P>(), rows, C, eps,
           mean);
  expect(what, y, want);
}

// planGroupNorm of kernels/norm_plan.go.
struct GroupNormPlan {
  int per, chunks, span, apply_per, apply_y;
};
static GroupNormPlan plan_group_norm(int positions, int groups, int cpg) {
  GroupNormPlan p;
  p.per = std::max({1, (8192 + cpg - 1) / cpg, (positions + 255) / 256});
  p.chunks = std::max(1, (positions + p.per - 1) / p.per);
  p.span = 1;
  for (int d = 2; d <= std::min(groups, 8) && p.span * cpg < 32; d++)
    if (groups % d == 0) p.span = d;
  int width = p.span * cpg, elems = std::max(8192, 64 * p.span * p.chunks);
  p.apply_per = std::max({1, (elems + width - 1) / width, (positions + 65534) / 65535});
  p.apply_y = std::max(1, (positions + p.apply_per - 1) / p.apply_per);
  return p;
}

template <typename T, typename P>
static void groupnorm(void (*stats_fn)(float *, const T *, int, int, int, int),
                      void (*apply_fn)(T *, const T *, const float *, const P *, const P *, int, int, int, int, int,
                                       int, float, int),
                      int B, int positions, int C, int groups, float eps, bool silu, double mean = 0) {
  greset();
  int total = B * positions * C, cpg = C / groups, bgs = B * groups;
  GroupNormPlan plan = plan_group_norm(positions, groups, cpg);
  Buf<T> x(total), y(total);
  Buf<P> gamma(C), beta(C);
  Buf<float> partial(size_t(bgs) * plan.chunks * 3);
  x.randn(1.5, 4 + mean);
  // A ramp over positions, so that chunks have different means and their
  // merge needs the between-chunk term of the variance.
  for (int i = 0; i < total; i++) x.p[i] = from_double<T>(x.at(i) + 6.0 * (i / C % positions) / positions);
  gamma.randn(1, 1);
  beta.randn(0.5);
  std::vector<double> want(total);
  for (int b = 0; b < B; b++)
    for (int g = 0; g < groups; g++) {
      auto at = [&](int p, int c) { return x.at((size_t(b) * positions + p) * C + g * cpg + c); };
      double mean = 0, var = 0, n = double(positions) * cpg;
      for (int p = 0; p < positions; p++)
        for (int c = 0; c < cpg; c++) mean += at(p, c) / n;
      for (int p = 0; p < positions; p++)
        for (int c = 0; c < cpg; c++) var += std::pow(at(p, c) - mean, 2) / n;
      for (int p = 0; p < positions; p++)
        for (int c = 0; c < cpg; c++) {
          int ch = g * cpg + c;
          double v = (at(p, c) - mean) / std::sqrt(var + eps) * gamma.at(ch) + beta.at(ch);
          if (silu) v = v / (1 + std::exp(-v));
          want[(size_t(b) * positions + p) * C + ch] = v;
        }
    }
  launch({unsigned(bgs), unsigned(plan.chunks)}, 256, 0,
         [&] { stats_fn(partial.p, x.p, positions, C, groups, plan.per); });
  launch({unsigned(bgs / plan.span), unsigned(plan.apply_y)}, 256, 0, [&] {
    apply_fn(y.p, x.p, partial.p, gamma.p, beta.p, positions, C, groups, plan.span, plan.chunks, plan.apply_per, eps,
             silu);
  });
  char what[200];
  snprintf(what, sizeof what, "groupnorm_%s_%s B%d P%d C%d G%d chunks%d span%d applyY%d eps%g silu%d mean%g",
           type_name<T>(), type_name<P>(), B, positions, C, groups, plan.chunks, plan.span, plan.apply_y, eps, silu, mean);
  expect(what, y, want);
}

void check_norm() {
#define RUN_PAIR(s, T, ps, P)                                                                  \
  {                                                                                            \
    LayerNormFns<T, P> fns{layernorm_warp_##s##_##ps, layernorm_block_##s##_##ps, layernorm_##s##_##ps}; \
    layernorm<T, P>(fns, 0, 5, 77, 0.1f, 3);                                                   \
    layernorm<T, P>(fns, 0, 9, 512, 1e-5f, 3);                                                 \
    layernorm<T, P>(fns, 1, 2, 1025, 1e-5f, 3);                                                \
    layernorm<T, P>(fns, 1, 3, 513, 1e-5f, 3);                                                 \
    layernorm<T, P>(fns, 2, 2, 700, 1e-5f, 3);                                                 \
  }                                                                                            \
  groupnorm<T, P>(groupnorm_stats_##s, groupnorm_apply_##s##_##ps, 2, 35, 24, 4, 0.25f, true); \
  groupnorm<T, P>(groupnorm_stats_##s, groupnorm_apply_##s##_##ps, 1, 9, 10, 5, 1e-6f, false);
  FOR_EACH_FLOAT_PAIR(RUN_PAIR)
  // Edges of the register kernels: one row, one element, a full 4096-element
  // row, rows past the last full block of 8; values around 300 ± 2, where
  // E[x²] − E[x]² in float32 would lose the variance.
  LayerNormFns<float, float> f32{layernorm_warp_f32_f32, layernorm_block_f32_f32, layernorm_f32_f32};
  layernorm<float, float>(f32, 0, 1, 1, 1e-5f, 0);
  layernorm<float, float>(f32, 0, 17, 320, 1e-5f, 300);
  layernorm<float, float>(f32, 1, 5, 640, 1e-5f, 300);
  layernorm<float, float>(f32, 1, 3, 4096, 1e-5f, 300);
  layernorm<float, float>(f32, 2, 2, 4097, 1e-5f, 300);
  LayerNormFns<__half, __half> f16{layernorm_warp_f16_f16, layernorm_block_f16_f16, layernorm_f16_f16};
  layernorm<__half, __half>(f16, 1, 11, 768, 1e-5f, 300);
  layernorm<__half, __half>(f16, 1, 2, 1280 + 3, 1e-5f, 300);
  // Several chunks per group (positions·cpg above 8192): the merge of partial statistics.
  groupnorm<float, float>(groupnorm_stats_f32, groupnorm_apply_f32_f32, 1, 1500, 12, 2, 1e-5f, false);
  groupnorm<__half, __half>(groupnorm_stats_f16, groupnorm_apply_f16_f16, 1, 1500, 12, 2, 1e-5f, true);
  groupnorm<__nv_bfloat16, float>(groupnorm_stats_bf16, groupnorm_apply_bf16_f32, 1, 1500, 12, 2, 1e-5f, false);
  // The VAE's narrow groups: 4 channels each, 8 groups per apply block.
  groupnorm<__half, __half>(groupnorm_stats_f16, groupnorm_apply_f16_f16, 2, 300, 128, 32, 1e-6f, true);
  // Nine chunks, the last one short, around 300: the merge of many partials.
  groupnorm<float, float>(groupnorm_stats_f32, groupnorm_apply_f32_f32, 2, 70001, 2, 2, 1e-5f, true, 300);
  groupnorm<__half, float>(groupnorm_stats_f16, groupnorm_apply_f16_f32, 1, 9 * 8192 - 5, 3, 3, 1e-5f, false, 300);
}
