// conv.cu: 2-D convolution over NHWC as an implicit GEMM on tensor cores:
//
//   y[b,oy,ox,co] = sum_{ky,kx,ci} x[b, oy*s-p+ky, ox*s-p+kx, ci] * w[co,ky,kx,ci]
//                   + bias[co]  (+ residual[b,oy,ox,co])
//
// Seen as a GEMM: M = B*Ho*Wo output pixels, N = Cout, K = KH*KW*Cin with
// k = (ky*KW + kx)*Cin + ci, so the repacked weight [Cout,KH,KW,Cin] is
// exactly the row-major B operand and y is the row-major [M,N] result. The
// im2col matrix is never built: ConvLoader gathers each BMx32 A tile
// straight from x while the block multiplies the previous stages (same
// 4-stage cp.async pipeline, tile shapes and split-K as gemm.cu,
// gemm_tile.cuh: a split conv's last split finishes its tile).
//
// When Cin % 8 == 0, an 8-element k chunk starting at a multiple of 8 never
// crosses a filter tap, so it is 8 contiguous channels of one input pixel:
// one 16-byte cp.async, zero-filled where the tap falls in the padding.
// Otherwise (conv_in: Cin 3 or 4) every element is decoded and loaded alone.
#include "norm_loader.cuh"

struct ConvShape {
  int B, H, W, Cin; // input
  int Ho, Wo, Cout; // output
  int KH, KW, stride, pad;
};

template <typename T, bool ALIGNED, int ROWS> struct ConvLoader : tile::NoTransform {
  static constexpr int ITERS = ROWS / 64;
  const T *x;
  ConvShape s;
  int K;
  int img[ITERS];             // batch index of each of the thread's rows, -1 past M
  int iy0[ITERS], ix0[ITERS]; // input coordinates of the filter's top-left tap

  __device__ __forceinline__ ConvLoader(const T *x_, const ConvShape &s_, int m0) : x(x_), s(s_) {
    K = s.KH * s.KW * s.Cin;
    const int M = s.B * s.Ho * s.Wo;
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      const int m = m0 + tile::load_row(i);
      const int ox = m % s.Wo, oy = (m / s.Wo) % s.Ho;
      img[i] = m < M ? m / (s.Wo * s.Ho) : -1;
      iy0[i] = oy * s.stride - s.pad;
      ix0[i] = ox * s.stride - s.pad;
    }
  }

  // element returns a pointer to x for im2col entry (row i, k), or null
  // when it lies in the zero padding or past M or K.
  __device__ __forceinline__ const T *element(int i, int k) const {
    if (img[i] < 0 || k >= K) return nullptr;
    const int tap = k / s.Cin, ci = k - tap * s.Cin;
    const int ky = tap / s.KW, kx = tap - ky * s.KW;
    const int iy = iy0[i] + ky, ix = ix0[i] + kx;
    if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) return nullptr;
    return x + (((size_t)img[i] * s.H + iy) * s.W + ix) * s.Cin + ci;
  }

  __device__ __forceinline__ void load(T *smem, int k0) const {
    const int c = tile::load_col();
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      T *dst = tile::load_dst(smem, i);
      if (ALIGNED) {
        const T *src = element(i, k0 + c);
        cp_async16(dst, src ? src : x, src != nullptr);
      } else {
        uint16_t v[8];
#pragma unroll
        for (int e = 0; e < 8; e++) {
          const T *src = element(i, k0 + c + e);
          v[e] = src ? *reinterpret_cast<const uint16_t *>(src) : 0; // 0x0000 is +0 in f16 and bf16
        }
        *reinterpret_cast<uint4 *>(dst) = make_uint4(v[0] | (uint32_t)v[1] << 16, v[2] | (uint32_t)v[3] << 16,
                                                     v[4] | (uint32_t)v[5] << 16, v[6] | (uint32_t)v[7] << 16);
      }
    }
  }
};

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void conv_body(T *y, const T *x, const T *w, const T *bias, const T *residual,
                                          const ConvShape &s, float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int M = s.B * s.Ho * s.Wo, N = s.Cout, K = s.KH * s.KW * s.Cin;
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;

  ConvLoader<T, ALIGNED, S::BM> la(x, s, m0);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, bias, residual, M, N, m0, n0, ACT_NONE, partial, sem);
}

// partial, sem and kchunk as in gemm.cu: null and ignored without split-K.
#define CONV_KERNEL(name, T, ALIGNED, BM, BN)                                                         \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w, const T *bias, const T *residual, int B, int H, int W,       \
           int Cin, int Ho, int Wo, int Cout, int KH, int KW, int stride, int pad, float *partial,     \
           int *sem, int kchunk) {                                                                    \
    ConvShape s = {B, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad};                                  \
    conv_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, residual, s, partial, sem, kchunk);     \
  }

