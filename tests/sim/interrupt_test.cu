// gpusim::set_interrupt: a host thread's flag that stops its launches between thread
// blocks (how a long simulated run is cancelled), failing them at the next
// synchronisation; launches without the flag set, and other threads' launches, run whole.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/sim/sim_test_util.h"

namespace sim_interrupt {
using namespace simtest;

#define SIM_EXPECT_CUDA(expr) EXPECT_EQ((expr), cudaSuccess) << #expr << ": " << gpusim::last_error_message()

class Interrupt : public SimTest {
 protected:
  void TearDown() override {
    gpusim::set_interrupt(nullptr);
    SimTest::TearDown();
  }
};

__global__ void count_blocks(unsigned* counter, int spin) {
  if (threadIdx.x == 0) {
    volatile int sink = 0;
    for (int i = 0; i < spin; ++i) sink = sink + i;
    atomicAdd(counter, 1u);
  }
}

unsigned run(unsigned* counter, unsigned blocks, int spin, cudaError_t* sync) {
  SIM_EXPECT_CUDA(cudaMemset(counter, 0, sizeof(unsigned)));
  count_blocks<<<blocks, 32>>>(counter, spin);
  *sync = cudaDeviceSynchronize();
  unsigned ran = 0;
  SIM_EXPECT_CUDA(cudaMemcpy(&ran, counter, sizeof ran, cudaMemcpyDeviceToHost));
  return ran;
}

TEST_F(Interrupt, ASetFlagRunsNoBlockAndTheNextLaunchRunsWhole) {
  unsigned* counter = nullptr;
  SIM_ASSERT_CUDA(cudaMalloc(&counter, sizeof(unsigned)));
  std::atomic<bool> flag{true};
  gpusim::set_interrupt(&flag);
  cudaError_t sync = cudaSuccess;
  EXPECT_EQ(run(counter, 37, 0, &sync), 0u);
  EXPECT_EQ(sync, cudaErrorLaunchFailure);
  EXPECT_NE(std::string(gpusim::last_error_message()).find("interrupted"), std::string::npos);
  flag = false;
  EXPECT_EQ(run(counter, 37, 0, &sync), 37u);
  EXPECT_EQ(sync, cudaSuccess);
  SIM_EXPECT_CUDA(cudaFree(counter));
}

TEST_F(Interrupt, FlagSetByAnotherThreadStopsALongLaunch) {
  unsigned* counter = nullptr;
  SIM_ASSERT_CUDA(cudaMalloc(&counter, sizeof(unsigned)));
  std::atomic<bool> flag{false};
  gpusim::set_interrupt(&flag);
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    flag = true;
  });
  const unsigned blocks = 1u << 20;  // ~forever without the flag
  const auto start = std::chrono::steady_clock::now();
  cudaError_t sync = cudaSuccess;
  const unsigned ran = run(counter, blocks, 20000, &sync);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  setter.join();
  EXPECT_GT(ran, 0u);
  EXPECT_LT(ran, blocks);
  EXPECT_EQ(sync, cudaErrorLaunchFailure);
  EXPECT_LT(seconds, 5.0);
  // Another host thread has no flag: its launch runs whole.
  std::thread other([&] {
    cudaError_t s = cudaSuccess;
    EXPECT_EQ(run(counter, 64, 0, &s), 64u);
    EXPECT_EQ(s, cudaSuccess);
  });
  other.join();
  SIM_EXPECT_CUDA(cudaFree(counter));
}

}  // namespace sim_interrupt
