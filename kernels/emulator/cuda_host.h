// Host emulation of the CUDA built-ins our kernels use, so their real sources
// compile as C++ and run on the CPU: one fiber per CUDA thread (see
// runtime.cpp), a block barrier for __syncthreads, a warp barrier for the
// warp collectives. cuda_fp16.h and cuda_bf16.h here include only this file.
#pragma once
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#define __device__
#define __host__
#define __global__
#define __forceinline__ inline
#define TILE_NOINLINE // gemm_tile.cuh: a plain call here (the host compiler inlines as it likes)
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

// __shared__: every thread of a block must see the same array. Static
// `__shared__ float x[N]` becomes a function-level static (blocks run one at
// a time) in section emu_shared, which the runtime poisons with NaN before
// each block (GCC drops the attribute in templates: the build script moves
// those sections). `extern __shared__` (dynamic shared memory) cannot
// be static; it names runtime.cpp's smem_raw or smem. C++ cannot tell the two
// forms apart, so scripts/kernels-emulate.sh builds each source with
// EMU_DYNAMIC_SHARED when it uses the extern form (no source uses both).
#ifdef EMU_DYNAMIC_SHARED
#define __shared__
#else
#define __shared__ static __attribute__((section("emu_shared")))
#endif

// ---- launch geometry ----
struct dim3u {
  unsigned x, y, z;
  dim3u(unsigned x = 1, unsigned y = 1, unsigned z = 1) : x(x), y(y), z(z) {}
};
extern dim3u blockIdx, blockDim, gridDim; // the same for every thread of a block

// ---- small vector and integer helpers ----
struct uint4 {
  uint32_t x, y, z, w;
} __attribute__((aligned(16)));
inline uint4 make_uint4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return {a, b, c, d}; }
struct float2 {
  float x, y;
} __attribute__((aligned(8)));
inline float2 make_float2(float x, float y) { return {x, y}; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline float __uint_as_float(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// ---- math: the host's float functions (expf, erff, fmaxf from <cmath>)
// stand in for the device's; the device's are within 2 ulp of them ----
inline float __expf(float x) { return std::exp(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

// ---- storage types and conversions (round to nearest even) ----
struct __half {
  uint16_t bits;
};
struct __nv_bfloat16 {
  uint16_t bits;
};

// Bit manipulation, not libm (ldexp, frexp) that made conversions the bulk of
// an emulated run; scripts/kernels-emulate.sh checks every 16-bit pattern
// against an independent decoder.
inline float f16_to_f32(uint16_t h) {
  uint32_t s = uint32_t(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 1023, u;
  if (e == 0) { // zero or subnormal: m units of 2^-24, exact in float
    float v = (float)m * 5.9604644775390625e-8f;
    memcpy(&u, &v, 4);
    u |= s;
  } else if (e == 31) u = s | (m ? 0x7fc00000u : 0x7f800000u); // NaN (quiet) or infinity
  else u = s | ((e + 112) << 23) | (m << 13);
  float f;
  memcpy(&f, &u, 4);
  return f;
}
inline uint16_t f32_to_f16(float f) { // round to nearest even
  uint32_t x;
  memcpy(&x, &f, 4);
  uint16_t s = (x >> 16) & 0x8000;
  x &= 0x7fffffff;
  if (x > 0x7f800000) return 0x7e00;        // NaN
  if (x >= 0x477ff000) return s | 0x7c00;   // >= 65520 rounds to infinity
  if (x < 0x38800000) {                     // below 2^-14: subnormal, units of 2^-24
    float a;
    memcpy(&a, &x, 4);
    return s | (uint16_t)std::nearbyint(a * 16777216.0f); // exact scaling, then the FPU's ties-to-even
  }
  uint32_t h = ((x >> 23) - 112) << 10 | ((x >> 13) & 1023), rest = x & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; // a carry into the exponent is right
  return s | (uint16_t)h;
}
inline float bf16_to_f32(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if (std::isnan(f)) return 0x7fc0;
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

inline float __half2float(__half x) { return f16_to_f32(x.bits); }
inline __half __ushort_as_half(unsigned short b) { return {b}; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short b) { return {b}; }
inline __half __float2half_rn(float x) { return {f32_to_f16(x)}; }
inline float __bfloat162float(__nv_bfloat16 x) { return bf16_to_f32(x.bits); }
inline __nv_bfloat16 __float2bfloat16_rn(float x) { return {f32_to_bf16(x)}; }

// ---- barriers and warp collectives ----
// A barrier among the fibers of a block (runtime.cpp): arrive_and_wait
// switches to the other fibers until all live members have arrived;
// arrive_and_drop (a thread that exits) leaves it for good.
struct EmuBarrier {
  unsigned live = 0, count = 0, gen = 0;
  void arrive_and_wait();
  void arrive_and_drop();
};
// Each warp has a context with its own barrier (sized to the warp's live
// threads) and exchange slots; lanes write, meet, read, meet again.
struct WarpCtx {
  EmuBarrier *bar;
  const void *addr[32];
  uint32_t a[32][4], b[32][2];
  float c[32][4], sh[32];
  // mma: the first lane past the barrier computes every lane's result
  float d[32][4];
  unsigned long lane_round[32], round_done;
};
// cp.async state of one thread (mma.cuh): pending copies per commit group.
struct PendingCopy { void *dst; const void *src; bool valid; };
struct CpState { std::vector<std::vector<PendingCopy>> groups; std::vector<PendingCopy> open; };
// The running CUDA thread. Fibers share one OS thread, so what CUDA keeps
// per thread lives here and the scheduler points emu_thread at the fiber it
// resumes; threadIdx is a macro for its index.
struct EmuThread {
  dim3u idx;
  unsigned rank; // linear index of the thread in its block
  WarpCtx *warp;
  CpState cp;
};
extern EmuThread *emu_thread;
#define threadIdx (emu_thread->idx)
#define warp_ctx (emu_thread->warp)
#define thread_rank (emu_thread->rank)
#define cp_state (emu_thread->cp)
extern EmuBarrier *block_bar;
// Atomics, fences and cache-hinted loads: blocks run one at a time and a
// block's threads are fibers on one host thread, so a plain read-modify-write
// is atomic and every store is visible to the next load at once.
inline int atomicAdd(int *p, int v) {
  int old = *p;
  *p = old + v;
  return old;
}
inline unsigned atomicAdd(unsigned *p, unsigned v) {
  unsigned old = *p;
  *p = old + v;
  return old;
}
inline void __threadfence() {}
template <typename T> inline T __ldcg(const T *p) { return *p; }

inline void __syncthreads() { block_bar->arrive_and_wait(); }
inline unsigned lane_id() { return thread_rank % 32; }

inline float __shfl_xor_sync(unsigned, float v, int m) {
  WarpCtx *w = warp_ctx;
  unsigned l = lane_id();
  w->sh[l] = v;
  w->bar->arrive_and_wait();
  float r = w->sh[l ^ m];
  w->bar->arrive_and_wait();
  return r;
}

inline float __shfl_sync(unsigned, float v, int src) {
  WarpCtx *w = warp_ctx;
  unsigned l = lane_id();
  w->sh[l] = v;
  w->bar->arrive_and_wait();
  float r = w->sh[src & 31];
  w->bar->arrive_and_wait();
  return r;
}

struct float4 {
  float x, y, z, w;
} __attribute__((aligned(16)));
inline float4 __ldg(const float4 *p) { return *p; }
inline float2 __ldg(const float2 *p) { return *p; }
