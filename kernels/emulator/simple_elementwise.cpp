// Checks of elementwise.cu (except casts, see simple_cast.cpp) with the
// launch geometry of kernels/ops_elementwise.go: 256-thread blocks, grid
// gridFor(n), arguments in the launcher's order.
#include "check.h"
#include "common.cuh"

#define ONE_TYPE(s, T)                                                                       \
  extern "C" void unary_##s(T *, const T *, int, int);                                       \
  extern "C" void geglu_##s(T *, const T *, int, int);                                       \
  extern "C" void resize_nearest_##s(T *, const T *, int, int, int, int, int, int, float, float); \
  extern "C" void concat_##s(T *, const T *, const T *, int, int, int);                      \
  extern "C" void slice_##s(T *, const T *, int, int, int, int);
FOR_EACH_FLOAT(ONE_TYPE)
#define TYPE_PAIR(s, T, ps, P)                                                               \
  extern "C" void binary_##s##_##ps(T *, const T *, const P *, int, int, int, int, int, int, \
                                    int, int, int);                                          \
  extern "C" void gather_##s##_##ps(T *, const P *, const int *, int, int, int);
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)

// gridFor of kernels/ops_norm.go.
static unsigned grid_for(int n) { return std::max(1, std::min((n + 255) / 256, 1 << 20)); }

static double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
static double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

template <typename T> static void unary_case(void (*fn)(T *, const T *, int, int), int n, int op, unsigned grid) {
  greset();
  Buf<T> x(n), y(n);
  x.randn(2);
  x.p[0] = from_double<T>(-90), x.p[1] = from_double<T>(90); // exp over/underflow
  std::vector<double> want(n);
  for (int i = 0; i < n; i++) {
    double v = x.at(i);
    want[i] = op == 1 ? v * sigmoid(v) : op == 2 ? gelu(v) : v * sigmoid(1.702 * v);
  }
  launch(grid, 256, 0, [&] { fn(y.p, x.p, n, op); });
  char what[200];
  snprintf(what, sizeof what, "unary_%s op%d n%d grid%u", type_name<T>(), op, n, grid);
  expect(what, y, want);
}

template <typename T> static void unary(void (*fn)(T *, const T *, int, int)) {
  for (int op = 1; op <= 3; op++) unary_case(fn, 1001, op, grid_for(1001));
  unary_case(fn, 1500, 1, 2); // a grid smaller than n/256, as gridFor's cap makes for huge n: the stride loop
}

template <typename T> static void geglu(void (*fn)(T *, const T *, int, int)) {
  greset();
  int rows = 7, n = 77;
  Buf<T> x(size_t(rows) * 2 * n), y(size_t(rows) * n);
  x.randn(1.5);
  std::vector<double> want(y.n);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < n; c++) want[r * n + c] = x.at(r * 2 * n + c) * gelu(x.at(r * 2 * n + n + c));
  launch(grid_for(rows * n), 256, 0, [&] { fn(y.p, x.p, rows, n); });
  expect(std::string("geglu_") + type_name<T>() + " rows7 n77", y, want);
}

// broadcastPlan of kernels/check.go: a's extents collapsed to 4 dimensions
// and b's strides along them (0 where b broadcasts).
static bool broadcast_plan(const std::vector<int> &a, const std::vector<int> &b, int n[4], int s[4]) {
  if (a.size() != b.size()) return false;
  std::vector<int> bs(b.size()), dims, strides;
  for (int i = (int)b.size() - 1, st = 1; i >= 0; st *= b[i], i--) {
    if (b[i] == a[i]) bs[i] = st;
    else if (b[i] == 1) bs[i] = 0;
    else return false;
  }
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i] == 1) continue;
    if (!dims.empty() && strides.back() == bs[i] * a[i] && (bs[i] != 0 || strides.back() == 0)) {
      dims.back() *= a[i];
      strides.back() = bs[i];
      continue;
    }
    dims.push_back(a[i]);
    strides.push_back(bs[i]);
  }
  if (dims.size() > 4) return false;
  int off = 4 - (int)dims.size();
  for (int i = 0; i < 4; i++) n[i] = 1, s[i] = 0;
  for (size_t i = 0; i < dims.size(); i++) n[off + i] = dims[i], s[off + i] = strides[i];
  return true;
}

