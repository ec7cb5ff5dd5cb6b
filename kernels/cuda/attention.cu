// attention.cu: flash attention for head size 64 on tensor cores:
//
//   o[b,i,h,:] = sum_j softmax_j(scale * q[b,i,h,:].k[b,j,h,:]) v[b,j,h,:]
//
// q [B,Tq,*], k and v [B,Tk,*], o [B,Tq,*]: head h occupies elements
// [h*64, h*64+64) of each token row; row strides are arguments so q, k and v
// may be views into one fused projection output.
//
// One block = 8 warps = 128 queries of one (batch, head); each warp owns 16
// query rows for the whole kernel, and all eight share every K/V tile the
// block loads (half the K/V traffic per query of 64-query blocks). Q is
// loaded once into registers as mma A fragments. Keys and values stream through a 2-stage cp.async ring of 64-key
// tiles (the next tile loads while this one is used). Per tile a warp computes
// S = Q K^T (16x64, fp32, 32 mma), updates the online-softmax statistics (row
// max m and partial row sums l, in fp32, base-2 exponentials with log2(e)
// folded into the scale), rescales its output accumulator, converts P to the
// storage type directly from the accumulator registers (the C layout of two
// n8 tiles is the A layout of one k16 tile) and adds P V (32 mma; V is read
// with ldmatrix.trans since it is stored key-major). The T x T score matrix
// never exists in memory.
//
// Tails: query rows past Tq and key rows past Tk are zero-filled in shared
// memory; scores of keys past Tk (and, with causal, keys after the query)
// are set to -inf before the softmax, and rows past Tq are not stored. Only
// tiles that hold such keys (the last one, and with causal those crossing
// the block's diagonal) pay for the mask: the test is uniform per block.
// Shared rows are padded 64 -> 72 elements so ldmatrix phases hit 8 distinct
// 16-byte bank groups. 54 KB dynamic shared memory (opted in at launch).
#include "attention.cuh"

#define ATTENTION_KERNEL(name, T)                                                                    \
  extern "C" __global__ void __launch_bounds__(attn::THREADS, 2)                                        \
      name(T *o, const T *q, const T *k, const T *v, int Tq, int Tk, int ldq, int ldk, int ldv,      \
           int ldo, float scale, int causal) {                                                       \
    extern __shared__ __align__(16) unsigned char smem_raw[];                                        \
    const T *qh = q + (size_t)blockIdx.z * Tq * ldq + blockIdx.y * attn::D;                          \
    attention_body<T>(                                                                               \
        reinterpret_cast<T *>(smem_raw),                                                             \
        [&](T *sq, int q0) { load_rows<attn::BQ>(sq, qh, q0, Tq, ldq); }, o, k, v, Tq, Tk, ldk, ldv,   \
        ldo, scale, causal);                                                                         \
  }

ATTENTION_KERNEL(flash_attention_d64_f16, __half)
ATTENTION_KERNEL(flash_attention_d64_bf16, __nv_bfloat16)
