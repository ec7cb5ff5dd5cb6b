// gemm_tile.cuh: the tensor-core block tile shared by gemm.cu and conv.cu.
//
// One thread block (256 threads = 8 warps) computes a BM x BN tile of
// y[M,N] = A[M,K] * B[N,K]^T with both operands K-contiguous, which is what
// mma.sync ".row.col" wants: A row-major, B "column-major K x N" = rows of W.
// Three tile shapes are compiled (Shape<128,128>, <128,64>, <64,128>); the
// launcher's wave planner (wave_plan.go) picks one per problem.
//
//  - K advances 32 at a time through a 4-stage cp.async ring in shared memory
//    (stage = A BMx32 + B BNx32), so three tiles are in flight while the
//    fourth is multiplied.
//  - Shared rows are BK = 32 elements (64 bytes, four 16-byte chunks) with
//    no padding; chunk j of row r is stored at chunk j ^ ((r >> 1) & 3)
//    (chunk_offset, the one address function of every writer and reader of
//    the ring). The loaders' 16-byte stores and the main loop's ldmatrix
//    phases (8 consecutive rows, one chunk) then touch 8 different 16-byte
//    bank groups each, with no bytes spent on padding: the ring is 64 KiB
//    for 128x128 and 48 KiB for the half tiles (tile_swizzle_test.go
//    counts the wavefronts of every access pattern).
//  - Warps form a WM (M) x WN (N) grid with WN = BN/32: 2x4 warps of 64x32
//    for 128x128, 4x2 warps of 32x32 for 128x64 and 2x4 of 32x32 for
//    64x128. Per 16-wide k step a warp issues MT A ldmatrix.x4, NT/2 B
//    ldmatrix.x4 and MT*NT mma.m16n8k16 (MT = warp rows/16, NT = warp cols/8).
//  - Loaders are policy types: RowLoader reads plain rows (GEMM operands and
//    conv weights), conv.cu adds an im2col loader. Each thread copies the same
//    ROWS/64 16-byte chunks (rows r, r+64, ..., chunk c) of every tile, so
//    loaders precompute per-row state once. A loader's landed(stage, k0) runs
//    after the thread's copies of a tile have arrived and before the barrier
//    that publishes it: the one place where a loader may rewrite its own
//    chunks in shared memory (NoTransform: nothing to do).
//  - Epilogue: after the main loop the ring holds the block's float32
//    accumulators (swizzled by stage_offset), and each thread finishes
//    chunks of 8 consecutive columns with 16-byte loads of bias, per-image
//    bias and residual and one 16-byte store of y (element by element where
//    N % 8 != 0 or an operand is not 16-byte aligned).
//  - Split-K: a block multiplies only the K steps [kt0, kt1) of its grid z
//    slice and stores float32 partials; the tile's last split to finish sums
//    them and applies the epilogue (split_finish), so a split problem is
//    still one launch.
//  - Tails: rows past M or N and chunks past K are zero-filled, so the mma
//    needs no predicates; the epilogue checks bounds before every store.
#pragma once

#include <string.h>

#include "mma.cuh"

// TILE_NOINLINE keeps split_finish a call of its own: inlined, its few
// extra live values (the semaphores) tipped ptxas into spilling the half
// tiles' main loop to reach 64 registers on sm_90. The emulation's
// cuda_host.h defines it empty.
#ifndef TILE_NOINLINE
#define TILE_NOINLINE __noinline__
#endif

// TILE_LAUNCH_BOUNDS(BM, BN) is the launch bounds of the kernels of a tile
// shape that end in the staged epilogue: 256 threads and Shape::MIN_BLOCKS
// blocks per SM. Without the minimum, ptxas spends registers the staged
// epilogue's independent chunks let it use (about 100 a thread for the half
// tiles), which costs an SM one resident block.
#define TILE_LAUNCH_BOUNDS(BM, BN) __launch_bounds__(tile::THREADS, tile::Shape<BM, BN>::MIN_BLOCKS)

