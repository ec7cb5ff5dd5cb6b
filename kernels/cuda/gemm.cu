// gemm.cu: tensor-core GEMM with fused epilogue, the Linear of every layer:
//
//   y[M,N] = act(x[M,K] * w[N,K]^T + bias[N]) + residual[M,N]
//
// x and y are row-major activations, w is the checkpoint's [out, in] weight.
// Tiling and pipeline (see gemm_tile.cuh): 128x128 block tiles, K in steps
// of 32 through a 4-stage cp.async ring (80 KB dynamic shared memory, so the
// launcher raises the 48 KB default), 8 warps of 64x32, mma.m16n8k16 with
// fp32 accumulators, then bias -> activation -> residual in fp32 and one
// rounding to the storage type.
//
// Grid: x = ceil(M/128) (x allows 2^31-1 blocks: M can be a VAE-sized
// B*H*W), y = ceil(N/128). Blocks with the same y share a weight panel.
// The *_unaligned kernels load element by element and accept any K and any
// pointer alignment (odd K, views starting mid-row); the launcher picks.
#include "gemm_tile.cuh"

template <typename T, bool ALIGNED>
__device__ __forceinline__ void gemm_body(T *y, const T *x, const T *w, const T *bias, const T *residual,
                                          int M, int N, int K, int act) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * tile::BM, n0 = blockIdx.y * tile::BN;

  tile::RowLoader<T, ALIGNED> la(x, M, K, K, m0);
  tile::RowLoader<T, ALIGNED> lb(w, N, K, K, n0);
  tile::Acc acc;
  tile::mainloop<T>(la, lb, K, smem, acc);
  tile::epilogue<T>(acc, y, bias, residual, M, N, m0, n0, act);
}

#define GEMM_KERNEL(name, T, ALIGNED)                                                                 \
  extern "C" __global__ void __launch_bounds__(tile::THREADS)                                         \
      name(T *y, const T *x, const T *w, const T *bias, const T *residual, int M, int N, int K,       \
           int act) {                                                                                 \
    gemm_body<T, ALIGNED>(y, x, w, bias, residual, M, N, K, act);                                     \
  }

GEMM_KERNEL(gemm_f16, __half, true)
GEMM_KERNEL(gemm_bf16, __nv_bfloat16, true)
GEMM_KERNEL(gemm_unaligned_f16, __half, false)
GEMM_KERNEL(gemm_unaligned_bf16, __nv_bfloat16, false)
