// linear_chain.cu: up to three Linears applied in a row to a few rows, in
// one launch: the UNet's time embedding (time_embed's two Linears, then
// every ResBlock's emb projection) costs a step three tensor-core GEMMs of
// 2–8 rows otherwise, each filling a sliver of its 64- or 128-row tiles.
//
//   h_0 = x,  h_l+1 = act_l(h_l · W_lᵀ + bias_l + residual_l)   (float32, rounded to T once)
//
// With so few rows a layer is a matrix-vector product per row: reading
// W_l is the whole cost, so each warp streams rows of W (output columns)
// and multiplies them with every input row at once.
//
// Layer l+1 reads all of h_l, which other blocks write: a grid-wide
// dependency. The blocks take work items (CHAIN_COLS output columns of one
// layer) in order from a counter; an item of layer l+1 first waits until
// every item of layer l is done. That wait can never deadlock, whatever
// the grid size or scheduling: the items it waits for were taken earlier,
// by blocks that are running, and those wait only for items taken before
// theirs. (The emulation runs blocks one after another: the first block
// then takes every item, each wait already satisfied.)
//
// The five counters (next item, items done per layer, blocks finished) are
// zero when the launch starts, as every backend semaphore is; the last
// block to finish sets them to zero again for the next launch.
#include "common.cuh"
#include "mma.cuh" // activate()

constexpr int CHAIN_MAX_ROWS = 8;
constexpr int CHAIN_THREADS = 256;
constexpr int CHAIN_WARP_COLS = 4; // output columns per warp and item
constexpr int CHAIN_COLS = CHAIN_WARP_COLS * CHAIN_THREADS / 32;
constexpr int CHAIN_MAX_LAYERS = 3;

// chain_counters indices.
enum { NEXT_ITEM = 0, LAYER_DONE = 1, BLOCKS_DONE = LAYER_DONE + CHAIN_MAX_LAYERS, CHAIN_COUNTERS };

template <typename T> struct ChainLayer {
  const T *w;        // [n, k]
  const T *bias;     // [n] or null
  const T *residual; // [rows, n] or null
  T *out;            // [rows, n]
  int n, k, act;
};

template <typename T> __device__ __forceinline__ T from_bits(unsigned short b);
template <> __device__ __forceinline__ __half from_bits<__half>(unsigned short b) { return __ushort_as_half(b); }
template <> __device__ __forceinline__ __nv_bfloat16 from_bits<__nv_bfloat16>(unsigned short b) {
  return __ushort_as_bfloat16(b);
}

// unpack8 widens 8 packed elements (the lower index in the lower bits).
template <typename T> __device__ __forceinline__ void unpack8(uint4 raw, float out[8]) {
  const uint32_t pairs[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    out[2 * i] = to_f32(from_bits<T>((unsigned short)(pairs[i] & 0xffffu)));
    out[2 * i + 1] = to_f32(from_bits<T>((unsigned short)(pairs[i] >> 16)));
  }
}

// chain_item computes columns [c0, c0 + CHAIN_COLS) of one layer for every
// row: warp w takes CHAIN_WARP_COLS of them, each lane 8 of every 256 k.
// Everything is read through L2 (__ldcg): the input because other blocks
// of this launch wrote it, the weights because each is read once.
template <typename T> __device__ void chain_item(const ChainLayer<T> &L, const T *in, int rows, int c0) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int n0 = c0 + warp * CHAIN_WARP_COLS;
  float acc[CHAIN_WARP_COLS][CHAIN_MAX_ROWS];
#pragma unroll
  for (int j = 0; j < CHAIN_WARP_COLS; j++)
#pragma unroll
    for (int m = 0; m < CHAIN_MAX_ROWS; m++) acc[j][m] = 0.f;

  for (int k = lane * 8; k < L.k; k += 32 * 8) {
    // This lane's 8 k of each of the warp's columns (zeros past n), then
    // every input row against them: the row's 8 values are live one row at
    // a time, which keeps the accumulators in registers.
    float w[CHAIN_WARP_COLS][8];
#pragma unroll
    for (int j = 0; j < CHAIN_WARP_COLS; j++) {
      if (n0 + j < L.n)
        unpack8<T>(__ldcg(reinterpret_cast<const uint4 *>(L.w + (size_t)(n0 + j) * L.k + k)), w[j]);
      else
#pragma unroll
        for (int e = 0; e < 8; e++) w[j][e] = 0.f;
    }
#pragma unroll
    for (int m = 0; m < CHAIN_MAX_ROWS; m++) {
      if (m >= rows) break;
      float x[8];
      unpack8<T>(__ldcg(reinterpret_cast<const uint4 *>(in + (size_t)m * L.k + k)), x);
#pragma unroll
      for (int j = 0; j < CHAIN_WARP_COLS; j++)
#pragma unroll
        for (int e = 0; e < 8; e++) acc[j][m] = fmaf(w[j][e], x[e], acc[j][m]);
    }
  }

