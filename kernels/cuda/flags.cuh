// flags.cuh: the handshake between blocks of one launch (streamk.cu): a
// block publishes float32 partial sums and raises its flag; another block
// waits for the flag, then reads the sums. Only safe when the waiting block
// can never keep the raising one from running: the launcher sizes the grid
// to the blocks the device holds at once (occupancy query), and a block
// waits only for blocks of lower index (the emulation runs blocks in index
// order, kernels/emulator/flags.cuh).
#pragma once

namespace flags {

// raise publishes every write this block made before it: each thread
// fences its own writes, the barrier orders them before thread 0's release.
__device__ __forceinline__ void raise(int *flag) {
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) asm volatile("st.release.gpu.global.s32 [%0], %1;\n" ::"l"(flag), "r"(1) : "memory");
}

// wait_and_clear (thread 0 only) spins until *flag is raised, then lowers
// it for the next launch; the caller's barrier then orders every thread's
// reads of the published data after the acquire.
__device__ __forceinline__ void wait_and_clear(int *flag) {
  int v;
  do {
    asm volatile("ld.acquire.gpu.global.s32 %0, [%1];\n" : "=r"(v) : "l"(flag) : "memory");
  } while (v == 0);
  *flag = 0; // read again only by the next launch, which stream order puts after this one
}

// store4 / load4 move four floats through L2 (st.cg / ld.cg): data another
// SM publishes must not come from this SM's L1.
__device__ __forceinline__ void store4(float *p, float a, float b, float c, float d) {
  __stcg(reinterpret_cast<float4 *>(p), make_float4(a, b, c, d));
}
__device__ __forceinline__ void load4(const float *p, float out[4]) {
  const float4 v = __ldcg(reinterpret_cast<const float4 *>(p));
  out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
}

} // namespace flags
