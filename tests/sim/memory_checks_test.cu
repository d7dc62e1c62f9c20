// Device memory checks a GPU would not give so clearly: kernel pointer arguments must
// be null or point into a live cudaMalloc allocation (host and freed pointers are
// rejected, naming the kernel and the argument); cudaMemcpy/cudaMemset check the copy
// direction against the pointers and the allocation bounds; cudaFree twice fails.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_memory {
using namespace simtest;

__global__ void scale_kernel(const float* in, float* out, float factor, int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = (in ? in[i] : 1.0f) * factor;
}

class MemoryChecks : public SimTest {};

TEST_F(MemoryChecks, HostPointerArgumentIsRejectedNamingKernelAndArgument) {
  const int n = 64;
  std::vector<float> host_in(n, 2.0f), host_out(n, -1.0f);
  DeviceBuffer<float> d(n);
  auto cfg = launch_config(dim3(1), dim3(n));
  // Host output (argument 1).
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(d.get()), host_out.data(), 3.0f, n),
            cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"scale_kernel", "argument 1", "float*", "not device memory"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(host_out, std::vector<float>(n, -1.0f));  // the kernel did not run
  // Host input (argument 0), a stack address.
  float on_stack[4] = {1, 2, 3, 4};
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(on_stack), d.get(), 3.0f, 4),
            cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"scale_kernel", "argument 0", "float const*"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  // Pinned host memory is host memory too.
  float* pinned = nullptr;
  SIM_ASSERT_CUDA(cudaMallocHost(&pinned, n * sizeof(float)));
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(d.get()), pinned, 3.0f, n),
            cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"argument 1"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  cudaFreeHost(pinned);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // nothing ran
}

TEST_F(MemoryChecks, FreedDevicePointerArgumentIsRejected) {
  const int n = 32;
  float* gone = nullptr;
  SIM_ASSERT_CUDA(cudaMalloc(&gone, n * sizeof(float)));
  SIM_ASSERT_CUDA(cudaFree(gone));
  DeviceBuffer<float> d(n);
  auto cfg = launch_config(dim3(1), dim3(n));
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(gone), d.get(), 1.0f, n),
            cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"scale_kernel", "argument 0", "freed device memory"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(d.get()), gone + 5, 1.0f, n - 5),
            cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"argument 1", "freed device memory"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

TEST_F(MemoryChecks, NullAndInteriorPointersAreAccepted) {
  const int n = 100;
  std::vector<float> h(n);
  std::iota(h.begin(), h.end(), 1.0f);
  DeviceBuffer<float> in(h), out(n);
  out.fill_bytes(0);
  auto cfg = launch_config(dim3(1), dim3(64));
  // Null input: the kernel substitutes 1.
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(nullptr), out.get(), 5.0f, 10));
  // Pointers into the middle of the allocations, up to the last element.
  SIM_ASSERT_CUDA(
      cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(in.get() + 37), out.get() + 40, 2.0f, 60));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<float> r = out.download();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r[i], 5.0f) << i;
  for (int i = 10; i < 40; ++i) EXPECT_EQ(r[i], 0.0f) << i;
  for (int i = 40; i < 100; ++i) EXPECT_EQ(r[i], 2.0f * h[i - 3]) << i;
  EXPECT_TRUE(gpusim::is_device_pointer(in.get() + n - 1));
  EXPECT_TRUE(gpusim::is_device_pointer(in.get(), n * sizeof(float)));
  EXPECT_FALSE(gpusim::is_device_pointer(in.get(), n * sizeof(float) + 1));
  EXPECT_FALSE(gpusim::is_device_pointer(h.data()));
  // One past the end is a valid pointer value (an empty range): accepted, nothing read.
  SIM_ASSERT_CUDA(
      cudaLaunchKernelEx(&cfg, scale_kernel, static_cast<const float*>(in.get() + n), out.get() + n, 3.0f, 0));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
}