namespace tile {

constexpr int BK = 32;
constexpr int STAGES = 4;
constexpr int THREADS = 256;
constexpr int CHUNKS = BK / 8; // 16-byte chunks of a shared row

// chunk_offset is the element offset of chunk `chunk` (elements
// [8*chunk, 8*chunk+8) of K within the step) of row `row` of a ring tile:
// rows are 32 elements apart and the chunk index is XORed with bits 1-2
// of the row, so the 8 rows one ldmatrix phase reads (8 consecutive rows
// from a multiple of 8, one chunk) fall in 8 different 16-byte bank
// groups, as do the 8 chunks a quarter warp of a loader stores (2 rows x
// 4 chunks). kernels/tile_swizzle_test.go mirrors it for the
// bank-conflict model.
__host__ __device__ constexpr int chunk_offset(int row, int chunk) {
  return row * BK + ((chunk ^ ((row >> 1) & (CHUNKS - 1))) * 8);
}

// The swizzle repeats every 8 rows: 8q rows further, every chunk is 8q*BK
// elements further. Loaders and the main loop rely on it to compute a
// lane's offsets once and step by whole blocks of rows (which keeps the
// swizzle out of the inner loop's registers).
constexpr bool swizzle_repeats_every_8_rows() {
  for (int r = 0; r < 64; r++)
    for (int c = 0; c < CHUNKS; c++)
      for (int q = 1; q < 32; q++)
        if (chunk_offset(r + 8 * q, c) != chunk_offset(r, c) + 8 * q * BK) return false;
  return true;
}
static_assert(swizzle_repeats_every_8_rows(), "chunk_offset must repeat every 8 rows");

// kstep_offset is chunk_offset(row, chunk + kk/8) for off = chunk_offset(row,
// chunk), chunk 0 or 1 and kk 0 or 16: the second k16 step flips bit 1 of
// the stored chunk, i.e. bit 4 of the offset. An xor where the offset is
// used costs no register for a second offset, which the 128x128 stream-K
// main loop has not got to spare.
__host__ __device__ constexpr int kstep_offset(int off, int kk) { return off ^ (kk / 8 * 8); }
constexpr bool kstep_is_chunk_offset() {
  for (int r = 0; r < 64; r++)
    for (int c = 0; c < 2; c++)
      for (int kk = 0; kk < BK; kk += 16)
        if (kstep_offset(chunk_offset(r, c), kk) != chunk_offset(r, c + kk / 8)) return false;
  return true;
}
static_assert(kstep_is_chunk_offset(), "kstep_offset must be chunk_offset's");

// Shape is a block tile and the warp layout derived from it.
template <int BM_, int BN_> struct Shape {
  static constexpr int BM = BM_, BN = BN_;
  static constexpr int WN = BN / 32, WM = (THREADS / 32) / WN; // warp grid
  static constexpr int WTM = BM / WM, WTN = BN / WN;           // warp tile
  static constexpr int MT = WTM / 16, NT = WTN / 8;            // mma tiles per warp
  static constexpr int A_ELEMS = BM * BK;                      // the A tile, then B
  static constexpr int STAGE_ELEMS = (BM + BN) * BK;           // one stage
  static constexpr int SMEM_BYTES = STAGES * STAGE_ELEMS * 2;  // 65536 for 128x128, 49152 for the half tiles
  // Blocks per SM the registers must allow (TILE_LAUNCH_BOUNDS): 128 a
  // thread for 128x128, 80 for the half tiles, what their main loops need.
  static constexpr int MIN_BLOCKS = BM * BN >= 128 * 128 ? 2 : 3;
  static_assert(WM * WN == THREADS / 32, "warp grid must use all 8 warps");
  static_assert(MT >= 1 && NT % 2 == 0 && WTM % 16 == 0, "warp tile must be whole x4 ldmatrix loads");
  static_assert(BM % 64 == 0 && BN % 64 == 0, "loaders copy 64 rows per pass");
};

// Chunk coordinates this thread copies for a ROWSx32 tile: ROWS*4 chunks of
// 8 elements, ROWS/64 per thread (rows load_row(i), chunk load_chunk(),
// K offset load_col() in the step), stored at load_dst.
__device__ __forceinline__ int load_row(int i) { return threadIdx.x / 4 + i * 64; }
__device__ __forceinline__ int load_chunk(void) { return threadIdx.x % CHUNKS; }
__device__ __forceinline__ int load_col(void) { return load_chunk() * 8; }
template <typename T> __device__ __forceinline__ T *load_dst(T *smem, int i) {
  return smem + chunk_offset(load_row(0), load_chunk()) + (load_row(i) - load_row(0)) * BK; // 64i rows on
}

// NoTransform is the landed() of loaders that copy their operand as it is.
struct NoTransform {
  template <typename T> __device__ __forceinline__ void landed(T *, int) const {}
};

// GegluRows selects RowLoader's GEGLU row order.
struct GegluRows {};

// RowLoader copies rows [row0, row0+ROWS) x [k0, k0+32) of a row-major
// matrix with `rows` rows and row stride ld (elements). ALIGNED requires
// K % 8 == 0, ld % 8 == 0 and a 16-byte aligned base: then every 8-element
// chunk is either wholly inside K or wholly outside and may be copied with
// one cp.async. Otherwise elements are loaded one by one with bounds checks.
template <typename T, bool ALIGNED, int ROWS> struct RowLoader : NoTransform {
  static constexpr int ITERS = ROWS / 64;
  const T *base;
  const T *row_ptr[ITERS];
  bool row_ok[ITERS];
  int K;

  __device__ __forceinline__ RowLoader(const T *m, int rows, int ld, int K_, int row0) : base(m), K(K_) {
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      int r = row0 + load_row(i);
      row_ok[i] = r < rows;
      row_ptr[i] = m + (size_t)(row_ok[i] ? r : 0) * ld;
    }
  }

