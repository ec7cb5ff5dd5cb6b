// gemm_tile.cuh: the tensor-core block tile shared by gemm.cu and conv.cu.
//
// One thread block (256 threads = 8 warps) computes a 128x128 tile of
// y[M,N] = A[M,K] * B[N,K]^T with both operands K-contiguous, which is what
// mma.sync ".row.col" wants: A row-major, B "column-major K x N" = rows of W.
//
//  - K advances 32 at a time through a 4-stage cp.async ring in shared memory
//    (stage = A 128x32 + B 128x32), so three tiles are in flight while the
//    fourth is multiplied.
//  - Shared rows are padded from 32 to 40 elements (80 bytes): the 8 rows an
//    ldmatrix phase reads then start in 8 different 16-byte bank groups, so
//    fragment loads are conflict-free without swizzling.
//  - Warps form a 2 (M) x 4 (N) grid of 64x32 warp tiles: per 16-wide k step
//    a warp issues 4 A ldmatrix.x4, 2 B ldmatrix.x4 and 16 mma.m16n8k16.
//  - Loaders are policy types: RowLoader reads plain rows (GEMM operands and
//    conv weights), conv.cu adds an im2col loader. Each thread copies the same
//    two 16-byte chunks (rows r and r+64, chunk c) of every tile, so loaders
//    precompute per-row state once.
//  - Tails: rows past M or N and chunks past K are zero-filled, so the mma
//    needs no predicates; the epilogue checks bounds before every store.
#pragma once

#include "mma.cuh"

namespace tile {

constexpr int BM = 128, BN = 128, BK = 32;
constexpr int STAGES = 4;
constexpr int THREADS = 256;
constexpr int SROW = BK + 8;                        // padded shared row, in elements
constexpr int STAGE_ELEMS = (BM + BN) * SROW;       // A then B of one stage
constexpr int SMEM_BYTES = STAGES * STAGE_ELEMS * 2; // 81920 for 2-byte types

// Chunk coordinates this thread copies for a 128x32 tile: 512 chunks of 8
// elements, two per thread.
__device__ __forceinline__ int load_row(int i) { return threadIdx.x / 4 + i * 64; }
__device__ __forceinline__ int load_col(void) { return (threadIdx.x % 4) * 8; }

// RowLoader copies rows [row0, row0+128) x [k0, k0+32) of a row-major
// matrix with `rows` rows and row stride ld (elements). ALIGNED requires
// K % 8 == 0, ld % 8 == 0 and a 16-byte aligned base: then every 8-element
// chunk is either wholly inside K or wholly outside and may be copied with
// one cp.async. Otherwise elements are loaded one by one with bounds checks.
template <typename T, bool ALIGNED> struct RowLoader {
  const T *base;
  const T *row_ptr[2];
  bool row_ok[2];
  int K;

  __device__ __forceinline__ RowLoader(const T *m, int rows, int ld, int K_, int row0) : base(m), K(K_) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
      int r = row0 + load_row(i);
      row_ok[i] = r < rows;
      row_ptr[i] = m + (size_t)(row_ok[i] ? r : 0) * ld;
    }
  }

  __device__ __forceinline__ void load(T *smem, int k0) const {
    const int c = load_col();
#pragma unroll
    for (int i = 0; i < 2; i++) {
      T *dst = smem + load_row(i) * SROW + c;
      const int k = k0 + c;
      if (ALIGNED) {
        bool ok = row_ok[i] && k < K;
        cp_async16(dst, ok ? row_ptr[i] + k : base, ok);
      } else {
        // Plain loads into registers, then one 16-byte shared store; the
        // block barrier of the main loop publishes them like cp.async data.
        uint32_t packed[4];
#pragma unroll
        for (int e = 0; e < 8; e += 2) {
          T lo = Elem<T>::from_float(0.f), hi = lo;
          if (row_ok[i] && k + e < K) lo = row_ptr[i][k + e];
          if (row_ok[i] && k + e + 1 < K) hi = row_ptr[i][k + e + 1];
          packed[e / 2] = (uint32_t)(*reinterpret_cast<uint16_t *>(&lo)) |
                          ((uint32_t)(*reinterpret_cast<uint16_t *>(&hi)) << 16);
        }
        *reinterpret_cast<uint4 *>(dst) = make_uint4(packed[0], packed[1], packed[2], packed[3]);
      }
    }
  }
};

// Accumulators of one warp: 4 m16 tiles x 4 n8 tiles x 4 floats.
struct Acc {
  float c[4][4][4];
};

// mainloop runs the pipelined K loop: acc += A_tile * B_tile^T over all of K.
template <typename T, class LoadA, class LoadB>
__device__ __forceinline__ void mainloop(const LoadA &la, const LoadB &lb, int K, T *smem, Acc &acc) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / 4, wn = warp % 4; // warp tile origin: (wm*64, wn*32)

