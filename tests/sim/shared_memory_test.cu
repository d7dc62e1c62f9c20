// Shared memory: the 48 KB default limit on dynamic shared memory and the opt-in with
// cudaFuncSetAttribute up to 232448 bytes (all of it usable), static __shared__
// arrays private to each block while blocks run in parallel, static and dynamic
// together, alignment, and garbage (not zeros) in dynamic shared memory at block start.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

extern __shared__ __align__(16) unsigned char dynamic_smem[];

namespace sim_shared {
using namespace simtest;

// Every thread writes words of the whole `bytes`, then checks the words at the mirrored
// positions (written by other threads); mismatches are counted in *bad. The Tag gives
// each test its own function, because the opt-in attribute belongs to the function.
template <int Tag> __global__ void use_all_dynamic(unsigned bytes, unsigned* bad) {
  unsigned* w = reinterpret_cast<unsigned*>(dynamic_smem);
  const unsigned words = bytes / 4, salt = blockIdx.x * 7919u + unsigned(Tag);
  for (unsigned i = threadIdx.x; i < words; i += blockDim.x) w[i] = simtest::mix(i ^ salt);
  if (threadIdx.x == 0 && bytes % 4) dynamic_smem[bytes - 1] = 0x5a;  // the very last byte
  __syncthreads();
  unsigned errors = 0;
  for (unsigned i = threadIdx.x; i < words; i += blockDim.x) {
    const unsigned j = words - 1 - i;
    if (w[j] != simtest::mix(j ^ salt)) ++errors;
  }
  if (threadIdx.x == blockDim.x - 1 && bytes % 4 && dynamic_smem[bytes - 1] != 0x5a) ++errors;
  if (errors) atomicAdd(bad, errors);
}

class SharedMemory : public SimTest {
 protected:
  template <int Tag> void run_and_check(unsigned bytes, unsigned blocks = 3, unsigned threads = 256) {
    DeviceBuffer<unsigned> bad(1);
    bad.fill_bytes(0);
    auto cfg = launch_config(dim3(blocks), dim3(threads), bytes);
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, use_all_dynamic<Tag>, bytes, bad.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    EXPECT_EQ(bad.download()[0], 0u) << bytes << " bytes";
  }
  template <int Tag> void expect_over_limit(unsigned bytes, size_t limit) {
    DeviceBuffer<unsigned> bad(1);
    auto cfg = launch_config(dim3(1), dim3(32), bytes);
    EXPECT_EQ(cudaLaunchKernelEx(&cfg, use_all_dynamic<Tag>, bytes, bad.get()), cudaErrorInvalidValue);
    EXPECT_TRUE(MessageHas({"use_all_dynamic", std::to_string(bytes) + " bytes of dynamic shared memory",
                            "limit is " + std::to_string(limit), "cudaFuncAttributeMaxDynamicSharedMemorySize"}));
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // nothing ran, nothing pending
  }
};

TEST_F(SharedMemory, DefaultLimitIs48KB) {
  run_and_check<1>(49152);
  run_and_check<1>(1);
  run_and_check<1>(4093);
  expect_over_limit<1>(49153, 49152);
  run_and_check<1>(49152);  // the error was not sticky
}

TEST_F(SharedMemory, SixtyKBNeedsTheOptInAttribute) {
  expect_over_limit<2>(61440, 49152);
  SIM_ASSERT_CUDA(cudaFuncSetAttribute(use_all_dynamic<2>, cudaFuncAttributeMaxDynamicSharedMemorySize, 61440));
  run_and_check<2>(61440);
  run_and_check<2>(1000);
  expect_over_limit<2>(61441, 61440);
}

TEST_F(SharedMemory, FullOptInOf232448BytesIsUsable) {
  SIM_ASSERT_CUDA(cudaFuncSetAttribute(use_all_dynamic<3>, cudaFuncAttributeMaxDynamicSharedMemorySize, 232448));
  run_and_check<3>(232448, 4, 1024);
  expect_over_limit<3>(232449, 232448);
}

TEST_F(SharedMemory, OptInAbove232448IsRejected) {
  for (int v : {232449, 1 << 20, -1}) {
    EXPECT_EQ(cudaFuncSetAttribute(use_all_dynamic<4>, cudaFuncAttributeMaxDynamicSharedMemorySize, v),
              cudaErrorInvalidValue);
    EXPECT_TRUE(MessageHas({"MaxDynamicSharedMemorySize", std::to_string(v), "232448"}));
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  }
  expect_over_limit<4>(49153, 49152);  // the failed calls left the default limit
}

// Each block claims static shared variables and checks, across many barriers, that no
// other block (running at the same time on another worker) changed them.
__device__ unsigned device_helper_sum(unsigned v) {
  __shared__ unsigned partial[8];  // static shared memory in a __device__ function
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = 0;
  __syncthreads();
  atomicAdd(&partial[threadIdx.x / 32], v);
  __syncthreads();
  unsigned s = 0;
  for (unsigned w = 0; w < blockDim.x / 32; ++w) s += partial[w];
  __syncthreads();
  return s;
}

__global__ void static_shared_private(unsigned rounds, unsigned* bad, unsigned* sums) {
  __shared__ unsigned owner;
  __shared__ unsigned values[256];
  __shared__ double doubles[64];
  unsigned errors = 0;
  for (unsigned r = 0; r < rounds; ++r) {
    if (threadIdx.x == 0) owner = blockIdx.x;
    values[threadIdx.x] = blockIdx.x * 1000 + r + threadIdx.x;
    if (threadIdx.x < 64) doubles[threadIdx.x] = double(blockIdx.x) + r * 0.5;
    __syncthreads();
    if (owner != blockIdx.x) ++errors;
    if (values[(threadIdx.x + 1) % blockDim.x] != blockIdx.x * 1000 + r + (threadIdx.x + 1) % blockDim.x) ++errors;
    if (doubles[threadIdx.x % 64] != double(blockIdx.x) + r * 0.5) ++errors;
    __syncthreads();
  }
  const unsigned s = device_helper_sum(blockIdx.x + threadIdx.x);
  if (threadIdx.x == 0) sums[blockIdx.x] = s;
  if (errors) atomicAdd(bad, errors);
}

TEST_F(SharedMemory, StaticSharedArraysArePrivateToEachBlock) {
  const unsigned blocks = 64, threads = 256;
  DeviceBuffer<unsigned> bad(1), sums(blocks);
  bad.fill_bytes(0);
  auto cfg = launch_config(dim3(blocks), dim3(threads));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, static_shared_private, 20u, bad.get(), sums.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_EQ(bad.download()[0], 0u);
  const std::vector<unsigned> s = sums.download();
  for (unsigned b = 0; b < blocks; ++b) EXPECT_EQ(s[b], b * threads + threads * (threads - 1) / 2) << b;
}

// Transpose through a static padded tile, with the row sums of each tile accumulated
// in dynamic shared memory (float4 accesses check its 16-byte alignment).
__global__ void transpose_with_row_sums(const float* in, float* out, float* row_sums, int rows, int cols) {
  __shared__ float tile[32][33];
  float4* sums4 = reinterpret_cast<float4*>(dynamic_smem);
  float* sums = reinterpret_cast<float*>(dynamic_smem);
  const int x = int(blockIdx.x) * 32 + int(threadIdx.x);
  const int y0 = int(blockIdx.y) * 32;
  if (threadIdx.y == 0 && threadIdx.x < 8) sums4[threadIdx.x] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  __syncthreads();
  for (int j = int(threadIdx.y); j < 32; j += int(blockDim.y)) {
    const float v = in[(y0 + j) * cols + x];
    tile[j][threadIdx.x] = v;
    atomicAdd(&sums[j], v);
  }
  __syncthreads();
  const int ox = y0 + int(threadIdx.x);
  for (int j = int(threadIdx.y); j < 32; j += int(blockDim.y))
    out[(int(blockIdx.x) * 32 + j) * rows + ox] = tile[threadIdx.x][j];
  if (threadIdx.y == 0) atomicAdd(&row_sums[y0 + int(threadIdx.x)], sums[threadIdx.x]);
  if (threadIdx.x == 0 && threadIdx.y == 0 && reinterpret_cast<uintptr_t>(dynamic_smem) % 16 != 0) row_sums[0] = -1e30f;
}

TEST_F(SharedMemory, StaticAndDynamicTogether) {
  const int rows = 96, cols = 160;
  std::vector<float> h(rows * cols);
  for (int i = 0; i < rows * cols; ++i) h[i] = float(int(mix(unsigned(i)) % 512) - 256) * 0.5f;
  DeviceBuffer<float> in(h), out(h.size()), sums(rows);
  sums.fill_bytes(0);
  auto cfg = launch_config(dim3(cols / 32, rows / 32), dim3(32, 8), 32 * sizeof(float));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, transpose_with_row_sums, static_cast<const float*>(in.get()), out.get(),
                                     sums.get(), rows, cols));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<float> t = out.download(), s = sums.download();
  for (int r = 0; r < rows; ++r) {
    float row = 0;
    for (int c = 0; c < cols; ++c) {
      ASSERT_EQ(t[c * rows + r], h[r * cols + c]) << r << "," << c;
      row += h[r * cols + c];
    }
    EXPECT_EQ(s[r], row) << r;  // exact: multiples of 1/2
  }
}