template <typename T, typename P>
static void binary_case(void (*fn)(T *, const T *, const P *, int, int, int, int, int, int, int, int, int),
                        const std::vector<int> &ashape, const std::vector<int> &bshape, int op, bool inplace) {
  greset();
  size_t an = 1, bn = 1;
  for (int d : ashape) an *= d;
  for (int d : bshape) bn *= d;
  Buf<T> a(an), y(an);
  Buf<P> b(bn);
  a.randn(1);
  b.randn(1);
  // The reference indexes b by full-rank broadcasting, independently of the plan.
  std::vector<double> want(an);
  std::vector<int> idx(ashape.size());
  for (size_t i = 0; i < an; i++) {
    size_t r = i, bi = 0, bstride = 1;
    for (int d = (int)ashape.size() - 1; d >= 0; d--) idx[d] = r % ashape[d], r /= ashape[d];
    for (int d = (int)ashape.size() - 1; d >= 0; d--) {
      if (bshape[d] != 1) bi += idx[d] * bstride;
      bstride *= bshape[d];
    }
    want[i] = op == 1 ? a.at(i) + b.at(bi) : a.at(i) * b.at(bi);
  }
  int n[4], s[4];
  if (!broadcast_plan(ashape, bshape, n, s)) { fprintf(stderr, "bad broadcast in test\n"); abort(); }
  Buf<T> &out = inplace ? a : y;
  launch(grid_for(int(an)), 256, 0, [&] { fn(out.p, a.p, b.p, op, n[0], n[1], n[2], n[3], s[0], s[1], s[2], s[3]); });
  std::string shape;
  for (size_t d = 0; d < ashape.size(); d++) shape += (d ? "x" : "") + std::to_string(ashape[d]) + "/" + std::to_string(bshape[d]);
  expect(std::string("binary_") + type_name<T>() + "_" + type_name<P>() + " op" + std::to_string(op) + " " + shape +
             (inplace ? " inplace" : ""),
         out, want);
}

template <typename T, typename P>
static void binary(void (*fn)(T *, const T *, const P *, int, int, int, int, int, int, int, int, int)) {
  binary_case(fn, {2, 5, 7, 12}, {1, 1, 1, 12}, 1, false); // bias over channels
  binary_case(fn, {2, 5, 7, 12}, {2, 1, 1, 12}, 2, true);  // per image and channel (time embedding)
  binary_case(fn, {2, 77, 9}, {1, 77, 9}, 1, false);       // position embedding over the batch
  binary_case(fn, {2, 4, 5, 6}, {2, 1, 5, 1}, 2, false); // alternating broadcast: 4 planned dims
}

// torch's nearest source index: scale in/out and its product in float.
static int nearest_src(int i, int in, int out) {
  float scale = float(in) / float(out);
  return std::min(int(std::floor(float(i) * scale)), in - 1);
}

template <typename T>
static void resize_case(void (*fn)(T *, const T *, int, int, int, int, int, int, float, float), int B, int H, int W,
                        int C, int OH, int OW) {
  greset();
  Buf<T> x(size_t(B) * H * W * C), y(size_t(B) * OH * OW * C);
  x.randn(1);
  std::vector<double> want(y.n);
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        for (int c = 0; c < C; c++)
          want[((size_t(b) * OH + oy) * OW + ox) * C + c] =
              x.at(((size_t(b) * H + nearest_src(oy, H, OH)) * W + nearest_src(ox, W, OW)) * C + c);
  float sh = float(H) / float(OH), sw = float(W) / float(OW);
  launch(grid_for(int(y.n)), 256, 0, [&] { fn(y.p, x.p, B, H, W, C, OH, OW, sh, sw); });
  char what[120];
  snprintf(what, sizeof what, "resize_nearest_%s %dx%dx%dx%d->%dx%d", type_name<T>(), B, H, W, C, OH, OW);
  expect(what, y, want);
}

