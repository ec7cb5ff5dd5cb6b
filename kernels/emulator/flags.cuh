// Host emulation of kernels/cuda/flags.cuh. Blocks run one at a time in
// increasing index (runtime.cpp), so a flag a block waits for was raised by
// an earlier block or never will be: waiting on a lowered flag is reported
// as the deadlock it would be, not spun on.
#pragma once
#include "cuda_host.h"
#include <cstdio>
#include <cstdlib>

namespace flags {

inline void raise(int *flag) {
  __syncthreads();
  if (threadIdx.x == 0) *flag = 1;
}

inline void wait_and_clear(int *flag) {
  if (*flag == 0) {
    fprintf(stderr, "block %u waits for a flag no earlier block raised: a deadlock on a GPU\n", blockIdx.x);
    abort();
  }
  *flag = 0;
}

inline void store4(float *p, float a, float b, float c, float d) {
  assert(((uintptr_t)p % 16) == 0 && "float4 store not 16-byte aligned");
  p[0] = a, p[1] = b, p[2] = c, p[3] = d;
}
inline void load4(const float *p, float out[4]) {
  assert(((uintptr_t)p % 16) == 0 && "float4 load not 16-byte aligned");
  for (int i = 0; i < 4; i++) out[i] = p[i];
}

} // namespace flags
