// channels.cuh: an NHWC tensor whose channels come from one or two tensors,
// laid out as torch.cat([a, b], dim=channels) would lay them out, without
// the concatenation ever being written. A UNet up block's ResBlock reads
// cat(h, skip) this way: its GroupNorm statistics (norm.cu), its first
// convolution and its skip connection (conv.cu) read h and skip directly.
#pragma once

#include "common.cuh"

template <typename T> struct Channels {
  const T *a, *b; // channels [0, Ca) of each pixel from a, [Ca, C) from b (null when Ca == C)
  int Ca, C;

  // at is the address of channel c of pixel p (p counts pixels over the
  // batch: (image·H + y)·W + x). When Ca and C − Ca are multiples of 8, an
  // 8-channel chunk starting at a multiple of 8 lies wholly in one source.
  __device__ __forceinline__ const T *at(size_t p, int c) const {
    return c < Ca ? a + p * Ca + c : b + p * (C - Ca) + (c - Ca);
  }
};

// one_source is x alone: C channels, all from x.
template <typename T> __device__ __forceinline__ Channels<T> one_source(const T *x, int C) {
  return Channels<T>{x, nullptr, C, C};
}