// Each block reports how many of the first `bytes` bytes of dynamic shared memory were
// zero before it wrote anything, then zeroes them all: a block that ran later on the
// same worker must still start from garbage.
__global__ void smem_at_block_start(unsigned bytes, unsigned* zero_bytes) {
  __shared__ unsigned zeros;
  if (threadIdx.x == 0) zeros = 0;
  __syncthreads();
  unsigned z = 0;
  for (unsigned i = threadIdx.x; i < bytes; i += blockDim.x) z += dynamic_smem[i] == 0;
  atomicAdd(&zeros, z);
  __syncthreads();
  for (unsigned i = threadIdx.x; i < bytes; i += blockDim.x) dynamic_smem[i] = 0;
  if (threadIdx.x == 0) zero_bytes[blockIdx.x] = zeros;
}

TEST_F(SharedMemory, DynamicSharedMemoryStartsAsGarbage) {
  const unsigned blocks = 200, bytes = 4096;
  DeviceBuffer<unsigned> zero_bytes(blocks);
  auto cfg = launch_config(dim3(blocks), dim3(128), bytes);
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, smem_at_block_start, bytes, zero_bytes.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned> z = zero_bytes.download();
  for (unsigned b = 0; b < blocks; ++b) EXPECT_LT(z[b], bytes / 2) << "block " << b << " found zeroed shared memory";
}

}  // namespace sim_shared
