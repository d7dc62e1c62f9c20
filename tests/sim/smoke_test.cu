// A first end-to-end check: a block reduction with shuffles, shared memory and a
// barrier, over many blocks with atomics.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

namespace {

__global__ void sum_blocks(const float* in, float* out, int n) {
  __shared__ float partial[32];
  float v = 0.0f;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) v += in[i];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0) atomicAdd(out, v);
  }
}

TEST(Smoke, BlockReductionWithAtomics) {
  const int n = 100003;
  std::vector<float> h(n);
  for (int i = 0; i < n; ++i) h[i] = float(i % 7) - 2.0f;
  double expect = 0;
  for (float x : h) expect += x;
  float *d = nullptr, *out = nullptr;
  ASSERT_EQ(cudaMalloc(&d, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&out, sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemset(out, 0, sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d, h.data(), n * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(37);
  cfg.blockDim = dim3(256);
  ASSERT_EQ(cudaLaunchKernelEx(&cfg, sum_blocks, static_cast<const float*>(d), out, n), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  float r = 0;
  ASSERT_EQ(cudaMemcpy(&r, out, sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_NEAR(r, expect, 1e-3);
  cudaFree(d);
  cudaFree(out);
}

}  // namespace
