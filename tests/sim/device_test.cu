// The simulated device: sm_90 properties, device selection, CUDA's error codes and
// strings, streams (create, use, destroy), and events (timing, flags, misuse).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_device {
using namespace simtest;

class Device : public SimTest {};

TEST_F(Device, PropertiesAreSm90) {
  int count = 0, dev = -1;
  SIM_ASSERT_CUDA(cudaGetDeviceCount(&count));
  EXPECT_EQ(count, 1);
  SIM_ASSERT_CUDA(cudaGetDevice(&dev));
  EXPECT_EQ(dev, 0);
  cudaDeviceProp p;
  std::memset(&p, 0xcd, sizeof p);
  SIM_ASSERT_CUDA(cudaGetDeviceProperties(&p, 0));
  EXPECT_EQ(p.major, 9);
  EXPECT_EQ(p.minor, 0);
  EXPECT_EQ(p.multiProcessorCount, 132);
  EXPECT_EQ(p.warpSize, 32);
  EXPECT_EQ(p.maxThreadsPerBlock, 1024);
  EXPECT_EQ(p.maxThreadsDim[0], 1024);
  EXPECT_EQ(p.maxThreadsDim[1], 1024);
  EXPECT_EQ(p.maxThreadsDim[2], 64);
  EXPECT_EQ(p.maxGridSize[0], 2147483647);
  EXPECT_EQ(p.maxGridSize[1], 65535);
  EXPECT_EQ(p.maxGridSize[2], 65535);
  EXPECT_EQ(p.sharedMemPerBlock, 49152u);
  EXPECT_EQ(p.sharedMemPerBlockOptin, 232448u);
  EXPECT_EQ(p.maxThreadsPerMultiProcessor, 2048);
  EXPECT_EQ(p.regsPerBlock, 65536);
  EXPECT_GT(p.totalGlobalMem, size_t(1) << 30);
  EXPECT_NE(std::strlen(p.name), 0u);
  EXPECT_LT(std::strlen(p.name), sizeof p.name);
}

TEST_F(Device, OnlyDeviceZeroExists) {
  SIM_ASSERT_CUDA(cudaSetDevice(0));
  EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  EXPECT_TRUE(MessageHas({"cudaSetDevice(1)"}));
  cudaDeviceProp p;
  EXPECT_EQ(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetDeviceProperties(nullptr, 0), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST_F(Device, ErrorCodesAndStringsAreCudas) {
  // Values of driver_types.h, so code that stores or prints them agrees with CUDA.
  EXPECT_EQ(int(cudaSuccess), 0);
  EXPECT_EQ(int(cudaErrorInvalidValue), 1);
  EXPECT_EQ(int(cudaErrorMemoryAllocation), 2);
  EXPECT_EQ(int(cudaErrorInvalidConfiguration), 9);
  EXPECT_EQ(int(cudaErrorInvalidDevice), 101);
  EXPECT_EQ(int(cudaErrorInvalidResourceHandle), 400);
  EXPECT_EQ(int(cudaErrorNotReady), 600);
  EXPECT_EQ(int(cudaErrorIllegalAddress), 700);
  EXPECT_EQ(int(cudaErrorLaunchFailure), 719);
  EXPECT_STREQ(cudaGetErrorName(cudaErrorInvalidConfiguration), "cudaErrorInvalidConfiguration");
  EXPECT_STREQ(cudaGetErrorString(cudaSuccess), "no error");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidConfiguration), "invalid configuration argument");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorLaunchFailure), "unspecified launch failure");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorMemoryAllocation), "out of memory");
}

__global__ void add_one(int* data, int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) data[i] += 1;
}

