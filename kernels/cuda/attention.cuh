// attention.cuh: the flash-attention block of attention.cu (described
// there), with the source of its Q tile a policy so that ln_attention.cu
// can compute Q in the block instead of reading it.
#pragma once

#include "mma.cuh"

namespace attn {
constexpr int D = 64;     // head size
constexpr int BQ = 128;   // queries per block
constexpr int BKV = 64;   // keys per pipeline tile
constexpr int ROW = D + 8; // padded shared row
constexpr int THREADS = 256;
constexpr int TILE = BKV * ROW; // elements of one K or V tile
constexpr int SMEM_BYTES = (BQ + 4 * BKV) * ROW * 2; // Q + two stages of K and V: 55296
} // namespace attn

// load_rows copies rows [r0, r0+N) of a [rows, 64] head slice (row stride
// ld) into a padded shared tile, zero-filling rows >= rows: N*8 16-byte
// chunks, N/32 per thread.
template <int N, typename T>
__device__ __forceinline__ void load_rows(T *smem, const T *src, int r0, int rows, int ld) {
#pragma unroll
  for (int i = 0; i < N * 8 / attn::THREADS; i++) {
    const int chunk = threadIdx.x + i * attn::THREADS;
    const int r = chunk / 8, c = (chunk % 8) * 8;
    const bool ok = r0 + r < rows;
    cp_async16(smem + r * attn::ROW + c, ok ? src + (size_t)(r0 + r) * ld + c : src, ok);
  }
}

// attention_body is one block's attention. smem is the dynamic shared
// memory (attn::SMEM_BYTES at least); load_q(sq, q0) fills the padded
// [BQ][ROW] Q tile at its start with query rows [q0, q0+BQ) of this block's
// (batch, head), zero past Tq, either by cp.async copies (committed here
// with the rest of its group) or by plain stores, which the barrier before
// the first use publishes. load_q runs before any K/V copy is issued, so it
// may use all of smem as scratch as long as it ends with a barrier after its
// last read of it.
template <typename T, class LoadQ>
__device__ __forceinline__ void attention_body(T *smem, LoadQ load_q, T *o, const T *k, const T *v, int Tq, int Tk,
                                               int ldk, int ldv, int ldo, float scale, int causal) {
  using namespace attn;
  T *sq = smem;                            // [BQ][ROW]
  T *skv = sq + BQ * ROW;                  // stage s: K at skv + 2*s*TILE, V right after

  const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * BQ;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;

  const T *kh = k + (size_t)b * Tk * ldk + h * D;
  const T *vh = v + (size_t)b * Tk * ldv + h * D;
  T *oh = o + (size_t)b * Tq * ldo + h * D;

  // With causal, no query of this block sees keys at or after q0+BQ.
  const int kv_end = causal ? min(Tk, q0 + BQ) : Tk;
  const int ntiles = (kv_end + BKV - 1) / BKV;

  load_q(sq, q0);
  cp_async_commit();
  if (ntiles > 0) {
    load_rows<BKV>(skv, kh, 0, Tk, ldk);
    load_rows<BKV>(skv + TILE, vh, 0, Tk, ldv);
  }
  cp_async_commit();

  // Q fragments of this warp's 16 rows, 4 k16 steps over the head.
  cp_async_wait<1>();
  __syncthreads();
  uint32_t qf[4][4];
#pragma unroll
  for (int kk = 0; kk < 4; kk++)
    ldmatrix_x4(qf[kk], sq + (warp * 16 + (lane % 16)) * ROW + kk * 16 + (lane / 16) * 8);

  const float scale_log2 = scale * 1.4426950408889634f;
  float acc[8][4]; // output 16x64: 8 n8 tiles over the head dimension
#pragma unroll
  for (int n = 0; n < 8; n++)
#pragma unroll
    for (int e = 0; e < 4; e++) acc[n][e] = 0.f;
  float row_max[2] = {-INFINITY, -INFINITY}; // rows g and g+8 (base-2 scaled scores)
  float row_sum[2] = {0.f, 0.f};             // this thread's partial sums; quad-reduced at the end
  const int qrow[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};

  for (int j = 0; j < ntiles; j++) {
    // Prefetch tile j+1 into the other stage (free: the barrier at the end of
    // iteration j-1 ensured everyone is done with it), then wait for tile j.
    if (j + 1 < ntiles) {
      T *st = skv + ((j + 1) % 2) * 2 * TILE;
      load_rows<BKV>(st, kh, (j + 1) * BKV, Tk, ldk);
      load_rows<BKV>(st + TILE, vh, (j + 1) * BKV, Tk, ldv);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    const T *sk = skv + (j % 2) * 2 * TILE;
    const T *sv = sk + TILE;

    // S = Q K^T. K is stored [key][dim] = the col-major B operand.
    float s[8][4];
#pragma unroll
    for (int n = 0; n < 8; n++)
#pragma unroll
      for (int e = 0; e < 4; e++) s[n][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < 4; kk++)
#pragma unroll
      for (int np = 0; np < 4; np++) {
        uint32_t r[4];
        ldmatrix_x4(r, sk + (np * 16 + (lane % 8) + (lane / 16) * 8) * ROW + kk * 16 + ((lane / 8) % 2) * 8);
        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
        Elem<T>::mma(s[2 * np], qf[kk], b0);
        Elem<T>::mma(s[2 * np + 1], qf[kk], b1);
      }

    // Scale, mask, and find this tile's row maxima (over the quad of lanes
    // sharing a row: xor 1 and 2). A tile needs the mask only if it holds
    // keys past Tk or, with causal, a key after the block's first query.
    const int tile_end = (j + 1) * BKV; // one past this tile's last key
    const bool masked = tile_end > Tk || (causal && tile_end - 1 > q0);
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < 8; n++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int r = e / 2;
        float x = s[n][e] * scale_log2;
        if (masked) {
          const int key = j * BKV + n * 8 + 2 * t + (e % 2);
          if (key >= Tk || (causal && key > qrow[r])) x = -INFINITY;
        }
        s[n][e] = x;
        tile_max[r] = fmaxf(tile_max[r], x);
      }
#pragma unroll
    for (int r = 0; r < 2; r++) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffff, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffff, tile_max[r], 2));
    }

    // Online softmax update. A row that has seen only masked keys keeps
    // max -inf; subtracting 0 instead makes its p = exp2(-inf) = 0 rather
    // than NaN, and alpha = exp2(-inf) = 0 clears nothing but zeros.
    float alpha[2], base[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
      const float m_new = fmaxf(row_max[r], tile_max[r]);
      base[r] = m_new == -INFINITY ? 0.f : m_new;
      alpha[r] = exp2_ftz(row_max[r] - base[r]);
      row_max[r] = m_new;
      row_sum[r] *= alpha[r];
    }