namespace {
// Kernels of most project files live in an anonymous namespace: the message still
// names them.
__global__ void internal_linkage_kernel(int* out) { out[threadIdx.x] = 1; }
}  // namespace

TEST_F(MemoryChecks, KernelInAnonymousNamespaceIsNamed) {
  int host[32];
  auto cfg = launch_config(dim3(1), dim3(32));
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, internal_linkage_kernel, host), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"internal_linkage_kernel", "argument 0"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

TEST_F(MemoryChecks, MemcpyDirectionIsCheckedAgainstThePointers) {
  const size_t n = 256;
  std::vector<int> h(n), back(n, 0);
  std::iota(h.begin(), h.end(), 100);
  DeviceBuffer<int> a(n), b(n);
  // Kinds that contradict the pointers.
  EXPECT_EQ(cudaMemcpy(a.get(), b.get(), n * sizeof(int), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"cudaMemcpy", "source", "device memory, but the copy kind says host"}));
  EXPECT_EQ(cudaMemcpy(back.data(), h.data(), n * sizeof(int), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"cudaMemcpy", "source", "host memory, but the copy kind says device"}));
  EXPECT_EQ(cudaMemcpy(back.data(), h.data(), n * sizeof(int), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"destination", "host memory, but the copy kind says device"}));
  EXPECT_EQ(cudaMemcpy(a.get(), b.get(), n * sizeof(int), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"destination", "device memory, but the copy kind says host"}));
  EXPECT_EQ(cudaMemcpy(a.get(), h.data(), n * sizeof(int), cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpyAsync(a.get(), b.get(), n * sizeof(int), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"cudaMemcpyAsync"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(back, std::vector<int>(n, 0));  // no failed copy wrote anything
  // The right kinds work, and cudaMemcpyDefault works both ways and device to device.
  SIM_ASSERT_CUDA(cudaMemcpy(a.get(), h.data(), n * sizeof(int), cudaMemcpyHostToDevice));
  SIM_ASSERT_CUDA(cudaMemcpy(b.get(), a.get(), n * sizeof(int), cudaMemcpyDeviceToDevice));
  SIM_ASSERT_CUDA(cudaMemcpy(back.data(), b.get(), n * sizeof(int), cudaMemcpyDeviceToHost));
  EXPECT_EQ(back, h);
  std::vector<int> h2(n), back2(n, 0);
  for (size_t i = 0; i < n; ++i) h2[i] = int(mix(unsigned(i)));
  SIM_ASSERT_CUDA(cudaMemcpy(a.get(), h2.data(), n * sizeof(int), cudaMemcpyDefault));
  SIM_ASSERT_CUDA(cudaMemcpy(b.get(), a.get(), n * sizeof(int), cudaMemcpyDefault));
  SIM_ASSERT_CUDA(cudaMemcpy(back2.data(), b.get(), n * sizeof(int), cudaMemcpyDefault));
  EXPECT_EQ(back2, h2);
}

TEST_F(MemoryChecks, CopiesAndMemsetsBeyondAnAllocationAreRejected) {
  const size_t n = 100;
  std::vector<int> h(n + 10, 7);
  DeviceBuffer<int> d(n);
  d.fill_bytes(0);
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), (n + 1) * sizeof(int), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"destination", "overrun the allocation of 400 bytes"}));
  EXPECT_EQ(cudaMemcpy(d.get() + 50, h.data(), 51 * sizeof(int), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"at offset 200", "overrun"}));
  EXPECT_EQ(cudaMemcpy(h.data(), d.get() + 1, n * sizeof(int), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"source", "overrun"}));
  EXPECT_EQ(cudaMemset(d.get() + 99, 0, 8), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"cudaMemset", "overrun"}));
  EXPECT_EQ(cudaMemset(h.data(), 0, 8), cudaErrorInvalidValue);  // memset of host memory
  EXPECT_TRUE(MessageHas({"cudaMemset", "host memory"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(h, std::vector<int>(n + 10, 7));
  EXPECT_EQ(d.download(), std::vector<int>(n, 0));
  // Exactly up to the end is fine.
  SIM_ASSERT_CUDA(cudaMemcpy(d.get() + 50, h.data(), 50 * sizeof(int), cudaMemcpyHostToDevice));
  SIM_ASSERT_CUDA(cudaMemset(d.get() + 99, 0x01, 4));
  const std::vector<int> r = d.download();
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(r[i], i < 50 ? 0 : (i < 99 ? 7 : 0x01010101)) << i;
}

TEST_F(MemoryChecks, FreedMemoryCannotBeCopiedOrFreedAgain) {
  int* p = nullptr;
  SIM_ASSERT_CUDA(cudaMalloc(&p, 64 * sizeof(int)));
  int* interior = p + 3;
  EXPECT_EQ(cudaFree(interior), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"cudaFree", "not the start of a cudaMalloc allocation"}));
  SIM_ASSERT_CUDA(cudaFree(p));
  EXPECT_EQ(cudaFree(p), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"cudaFree", "already freed"}));
  std::vector<int> h(64, 1);
  EXPECT_EQ(cudaMemcpy(p, h.data(), 64 * sizeof(int), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"freed device memory"}));
  EXPECT_EQ(cudaMemcpy(h.data(), p, 64 * sizeof(int), cudaMemcpyDefault), cudaErrorInvalidValue);
  EXPECT_TRUE(MessageHas({"freed device memory"}));
  EXPECT_FALSE(gpusim::is_device_pointer(p));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  SIM_ASSERT_CUDA(cudaFree(nullptr));
}

