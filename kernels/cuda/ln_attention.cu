// ln_attention.cu: a cross-attention whose queries are projected in the
// attention block itself, from a LayerNorm of x:
//
//   o = Attention(LN(x)·wqᵀ, k, v)   (norm2 → to_q → attention, no bias)
//
// x [B,Tq,Cin], wq [H·64, Cin], k and v [B,Tk,*] (head h at elements
// [h·64, h·64+64) of each row; row strides are arguments), o [B,Tq,H·64].
// The grid and the attention are attention.cu's (attention.cuh): one block
// per 128 queries of one (batch, head). Before it, the block computes its
// own Q tile, LN(x[b, q0:q0+128, :]) · wq[h·64:(h+1)·64, :]ᵀ, with the GEMM
// tile of gemm_tile.cuh (Shape<128,64>, LnRowLoader for x as in ln_gemm.cu,
// RowLoader for the head's 64 rows of wq) over the whole of Cin, and rounds
// it to T as gemm.cu's epilogue stores q. Each (query block, head) owns a
// disjoint slice of q, so no product is computed twice; only the LayerNorm
// statistics of a row are recomputed once per head. The GEMM's 4-stage ring
// (49152 bytes) lies in the memory of the attention's Q and K/V tiles (55296
// bytes): a barrier separates the last read of the ring from the first Q
// store, and the attention issues no K/V copy before the Q tile is written.
// lnattn::SMEM_BYTES, the larger of the two (55296), of dynamic shared
// memory, opted in at launch.
//
// Aligned rows only (Cin % 8 == 0, 16-byte aligned x and wq): the launcher
// composes ln_gemm and flash_attention_d64 otherwise.
#include "attention.cuh"
#include "ln_loader.cuh"

namespace lnattn {
using S = tile::Shape<attn::BQ, attn::D>; // one block's Q tile: 128 queries x one head
// The launch reserves the larger of the GEMM ring and the attention's tiles
// (ln_attention_plan.go's lnAttnSharedSize).
constexpr int SMEM_BYTES = S::SMEM_BYTES > attn::SMEM_BYTES ? S::SMEM_BYTES : attn::SMEM_BYTES;
static_assert(SMEM_BYTES == 55296, "ln_attention_plan.go's lnAttnSharedSize");
} // namespace lnattn

// ln_q_tile computes rows [q0, q0+128) of the Q tile of head h into sq
// (padded rows of attn::ROW, zero past Tq), using smem from sq on as the
// GEMM's ring.
template <typename T>
__device__ __forceinline__ void ln_q_tile(T *sq, int q0, int h, int heads, const T *x, const T *wq, const T *gamma,
                                          const T *beta, float eps, int Tq, int Cin) {
  using S = lnattn::S;
  tile::LnRowLoader<T, true, S::BM> la(x, Tq, Cin, q0, gamma, beta, eps);
  tile::RowLoader<T, true, S::BN> lb(wq, heads * attn::D, Cin, Cin, h * attn::D);
  tile::Acc<S> acc;
  tile::mainloop<T, S>(la, lb, 0, (Cin + tile::BK - 1) / tile::BK, sq, acc);
  __syncthreads(); // every warp has read its last ring tile before Q overwrites it

  // Stored as gemm_tile.cuh's epilogue would store q (no bias), but into
  // the tile. Every row of the tile is visited: the loader zero-filled the
  // rows past Tq, so their sums are 0 and so are their Q rows.
  tile::for_each_pair<S>(acc, S::BM, 0, 0, [&](int r, int c, float v0, float v1) {
    *reinterpret_cast<uint32_t *>(sq + r * attn::ROW + c) = Elem<T>::pack(v0, v1);
  });
}

#define LN_ATTENTION_KERNEL(name, T)                                                                   \
  extern "C" __global__ void __launch_bounds__(attn::THREADS, 2)                                        \
      name(T *o, const T *x, const T *wq, const T *gamma, const T *beta, float eps, const T *k,       \
           const T *v, int Tq, int Tk, int Cin, int ldk, int ldv, int ldo, float scale) {              \
    extern __shared__ __align__(16) unsigned char smem_raw[];                                        \
    const T *xb = x + (size_t)blockIdx.z * Tq * Cin;                                                 \
    attention_body<T>(                                                                               \
        reinterpret_cast<T *>(smem_raw),                                                             \
        [&](T *sq, int q0) {                                                                         \
          ln_q_tile<T>(sq, q0, blockIdx.y, gridDim.y, xb, wq, gamma, beta, eps, Tq, Cin);            \
        },                                                                                           \
        o, k, v, Tq, Tk, ldk, ldv, ldo, scale, 0);                                                   \
  }

LN_ATTENTION_KERNEL(ln_attention_d64_f16, __half)
LN_ATTENTION_KERNEL(ln_attention_d64_bf16, __nv_bfloat16)