  // The GEGLU projection's rows (gemm_geglu.cu): W is [2*half, K], and
  // tile row r holds value row j0 + o or gate row half + j0 + o of output
  // column o = (r/16)*8 + r%8, alternating every 8 rows (gate = (r/8)%2).
  // The mma's n8 fragments then pair each value column with its gate in
  // the same thread (see geglu_epilogue). Rows past `half` are zero.
  __device__ __forceinline__ RowLoader(const T *m, int half, int ld, int K_, int j0, GegluRows) : base(m), K(K_) {
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      const int r = load_row(i);
      const int o = j0 + (r / 16) * 8 + r % 8;
      row_ok[i] = o < half;
      row_ptr[i] = m + (size_t)(row_ok[i] ? o + ((r / 8) % 2) * half : 0) * ld;
    }
  }

  __device__ __forceinline__ void load(T *smem, int k0) const {
    const int c = load_col();
#pragma unroll
    for (int i = 0; i < ITERS; i++) {
      T *dst = load_dst(smem, i);
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

// Accumulators of one warp: MT m16 tiles x NT n8 tiles x 4 floats.
template <class S> struct Acc {
  float c[S::MT][S::NT][4];
};

// k_steps is the range of 32-wide K steps block z multiplies: all of K
// without split-K (gridDim.z == 1), else the z-th chunk of kchunk elements
// (a multiple of BK, so chunks never share a step).
__device__ __forceinline__ void k_steps(int K, int kchunk, int &kt0, int &kt1) {
  const int ktiles = (K + BK - 1) / BK;
  if (gridDim.z == 1) {
    kt0 = 0;
    kt1 = ktiles;
    return;
  }
  kt0 = blockIdx.z * (kchunk / BK);
  kt1 = min(ktiles, kt0 + kchunk / BK);
}

// mainloop runs the pipelined K loop: acc = A_tile * B_tile^T over the K
// steps [kt0, kt1).
template <typename T, class S, class LoadA, class LoadB>
__device__ __forceinline__ void mainloop(const LoadA &la, const LoadB &lb, int kt0, int kt1, T *smem,
                                         Acc<S> &acc) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / S::WN, wn = warp % S::WN; // warp tile origin: (wm*WTM, wn*WTN)

#pragma unroll
  for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
    for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc.c[mt][nt][e] = 0.f;

  const int ktiles = kt1 - kt0;

  // Prologue: fill STAGES-1 stages. Every step commits a group, even an empty
  // one, so "wait until <= STAGES-2 groups pending" always means "the tile
  // about to be used has landed".
#pragma unroll
  for (int s = 0; s < STAGES - 1; s++) {
    if (s < ktiles) {
      T *st = smem + s * S::STAGE_ELEMS;
      la.load(st, (kt0 + s) * BK);
      lb.load(st + S::A_ELEMS, (kt0 + s) * BK);
    }
    cp_async_commit();
  }

  // ldmatrix lane addressing. A (x4 = one 16x16 m tile): lanes 0-15 rows
  // 0-15 at k 0, lanes 16-31 rows 0-15 at k 8 -> registers a0..a3.
  // B (x4 = two n8 tiles): lanes 0-7 n 0-7 k 0, 8-15 n 0-7 k 8, 16-23 n 8-15
  // k 0, 24-31 n 8-15 k 8 -> b0,b1 of the first tile then of the second.
  // Chunks are 8 elements: a_chunk and b_chunk are the k 8 halves. The
  // lane's offsets for the k16 steps kk = 0 and 16; the mt and np tiles are
  // whole blocks of 16 rows further.
  const int a_row = wm * S::WTM + (lane % 16), a_chunk = lane / 16;
  const int b_row = wn * S::WTN + (lane % 8) + (lane / 16) * 8, b_chunk = (lane / 8) % 2;
  const int a_off = chunk_offset(a_row, a_chunk), b_off = chunk_offset(b_row, b_chunk);

  for (int kt = 0; kt < ktiles; kt++) {
    cp_async_wait<STAGES - 2>();
    // This thread's own copies of tile kt have landed: a loader that
    // transforms its operand on the way in (a norm applied on load) rewrites
    // exactly the chunks it copied, so the barrier below publishes the
    // transformed tile and no extra barrier is needed.
    {
      T *st = smem + (kt % STAGES) * S::STAGE_ELEMS;
      la.landed(st, (kt0 + kt) * BK);
      lb.landed(st + S::A_ELEMS, (kt0 + kt) * BK);
    }
    // Publishes tile kt to all threads and guarantees everyone finished
    // reading the stage refilled below (it was consumed in iteration kt-1).
    __syncthreads();

    const int next = kt + STAGES - 1;
    if (next < ktiles) {
      T *st = smem + (next % STAGES) * S::STAGE_ELEMS;
      la.load(st, (kt0 + next) * BK);
      lb.load(st + S::A_ELEMS, (kt0 + next) * BK);
    }
    cp_async_commit();

    const T *sa = smem + (kt % STAGES) * S::STAGE_ELEMS;
    const T *sb = sa + S::A_ELEMS;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      uint32_t af[S::MT][4], bf[S::NT][2];
#pragma unroll
      for (int mt = 0; mt < S::MT; mt++) ldmatrix_x4(af[mt], sa + kstep_offset(a_off, kk) + mt * 16 * BK);
#pragma unroll
      for (int np = 0; np < S::NT / 2; np++) {
        uint32_t r[4];
        ldmatrix_x4(r, sb + kstep_offset(b_off, kk) + np * 16 * BK);
        bf[2 * np][0] = r[0];
        bf[2 * np][1] = r[1];
        bf[2 * np + 1][0] = r[2];
        bf[2 * np + 1][1] = r[3];
      }
#pragma unroll
      for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
        for (int nt = 0; nt < S::NT; nt++) Elem<T>::mma(acc.c[mt][nt], af[mt], bf[nt]);
    }
  }
  cp_async_wait<0>(); // no copies may outlive the block's shared memory
}