#define CONV_TILE(BM, BN)                                                                             \
  CONV_KERNEL(conv2d_##BM##x##BN##_f16, __half, true, BM, BN)                                         \
  CONV_KERNEL(conv2d_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                                 \
  CONV_KERNEL(conv2d_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                              \
  CONV_KERNEL(conv2d_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

CONV_TILE(128, 128)
CONV_TILE(128, 64)
CONV_TILE(64, 128)

// ---- conv2d_norm: GroupNorm(+SiLU) of x in the loader, a per-image bias in
// the epilogue ----
//
//   y[b,oy,ox,co] = conv(silu?(gn(x)))[b,oy,ox,co] + bias[co] + emb[b,co] (+ residual)
//
// A ResBlock's "conv(silu(gn(x))) + emb" in one launch after groupnorm_table
// (norm.cu), which wrote the (scale, shift) table: NormConvLoader copies x
// like ConvLoader and normalises the chunks that hold x in landed(), so
// padding taps and chunks past M or K stay 0. emb [B, Cout] may be null; a
// split conv's last split adds it when it finishes the tile.

template <typename T, bool ALIGNED, int ROWS> struct NormConvLoader : ConvLoader<T, ALIGNED, ROWS> {
  using Base = ConvLoader<T, ALIGNED, ROWS>;
  tile::ChannelNorm norm;

  __device__ __forceinline__ NormConvLoader(const T *x, const ConvShape &s, int m0, tile::ChannelNorm n)
      : Base(x, s, m0), norm(n) {}

  __device__ __forceinline__ void landed(T *smem, int k0) const {
    const int c = tile::load_col();
#pragma unroll
    for (int i = 0; i < Base::ITERS; i++) {
      T *dst = tile::load_dst(smem, i);
      const float2 *row = norm.table + (size_t)max(this->img[i], 0) * this->s.Cin;
      if (ALIGNED) {
        // The chunk is 8 channels of one tap (Cin % 8 == 0): x or padding.
        const int k = k0 + c;
        if (this->element(i, k)) tile::norm_chunk(dst, row + k % this->s.Cin, norm.silu);
      } else {
#pragma unroll
        for (int e = 0; e < 8; e++) {
          const int k = k0 + c + e;
          if (this->element(i, k)) tile::norm_elem(dst + e, __ldg(row + k % this->s.Cin), norm.silu);
        }
      }
    }
  }
};

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void conv_norm_body(T *y, const T *x, const T *w, const T *bias, const T *emb,
                                               const T *residual, const ConvShape &s, tile::ChannelNorm norm,
                                               float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int M = s.B * s.Ho * s.Wo, N = s.Cout, K = s.KH * s.KW * s.Cin;
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;

  NormConvLoader<T, ALIGNED, S::BM> la(x, s, m0, norm);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
  tile::Acc<S> acc;
  int kt0, kt1;
  tile::k_steps(K, kchunk, kt0, kt1);
  tile::mainloop<T, S>(la, lb, kt0, kt1, smem, acc);
  if (partial) {
    tile::partial_epilogue<S>(acc, partial, M, N, m0, n0);
    tile::split_finish<T, S>(partial, sem, smem, y, bias, residual, M, N, m0, n0, ACT_NONE, emb, s.Ho * s.Wo);
  } else {
    tile::epilogue<T, S>(acc, smem, y, bias, residual, M, N, m0, n0, ACT_NONE, emb, s.Ho * s.Wo);
  }
}

// As conv2d's, plus emb, the table and silu; partial, sem and kchunk as in
// gemm.cu.
#define CONV_NORM_KERNEL(name, T, ALIGNED, BM, BN)                                                    \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w, const T *bias, const T *emb, const T *residual, int B, int H, \
           int W, int Cin, int Ho, int Wo, int Cout, int KH, int KW, int stride, int pad,              \
           const float2 *table, int silu, float *partial, int *sem, int kchunk) {                     \
    ConvShape s = {B, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad};                                  \
    conv_norm_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, emb, residual, s,                  \
                                                    tile::ChannelNorm{table, silu}, partial, sem,     \
                                                    kchunk);                                          \
  }

#define CONV_NORM_TILE(BM, BN)                                                                        \
  CONV_NORM_KERNEL(conv2d_norm_##BM##x##BN##_f16, __half, true, BM, BN)                               \
  CONV_NORM_KERNEL(conv2d_norm_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                       \
  CONV_NORM_KERNEL(conv2d_norm_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                    \
  CONV_NORM_KERNEL(conv2d_norm_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

CONV_NORM_TILE(128, 128)
CONV_NORM_TILE(128, 64)
CONV_NORM_TILE(64, 128)
