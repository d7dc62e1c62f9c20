// Sum of n floats: warp shuffles, then one value per warp through shared memory,
// then a second single-block pass over the per-block partials, so the result does
// not depend on block scheduling (no float atomics).
#pragma once
#include "kernels/common.cuh"

namespace GP_KERNEL_NS {

constexpr unsigned kReduceBlock = 256;

__device__ __forceinline__ float warp_reduce_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over the block, valid in thread 0. Every thread of the block must call it;
// blockDim.x must be a multiple of 32.
__device__ __forceinline__ float block_reduce_sum(float v) {
  __shared__ float warp_sums[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce_sum(v);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? warp_sums[lane] : 0.0f;
  if (warp == 0) v = warp_reduce_sum(v);
  return v;
}

// Workspace floats reduce_sum needs for n inputs.
size_t reduce_sum_workspace(size_t n);
// *out = sum of x[0..n). `workspace` holds reduce_sum_workspace(n) floats.
cudaError_t reduce_sum(const float* x, size_t n, float* workspace, float* out, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