// for_each_pair calls f(m, n, v0, v1) for every pair of adjacent columns
// (n, n+1) of the block tile at (m0, n0) this thread holds, with m < M.
template <class S, class F>
__device__ __forceinline__ void for_each_pair(const Acc<S> &acc, int M, int m0, int n0, F f) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / S::WN, wn = warp % S::WN;
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
    for (int nt = 0; nt < S::NT; nt++)
#pragma unroll
      for (int half = 0; half < 2; half++) {
        const int m = m0 + wm * S::WTM + mt * 16 + g + half * 8;
        const int n = n0 + wn * S::WTN + nt * 8 + 2 * t;
        if (m < M) f(m, n, acc.c[mt][nt][2 * half], acc.c[mt][nt][2 * half + 1]);
      }
}

// ---- the fused epilogue, staged through shared memory ----
//
// After the main loop the ring is free. The block's accumulators are staged
// there as float32 [BM][BN] (stage_offset), and each thread then finishes
// whole chunks of 8 consecutive columns of one row: one or two 16-byte loads
// per operand and one 16-byte store, so a warp writes whole rows of y
// (BN=128: 2 rows of 256 bytes) instead of 4-byte pieces of 8 rows. The
// arithmetic is the same fp32 expression for every element, rounded once.

// stage_offset is the float offset of column col (of BN) of row `row` of the
// staged tile. Rows are BN floats (a multiple of 128 bytes); the 16-byte
// chunk index col/4 is XORed with 2*(row%4), which spreads the 8 rows of a
// fragment store (8 bytes per thread, chunks 2a and 2a+1 of each row) over
// all 8 bank groups, and with bit 3 of itself, which spreads a quarter
// warp's reads of 8 consecutive octets of one row (chunks 2o, then 2o+1)
// over all 8 too. kernels/tile_swizzle_test.go mirrors it.
template <int BN> __device__ __forceinline__ int stage_offset(int row, int col) {
  const int c4 = col / 4;
  return row * BN + ((c4 ^ ((c4 >> 3) & 1) ^ ((row & 3) << 1)) * 4) + col % 4;
}