#pragma unroll
  for (int j = 0; j < CHAIN_WARP_COLS; j++) {
    const int n = n0 + j;
#pragma unroll
    for (int m = 0; m < CHAIN_MAX_ROWS; m++) {
      if (m >= rows) break;
      const float s = warp_sum(acc[j][m]);
      if (lane == 0 && n < L.n) {
        float v = s;
        if (L.bias) v += to_f32(L.bias[n]);
        if (L.residual) v += to_f32(L.residual[(size_t)m * L.n + n]);
        L.out[(size_t)m * L.n + n] = from_f32<T>(activate(v, L.act));
      }
    }
  }
}

// wait_for (thread 0) spins until *count reaches target; the fence then
// orders this block's later reads after the writes the count announced.
__device__ __forceinline__ void wait_for(int *count, int target) {
  while (*reinterpret_cast<volatile int *>(count) < target) {
  }
  __threadfence();
}

template <typename T> __device__ __forceinline__ int chain_items(const ChainLayer<T> &L) {
  return (L.n + CHAIN_COLS - 1) / CHAIN_COLS;
}

// linear_chain runs the layers L0, L1 (layers >= 2) and L2 (layers == 3).
// The three are separate values rather than an array so that selecting one
// stays in registers (an indexed array would go to local memory).
template <typename T>
__device__ void linear_chain(const T *x, int rows, int layers, const ChainLayer<T> &L0, const ChainLayer<T> &L1,
                             const ChainLayer<T> &L2, int *counters) {
  __shared__ int item_s[1];
  const int i0 = chain_items(L0), i1 = layers > 1 ? chain_items(L1) : 0, i2 = layers > 2 ? chain_items(L2) : 0;
  for (;;) {
    if (threadIdx.x == 0) item_s[0] = atomicAdd(counters + NEXT_ITEM, 1);
    __syncthreads();
    const int item = item_s[0];
    __syncthreads(); // item_s is rewritten by the next round
    if (item >= i0 + i1 + i2) break;
    const int l = item < i0 ? 0 : item < i0 + i1 ? 1 : 2;
    if (l > 0 && threadIdx.x == 0) wait_for(counters + LAYER_DONE + l - 1, l == 1 ? i0 : i1);
    __syncthreads();
    // One call site for the three layers (inlined three times, the
    // unrolled body would triple the module): the layer picked field by
    // field, which keeps it in registers.
    const ChainLayer<T> cur = {l == 0 ? L0.w : l == 1 ? L1.w : L2.w,
                               l == 0 ? L0.bias : l == 1 ? L1.bias : L2.bias,
                               l == 0 ? L0.residual : l == 1 ? L1.residual : L2.residual,
                               l == 0 ? L0.out : l == 1 ? L1.out : L2.out,
                               l == 0 ? L0.n : l == 1 ? L1.n : L2.n,
                               l == 0 ? L0.k : l == 1 ? L1.k : L2.k,
                               l == 0 ? L0.act : l == 1 ? L1.act : L2.act};
    const T *in = l == 0 ? x : l == 1 ? L0.out : L1.out;
    chain_item(cur, in, rows, (item - (l > 0 ? i0 : 0) - (l > 1 ? i1 : 0)) * CHAIN_COLS);
    // Publish: every thread's stores, then the count.
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) atomicAdd(counters + LAYER_DONE + l, 1);
  }
  // Every block has taken its last item once it gets here: the last one
  // out re-arms the counters for the next launch.
  if (threadIdx.x == 0 && atomicAdd(counters + BLOCKS_DONE, 1) == (int)gridDim.x - 1)
    for (int i = 0; i < CHAIN_COUNTERS; i++) counters[i] = 0;
}

// Arguments: x [rows, k0], then per layer (w, bias, residual, out, n, k,
// act) for three layers (those past `layers` are ignored), then the
// counters. Launch with CHAIN_THREADS threads; rows <= CHAIN_MAX_ROWS,
// every k a multiple of 8 and every matrix 16-byte aligned.
#define LAYER_PARAMS(T, i) const T *w##i, const T *b##i, const T *r##i, T *o##i, int n##i, int k##i, int a##i
#define LINEAR_CHAIN(name, T)                                                                              \
  extern "C" __global__ void __launch_bounds__(CHAIN_THREADS)                                             \
      name(const T *x, int rows, int layers, LAYER_PARAMS(T, 0), LAYER_PARAMS(T, 1), LAYER_PARAMS(T, 2),     \
           int *counters) {                                                                                \
    linear_chain<T>(x, rows, layers, ChainLayer<T>{w0, b0, r0, o0, n0, k0, a0},                             \
                    ChainLayer<T>{w1, b1, r1, o1, n1, k1, a1}, ChainLayer<T>{w2, b2, r2, o2, n2, k2, a2},  \
                    counters);                                                                             \
  }

LINEAR_CHAIN(linear_chain_f16, __half)
LINEAR_CHAIN(linear_chain_bf16, __nv_bfloat16)
