// streamk.cu: the tensor-core GEMM of gemm.cu (same block tiles, main loop
// and fused epilogue, gemm_tile.cuh) scheduled stream-K, for problems whose
// tile count leaves the last wave of the plain grid part empty:
//
//   y[M,N] = act(x[M,K] * w[N,K]^T + bias[N]) + residual[M,N]
//
// The grid is one block per SM at most (streamk_plan.go), all resident at
// once. Output tiles are numbered t = tn * tiles_m + tm (a block's
// consecutive tiles share a weight panel). Tiles [0, sk_tiles) are the
// stream-K part: their sk_tiles * ks iterations (one 32-wide K step of one
// tile each) are cut into gridDim.x equal contiguous ranges, one a block, so
// every block gets the same work whatever the tile count. Tiles [sk_tiles,
// tiles) are data-parallel: block b takes sk_tiles + b, + b + gridDim.x,
// ... (the launcher makes their count a multiple of the grid).
//
// A range may start and end inside a tile. The block holding a tile's last
// K steps finishes it: it waits for the flags of the lower blocks that
// hold the tile's earlier steps, adds their float32 partials to its own
// sums in increasing block order (a fixed order: the same bits every run),
// applies the epilogue and lowers the flags for the next launch. Only a
// block's last range can end inside a tile, so each block publishes at
// most one partial tile: partial[b] (BM*BN floats, in the accumulators'
// register order, so each thread reads back exactly what the same thread
// of the other block wrote) and flags[b], both the backend's workspace.
//
// Each block works through its range from the end: it publishes its
// partial first and finishes the tile it shares with the block before it
// last, by which time that block published long ago; on a GPU nobody
// waits for long, and a finishing block only ever waits for blocks of
// lower index, which the emulation (blocks in index order) needs.
#include "flags.cuh"
#include "gemm_tile.cuh"

namespace streamk {

// Range is the stream-K iterations [begin(b), begin(b+1)) of block b.
// The launcher keeps iters * blocks within an int (streamk_plan.go).
struct Range {
  int iters, blocks;
  __device__ __forceinline__ int begin(int b) const { return iters * b / blocks; }
};

// publish stores this thread's accumulators at slot (its register order).
template <class S> __device__ __forceinline__ void publish(const tile::Acc<S> &acc, float *slot) {
#pragma unroll
  for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
    for (int nt = 0; nt < S::NT; nt++) {
      const float *c = acc.c[mt][nt];
      flags::store4(slot + ((mt * S::NT + nt) * tile::THREADS + threadIdx.x) * 4, c[0], c[1], c[2], c[3]);
    }
}

// accumulate adds a slot written by publish into acc.
template <class S> __device__ __forceinline__ void accumulate(tile::Acc<S> &acc, const float *slot) {
#pragma unroll
  for (int mt = 0; mt < S::MT; mt++)
#pragma unroll
    for (int nt = 0; nt < S::NT; nt++) {
      float v[4];
      flags::load4(slot + ((mt * S::NT + nt) * tile::THREADS + threadIdx.x) * 4, v);
#pragma unroll
      for (int e = 0; e < 4; e++) acc.c[mt][nt][e] += v[e];
    }
}

} // namespace streamk

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void streamk_gemm_body(T *y, const T *x, const T *w, const T *bias, const T *residual,
                                                  int M, int N, int K, int act, float *partial, int *flag,
                                                  int sk_tiles) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int tiles_m = (M + S::BM - 1) / S::BM, tiles = tiles_m * ((N + S::BN - 1) / S::BN);
  const int ks = max(1, (K + tile::BK - 1) / tile::BK);
  const int b = blockIdx.x;
  constexpr int SLOT = S::BM * S::BN;
  const streamk::Range r{sk_tiles * ks, (int)gridDim.x};

  // Jobs: the stream-K range from its last tile to its first, then the
  // data-parallel tiles. A job multiplies K steps [k0, k1) of tile t, then
  // publishes the sums (k1 < ks) or adds the published ones (k0 > 0) and
  // stores the tile.
  const int begin = r.begin(b);
  int hi = r.begin(b + 1), dp = sk_tiles + b;
  for (;;) {
    int t, k0, k1;
    if (hi > begin) {
      t = (hi - 1) / ks;
      k0 = max(begin - t * ks, 0);
      k1 = hi - t * ks;
      hi = t * ks + k0;
    } else if (dp < tiles) {
      t = dp, k0 = 0, k1 = ks;
      dp += gridDim.x;
    } else {
      break;
    }
    const int m0 = (t % tiles_m) * S::BM, n0 = (t / tiles_m) * S::BN;
    tile::RowLoader<T, ALIGNED, S::BM> la(x, M, K, K, m0);
    tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
    tile::Acc<S> acc;
    __syncthreads(); // every warp has read the previous job's last stage before it is refilled
    tile::mainloop<T, S>(la, lb, k0, k1, smem, acc);
    if (k1 < ks) {
      streamk::publish<S>(acc, partial + (size_t)b * SLOT);
      flags::raise(flag + b);
      continue;
    }
    if (k0 > 0) {
      // The blocks before b that hold steps of this tile: they end inside it.
      int first = b;
      while (first > 0 && r.begin(first) > t * ks) first--;
      if (threadIdx.x == 0)
        for (int c = first; c < b; c++)
          if (r.begin(c) < r.begin(c + 1)) flags::wait_and_clear(flag + c);
      __syncthreads();
      for (int c = first; c < b; c++)
        if (r.begin(c) < r.begin(c + 1)) streamk::accumulate<S>(acc, partial + (size_t)c * SLOT);
    }
    tile::epilogue<T, S>(acc, smem, y, bias, residual, M, N, m0, n0, act);
  }
}

// Aligned operands only (K and row starts multiples of 8 elements: every
// SDXL shape); the element-wise loader's extra registers would spill at
// 128x128, and the launcher runs gemm.cu's kernels for other cases.
#define STREAMK_KERNEL(name, T, ALIGNED, BM, BN)                                                      \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w, const T *bias, const T *residual, int M, int N, int K,       \
           int act, float *partial, int *flags, int sk_tiles) {                                       \
    streamk_gemm_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, residual, M, N, K, act, partial, \
                                                       flags, sk_tiles);                                  \
  }

#define STREAMK_TILE(BM, BN)                                                                          \
  STREAMK_KERNEL(gemm_streamk_##BM##x##BN##_f16, __half, true, BM, BN)                                \
  STREAMK_KERNEL(gemm_streamk_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)

STREAMK_TILE(128, 128)
STREAMK_TILE(128, 64)
STREAMK_TILE(64, 128)