TEST_F(MemoryChecks, AllocationsAreAlignedAndAccounted) {
  size_t free0 = 0, total = 0;
  SIM_ASSERT_CUDA(cudaMemGetInfo(&free0, &total));
  EXPECT_EQ(total, size_t(80) << 30);
  void* ptrs[5] = {};
  const size_t sizes[5] = {1, 3, 256, 1000, 1 << 20};
  for (int i = 0; i < 5; ++i) {
    SIM_ASSERT_CUDA(cudaMalloc(&ptrs[i], sizes[i]));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ptrs[i]) % 256, 0u) << sizes[i];  // cudaMalloc aligns to 256 bytes
  }
  size_t free1 = 0;
  SIM_ASSERT_CUDA(cudaMemGetInfo(&free1, &total));
  EXPECT_EQ(free0 - free1, size_t(1 + 3 + 256 + 1000 + (1 << 20)));
  for (void* p : ptrs) SIM_ASSERT_CUDA(cudaFree(p));
  SIM_ASSERT_CUDA(cudaMemGetInfo(&free1, &total));
  EXPECT_EQ(free1, free0);
}

TEST_F(MemoryChecks, Memcpy2DCopiesRowsWithPitches) {
  const size_t rows = 5, width = 12, dpitch = 16, spitch = 20;
  std::vector<unsigned char> src(rows * spitch), back(rows * width, 0);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<unsigned char>(mix(unsigned(i)));
  DeviceBuffer<unsigned char> d(rows * dpitch);
  SIM_ASSERT_CUDA(cudaMemcpy2D(d.get(), dpitch, src.data(), spitch, width, rows, cudaMemcpyHostToDevice));
  SIM_ASSERT_CUDA(cudaMemcpy2D(back.data(), width, d.get(), dpitch, width, rows, cudaMemcpyDeviceToHost));
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < width; ++c) ASSERT_EQ(back[r * width + c], src[r * spitch + c]) << r << "," << c;
  EXPECT_EQ(cudaMemcpy2D(d.get(), dpitch, src.data(), spitch, dpitch + 1, rows, cudaMemcpyHostToDevice),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

}  // namespace sim_memory
