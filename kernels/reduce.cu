#include "kernels/reduce.cuh"

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kMaxReduceBlocks = 1024;

__global__ void __launch_bounds__(kReduceBlock)
    reduce_sum_blocks(const float* __restrict__ x, size_t n, float* __restrict__ partial) {
  float v = 0.0f;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) v += x[i];
  v = block_reduce_sum(v);
  if (threadIdx.x == 0) partial[blockIdx.x] = v;
}

unsigned block_count(size_t n) {
  const unsigned b = ceil_div(n, kReduceBlock);
  return b < kMaxReduceBlocks ? (b ? b : 1) : kMaxReduceBlocks;
}

}  // namespace

size_t reduce_sum_workspace(size_t n) { return block_count(n); }

cudaError_t reduce_sum(const float* x, size_t n, float* workspace, float* out, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(block_count(n));
  config.blockDim = dim3(kReduceBlock);
  config.stream = stream;
  if (cudaError_t e = cudaLaunchKernelEx(&config, reduce_sum_blocks, x, n, workspace)) return e;
  config.gridDim = dim3(1);
  return cudaLaunchKernelEx(&config, reduce_sum_blocks, static_cast<const float*>(workspace), size_t(block_count(n)),
                            out);
}

}  // namespace GP_KERNEL_NS
