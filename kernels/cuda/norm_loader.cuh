// norm_loader.cuh: GroupNorm (+SiLU) applied on the way into a tile, so
// that the normalised tensor is never written: the A-operand loaders of the
// convolution (conv.cu, NormConvLoader) and of the GEMM (gemm_norm.cu,
// NormRowLoader) copy x as it is and, in landed(), rewrite the chunks they
// copied as
//
//   v' = silu?(v·scale[b, c] + shift[b, c])   rounded to T,
//
// with (scale, shift) per image b and channel c from norm.cu's
// groupnorm_table. Only chunks that hold x are rewritten: a conv's zero
// padding and everything past M or K stay exactly 0, as in
// conv(pad(silu(gn(x)))). The image is per row (a tile's rows may span two
// images when an image has fewer positions than the tile has rows).
#pragma once

#include "gemm_tile.cuh"

namespace tile {

// ChannelNorm is the table and the SiLU flag a normalising loader applies.
struct ChannelNorm {
  const float2 *table; // [B, C] (scale, shift)
  int silu;
};

__device__ __forceinline__ float norm_value(float v, float2 ss, int silu) {
  float y = fmaf(v, ss.x, ss.y);
  return silu ? y / (1.0f + expf(-y)) : y;
}

// norm_chunk rewrites the 8 elements at dst (16-byte aligned shared
// memory), channels c..c+7 of image row `row` of the table.
template <typename T>
__device__ __forceinline__ void norm_chunk(T *dst, const float2 *row, int silu) {
  uint4 raw = *reinterpret_cast<const uint4 *>(dst);
  uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
  const float4 *ss = reinterpret_cast<const float4 *>(row); // two (scale, shift) pairs per float4
#pragma unroll
  for (int e = 0; e < 4; e++) {
    const float4 p = __ldg(ss + e);
    uint16_t lo = (uint16_t)(w[e] & 0xffffu), hi = (uint16_t)(w[e] >> 16);
    float a = Elem<T>::to_float(*reinterpret_cast<T *>(&lo)), b = Elem<T>::to_float(*reinterpret_cast<T *>(&hi));
    w[e] = Elem<T>::pack(norm_value(a, make_float2(p.x, p.y), silu), norm_value(b, make_float2(p.z, p.w), silu));
  }
  *reinterpret_cast<uint4 *>(dst) = make_uint4(w[0], w[1], w[2], w[3]);
}

// norm_elem rewrites one element of shared memory.
template <typename T> __device__ __forceinline__ void norm_elem(T *dst, float2 ss, int silu) {
  *dst = Elem<T>::from_float(norm_value(Elem<T>::to_float(*dst), ss, silu));
}

// NormRowLoader is RowLoader over x [B·positions, C] (K = C) with the norm
// applied in landed(). ALIGNED: a chunk is wholly inside K or wholly past it
// (C % 8 == 0), so it is rewritten whole; otherwise element by element.
template <typename T, bool ALIGNED, int ROWS> struct NormRowLoader : RowLoader<T, ALIGNED, ROWS> {
  using Base = RowLoader<T, ALIGNED, ROWS>;
  ChannelNorm norm;
  int img[Base::ITERS]; // image of each of the thread's rows; rows past M are never rewritten

  __device__ __forceinline__ NormRowLoader(const T *x, int rows, int K, int row0, int positions, ChannelNorm n)
      : Base(x, rows, K, K, row0), norm(n) {
#pragma unroll
    for (int i = 0; i < Base::ITERS; i++) img[i] = (row0 + load_row(i)) / positions;
  }

  __device__ __forceinline__ void landed(T *smem, int k0) const {
    const int c = load_col();
#pragma unroll
    for (int i = 0; i < Base::ITERS; i++) {
      if (!this->row_ok[i]) continue;
      T *dst = load_dst(smem, i);
      const float2 *row = norm.table + (size_t)img[i] * this->K;
      if (ALIGNED) {
        if (k0 + c < this->K) norm_chunk(dst, row + k0 + c, norm.silu);
      } else {
#pragma unroll
        for (int e = 0; e < 8; e++)
          if (k0 + c + e < this->K) norm_elem(dst + e, __ldg(row + k0 + c + e), norm.silu);
      }
    }
  }
};

} // namespace tile
