// Test helpers shared by the kernel checks: NaN-poisoned device-like buffers
// of float, __half or __nv_bfloat16, and comparison against float64
// references with a tolerance for the output type.
#pragma once
#include "runtime.h"
#include <algorithm>
#include <random>
#include <string>

extern std::mt19937_64 rng;
extern int failures;

inline double as_double(float x) { return x; }
inline double as_double(__half x) { return f16_to_f32(x.bits); }
inline double as_double(__nv_bfloat16 x) { return bf16_to_f32(x.bits); }
template <typename T> T from_double(double x);
template <> inline float from_double<float>(double x) { return (float)x; }
template <> inline __half from_double<__half>(double x) { return {f32_to_f16((float)x)}; }
template <> inline __nv_bfloat16 from_double<__nv_bfloat16>(double x) { return {f32_to_bf16((float)x)}; }

template <typename T> const char *type_name();
template <> inline const char *type_name<float>() { return "f32"; }
template <> inline const char *type_name<__half>() { return "f16"; }
template <> inline const char *type_name<__nv_bfloat16>() { return "bf16"; }

template <typename T> struct Buf {
  void *mem;
  T *p;
  size_t n;
  // Exactly n elements (after offset_elems), so AddressSanitizer sees any read past the end.
  Buf(size_t n_, size_t offset_elems = 0) : n(n_) {
    size_t bytes = (n + offset_elems) * sizeof(T);
    if (posix_memalign(&mem, 128, bytes + (bytes == 0))) abort();
    p = (T *)((char *)mem + offset_elems * sizeof(T));
    memset((void *)p, 0xff, n * sizeof(T)); // NaN poison
    gregister(p, n * sizeof(T));
  }
  ~Buf() { free(mem); }
  Buf(const Buf &) = delete;
  void randn(double std, double mean = 0) {
    std::normal_distribution<double> d(mean, std);
    for (size_t i = 0; i < n; i++) p[i] = from_double<T>(d(rng));
  }
  double at(size_t i) const { return as_double(p[i]); }
};

// Tolerance, relative and absolute, for an output stored as T: about four
// roundings to f16 or bf16 (float32 arithmetic inside is far finer), and for
// float32 outputs the spread of float32 against float64 on these small sizes
// (worst measured 2.3e-6: sums of up to a few thousand terms, expf, erff).
template <typename T> struct Tol;
template <> struct Tol<float> { static constexpr double atol = 1e-5, rtol = 1e-5; };
template <> struct Tol<__half> { static constexpr double atol = 2e-3, rtol = 2e-3; };
template <> struct Tol<__nv_bfloat16> { static constexpr double atol = 1.6e-2, rtol = 1.6e-2; };

template <typename T> void expect(const std::string &what, const Buf<T> &got, const std::vector<double> &want) {
  int bad = 0;
  double worst = 0;
  for (size_t i = 0; i < want.size(); i++) {
    double g = got.at(i), d = std::fabs(g - want[i]);
    if (!(d <= Tol<T>::atol + Tol<T>::rtol * std::fabs(want[i]))) {
      if (bad < 3) fprintf(stderr, "  %s: [%zu] got %g want %g\n", what.c_str(), i, g, want[i]);
      bad++;
    }
    if (!(d <= worst)) worst = d;
  }
  printf("%-64s %s (worst %.3g)\n", what.c_str(), bad ? "FAIL" : "ok", worst);
  if (bad) failures++;
}

// Checks of the simple kernels, one per source file (simple_*.cpp).
void check_elementwise();
void check_casts();
void check_norm();
void check_simple_linear_conv();
void check_simple_attention();
void check_norm_fused();
void check_linear_chain();
