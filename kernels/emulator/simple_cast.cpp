// Checks of elementwise.cu's cast_<from>_<to> for every pair, bit by bit:
// widening must be exact, narrowing must round to nearest even (ties to the
// even bit pattern, overflow to infinity from the midpoint above the largest
// finite value on, subnormals kept), NaN must stay NaN. The expected values
// come from an independent decoder and the definition of rounding, not from
// the emulator's conversions. Geometry of Cast in kernels/ops_elementwise.go.
#include "check.h"
#include "common.cuh"

#define TYPE_PAIR(s, T, ps, P) extern "C" void cast_##s##_##ps(P *, const T *, int);
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)

// Layout of a binary floating-point format.
struct Format {
  int mbits, ebits;
  int bias() const { return (1 << (ebits - 1)) - 1; }
};
template <typename T> Format format_of();
template <> Format format_of<float>() { return {23, 8}; }
template <> Format format_of<__half>() { return {10, 5}; }
template <> Format format_of<__nv_bfloat16>() { return {7, 8}; }

template <typename T> uint32_t bits_of(T x) {
  uint32_t u = 0;
  memcpy(&u, &x, sizeof(T));
  return u;
}
template <typename T> T of_bits(uint32_t u) {
  T x;
  memcpy(&x, &u, sizeof(T));
  return x;
}

// decode gives the exact value of a bit pattern. With overflow_as_power,
// infinity reads as 2^(emax+1), the value IEEE rounding compares against.
static double decode(uint32_t bits, Format f, bool overflow_as_power = false) {
  uint32_t m = bits & ((1u << f.mbits) - 1), e = (bits >> f.mbits) & ((1u << f.ebits) - 1);
  bool neg = (bits >> (f.mbits + f.ebits)) & 1;
  double v;
  if (e == (1u << f.ebits) - 1) v = m ? NAN : overflow_as_power ? std::ldexp(1.0, f.bias() + 1) : INFINITY;
  else if (e == 0) v = std::ldexp((double)m, 1 - f.bias() - f.mbits);
  else v = std::ldexp((double)(m | (1u << f.mbits)), (int)e - f.bias() - f.mbits);
  return neg ? -v : v;
}

// rounding_error names what is wrong with out as the rounding of v, or "".
static const char *rounding_error(double v, uint32_t out, Format f) {
  double got = decode(out, f);
  if (std::isnan(v)) return std::isnan(got) ? "" : "NaN lost";
  if (std::isnan(got)) return "NaN made";
  if (std::signbit(got) != std::signbit(v)) return "sign";
  uint32_t mag = out & ((1u << (f.mbits + f.ebits)) - 1), inf = ((1u << f.ebits) - 1) << f.mbits;
  if (std::isinf(v)) return mag == inf ? "" : "infinity lost";
  double a = std::fabs(v), d = std::fabs(decode(mag, f, true) - a);
  for (uint32_t nb : {mag - 1, mag + 1}) {
    if ((mag == 0 && nb == mag - 1) || nb > inf) continue;
    double dn = std::fabs(decode(nb, f, true) - a);
    if (dn < d) return "not nearest";
    if (dn == d && (mag & 1)) return "tie not to even";
  }
  return "";
}

// Source values: every pattern of a 16-bit type; for float, crafted ties,
// overflow and subnormal edges of both 16-bit formats plus random patterns.
template <typename S> static std::vector<S> sources() {
  std::vector<S> v;
  if (sizeof(S) == 2) {
    for (uint32_t u = 0; u < 65536; u++) v.push_back(of_bits<S>(u));
    return v;
  }
  std::vector<double> edges = {0.0, -0.0, 1.0, 1 + std::ldexp(1, -11), 1 + 3 * std::ldexp(1, -11), 1 + std::ldexp(1, -8),
                               1 + 3 * std::ldexp(1, -8), 1 + std::ldexp(1, -11) + std::ldexp(1, -20), 65504, 65519.99,
                               65520, 65536, 1e10, std::ldexp(1, -24), std::ldexp(1, -25), 3 * std::ldexp(1, -25),
                               std::ldexp(1, -26), std::ldexp(1, -14) - std::ldexp(1, -25), 3.3895313892515355e38,
                               3.3961775292304e38, 3.4028234663852886e38, 1e-40, INFINITY, NAN};
  for (double e : edges) v.push_back((S)e), v.push_back((S)-e);
  std::uniform_int_distribution<uint32_t> u32;
  std::normal_distribution<double> normal(0, 3);
  for (int i = 0; i < 2000; i++) v.push_back(of_bits<S>(u32(rng)));
  for (int i = 0; i < 2000; i++) v.push_back((S)normal(rng));
  return v;
}

template <typename S, typename D> static void cast_case(void (*fn)(D *, const S *, int)) {
  greset();
  std::vector<S> src = sources<S>();
  int n = (int)src.size();
  Buf<S> x(n);
  Buf<D> y(n);
  memcpy((void *)x.p, src.data(), n * sizeof(S));
  launch(std::max(1, std::min((n + 255) / 256, 1 << 20)), 256, 0, [&] { fn(y.p, x.p, n); });
  int bad = 0;
  for (int i = 0; i < n; i++) {
    double v = decode(bits_of(x.p[i]), format_of<S>());
    const char *err = rounding_error(v, bits_of(y.p[i]), format_of<D>());
    if (*err && bad++ < 3)
      fprintf(stderr, "  cast %s->%s: %.17g gave bits %#x: %s\n", type_name<S>(), type_name<D>(), v, bits_of(y.p[i]), err);
  }
  printf("%-64s %s\n", (std::string("cast_") + type_name<S>() + "_" + type_name<D>() + " n" + std::to_string(n) + " bit-exact").c_str(),
         bad ? "FAIL" : "ok");
  if (bad) failures++;
}

void check_casts() {
#define RUN_PAIR(s, T, ps, P) cast_case<T, P>(cast_##s##_##ps);
  FOR_EACH_FLOAT_PAIR(RUN_PAIR)
}
