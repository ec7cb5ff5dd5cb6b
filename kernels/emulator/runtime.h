#pragma once
#include "mma.cuh"
#include <functional>
#include <thread>
#include <memory>
#include <cstdio>
#include <cstdlib>

// launch runs fn on every thread of every block, one block at a time.
void launch(dim3u grid, unsigned threads, size_t shared, const std::function<void()> &fn);
// galloc registers host memory as "global" for the cp.async source check.
void gregister(const void *p, size_t bytes);
void greset();