// Epilogue holds the operands of
//   y[m, n] = act(v + bias[n] + emb[m / image_rows, n]) + residual[m, n]
// for sums v (fp32), rounded once to T. bias, emb (a per-image bias
// [images, N] whose rows are emb_ld apart: a column slice of a wider
// matrix) and residual may be null; residual and emb may alias y (each
// element is read and written by the same thread). y and residual rows are
// N long.
template <typename T> struct Epilogue {
  T *y;
  const T *bias, *residual, *emb;
  int M, N, act, image_rows, emb_ld;
  // vec: N % 8 == 0, emb_ld % 8 == 0 and every operand 16-byte aligned, so
  // a chunk of 8 columns from a multiple of 8 is one 16-byte access of each.
  bool vec;

  __device__ __forceinline__ Epilogue(T *y_, const T *bias_, const T *residual_, int M_, int N_, int act_,
                                      const T *emb_, int image_rows_, int emb_ld_)
      : y(y_), bias(bias_), residual(residual_), emb(emb_), M(M_), N(N_), act(act_), image_rows(image_rows_),
        emb_ld(emb_ld_) {
    const uintptr_t addrs = (uintptr_t)y | (uintptr_t)bias | (uintptr_t)residual | (uintptr_t)emb;
    vec = N % 8 == 0 && (!emb || emb_ld % 8 == 0) && addrs % 16 == 0;
  }

  // add8 adds the 8 elements at p (16-byte aligned) to v.
  static __device__ __forceinline__ void add8(float v[8], const T *p) {
    const uint4 u = *reinterpret_cast<const uint4 *>(p);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int e = 0; e < 8; e++) {
      const uint16_t bits = (uint16_t)(w[e / 2] >> (16 * (e % 2)));
      T x;
      memcpy(&x, &bits, sizeof x);
      v[e] += Elem<T>::to_float(x);
    }
  }

  // store8 finishes the sums v of row m, columns n..n+7 (m < M, n < N,
  // n a multiple of 8); columns past N are dropped.
  __device__ __forceinline__ void store8(float v[8], int m, int n) const {
    const size_t at = (size_t)m * N + n;
    const T *e_row = emb ? emb + (size_t)(m / image_rows) * emb_ld : nullptr;
    if (vec) {
      if (bias) add8(v, bias + n);
      if (e_row) add8(v, e_row + n);
#pragma unroll
      for (int e = 0; e < 8; e++) v[e] = activate(v[e], act);
      if (residual) add8(v, residual + at);
      *reinterpret_cast<uint4 *>(y + at) = make_uint4(Elem<T>::pack(v[0], v[1]), Elem<T>::pack(v[2], v[3]),
                                                      Elem<T>::pack(v[4], v[5]), Elem<T>::pack(v[6], v[7]));
      return;
    }
#pragma unroll
    for (int e = 0; e < 8; e++) {
      if (n + e >= N) break;
      float x = v[e];
      if (bias) x += Elem<T>::to_float(bias[n + e]);
      if (e_row) x += Elem<T>::to_float(e_row[n + e]);
      x = activate(x, act);
      if (residual) x += Elem<T>::to_float(residual[at + e]);
      y[at + e] = Elem<T>::from_float(x);
    }
  }
};

