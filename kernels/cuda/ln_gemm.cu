// ln_gemm.cu: gemm.cu's three GEMMs with a LayerNorm of x applied in the A
// loader (ln_loader.cuh), for the three linears that follow a transformer
// block's LayerNorms:
//
//   ln_gemm        y = act(LN(x)·wᵀ + bias) + residual   (norm2 → to_q)
//   ln_gemm_qkv    y = LN(x)·[w0; w1; w2]ᵀ                (norm1 → q/k/v)
//   ln_gemm_geglu  y = GEGLU(LN(x)·wᵀ + bias)             (norm3 → ff proj)
//
// LN(x) = (x - mean)·rstd·gamma + beta over each row of x [M, K], rounded to
// T as the LayerNorm kernel would have stored it. Grids, tiles, split-K and
// the *_unaligned variants are gemm.cu's (the same launch planner); gamma
// and beta are [K] of x's type, read as they are used.
#include "ln_loader.cuh"

template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void ln_gemm_body(T *y, const T *x, const T *w, const T *bias, const T *residual,
                                             const T *gamma, const T *beta, float eps, int M, int N, int K, int act,
                                             float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;

  tile::LnRowLoader<T, ALIGNED, S::BM> la(x, M, K, m0, gamma, beta, eps);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, n0);
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, bias, residual, M, N, m0, n0, act, partial, sem);
}

#define LN_GEMM_KERNEL(name, T, ALIGNED, BM, BN)                                                      \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w, const T *bias, const T *residual, const T *gamma,            \
           const T *beta, float eps, int M, int N, int K, int act, float *partial, int *sem,          \
           int kchunk) {                                                                              \
    ln_gemm_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, residual, gamma, beta, eps, M, N, K, \
                                                  act, partial, sem, kchunk);                         \
  }

// ln_gemm_qkv: gemm.cu's gemm_qkv (three weights of Nw rows, Nw a multiple
// of BN, no bias) on LN(x).
template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void ln_gemm_qkv_body(T *y, const T *x, const T *w0, const T *w1, const T *w2,
                                                 const T *gamma, const T *beta, float eps, int M, int Nw, int K,
                                                 float *partial, int *sem, int kchunk) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, n0 = blockIdx.y * S::BN;
  const int part = n0 / Nw;
  const T *w = part == 0 ? w0 : (part == 1 ? w1 : w2);

  tile::LnRowLoader<T, ALIGNED, S::BM> la(x, M, K, m0, gamma, beta, eps);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, Nw, K, K, n0 - part * Nw);
  tile::block_tile<T, S>(la, lb, smem, K, kchunk, y, (const T *)nullptr, (const T *)nullptr, M, 3 * Nw, m0, n0,
                         ACT_NONE, partial, sem);
}

#define LN_GEMM_QKV_KERNEL(name, T, ALIGNED, BM, BN)                                                  \
  extern "C" __global__ void TILE_LAUNCH_BOUNDS(BM, BN)                                               \
      name(T *y, const T *x, const T *w0, const T *w1, const T *w2, const T *gamma, const T *beta,    \
           float eps, int M, int Nw, int K, float *partial, int *sem, int kchunk) {                   \
    ln_gemm_qkv_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w0, w1, w2, gamma, beta, eps, M, Nw, K,   \
                                                      partial, sem, kchunk);                          \
  }

// ln_gemm_geglu: gemm.cu's gemm_geglu (w [2N, K] as stored, never split) on
// LN(x).
template <typename T, bool ALIGNED, class S>
__device__ __forceinline__ void ln_gemm_geglu_body(T *y, const T *x, const T *w, const T *bias, const T *gamma,
                                                   const T *beta, float eps, int M, int N, int K) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T *smem = reinterpret_cast<T *>(smem_raw);
  const int m0 = blockIdx.x * S::BM, j0 = blockIdx.y * (S::BN / 2);

  tile::LnRowLoader<T, ALIGNED, S::BM> la(x, M, K, m0, gamma, beta, eps);
  tile::RowLoader<T, ALIGNED, S::BN> lb(w, N, K, K, j0, tile::GegluRows{});
  tile::Acc<S> acc;
  tile::mainloop<T, S>(la, lb, 0, (K + tile::BK - 1) / tile::BK, smem, acc);
  tile::geglu_epilogue<T, S>(acc, y, bias, M, N, m0, j0);
}

#define LN_GEMM_GEGLU_KERNEL(name, T, ALIGNED, BM, BN)                                                \
  extern "C" __global__ void __launch_bounds__(tile::THREADS)                                         \
      name(T *y, const T *x, const T *w, const T *bias, const T *gamma, const T *beta, float eps,     \
           int M, int N, int K) {                                                                     \
    ln_gemm_geglu_body<T, ALIGNED, tile::Shape<BM, BN>>(y, x, w, bias, gamma, beta, eps, M, N, K);   \
  }

#define LN_VARIANTS(KERNEL, prefix, BM, BN)                                                           \
  KERNEL(prefix##_##BM##x##BN##_f16, __half, true, BM, BN)                                            \
  KERNEL(prefix##_##BM##x##BN##_bf16, __nv_bfloat16, true, BM, BN)                                    \
  KERNEL(prefix##_unaligned_##BM##x##BN##_f16, __half, false, BM, BN)                                 \
  KERNEL(prefix##_unaligned_##BM##x##BN##_bf16, __nv_bfloat16, false, BM, BN)

#define LN_TILE(BM, BN)                                                                               \
  LN_VARIANTS(LN_GEMM_KERNEL, ln_gemm, BM, BN)                                                        \
  LN_VARIANTS(LN_GEMM_QKV_KERNEL, ln_gemm_qkv, BM, BN)                                                \
  LN_VARIANTS(LN_GEMM_GEGLU_KERNEL, ln_gemm_geglu, BM, BN)

LN_TILE(128, 128)
LN_TILE(128, 64)
LN_TILE(64, 128)