#pragma unroll
    for (int n = 0; n < 8; n++) {
      acc[n][0] *= alpha[0];
      acc[n][1] *= alpha[0];
      acc[n][2] *= alpha[1];
      acc[n][3] *= alpha[1];
    }

    // P V, one k16 step (16 keys) at a time. P is rounded to T for the mma;
    // the row sums use the same rounded values so that weights sum to 1.
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
      uint32_t pf[4];
#pragma unroll
      for (int half = 0; half < 2; half++) {
        float p[4];
#pragma unroll
        for (int e = 0; e < 4; e++) {
          p[e] = exp2_ftz(s[2 * kk + half][e] - base[e / 2]);
        }
        pf[2 * half] = Elem<T>::pack(p[0], p[1]);     // row g
        pf[2 * half + 1] = Elem<T>::pack(p[2], p[3]); // row g+8
        row_sum[0] += Elem<T>::sum2(pf[2 * half]);
        row_sum[1] += Elem<T>::sum2(pf[2 * half + 1]);
      }
      // A fragment order: a0=(g, keys 0-7) a1=(g+8, keys 0-7) a2=(g, keys 8-15) a3=(g+8, keys 8-15).
      const uint32_t a[4] = {pf[0], pf[1], pf[2], pf[3]};
#pragma unroll
      for (int np = 0; np < 4; np++) {
        uint32_t r[4];
        ldmatrix_x4_trans(r, sv + (kk * 16 + (lane % 8) + ((lane / 8) % 2) * 8) * ROW + np * 16 + (lane / 16) * 8);
        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
        Elem<T>::mma(acc[2 * np], a, b0);
        Elem<T>::mma(acc[2 * np + 1], a, b1);
      }
    }
    __syncthreads(); // everyone is done with this stage before it is refilled
  }
  cp_async_wait<0>();

  // Normalise and store. A row with no visible key (only possible when
  // Tk == 0) has sum 0 and is written as zeros.
#pragma unroll
  for (int r = 0; r < 2; r++) {
    row_sum[r] += __shfl_xor_sync(0xffffffff, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffff, row_sum[r], 2);
  }
#pragma unroll
  for (int r = 0; r < 2; r++) {
    if (qrow[r] >= Tq) continue;
    const float inv = row_sum[r] > 0.f ? 1.f / row_sum[r] : 0.f;
    T *dst = oh + (size_t)qrow[r] * ldo + 2 * t;
#pragma unroll
    for (int n = 0; n < 8; n++)
      *reinterpret_cast<uint32_t *>(dst + n * 8) = Elem<T>::pack(acc[n][2 * r] * inv, acc[n][2 * r + 1] * inv);
  }
}

