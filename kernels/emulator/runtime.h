#pragma once
#include "mma.cuh"
#include <cstdio>
#include <cstdlib>
#include <functional>

// launch runs fn on every thread of every block of grid, one block at a
// time, each block's threads as fibers that switch at barriers and warp
// collectives (threadIdx, blockIdx, blockDim and gridDim set as CUDA would).
// shared is the dynamic shared memory in bytes.
void launch(dim3u grid, dim3u block, size_t shared, const std::function<void()> &fn);
// gregister registers host memory as "global" for the cp.async source check.
void gregister(const void *p, size_t bytes);
void gunregister(const void *p);
void greset();
// gcontains reports whether [p, p+bytes) lies inside one registered allocation.
bool gcontains(const void *p, size_t bytes);