#pragma unroll
  for (int mt = 0; mt < 4; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc.c[mt][nt][e] = 0.f;

  const int ktiles = (K + BK - 1) / BK;

  // Prologue: fill STAGES-1 stages. Every step commits a group, even an empty
  // one, so "wait until <= STAGES-2 groups pending" always means "the tile
  // about to be used has landed".
#pragma unroll
  for (int s = 0; s < STAGES - 1; s++) {
    if (s < ktiles) {
      T *st = smem + s * STAGE_ELEMS;
      la.load(st, s * BK);
      lb.load(st + BM * SROW, s * BK);
    }
    cp_async_commit();
  }

  // ldmatrix lane addressing. A (x4 = one 16x16 m tile): lanes 0-15 rows
  // 0-15 at k 0, lanes 16-31 rows 0-15 at k 8 -> registers a0..a3.
  // B (x4 = two n8 tiles): lanes 0-7 n 0-7 k 0, 8-15 n 0-7 k 8, 16-23 n 8-15
  // k 0, 24-31 n 8-15 k 8 -> b0,b1 of the first tile then of the second.
  const int a_row = wm * 64 + (lane % 16), a_col = (lane / 16) * 8;
  const int b_row = wn * 32 + (lane % 8) + (lane / 16) * 8, b_col = ((lane / 8) % 2) * 8;

  for (int kt = 0; kt < ktiles; kt++) {
    cp_async_wait<STAGES - 2>();
    // Publishes tile kt to all threads and guarantees everyone finished
    // reading the stage refilled below (it was consumed in iteration kt-1).
    __syncthreads();

    const int next = kt + STAGES - 1;
    if (next < ktiles) {
      T *st = smem + (next % STAGES) * STAGE_ELEMS;
      la.load(st, next * BK);
      lb.load(st + BM * SROW, next * BK);
    }
    cp_async_commit();

    const T *sa = smem + (kt % STAGES) * STAGE_ELEMS;
    const T *sb = sa + BM * SROW;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      uint32_t af[4][4], bf[4][2];
#pragma unroll
      for (int mt = 0; mt < 4; mt++) ldmatrix_x4(af[mt], sa + (a_row + mt * 16) * SROW + kk + a_col);
#pragma unroll
      for (int np = 0; np < 2; np++) {
        uint32_t r[4];
        ldmatrix_x4(r, sb + (b_row + np * 16) * SROW + kk + b_col);
        bf[2 * np][0] = r[0];
        bf[2 * np][1] = r[1];
        bf[2 * np + 1][0] = r[2];
        bf[2 * np + 1][1] = r[3];
      }
#pragma unroll
      for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++) Elem<T>::mma(acc.c[mt][nt], af[mt], bf[nt]);
    }
  }
  cp_async_wait<0>(); // no copies may outlive the block's shared memory
}

// epilogue writes y[m, n] = act(acc + bias[n]) + residual[m, n] for the
// block tile at (m0, n0); bias and residual may be null, residual may alias
// y (each element is read and written by the same thread). y and residual
// are row-major with row length N.
template <typename T>
__device__ __forceinline__ void epilogue(const Acc &acc, T *y, const T *bias, const T *residual, int M,
                                         int N, int m0, int n0, int act) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / 4, wn = warp % 4;
  const int g = lane / 4, t = lane % 4;
  // Pairs of columns can be stored as one 32-bit word only when every row
  // starts 4-byte aligned, i.e. N is even.
  const bool pairs = (N % 2) == 0;

#pragma unroll
  for (int mt = 0; mt < 4; mt++)
#pragma unroll
    for (int nt = 0; nt < 4; nt++)
#pragma unroll
      for (int half = 0; half < 2; half++) {
        const int m = m0 + wm * 64 + mt * 16 + g + half * 8;
        const int n = n0 + wn * 32 + nt * 8 + 2 * t;
        if (m >= M) continue;
        float v[2] = {acc.c[mt][nt][2 * half], acc.c[mt][nt][2 * half + 1]};
        T *out = y + (size_t)m * N + n;
        const T *res = residual ? residual + (size_t)m * N + n : nullptr;
#pragma unroll
        for (int e = 0; e < 2; e++) {
          if (n + e < N) {
            if (bias) v[e] += Elem<T>::to_float(bias[n + e]);
            v[e] = activate(v[e], act);
            if (res) v[e] += Elem<T>::to_float(res[e]);
          }
        }
        if (pairs && n + 1 < N) {
          *reinterpret_cast<uint32_t *>(out) = Elem<T>::pack(v[0], v[1]);
        } else {
#pragma unroll
          for (int e = 0; e < 2; e++)
            if (n + e < N) out[e] = Elem<T>::from_float(v[e]);
        }
      }
}

} // namespace tile
