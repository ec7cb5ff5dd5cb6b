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
//
// The loader reads its input in three ways that spare a UNet launches and
// full-size tensors (all in ConvLoader::element, one address computation):
//  - two sources: the input is cat(x, x2) along the channels, never written
//    (channels.cuh): an up block's ResBlock reads its h and skip directly;
//  - nearest 2x: with ConvShape::up the conv's H x W input is x stored at
//    H/2 x W/2, tap (iy, ix) reading pixel (iy>>1, ix>>1): the Upsample's
//    resize is never written;
//  - a skip segment: conv2d_norm's K may go on past the 3x3 taps with
//    Cskip channels of a second input read 1x1 at the output pixel,
//    un-normalised, against a second weight: a ResBlock's
//    conv2(silu(gn(y))) + skip(x) is one GEMM [W2 | Wskip]·[im2col | x].
#include "channels.cuh"
#include "norm_loader.cuh"

struct ConvShape {
  int B, H, W, Cin; // input as convolved (with up: twice the stored size)
  int Ho, Wo, Cout; // output
  int KH, KW, stride, pad;
  int up;    // 1: the stored input is H/2 x W/2, read nearest-2x
  int Cskip; // channels of the skip segment, 0 without one (stride 1 only)
};

template <typename T, bool ALIGNED, int ROWS> struct ConvLoader : tile::NoTransform {
  static constexpr int ITERS = ROWS / 64;
  Channels<T> in, skip;       // the input; the skip segment's input [B,Ho,Wo,Cskip]
  ConvShape s;
  int K0, K;                  // the taps' K (KH·KW·Cin); with the skip segment
  int img[ITERS];             // batch index of each of the thread's rows, -1 past M
  int iy0[ITERS], ix0[ITERS]; // input coordinates of the filter's top-left tap

  __device__ __forceinline__ ConvLoader(Channels<T> in_, Channels<T> skip_, const ConvShape &s_, int m0)
      : in(in_), skip(skip_), s(s_) {
    K0 = s.KH * s.KW * s.Cin;
    K = K0 + s.Cskip;
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

  // element returns a pointer to the im2col entry (row i, k), or null when
  // it lies in the zero padding or past M or K.
  __device__ __forceinline__ const T *element(int i, int k) const {
    if (img[i] < 0 || k >= K) return nullptr;
    if (k >= K0) // the skip segment: the output pixel itself (stride 1: oy = iy0 + pad)
      return skip.at(((size_t)img[i] * s.Ho + iy0[i] + s.pad) * s.Wo + ix0[i] + s.pad, k - K0);
    const int tap = k / s.Cin, ci = k - tap * s.Cin;
    const int ky = tap / s.KW, kx = tap - ky * s.KW;
    const int iy = iy0[i] + ky, ix = ix0[i] + kx;
    if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) return nullptr;
    return in.at(((size_t)img[i] * (s.H >> s.up) + (iy >> s.up)) * (s.W >> s.up) + (ix >> s.up), ci);
  }

  __device__ __forceinline__ void load(T *smem, int k0) const {
    const int c = tile::load_col();
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      T *dst = tile::load_dst(smem, i);
      if (ALIGNED) {
        const T *src = element(i, k0 + c);
        cp_async16(dst, src ? src : in.a, src != nullptr);
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
__device__ __forceinline__ void conv_body(T *y, Channels<T> x, const T *w, const T *bias, const T *residual,
                                          const ConvShape &s, float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int M = s.B * s.Ho * s.Wo, N = s.Cout, K = s.KH * s.KW * s.Cin;
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;

  ConvLoader<T, ALIGNED, S::BM> la(x, Channels<T>{}, s, m0);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, bias, residual, M, N, m0, n0, ACT_NONE, partial, sem);
}

// partial, sem and kchunk as in gemm.cu: null and ignored without split-K.
// The input is channels [0, C1) from x and [C1, Cin) from x2 (null when
// C1 == Cin); up: read nearest-2x (H and W are the enlarged size).
#define CONV_KERNEL(name, T, ALIGNED, BM, BN)                                                         \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *x2, const T *w, const T *bias, const T *residual, int B, int H, \
           int W, int Cin, int C1, int up, int Ho, int Wo, int Cout, int KH, int KW, int stride,       \
           int pad, float *partial, int *sem, int kchunk) {                                           \
    ConvShape s = {B, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad, up, 0};                           \
    conv_body<T, ALIGNED, tile::Shape<BM, BN>>(y, Channels<T>{x, x2, C1, Cin}, w, bias, residual, s,  \
                                               partial, sem, kchunk);                                 \
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
// the epilogue, an optional skip segment ----
//
//   y[b,oy,ox,co] = conv(silu?(gn(x)))[b,oy,ox,co] + bias[co] + emb[b,co]
//                   (+ sum_c skip[b,oy,ox,c]·wskip[co,c] + bskip[co]) (+ residual)
//
// A ResBlock's "conv(silu(gn(x))) + emb" in one launch after groupnorm_table
// (norm.cu), which wrote the (scale, shift) table: NormConvLoader copies x
// like ConvLoader and normalises the chunks that hold x in landed(), so
// padding taps, the skip segment and chunks past M or K stay as loaded. emb
// [B, Cout], its rows emb_ld apart (a column slice of all the ResBlocks'
// projections), may be null; a split conv's last split adds it when it
// finishes the tile. With the skip segment (Cskip > 0), the block's second
// conv also computes its 1x1 skip connection: K runs on through skip's
// channels against wskip [Cout, Cskip] (SegmentRowLoader), and bskip is
// added in the epilogue.

template <typename T, bool ALIGNED, int ROWS> struct NormConvLoader : ConvLoader<T, ALIGNED, ROWS> {
  using Base = ConvLoader<T, ALIGNED, ROWS>;
  tile::ChannelNorm norm;

  __device__ __forceinline__ NormConvLoader(Channels<T> x, Channels<T> skip, const ConvShape &s, int m0,
                                            tile::ChannelNorm n)
      : Base(x, skip, s, m0), norm(n) {}

  __device__ __forceinline__ void landed(T *smem, int k0) const {
    const int c = tile::load_col();
#pragma unroll
    for (int i = 0; i < Base::ITERS; i++) {
      T *dst = tile::load_dst(smem, i);
      const float2 *row = norm.table + (size_t)max(this->img[i], 0) * this->s.Cin;
      if (ALIGNED) {
        // The chunk is 8 channels of one tap (Cin % 8 == 0) or of the skip
        // segment (K0 % 8 == 0): x, padding or the skip input, read as it is.
        const int k = k0 + c;
        if (k < this->K0 && this->element(i, k)) tile::norm_chunk(dst, row + k % this->s.Cin, norm.silu);
      } else {
#pragma unroll
        for (int e = 0; e < 8; e++) {
          const int k = k0 + c + e;
          if (k < this->K0 && this->element(i, k)) tile::norm_elem(dst + e, __ldg(row + k % this->s.Cin), norm.silu);
        }
      }
    }
  }
};

// SegmentRowLoader is the B operand of a conv with a skip segment: row n is
// [w[n, 0:K0] | wskip[n, 0:Cskip]], two RowLoaders, each of the thread's
// chunks copied by the one holding its k. Aligned kernels only (K0 and
// Cskip multiples of 8: a chunk never straddles the two); the launcher gives
// the unaligned ones no skip segment, so their chunks all come from w.
template <typename T, bool ALIGNED, int ROWS> struct SegmentRowLoader : tile::NoTransform {
  tile::RowLoader<T, ALIGNED, ROWS> main, skip;
  int K0;

  __device__ __forceinline__ SegmentRowLoader(const T *w, const T *wskip, int N, int K0_, int Cskip, int n0)
      : main(w, N, K0_, K0_, n0), skip(wskip ? wskip : w, N, Cskip, Cskip, n0), K0(K0_) {}

  __device__ __forceinline__ void load(T *smem, int k0) const {
    if (!ALIGNED || k0 + tile::load_col() < K0)
      main.load(smem, k0);
    else
      skip.load(smem, k0 - K0);
  }
};

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void conv_norm_body(T *y, Channels<T> x, const T *w, const T *bias, const T *emb,
                                               int emb_ld, const T *residual, const ConvShape &s,
                                               tile::ChannelNorm norm, Channels<T> skip, const T *wskip,
                                               const T *bskip, float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int M = s.B * s.Ho * s.Wo, N = s.Cout, K0 = s.KH * s.KW * s.Cin, K = K0 + s.Cskip;
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;
  NormConvLoader<T, ALIGNED, S::BM> la(x, skip, s, m0, norm);
  SegmentRowLoader<T, ALIGNED, S::BN> lb(w, wskip, N, K0, s.Cskip, n0);
  tile::Acc<S> acc;
  int kt0, kt1;
  tile::k_steps(K, kchunk, kt0, kt1);
  tile::mainloop<T, S>(la, lb, kt0, kt1, smem, acc);
  // The skip's bias is a second per-channel bias: it takes the per-image
  // bias's place (the launcher never passes both), all M rows one "image".
  // (Worked out after the main loop, whose registers are the tightest.)
  const T *emb2 = emb ? emb : bskip;
  const int emb_rows = emb ? s.Ho * s.Wo : M, emb2_ld = emb ? emb_ld : N;
  if (partial) {
    tile::partial_epilogue<S>(acc, partial, M, N, m0, n0);
    tile::split_finish<T, S>(partial, sem, smem, y, bias, residual, M, N, m0, n0, ACT_NONE, emb2, emb_rows, emb2_ld);
  } else {
    tile::epilogue<T, S>(acc, smem, y, bias, residual, M, N, m0, n0, ACT_NONE, emb2, emb_rows, emb2_ld);
  }
}

// As conv2d's, plus emb and its row stride, the table and silu, and the
// skip segment: Cskip channels, [0, Cskip1) from skip and the rest from
// skip2 (null when Cskip1 == Cskip), weights wskip [Cout, Cskip] and bias
// bskip (may be null); Cskip 0 and null pointers without one. partial, sem
// and kchunk as in gemm.cu.
#define CONV_NORM_KERNEL(name, T, ALIGNED, BM, BN, BOUNDS)                                            \
  extern "C" __global__ void BOUNDS                                                                   \
      name(T *y, const T *x, const T *x2, const T *w, const T *bias, const T *emb, int emb_ld,        \
           const T *residual, int B, int H, int W, int Cin, int C1, int up, int Ho, int Wo, int Cout,  \
           int KH, int KW, int stride, int pad, const float2 *table, int silu, const T *skip,          \
           const T *skip2, int Cskip, int Cskip1, const T *wskip, const T *bskip, float *partial,      \
           int *sem, int kchunk) {                                                                    \
    ConvShape s = {B, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad, up, Cskip};                       \
    conv_norm_body<T, ALIGNED, tile::Shape<BM, BN>>(                                                  \
        y, Channels<T>{x, x2, C1, Cin}, w, bias, emb, emb_ld, residual, s, tile::ChannelNorm{table, silu}, \
        Channels<T>{skip, skip2, Cskip1, Cskip}, wskip, bskip, partial, sem, kchunk);                 \
  }

// The unaligned kernels (channel counts not a multiple of 8, never SDXL's)
// decode their input element by element, two sources and the norm on top:
// held to the aligned half tiles' 80 registers they spill, so every shape
// of them asks for 2 resident blocks (128 registers); their occupancy
// matters little.
#define CONV_NORM_TILE(BM, BN)                                                                        \
  CONV_NORM_KERNEL(conv2d_norm_##BM##x##BN##_f16, __half, true, BM, BN, TILE_LAUNCH_BOUNDS(BM, BN))    \
  CONV_NORM_KERNEL(conv2d_norm_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN, TILE_LAUNCH_BOUNDS(BM, BN)) \
  CONV_NORM_KERNEL(conv2d_norm_unaligned_##BM##x##BN##_f16, __half, false, BM, BN,                    \
                   __launch_bounds__(tile::THREADS, 2))                                               \
  CONV_NORM_KERNEL(conv2d_norm_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN,            \
                   __launch_bounds__(tile::THREADS, 2))

CONV_NORM_TILE(128, 128)
CONV_NORM_TILE(128, 64)
CONV_NORM_TILE(64, 128)