TEST_F(Device, StreamsCarryCopiesAndLaunches) {
  const int n = 1000;
  cudaStream_t s1 = nullptr, s2 = nullptr;
  SIM_ASSERT_CUDA(cudaStreamCreate(&s1));
  SIM_ASSERT_CUDA(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  ASSERT_NE(s1, nullptr);
  ASSERT_NE(s1, s2);
  std::vector<int> h(n), back(n);
  for (int i = 0; i < n; ++i) h[i] = int(mix(unsigned(i)) % 1000);
  DeviceBuffer<int> d(n);
  SIM_ASSERT_CUDA(cudaMemcpyAsync(d.get(), h.data(), n * sizeof(int), cudaMemcpyHostToDevice, s1));
  auto cfg = launch_config(dim3((n + 127) / 128), dim3(128), 0, s1);
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, add_one, d.get(), n));
  cudaEvent_t done = nullptr;
  SIM_ASSERT_CUDA(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  SIM_ASSERT_CUDA(cudaEventRecord(done, s1));
  SIM_ASSERT_CUDA(cudaStreamWaitEvent(s2, done, 0));
  cfg.stream = s2;
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, add_one, d.get(), n));
  SIM_ASSERT_CUDA(cudaMemsetAsync(d.get(), 0, sizeof(int), s2));
  SIM_ASSERT_CUDA(cudaMemcpyAsync(back.data(), d.get(), n * sizeof(int), cudaMemcpyDeviceToHost, s2));
  SIM_ASSERT_CUDA(cudaStreamSynchronize(s2));
  SIM_ASSERT_CUDA(cudaStreamSynchronize(s1));
  SIM_ASSERT_CUDA(cudaStreamSynchronize(nullptr));  // the default stream
  EXPECT_EQ(back[0], 0);
  for (int i = 1; i < n; ++i) ASSERT_EQ(back[i], h[i] + 2) << i;
  SIM_ASSERT_CUDA(cudaEventDestroy(done));
  SIM_ASSERT_CUDA(cudaStreamDestroy(s1));
  SIM_ASSERT_CUDA(cudaStreamDestroy(s2));
  EXPECT_EQ(cudaStreamDestroy(s1), cudaErrorInvalidResourceHandle);  // twice
  EXPECT_TRUE(MessageHas({"cudaStreamDestroy", "not a live stream"}));
  EXPECT_EQ(cudaStreamSynchronize(s2), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

__global__ void busy(float* out, int iters) {
  float x = float(threadIdx.x);
  for (int i = 0; i < iters; ++i) x = x * 0.999f + 1.0f;
  out[blockIdx.x * blockDim.x + threadIdx.x] = x;
}

TEST_F(Device, EventsMeasureElapsedTime) {
  cudaEvent_t start = nullptr, stop = nullptr, mid = nullptr;
  SIM_ASSERT_CUDA(cudaEventCreate(&start));
  SIM_ASSERT_CUDA(cudaEventCreate(&stop));
  SIM_ASSERT_CUDA(cudaEventCreate(&mid));
  DeviceBuffer<float> out(64 * 128);
  SIM_ASSERT_CUDA(cudaEventRecord(start));
  auto cfg = launch_config(dim3(64), dim3(128));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, busy, out.get(), 200));
  SIM_ASSERT_CUDA(cudaEventRecord(mid));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  SIM_ASSERT_CUDA(cudaEventRecord(stop));
  SIM_ASSERT_CUDA(cudaEventSynchronize(stop));
  EXPECT_EQ(cudaEventQuery(stop), cudaSuccess);
  float total = -1, first = -1, reverse = 0;
  SIM_ASSERT_CUDA(cudaEventElapsedTime(&total, start, stop));
  SIM_ASSERT_CUDA(cudaEventElapsedTime(&first, start, mid));
  SIM_ASSERT_CUDA(cudaEventElapsedTime(&reverse, stop, start));
  EXPECT_GE(first, 0.0f);
  EXPECT_GE(total, 20.0f);  // the host slept 20 ms between mid and stop
  EXPECT_LT(total, 20000.0f);
  EXPECT_GE(total, first);
  EXPECT_FLOAT_EQ(reverse, -total);
  for (cudaEvent_t e : {start, stop, mid}) SIM_ASSERT_CUDA(cudaEventDestroy(e));
}

TEST_F(Device, EventMisuseIsReported) {
  cudaEvent_t a = nullptr, b = nullptr, untimed = nullptr;
  SIM_ASSERT_CUDA(cudaEventCreate(&a));
  SIM_ASSERT_CUDA(cudaEventCreate(&b));
  SIM_ASSERT_CUDA(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming));
  float ms = 0;
  SIM_ASSERT_CUDA(cudaEventRecord(a));
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaErrorInvalidResourceHandle);  // b never recorded
  EXPECT_TRUE(MessageHas({"cudaEventElapsedTime"}));
  SIM_ASSERT_CUDA(cudaEventRecord(untimed));
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, untimed), cudaErrorInvalidResourceHandle);  // timing disabled
  EXPECT_EQ(cudaEventElapsedTime(nullptr, a, a), cudaErrorInvalidValue);
  SIM_ASSERT_CUDA(cudaEventDestroy(untimed));
  EXPECT_EQ(cudaEventDestroy(untimed), cudaErrorInvalidResourceHandle);  // twice
  EXPECT_EQ(cudaEventRecord(untimed), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  SIM_ASSERT_CUDA(cudaEventDestroy(a));
  SIM_ASSERT_CUDA(cudaEventDestroy(b));
}

}  // namespace sim_device

namespace sim_devices {
using namespace simtest;

class Devices : public SimTest {
 protected:
  void TearDown() override {
    cudaSetDevice(0);
    gpusim::set_device_count(1);
    SimTest::TearDown();
  }
};

__global__ void touch(int* p) { p[threadIdx.x] = int(threadIdx.x); }

// Two simulated devices: memory belongs to the device current when it was allocated, a
// launch given another device's memory fails naming both, and each host thread starts on
// device 0.
TEST_F(Devices, WrongDevicePointerIsReported) {
  int count = 0;
  SIM_ASSERT_CUDA(cudaGetDeviceCount(&count));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  gpusim::set_device_count(2);
  SIM_ASSERT_CUDA(cudaGetDeviceCount(&count));
  EXPECT_EQ(count, 2);
  SIM_ASSERT_CUDA(cudaSetDevice(1));
  int current = -1;
  SIM_ASSERT_CUDA(cudaGetDevice(&current));
  EXPECT_EQ(current, 1);
  int* on1 = nullptr;
  SIM_ASSERT_CUDA(cudaMalloc(&on1, 32 * sizeof(int)));
  EXPECT_EQ(gpusim::device_of_pointer(on1), 1);
  touch<<<1, 32>>>(on1);
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  SIM_ASSERT_CUDA(cudaSetDevice(0));
  touch<<<1, 32>>>(on1);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  const std::string message = gpusim::last_error_message();
  EXPECT_NE(message.find("memory of device 1, but the launch is on device 0"), std::string::npos) << message;
  std::thread([&] {
    int d = -1;
    EXPECT_EQ(cudaGetDevice(&d), cudaSuccess);
    EXPECT_EQ(d, 0);
  }).join();
  SIM_ASSERT_CUDA(cudaFree(on1));
}

}  // namespace sim_devices
