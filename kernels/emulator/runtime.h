#pragma once
#include "mma.cuh"
#include <cstdio>
#include <cstdlib>
#include <functional>

// launch runs fn on every thread of every block of grid, one block at a
// time, each block's threads concurrently (threadIdx, blockIdx, blockDim and
// gridDim set as CUDA would). shared is the dynamic shared memory in bytes.
void launch(dim3u grid, dim3u block, size_t shared, const std::function<void()> &fn);
// gregister registers host memory as "global" for the cp.async source check.
void gregister(const void *p, size_t bytes);
void greset();
