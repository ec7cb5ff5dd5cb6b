// Host emulation of kernels/cuda/mma.cuh, so the real gemm_tile.cuh /
// gemm.cu / conv.cu / attention.cu run on the CPU: the warp-collective
// ldmatrix and mma follow the PTX ISA layouts, cp.async lands early or late.
// The CUDA built-ins underneath are in cuda_host.h.
#pragma once
#include "cuda_host.h"

template <typename T> struct Elem;
template <typename T> struct Conv;
template <> struct Conv<__half> {
  static float f(uint16_t b) { return f16_to_f32(b); }
  static uint16_t t(float x) { return f32_to_f16(x); }
};
template <> struct Conv<__nv_bfloat16> {
  static float f(uint16_t b) { return bf16_to_f32(b); }
  static uint16_t t(float x) { return f32_to_bf16(x); }
};

// ---- warp-collective mma ----
// All lanes store their fragments and meet; the first lane to resume
// decodes the 16x16 and 16x8 operands once and computes every lane's
// accumulators into d (round_done marks the round as computed); all meet
// again before the slots are reused.
template <typename T> void mma_compute(WarpCtx *w) {
  // PTX ISA "Matrix Fragments for mma.m16n8k16 with floating point type".
  float A[16][16], B[16][8];
  for (int ln = 0; ln < 32; ln++) {
    int g = ln >> 2, t = ln % 4;
    for (int i = 0; i < 8; i++) {
      int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
      int col = t * 2 + (i & 1) + (i >= 4 ? 8 : 0);
      uint16_t bits = (w->a[ln][i / 2] >> (16 * (i & 1))) & 0xffff;
      A[row][col] = Conv<T>::f(bits);
    }
    for (int i = 0; i < 4; i++) {
      int row = t * 2 + (i & 1) + (i >= 2 ? 8 : 0);
      uint16_t bits = (w->b[ln][i / 2] >> (16 * (i & 1))) & 0xffff;
      B[row][g] = Conv<T>::f(bits);
    }
  }
  for (int ln = 0; ln < 32; ln++) {
    int g = ln >> 2, t = ln % 4;
    for (int i = 0; i < 4; i++) {
      int row = i < 2 ? g : g + 8, col = t * 2 + (i & 1);
      double s = w->c[ln][i];
      for (int k = 0; k < 16; k++) s += (double)A[row][k] * B[k][col];
      w->d[ln][i] = (float)s;
    }
  }
}

template <typename T> inline void mma_emul(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  WarpCtx *w = warp_ctx; unsigned l = lane_id();
  for (int i = 0; i < 4; i++) w->a[l][i] = a[i], w->c[l][i] = c[i];
  for (int i = 0; i < 2; i++) w->b[l][i] = b[i];
  unsigned long round = ++w->lane_round[l];
  w->bar->arrive_and_wait();
  if (w->round_done != round) {
    mma_compute<T>(w);
    w->round_done = round;
  }
  float out[4];
  for (int i = 0; i < 4; i++) out[i] = w->d[l][i];
  w->bar->arrive_and_wait();
  for (int i = 0; i < 4; i++) c[i] = out[i];
}

template <> struct Elem<__half> {
  static float to_float(__half x) { return f16_to_f32(x.bits); }
  static __half from_float(float x) { return {f32_to_f16(x)}; }
  static uint32_t pack(float lo, float hi) { return f32_to_f16(lo) | ((uint32_t)f32_to_f16(hi) << 16); }
  static float sum2(uint32_t p) { return f16_to_f32(p & 0xffff) + f16_to_f32(p >> 16); }
  static void mma(float c[4], const uint32_t a[4], const uint32_t b[2]) { mma_emul<__half>(c, a, b); }
};
template <> struct Elem<__nv_bfloat16> {
  static float to_float(__nv_bfloat16 x) { return bf16_to_f32(x.bits); }
  static __nv_bfloat16 from_float(float x) { return {f32_to_bf16(x)}; }
  static uint32_t pack(float lo, float hi) { return f32_to_bf16(lo) | ((uint32_t)f32_to_bf16(hi) << 16); }
  static float sum2(uint32_t p) { return bf16_to_f32(p & 0xffff) + bf16_to_f32(p >> 16); }
  static void mma(float c[4], const uint32_t a[4], const uint32_t b[2]) { mma_emul<__nv_bfloat16>(c, a, b); }
};

// ---- cp.async: per-thread groups, landing early (at issue) or late (at wait) ----
extern bool cp_late; // true: copies land only when waited for
extern unsigned char *smem_lo, *smem_hi; // the block's shared memory
extern const unsigned char *gmem_lo, *gmem_hi; // any allocation may be a source: checked loosely
void cp_check(void *dst, const void *src);

inline void cp_land(const PendingCopy &p) {
  if (p.valid) memcpy(p.dst, p.src, 16); else memset(p.dst, 0, 16);
}
inline void cp_async16(void *smem, const void *gmem, bool valid) {
  assert(((uintptr_t)smem % 16) == 0 && "cp.async dst not 16-byte aligned");
  assert(((uintptr_t)gmem % 16) == 0 && "cp.async src not 16-byte aligned");
  cp_check(smem, valid ? gmem : nullptr);
  PendingCopy p{smem, gmem, valid};
  if (cp_late) cp_state.open.push_back(p); else cp_land(p);
}
inline void cp_async_commit() { cp_state.groups.push_back(cp_state.open); cp_state.open.clear(); }
template <int n> inline void cp_async_wait() {
  auto &gs = cp_state.groups;
  while ((int)gs.size() > n) { for (auto &p : gs.front()) cp_land(p); gs.erase(gs.begin()); }
}

// ---- ldmatrix ----
inline void ldmatrix_emul(uint32_t r[4], const void *p, bool trans) {
  WarpCtx *w = warp_ctx; unsigned l = lane_id();
  assert(((uintptr_t)p % 16) == 0 && "ldmatrix row address not 16-byte aligned");
  assert((unsigned char *)p >= smem_lo && (unsigned char *)p + 16 <= smem_hi && "ldmatrix outside shared memory");
  w->addr[l] = p; w->bar->arrive_and_wait();
  uint32_t out[4];
  for (int i = 0; i < 4; i++) {
    uint16_t e[2];
    for (int j = 0; j < 2; j++) {
      int row, col;
      if (!trans) { row = l / 4; col = 2 * (l % 4) + j; }
      else { row = 2 * (l % 4) + j; col = l / 4; }
      memcpy(&e[j], (const unsigned char *)w->addr[8 * i + row] + 2 * col, 2);
    }
    out[i] = e[0] | ((uint32_t)e[1] << 16);
  }
  w->bar->arrive_and_wait();
  for (int i = 0; i < 4; i++) r[i] = out[i];
}
inline void ldmatrix_x4(uint32_t r[4], const void *p) { ldmatrix_emul(r, p, false); }
inline void ldmatrix_x4_trans(uint32_t r[4], const void *p) { ldmatrix_emul(r, p, true); }

enum Activation { ACT_NONE = 0, ACT_SILU = 1, ACT_GELU = 2 };
// Or-ed into gemm.cu's act: the residual is added before the activation.
enum { ACT_AFTER_RESIDUAL = 8 };
// exp2_ftz: the host's exp2, with results below FLT_MIN flushed to zero
// as ex2.approx.ftz does.
inline float exp2_ftz(float x) {
  float y = std::exp2(x);
  return y < 1.17549435e-38f ? 0.0f : y;
}

inline float activate(float x, int act) {
  if (act == ACT_SILU) return x / (1.0f + expf(-x));
  if (act == ACT_GELU) return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
  return x;
}