// epilogue writes the block tile at (m0, n0) through Epilogue's expression,
// staging it through smem (the ring, at least BM*BN*4 bytes).
template <typename T, class S>
__device__ __forceinline__ void epilogue(const Acc<S> &acc, T *smem, T *y, const T *bias, const T *residual, int M,
                                         int N, int m0, int n0, int act, const T *emb = nullptr,
                                         int image_rows = 1, int emb_ld = 0) {
  const Epilogue<T> ep(y, bias, residual, M, N, act, emb, image_rows, emb_ld);
  static_assert(S::BM * S::BN * 4 <= S::SMEM_BYTES, "the staged tile must fit in the ring");
  constexpr int OCTETS = S::BN / 8; // chunks of 8 columns a row
  float *stage = reinterpret_cast<float *>(smem);
  __syncthreads(); // every warp has read its last ring tile
  for_each_pair<S>(acc, S::BM, 0, 0, [&](int r, int c, float v0, float v1) {
    *reinterpret_cast<float2 *>(stage + stage_offset<S::BN>(r, c)) = make_float2(v0, v1);
  });
  __syncthreads();
#pragma unroll 1
  for (int q = threadIdx.x; q < S::BM * OCTETS; q += THREADS) {
    const int r = q / OCTETS, c = (q % OCTETS) * 8;
    const int m = m0 + r, n = n0 + c;
    if (m >= ep.M || n >= ep.N) continue;
    const float4 lo = *reinterpret_cast<const float4 *>(stage + stage_offset<S::BN>(r, c));
    const float4 hi = *reinterpret_cast<const float4 *>(stage + stage_offset<S::BN>(r, c + 4));
    float v[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
    ep.store8(v, m, n);
  }
}

// geglu_epilogue writes y[m, o] = (v + bias[o]) * gelu(g + bias[N + o])
// for the BN/2 output columns from j0 of a tile loaded with GegluRows: n8
// fragment 2p of a warp holds the values and fragment 2p+1 the gates of the
// same 8 output columns (warp column origin wn*WTN/2), so each thread
// finishes its own columns. y is row-major [M, N]; bias ([2N]) may be null.
template <typename T, class S>
__device__ __forceinline__ void geglu_epilogue(const Acc<S> &acc, T *y, const T *bias, int M, int N, int m0,
                                               int j0) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / S::WN, wn = warp % S::WN;
  const int g = lane / 4, t = lane % 4;
  const bool pairs = (N % 2) == 0;
#pragma unroll
  for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
    for (int p = 0; p < S::NT / 2; p++)
#pragma unroll
      for (int half = 0; half < 2; half++) {
        const int m = m0 + wm * S::WTM + mt * 16 + g + half * 8;
        const int o = j0 + wn * (S::WTN / 2) + p * 8 + 2 * t;
        if (m >= M) continue;
        float v[2];
#pragma unroll
        for (int e = 0; e < 2; e++) {
          float val = acc.c[mt][2 * p][2 * half + e], gate = acc.c[mt][2 * p + 1][2 * half + e];
          if (bias && o + e < N) {
            val += Elem<T>::to_float(bias[o + e]);
            gate += Elem<T>::to_float(bias[N + o + e]);
          }
          v[e] = val * activate(gate, ACT_GELU);
        }
        T *out = y + (size_t)m * N + o;
        if (pairs && o + 1 < N) {
          *reinterpret_cast<uint32_t *>(out) = Elem<T>::pack(v[0], v[1]);
        } else {
#pragma unroll
          for (int e = 0; e < 2; e++)
            if (o + e < N) out[e] = Elem<T>::from_float(v[e]);
        }
      }
}

// partial_epilogue stores the raw float32 sums of split blockIdx.z into
// partial[z][M][N]; split_finish adds the splits and applies the epilogue.
// Pairs go out as one float2 when N is even (8-byte aligned).
template <class S>
__device__ __forceinline__ void partial_epilogue(const Acc<S> &acc, float *partial, int M, int N, int m0,
                                                 int n0) {
  float *slice = partial + (size_t)blockIdx.z * M * N;
  const bool pairs = (N % 2) == 0;
  for_each_pair<S>(acc, M, m0, n0, [&](int m, int n, float v0, float v1) {
    float *out = slice + (size_t)m * N + n;
    if (pairs && n + 1 < N) {
      *reinterpret_cast<float2 *>(out) = make_float2(v0, v1);
    } else {
      if (n < N) out[0] = v0;
      if (n + 1 < N) out[1] = v1;
    }
  });
}

