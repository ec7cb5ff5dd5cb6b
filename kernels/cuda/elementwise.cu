// Element-wise ops and data movement: unary activations, GEGLU, broadcast
// add/mul, cast, nearest upsampling, concat/slice on the last axis, and the
// embedding gather. One thread per output element, grid-stride loops
// (GRID_STRIDE, common.cuh).
#include "common.cuh"

__device__ __forceinline__ float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// op: 1 silu, 2 exact gelu, 3 quick gelu (tensor.UnaryOp values).
__device__ __forceinline__ float unary_apply(float x, int op) {
    switch (op) {
    case 1: return x * sigmoid(x);
    case 2: return gelu_erf(x);
    default: return x * sigmoid(1.702f * x);
    }
}

template <typename T>
__device__ void unary(T *dst, const T *x, int n, int op) {
    GRID_STRIDE(i, n) dst[i] = from_f32<T>(unary_apply(to_f32(x[i]), op));
}

// x [rows, 2n] -> dst [rows, n] = x[:, :n] * gelu(x[:, n:]).
template <typename T>
__device__ void geglu(T *dst, const T *x, int rows, int n) {
    GRID_STRIDE(i, rows * n) {
        int r = i / n, c = i - r * n;
        const T *row = x + (size_t)r * 2 * n;
        dst[i] = from_f32<T>(to_f32(row[c]) * gelu_erf(to_f32(row[n + c])));
    }
}

// dst = a op b over a's shape collapsed to [n0, n1, n2, n3]; b is addressed
// with strides s0..s3 (0 along broadcast dimensions). op: 1 add, 2 mul.
template <typename T, typename P>
__device__ void binary(T *dst, const T *a, const P *b, int op, int n0, int n1, int n2, int n3,
                       int s0, int s1, int s2, int s3) {
    GRID_STRIDE(i, n0 * n1 * n2 * n3) {
        int r = i;
        int i3 = r % n3; r /= n3;
        int i2 = r % n2; r /= n2;
        int i1 = r % n1;
        int i0 = r / n1;
        float bv = to_f32(b[i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3]);
        float av = to_f32(a[i]);
        dst[i] = from_f32<T>(op == 1 ? av + bv : av * bv);
    }
}

template <typename S, typename D>
__device__ void cast(D *dst, const S *x, int n) {
    GRID_STRIDE(i, n) dst[i] = from_f32<D>(to_f32(x[i]));
}

// Nearest neighbour as torch's F.interpolate(mode="nearest", size=...):
// x [B,H,W,C] -> dst [B,OH,OW,C], output row oy reading input row
// min(floor(oy * sh), H-1) with sh = H/OH in float32 (a lone multiply,
// which nothing can fuse into an FMA: the host's float), likewise columns.
template <typename T>
__device__ void resize_nearest(T *dst, const T *x, int B, int H, int W, int C, int OH, int OW, float sh, float sw) {
    GRID_STRIDE(i, B * OH * OW * C) {
        int r = i;
        int c = r % C; r /= C;
        int ox = r % OW; r /= OW;
        int oy = r % OH;
        int b = r / OH;
        int iy = min((int)floorf((float)oy * sh), H - 1);
        int ix = min((int)floorf((float)ox * sw), W - 1);
        dst[i] = x[((size_t)(b * H + iy) * W + ix) * C + c];
    }
}

// dst [rows, ca+cb] = [a [rows, ca] | b [rows, cb]].
template <typename T>
__device__ void concat(T *dst, const T *a, const T *b, int rows, int ca, int cb) {
    int cd = ca + cb;
    GRID_STRIDE(i, rows * cd) {
        int r = i / cd, c = i - r * cd;
        dst[i] = c < ca ? a[(size_t)r * ca + c] : b[(size_t)r * cb + c - ca];
    }
}

// dst [rows, cd] = x[rows, offset : offset+cd] with x [rows, cx].
template <typename T>
__device__ void slice(T *dst, const T *x, int rows, int cx, int cd, int offset) {
    GRID_STRIDE(i, rows * cd) {
        int r = i / cd, c = i - r * cd;
        dst[i] = x[(size_t)r * cx + offset + c];
    }
}

// dst [n, C] = table[ids[n]]. A kernel cannot report an error, so ids outside
// [0, V) give zero rows instead of reading stray memory.
template <typename T, typename P>
__device__ void gather(T *dst, const P *table, const int *ids, int n, int V, int C) {
    GRID_STRIDE(i, n * C) {
        int r = i / C, c = i - r * C;
        int id = ids[r];
        dst[i] = from_f32<T>(id >= 0 && id < V ? to_f32(table[(size_t)id * C + c]) : 0.0f);
    }
}

#define ONE_TYPE(s, T)                                                                              \
    extern "C" __global__ void unary_##s(T *d, const T *x, int n, int op) { unary(d, x, n, op); } \
    extern "C" __global__ void geglu_##s(T *d, const T *x, int rows, int n) { geglu(d, x, rows, n); } \
    extern "C" __global__ void resize_nearest_##s(T *d, const T *x, int B, int H, int W, int C,      \
                                                  int OH, int OW, float sh, float sw) {             \
        resize_nearest(d, x, B, H, W, C, OH, OW, sh, sw);                                           \
    }                                                                                               \
    extern "C" __global__ void concat_##s(T *d, const T *a, const T *b, int rows, int ca, int cb) { \
        concat(d, a, b, rows, ca, cb);                                                              \
    }                                                                                               \
    extern "C" __global__ void slice_##s(T *d, const T *x, int rows, int cx, int cd, int off) {    \
        slice(d, x, rows, cx, cd, off);                                                             \
    }
FOR_EACH_FLOAT(ONE_TYPE)

// Pairs: binary_<act>_<b>, cast_<from>_<to>, gather_<out>_<table>.
#define TYPE_PAIR(s, T, ps, P)                                                                      \
    extern "C" __global__ void binary_##s##_##ps(T *d, const T *a, const P *b, int op, int n0,     \
                                                 int n1, int n2, int n3, int s0, int s1, int s2,  \
                                                 int s3) {                                         \
        binary(d, a, b, op, n0, n1, n2, n3, s0, s1, s2, s3);                                       \
    }                                                                                               \
    extern "C" __global__ void cast_##s##_##ps(P *d, const T *x, int n) { cast(d, x, n); }         \
    extern "C" __global__ void gather_##s##_##ps(T *d, const P *table, const int *ids, int n,      \
                                                 int V, int C) {                                   \
        gather(d, table, ids, n, V, C);                                                            \
    }
FOR_EACH_FLOAT_PAIR(TYPE_PAIR)
