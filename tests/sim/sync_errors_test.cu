// Undefined behaviour the simulator must report instead of hiding: threads at
// different __syncthreads call sites, deadlocks between a barrier and a warp
// collective, and a lane calling a warp collective outside its own mask. Each is a
// launch failure seen at the next synchronisation, named with its call sites, and
// is not sticky: the next launch works.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_sync_errors {
using namespace simtest;

__global__ void divergent_barrier(int* out, unsigned split) {
  if (threadIdx.x < split) {
    __syncthreads();  // SITE(divergent_a)
  } else {
    __syncthreads();  // SITE(divergent_b)
  }
  out[threadIdx.x] = 1;
}

// Only block `bad_block` diverges.
__global__ void divergent_in_one_block(int* out, unsigned bad_block) {
  if (blockIdx.x == bad_block && threadIdx.x % 2 == 1) {
    __syncthreads_count(1);  // SITE(one_block_a)
  } else {
    __syncthreads_count(1);  // SITE(one_block_b)
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

// Lanes 0-15 of warp 0 wait in a shuffle for lane 20, which waits at the barrier
// for them: nothing can run.
__global__ void barrier_vs_shuffle(int* out) {
  int v = int(threadIdx.x);
  if (threadIdx.x < 16) {
    v = __shfl_sync(0xffffffffu, v, 20);  // SITE(deadlock_shfl)
  } else {
    __syncthreads();  // SITE(deadlock_bar)
  }
  out[threadIdx.x] = v;
}

// Lanes 0-7 of warp 1 wait in __syncwarp for the rest of their warp, which waits in
// __syncthreads_or for them.
__global__ void barrier_vs_syncwarp(int* out) {
  const unsigned lane = threadIdx.x % 32;
  if (threadIdx.x / 32 == 1 && lane < 8) {
    __syncwarp();  // SITE(deadlock_syncwarp)
  } else {
    __syncthreads_or(int(lane));  // SITE(deadlock_bar_or)
  }
  out[threadIdx.x] = 1;
}

// Every lane calls with the low-half mask: lanes 16-31 are not in it.
__global__ void ballot_outside_mask(unsigned* out) {
  out[threadIdx.x] = __ballot_sync(0x0000ffffu, 1);  // SITE(outside_mask)
}

__global__ void shuffle_bad_width(int* out, int width) {
  out[threadIdx.x] = __shfl_sync(0xffffffffu, int(threadIdx.x), 0, width);  // SITE(bad_width)
}

// Lanes 0-15 ask for width 16, the others for 32, at one call site.
__global__ void shuffle_mixed_width(int* out) {
  const int width = threadIdx.x < 16 ? 16 : 32;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1, width);  // SITE(mixed_width)
}

__global__ void fill_index(int* out) {
  out[blockIdx.x * blockDim.x + threadIdx.x] = int(blockIdx.x * 1000 + threadIdx.x);
}

class SyncErrors : public SimTest {
 protected:
  // The launch itself succeeds; the failure comes with the next synchronisation, then
  // cudaGetLastError reports it once more (as CUDA does) and is clear afterwards.
  void expect_launch_failure(cudaError_t launch_result) {
    EXPECT_EQ(launch_result, cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
    EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
  // Not sticky: a good launch right afterwards runs and gives the right answer.
  void expect_next_launch_works() {
    DeviceBuffer<int> out(3 * 64);
    auto cfg = launch_config(dim3(3), dim3(64));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, fill_index, out.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    const std::vector<int> r = out.download();
    for (int i = 0; i < 3 * 64; ++i) ASSERT_EQ(r[i], (i / 64) * 1000 + i % 64);
  }
};

TEST_F(SyncErrors, DivergentSyncthreadsNamesBothSites) {
  for (unsigned split : {1u, 40u, 63u}) {
    DeviceBuffer<int> out(64);
    auto cfg = launch_config(dim3(1), dim3(64));
    expect_launch_failure(cudaLaunchKernelEx(&cfg, divergent_barrier, out.get(), split));
    EXPECT_TRUE(MessageHas({"divergent __syncthreads", "divergent_barrier", site(__FILE__, "divergent_a"),
                            site(__FILE__, "divergent_b")}));
    expect_next_launch_works();
  }
}

TEST_F(SyncErrors, DivergenceInOneBlockOfManyNamesTheBlock) {
  DeviceBuffer<int> out(12 * 96);
  auto cfg = launch_config(dim3(12), dim3(96));
  expect_launch_failure(cudaLaunchKernelEx(&cfg, divergent_in_one_block, out.get(), 7u));
  EXPECT_TRUE(MessageHas(
      {"block (7,0,0)", "divergent __syncthreads", site(__FILE__, "one_block_a"), site(__FILE__, "one_block_b")}));
  expect_next_launch_works();
  // The same kernel without the divergence runs.
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, divergent_in_one_block, out.get(), 99u));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
}

TEST_F(SyncErrors, DeadlockBetweenBarrierAndShuffleNamesWaitingSites) {
  DeviceBuffer<int> out(64);
  auto cfg = launch_config(dim3(1), dim3(64));
  expect_launch_failure(cudaLaunchKernelEx(&cfg, barrier_vs_shuffle, out.get()));
  EXPECT_TRUE(MessageHas({"deadlock", "barrier_vs_shuffle", "threads 0-15", "threads 16-63",
                          site(__FILE__, "deadlock_shfl"), site(__FILE__, "deadlock_bar")}));
  expect_next_launch_works();
}

TEST_F(SyncErrors, DeadlockBetweenReducingBarrierAndSyncwarp) {
  DeviceBuffer<int> out(96);
  auto cfg = launch_config(dim3(1), dim3(96));
  expect_launch_failure(cudaLaunchKernelEx(&cfg, barrier_vs_syncwarp, out.get()));
  EXPECT_TRUE(MessageHas(
      {"deadlock", "threads 32-39", site(__FILE__, "deadlock_syncwarp"), site(__FILE__, "deadlock_bar_or")}));
  expect_next_launch_works();
}

TEST_F(SyncErrors, LaneOutsideItsOwnMaskIsAnError) {
  DeviceBuffer<unsigned> out(32);
  auto cfg = launch_config(dim3(1), dim3(32));
  expect_launch_failure(cudaLaunchKernelEx(&cfg, ballot_outside_mask, out.get()));
  EXPECT_TRUE(MessageHas({"__ballot_sync", "is not in its own mask 0x0000ffff", site(__FILE__, "outside_mask")}));
  expect_next_launch_works();
}

TEST_F(SyncErrors, ShuffleWidthNotAPowerOfTwoIsAnError) {
  for (int width : {0, 3, 12, 33, 64}) {
    DeviceBuffer<int> out(32);
    auto cfg = launch_config(dim3(1), dim3(32));
    expect_launch_failure(cudaLaunchKernelEx(&cfg, shuffle_bad_width, out.get(), width));
    EXPECT_TRUE(MessageHas({"__shfl_sync", "width " + std::to_string(width), site(__FILE__, "bad_width")}));
  }
  expect_next_launch_works();
}

TEST_F(SyncErrors, LanesDisagreeingOnTheWidthIsAnError) {
  DeviceBuffer<int> out(32);
  auto cfg = launch_config(dim3(1), dim3(32));
  expect_launch_failure(cudaLaunchKernelEx(&cfg, shuffle_mixed_width, out.get()));
  EXPECT_TRUE(MessageHas({"__shfl_xor_sync", "disagree", site(__FILE__, "mixed_width")}));
  expect_next_launch_works();
}

}  // namespace sim_sync_errors