// split_finish completes a split tile without another launch: each split
// block, having stored its partial, counts itself in sem[tile]; the one
// that arrives last sums all gridDim.z partials of the tile in split order
// (the same order and roundings whichever block arrives last, so the
// result does not depend on scheduling), applies Epilogue's expression (to
// chunks of 8 columns, as epilogue does; the partials too are read 16 bytes
// at a time when they can be) rounding once, and re-arms the counter for
// the next launch. sem holds one zeroed int per (x, y) tile of the grid
// (the launcher's tile semaphores); smem is the block's shared memory, free
// after the main loop.
template <typename T, class S>
__device__ TILE_NOINLINE void split_finish(float *partial, int *sem, T *smem, T *y, const T *bias,
                                             const T *residual, int M, int N, int m0, int n0, int act,
                                             const T *emb = nullptr, int image_rows = 1, int emb_ld = 0) {
  int *arrived_last = reinterpret_cast<int *>(smem);
  const int tile = blockIdx.y * gridDim.x + blockIdx.x;
  __threadfence(); // this thread's partials are visible device-wide before the count says so
  __syncthreads(); // every thread of the block has stored and fenced; the ring is no longer read
  if (threadIdx.x == 0) *arrived_last = atomicAdd(&sem[tile], 1) == (int)gridDim.z - 1;
  __syncthreads();
  if (!*arrived_last) return;
  __threadfence(); // the other splits' partials, counted before, are read after

  const Epilogue<T> ep(y, bias, residual, M, N, act, emb, image_rows, emb_ld);
  constexpr int OCTETS = S::BN / 8;
  const size_t plane = (size_t)M * N;
#pragma unroll 1
  for (int q = threadIdx.x; q < S::BM * OCTETS; q += THREADS) {
    const int m = m0 + q / OCTETS, n = n0 + (q % OCTETS) * 8;
    if (m >= ep.M || n >= ep.N) continue;
    const float *p = partial + (size_t)m * ep.N + n;
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; e++) v[e] = 0.f;
    for (int z = 0; z < (int)gridDim.z; z++, p += plane) { // L2: written by other SMs
      if (ep.vec) {
        const float4 lo = __ldcg(reinterpret_cast<const float4 *>(p)), hi = __ldcg(reinterpret_cast<const float4 *>(p + 4));
        v[0] += lo.x, v[1] += lo.y, v[2] += lo.z, v[3] += lo.w;
        v[4] += hi.x, v[5] += hi.y, v[6] += hi.z, v[7] += hi.w;
      } else {
#pragma unroll
        for (int e = 0; e < 8; e++)
          if (n + e < ep.N) v[e] += __ldcg(p + e);
      }
    }
    ep.store8(v, m, n);
  }
  if (threadIdx.x == 0) sem[tile] = 0;
}

// block_tile is one block's whole job in gemm.cu and conv.cu: the K steps
// of split blockIdx.z of the tile at (m0, n0) through loaders la and lb,
// then the fused epilogue (bias, emb, act, residual) or, with partial
// (split-K), the split's float32 sums, the tile finished by its last split
// (split_finish, counting in sem).
template <typename T, class S, class LoadA, class LoadB>
__device__ __forceinline__ void block_tile(const LoadA &la, const LoadB &lb, T *smem, int K, int kchunk, T *y,
                                           const T *bias, const T *residual, int M, int N, int m0, int n0,
                                           int act, float *partial, int *sem, const T *emb = nullptr,
                                           int image_rows = 1, int emb_ld = 0) {
  Acc<S> acc;
  int kt0, kt1;
  k_steps(K, kchunk, kt0, kt1);
  mainloop<T, S>(la, lb, kt0, kt1, smem, acc);
  if (partial) {
    partial_epilogue<S>(acc, partial, M, N, m0, n0);
    split_finish<T, S>(partial, sem, smem, y, bias, residual, M, N, m0, n0, act, emb, image_rows, emb_ld);
  } else {
    epilogue<T, S>(acc, smem, y, bias, residual, M, N, m0, n0, act, emb, image_rows, emb_ld);
  }
}

} // namespace tile
