// Shared helpers for gosdxl kernels: element conversions, block reductions and
// the macros that instantiate each kernel template under dtype-suffixed
// extern "C" names (f32 = float, f16 = __half, bf16 = __nv_bfloat16).
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>

__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f32<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// GRID_STRIDE(i, n) visits i = 0 .. n-1 across the whole grid. The counter
// is unsigned: n < 2^31 and the grid's stride is below 2^31, so i + stride
// stays below 2^32, where a signed int would overflow (undefined behaviour)
// on the last step when n comes within one stride of 2^31.
#define GRID_STRIDE(i, n) \
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)(n); i += gridDim.x * blockDim.x)

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// block_sum and block_max return the reduction over the whole block to every
// thread. blockDim.x must be a multiple of 32; scratch holds 32 floats. The
// leading barrier lets consecutive calls share the scratch.
__device__ __forceinline__ float block_sum(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? scratch[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    return scratch[0];
}

__device__ __forceinline__ float block_max(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? scratch[lane] : -INFINITY;
        v = warp_max(v);
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    return scratch[0];
}

// Instantiation lists: M(suffix, type) for each storage type, and
// M(act suffix, act type, param suffix, param type) for each activation ×
// parameter (weight) type pair.
#define FOR_EACH_FLOAT(M) M(f32, float) M(f16, __half) M(bf16, __nv_bfloat16)

#define FOR_EACH_FLOAT_PAIR(M)                                                   \
    M(f32, float, f32, float) M(f32, float, f16, __half)                         \
    M(f32, float, bf16, __nv_bfloat16) M(f16, __half, f32, float)                \
    M(f16, __half, f16, __half) M(f16, __half, bf16, __nv_bfloat16)              \
    M(bf16, __nv_bfloat16, f32, float) M(bf16, __nv_bfloat16, f16, __half)       \
    M(bf16, __nv_bfloat16, bf16, __nv_bfloat16)