template <typename T> static void resize(void (*fn)(T *, const T *, int, int, int, int, int, int, float, float)) {
  resize_case(fn, 2, 3, 5, 7, 6, 10);  // 2x
  resize_case(fn, 1, 39, 57, 4, 78, 114); // a hires pass's odd latents
  resize_case(fn, 1, 3, 5, 3, 5, 9);   // odd skip sizes
  resize_case(fn, 1, 7, 6, 3, 10, 4);  // up one way, down the other
}

template <typename T>
static void concat_slice(void (*concat)(T *, const T *, const T *, int, int, int),
                         void (*slice)(T *, const T *, int, int, int, int)) {
  greset();
  int rows = 2 * 77, ca = 5, cb = 11, cd = 6, off = 4;
  Buf<T> a(size_t(rows) * ca), b(size_t(rows) * cb), y(size_t(rows) * (ca + cb)), z(size_t(rows) * cd);
  a.randn(1);
  b.randn(1);
  std::vector<double> want(y.n), wantz(z.n);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < ca + cb; c++) want[r * (ca + cb) + c] = c < ca ? a.at(r * ca + c) : b.at(r * cb + c - ca);
  launch(grid_for(int(y.n)), 256, 0, [&] { concat(y.p, a.p, b.p, rows, ca, cb); });
  expect(std::string("concat_") + type_name<T>() + " rows154 5+11", y, want);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cd; c++) wantz[r * cd + c] = y.at(r * (ca + cb) + off + c);
  launch(grid_for(int(z.n)), 256, 0, [&] { slice(z.p, y.p, rows, ca + cb, cd, off); });
  expect(std::string("slice_") + type_name<T>() + " rows154 16[4:10]", z, wantz);
}

template <typename T, typename P> static void gather(void (*fn)(T *, const P *, const int *, int, int, int)) {
  greset();
  int V = 50, C = 13, n = 2 * 77;
  Buf<P> table(size_t(V) * C);
  Buf<T> y(size_t(n) * C);
  table.randn(1);
  std::vector<int> ids(n);
  std::uniform_int_distribution<int> pick(0, V - 1);
  for (int &id : ids) id = pick(rng);
  ids[3] = -1, ids[5] = V, ids[n - 1] = V - 1; // outside [0, V): zero rows
  std::vector<double> want(y.n);
  for (int r = 0; r < n; r++)
    for (int c = 0; c < C; c++) {
      // The table value, rounded to the output type as the kernel must store it.
      double v = ids[r] >= 0 && ids[r] < V ? table.at(size_t(ids[r]) * C + c) : 0.0;
      want[size_t(r) * C + c] = as_double(from_double<T>(v));
    }
  launch(grid_for(n * C), 256, 0, [&] { fn(y.p, table.p, ids.data(), n, V, C); });
  expect(std::string("gather_") + type_name<T>() + "_" + type_name<P>() + " n154 V50 C13", y, want);
}

void check_elementwise() {
#define RUN_ONE(s, T)                \
  unary<T>(unary_##s);               \
  geglu<T>(geglu_##s);               \
  resize<T>(resize_nearest_##s);     \
  concat_slice<T>(concat_##s, slice_##s);
  FOR_EACH_FLOAT(RUN_ONE)
#define RUN_PAIR(s, T, ps, P) \
  binary<T, P>(binary_##s##_##ps); \
  gather<T, P>(gather_##s##_##ps);
  FOR_EACH_FLOAT_PAIR(RUN_PAIR)
}
