// mma.cuh: tensor-core building blocks shared by the fast kernels (gemm.cu,
// conv.cu, attention.cu). Everything here targets sm_80 features, which
// sm_90 runs unchanged: cp.async (global->shared copies that bypass
// registers), ldmatrix (shared->register fragment loads) and
// mma.sync.m16n8k16 with fp32 accumulation.
//
// Fragment layouts of mma.m16n8k16 (g = lane/4, t = lane%4), which every
// caller relies on:
//   A 16x16 (row-major): a0=(g, 2t..2t+1) a1=(g+8, 2t..) a2=(g, 2t+8..) a3=(g+8, 2t+8..)
//   B 16x8  (col-major): b0=(k 2t..2t+1, n g)  b1=(k 2t+8.., n g)
//   C 16x8  (fp32):      c0,c1=(g, 2t..2t+1)   c2,c3=(g+8, 2t..2t+1)
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

// ---- element type traits: fp16 and bf16 share every kernel via templates ----

template <typename T> struct Elem;

template <> struct Elem<__half> {
  static __device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
  static __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }
  // pack puts lo in the low 16 bits: the element with the lower index.
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&h);
  }
  // sum2 widens both elements of a packed pair and adds them.
  static __device__ __forceinline__ float sum2(uint32_t p) {
    return __half2float(__ushort_as_half((unsigned short)(p & 0xffff))) +
           __half2float(__ushort_as_half((unsigned short)(p >> 16)));
  }
  static __device__ __forceinline__ void mma(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

template <> struct Elem<__nv_bfloat16> {
  static __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
  static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&h);
  }
  // bf16 is the top half of an fp32: widening is a shift.
  static __device__ __forceinline__ float sum2(uint32_t p) {
    return __uint_as_float(p << 16) + __uint_as_float(p & 0xffff0000u);
  }
  static __device__ __forceinline__ void mma(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

// ---- asynchronous copies ----

__device__ __forceinline__ uint32_t smem_u32(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// cp_async16 copies 16 bytes global->shared, or writes 16 zero bytes when
// valid is false (src-size 0 reads nothing; src must still be a legal
// address, callers pass the tensor base). Both addresses must be 16-byte
// aligned: launchers check that rows are multiples of 8 elements.
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
  int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(smem)), "l"(gmem),
               "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// cp_async_wait blocks until at most n committed groups are still in flight.
template <int n> __device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(n));
}

// ---- shared -> register fragment loads ----

// ldmatrix_x4 loads four 8x8 b16 matrices; lane l supplies the address of
// row l%8 of matrix l/8, and receives in r[i] its two elements of matrix i.
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}

// ldmatrix_x4_trans is ldmatrix_x4 delivering each matrix transposed: lane l
// receives in r[i] the elements at column l/4 of rows 2(l%4) and 2(l%4)+1 of
// matrix i as stored, which for a key-major V tile is the mma B fragment
// b0/b1 (two consecutive keys k, one output column n).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}

// ---- fast math ----

// exp2_ftz is one MUFU.EX2: 2^x with relative error ~2^-22 and denormal
// results flushed to zero. The softmax feeds it x <= 0 only, where a result
// below 2^-126 is a weight of zero anyway; exp2f without fast-math adds
// the denormal handling around the same instruction.
__device__ __forceinline__ float exp2_ftz(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// ---- epilogue activations (shared with the launchers' Activation enum) ----

enum Activation { ACT_NONE = 0, ACT_SILU = 1, ACT_GELU = 2 };
// Or-ed into gemm.cu's act: the residual is added before the activation.
enum { ACT_AFTER_RESIDUAL = 8 };

__device__ __forceinline__ float activate(float x, int act) {
  if (act == ACT_SILU) return x / (1.0f + __expf(-x));
  if (act == ACT_GELU) return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
  return x;
}
