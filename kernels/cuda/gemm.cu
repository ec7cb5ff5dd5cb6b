// gemm.cu: tensor-core GEMM with fused epilogue, the Linear of every layer:
//
//   y[M,N] = act(x[M,K] * w[N,K]^T + bias[N]) + residual[M,N]
//
// or, with ACT_AFTER_RESIDUAL or-ed into act, act(... + residual[M,N]).
// x and y are row-major activations, w is the checkpoint's [out, in] weight.
// Tiling and pipeline (see gemm_tile.cuh): BM x BN block tiles (128x128,
// 128x64 or 64x128, chosen by the launcher's wave planner), K in steps of 32
// through a 4-stage cp.async ring (64 KiB or 48 KiB of dynamic shared memory;
// the launcher raises the 48 KiB default for the former), 8 warps, mma.m16n8k16 with fp32
// accumulators, then bias -> activation -> residual in fp32 and one
// rounding to the storage type.
//
// Grid: x = ceil(M/BM) (x allows 2^31-1 blocks: M can be a VAE-sized
// B*H*W), y = ceil(N/BN), z = K splits. Blocks with the same y share a
// weight panel. Without split-K (partial null, gridDim.z 1) the epilogue is
// fused; with it, block z multiplies K range [z*kchunk, (z+1)*kchunk) and
// stores float32 sums in partial[z][M][N], and the tile's last split adds
// them, applies the epilogue and rounds once (gemm_tile.cuh's split_finish,
// counting in sem: one zeroed int per (x, y) tile, re-armed by the kernel).
// The *_unaligned kernels load element by element and accept any K and any
// pointer alignment (odd K, views starting mid-row); the launcher picks.
#include "gemm_tile.cuh"

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void gemm_body(T *y, const T *x, const T *w, const T *bias, const T *residual,
                                          int M, int N, int K, int act, float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;

  tile::RowLoader<T, ALIGNED, S::BM> la(x, M, K, K, m0);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
  // With ACT_AFTER_RESIDUAL the residual goes in before the activation,
  // y = act(acc + bias + residual) (SDXL's time embedding: SiLU of
  // time_embed plus label_emb): the epilogue's per-image bias, with one
  // row per "image", is exactly that add.
  const bool before = act & ACT_AFTER_RESIDUAL;
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, bias, before ? nullptr : residual, M, N, m0, n0,
                         act & ~ACT_AFTER_RESIDUAL, partial, sem, before ? residual : nullptr, 1, N);
}

#define GEMM_KERNEL(name, T, ALIGNED, BM, BN)                                                         \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w, const T *bias, const T *residual, int M, int N, int K,       \
           int act, float *partial, int *sem, int kchunk) {                                           \
    gemm_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, residual, M, N, K, act, partial, sem,   \
                                               kchunk);                                               \
  }

#define GEMM_TILE(BM, BN)                                                                             \
  GEMM_KERNEL(gemm_##BM##x##BN##_f16, __half, true, BM, BN)                                           \
  GEMM_KERNEL(gemm_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                                   \
  GEMM_KERNEL(gemm_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                                \
  GEMM_KERNEL(gemm_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

GEMM_TILE(128, 128)
GEMM_TILE(128, 64)
GEMM_TILE(64, 128)

// gemm_geglu: the feed-forward projection with GEGLU in the epilogue,
//
//   y[M,N] = (x·w[:N]ᵀ + bias[:N]) * gelu(x·w[N:]ᵀ + bias[N:])
//
// for w [2N, K] as stored (value rows, then gate rows). The B loader
// interleaves value and gate rows in groups of 8 (RowLoader's GegluRows), so
// a BN-wide tile yields BN/2 output columns and each thread holds the value
// and gate of its outputs (geglu_epilogue). Never split: the gate needs the
// full sum. Grid: x = ceil(M/BM), y = ceil(N/(BN/2)).
template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void gemm_geglu_body(T *y, const T *x, const T *w, const T *bias, int M, int N, int K) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, j0 = blockIdx.y * (S::BN / 2);

  tile::RowLoader<T, ALIGNED, S::BM> la(x, M, K, K, m0);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, j0, tile::GegluRows{});
  tile::Acc<S> acc;
  tile::mainloop<T, S>(la, lb, 0, (K + tile::BK - 1) / tile::BK, smem, acc);
  tile::geglu_epilogue<T, S>(acc, y, bias, M, N, m0, j0);
}

#define GEMM_GEGLU_KERNEL(name, T, ALIGNED, BM, BN)                                                   \
  extern "C" __global__ void __launch_bounds__(tile::THREADS)                                         \
      name(T *y, const T *x, const T *w, const T *bias, int M, int N, int K) {                        \
    gemm_geglu_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, M, N, K);                         \
  }

#define GEMM_GEGLU_TILE(BM, BN)                                                                       \
  GEMM_GEGLU_KERNEL(gemm_geglu_##BM##x##BN##_f16, __half, true, BM, BN)                               \
  GEMM_GEGLU_KERNEL(gemm_geglu_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                       \
  GEMM_GEGLU_KERNEL(gemm_geglu_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                    \
  GEMM_GEGLU_KERNEL(gemm_geglu_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

GEMM_GEGLU_TILE(128, 128)
GEMM_GEGLU_TILE(128, 64)
GEMM_GEGLU_TILE(64, 128)

// gemm_qkv: y[M, 3*Nw] = x[M,K] * [w0; w1; w2]^T for three weights of Nw
// rows each: a self-attention's q, k and v in one GEMM (one launch, and an
// N three times as wide fills the machine's waves better), while the
// checkpoint's three weights stay three tensors (LoRA merges them by
// name). Nw is a multiple of BN, so a block tile's columns all come from
// one weight: block column n0 reads rows n0 - part*Nw of weight part. No
// bias (SDXL's to_q/k/v have none). Split-K as gemm_body.
template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void gemm_qkv_body(T *y, const T *x, const T *w0, const T *w1, const T *w2, int M,
                                              int Nw, int K, float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;
  const int part = n0 / Nw;
  const T *w = part == 0 ? w0 : (part == 1 ? w1 : w2);

  tile::RowLoader<T, ALIGNED, S::BM> la(x, M, K, K, m0);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, Nw, K, K, n0 - part * Nw);
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, (const T *)nullptr, (const T *)nullptr, M, 3 * Nw, m0, n0,
                         ACT_NONE, partial, sem);
}

#define GEMM_QKV_KERNEL(name, T, ALIGNED, BM, BN)                                                     \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w0, const T *w1, const T *w2, int M, int Nw, int K,             \
           float *partial, int *sem, int kchunk) {                                                    \
    gemm_qkv_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w0, w1, w2, M, Nw, K, partial, sem, kchunk); \
  }

#define GEMM_QKV_TILE(BM, BN)                                                                         \
  GEMM_QKV_KERNEL(gemm_qkv_##BM##x##BN##_f16, __half, true, BM, BN)                                   \
  GEMM_QKV_KERNEL(gemm_qkv_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                           \
  GEMM_QKV_KERNEL(gemm_qkv_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                        \
  GEMM_QKV_KERNEL(gemm_qkv_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

GEMM_QKV_TILE(128, 128)
GEMM_QKV_TILE(128, 64)
GEMM_QKV_TILE(64, 128)
