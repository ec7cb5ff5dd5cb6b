// ln_loader.cuh: a LayerNorm applied by the GEMM's A loader, so that a
// transformer block's norm1/norm2/norm3 need no launch and no [M, K]
// intermediate of their own (ln_gemm.cu).
//
// LnRowLoader copies raw rows of x like RowLoader (cp.async, or element by
// element when unaligned) and, once a tile's copies have landed (landed(),
// before the barrier that publishes the tile), rewrites exactly the chunks
// this thread copied to
//
//   (x - shift - mean) * rstd * gamma[k] + beta[k], rounded to T,
//
// the expression and single rounding of norm.cu's LayerNorm, so the tile
// holds what the LayerNorm kernel would have written, up to the rounding of
// the statistics (their summation order differs). Chunks past K and rows
// past M keep the zeros the copy left.
//
// Statistics are computed in the constructor, before the K loop, over the
// whole row (all of K, also when the block multiplies only one split-K
// range), as norm.cu does: float32, two passes (the mean, then the squared
// deviations from it; never E[x²] - E[x]², which cancels for activations of
// a large mean), both on x - shift with shift the row's first value, so that
// rows around 300 ± 2 keep the accuracy of their spread. Each row is shared
// by the 4 consecutive threads that copy its chunks (load_row): each sums a
// quarter of the row and two xor shuffles combine them, so all four hold
// identical statistics.
#pragma once

#include <string.h>

#include "gemm_tile.cuh"

namespace tile {

template <typename T, bool ALIGNED, int ROWS> struct LnRowLoader : RowLoader<T, ALIGNED, ROWS> {
  using Base = RowLoader<T, ALIGNED, ROWS>;
  static constexpr int ITERS = Base::ITERS;
  const T *gamma, *beta;
  float shift[ITERS], mean[ITERS], rstd[ITERS];

  // x is [rows, K] with row stride K; gamma and beta are [K]. K >= 1.
  __device__ __forceinline__ LnRowLoader(const T *x, int rows, int K_, int row0, const T *g, const T *b, float eps)
      : Base(x, rows, K_, K_, row0), gamma(g), beta(b) {
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      // Rows past M point at row 0 (RowLoader): their statistics are
      // computed and never used, which keeps every lane in the shuffles.
      const T *row = this->row_ptr[i];
      const float sh = Elem<T>::to_float(row[0]);
      const float mu = quad_sum(row, sh, 0.f, false) / this->K;
      const float var = quad_sum(row, sh, mu, true) / this->K;
      shift[i] = sh;
      mean[i] = mu;
      rstd[i] = rsqrtf(var + eps);
    }
  }

  // quad_sum adds (x - sh - mu), or its square, over the whole row,
  // a quarter per thread of the row's quad, and combines the quad.
  __device__ __forceinline__ float quad_sum(const T *row, float sh, float mu, bool square) const {
    const int t = threadIdx.x % 4, K = this->K;
    float s = 0.f;
    if (ALIGNED) {
      // K % 8 == 0 and 16-byte aligned rows: 8 elements per load.
      for (int k = t * 8; k < K; k += 32) {
        T e[8];
        load8(e, row + k);
#pragma unroll
        for (int j = 0; j < 8; j++) {
          const float d = Elem<T>::to_float(e[j]) - sh - mu;
          s += square ? d * d : d;
        }
      }
    } else {
      for (int k = t; k < K; k += 4) {
        const float d = Elem<T>::to_float(row[k]) - sh - mu;
        s += square ? d * d : d;
      }
    }
    s += __shfl_xor_sync(0xffffffffu, s, 1);
    s += __shfl_xor_sync(0xffffffffu, s, 2);
    return s;
  }

  __device__ __forceinline__ void landed(T *smem, int k0) const {
    const int c = load_col();
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      if (!this->row_ok[i]) continue;
      T *dst = load_dst(smem, i);
      // One 16-byte chunk in and out (the loader's own, 16-byte aligned).
      T e[8];
      load8(e, dst);
#pragma unroll
      for (int j = 0; j < 8; j++) {
        const int k = k0 + c + j;
        if (k < this->K) {
          const float v = Elem<T>::to_float(e[j]) - shift[i];
          e[j] = Elem<T>::from_float((v - mean[i]) * rstd[i] * Elem<T>::to_float(gamma[k]) +
                                     Elem<T>::to_float(beta[k]));
        }
      }
      const uint4 u = pack8(e);
      *reinterpret_cast<uint4 *>(dst) = u;
    }
  }

  // load8 reads 8 elements from a 16-byte aligned address as one 16-byte
  // load; the elements are copied out of the word with memcpy, which is
  // free in registers and, unlike a pointer cast, defined in C++ (the
  // kernels' host builds are compiled with strict aliasing).
  static __device__ __forceinline__ void load8(T e[8], const T *p) {
    const uint4 u = *reinterpret_cast<const uint4 *>(p);
    memcpy(e, &u, sizeof u);
  }
  static __device__ __forceinline__ uint4 pack8(const T e[8]) {
    uint4 u;
    memcpy(&u, e, sizeof u);
    return u;
  }
};

} // namespace tile
