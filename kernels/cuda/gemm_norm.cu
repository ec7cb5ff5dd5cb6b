// gemm_norm.cu: gemm.cu's GEMM with GroupNorm(+SiLU) of x applied in the A
// loader (norm_loader.cuh's NormRowLoader):
//
//   y[M,N] = act(silu?(gn(x))[M,K] * w[N,K]^T + bias[N]) + residual[M,N]
//
// for x [B·positions, K] channels-last (a SpatialTransformer's proj_in over
// its GroupNorm), after norm.cu's groupnorm_table wrote the per-image
// (scale, shift) table. Tiles, split-K (finished by the tile's last split) and
// the epilogue are gemm.cu's.
#include "norm_loader.cuh"

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void gemm_norm_body(T *y, const T *x, const T *w, const T *bias, const T *residual,
                                               int M, int N, int K, int act, const float2 *table, int positions,
                                               int silu, float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;

  tile::NormRowLoader<T, ALIGNED, S::BM> la(x, M, K, m0, positions, tile::ChannelNorm{table, silu});
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, bias, residual, M, N, m0, n0, act, partial, sem);
}

#define GEMM_NORM_KERNEL(name, T, ALIGNED, BM, BN)                                                    \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w, const T *bias, const T *residual, int M, int N, int K,       \
           int act, const float2 *table, int positions, int silu, float *partial, int *sem,           \
           int kchunk) {                                                                              \
    gemm_norm_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, residual, M, N, K, act, table,     \
                                                    positions, silu, partial, sem, kchunk);           \
  }

#define GEMM_NORM_TILE(BM, BN)                                                                        \
  GEMM_NORM_KERNEL(gemm_norm_##BM##x##BN##_f16, __half, true, BM, BN)                                 \
  GEMM_NORM_KERNEL(gemm_norm_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                         \
  GEMM_NORM_KERNEL(gemm_norm_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                      \
  GEMM_NORM_KERNEL(gemm_norm_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

GEMM_NORM_TILE(128, 128)
GEMM_NORM_TILE(128, 64)
GEMM_NORM_TILE(64, 128)
