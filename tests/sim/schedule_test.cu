// The random schedule (gpusim::set_schedule(Schedule::Random, seed), or
// GPUSIM_SCHEDULE=random in the environment): correct kernels give the right answer
// for every seed, a kernel with a missing barrier is caught by some seed, blocks run in
// shuffled order but each exactly once. Tests that need a schedule set it and restore
// the previous one (which may come from the environment).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

extern __shared__ __align__(16) unsigned char dynamic_smem[];

namespace sim_schedule {
using namespace simtest;

// Each thread writes its value to shared memory and reads its left neighbour's: with
// the barrier this is correct; without it a thread may read before the neighbour
// wrote (dynamic shared memory holds garbage at block start).
template <bool kBarrier> __global__ void shift_right(const int* in, int* out) {
  int* s = reinterpret_cast<int*>(dynamic_smem);
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  s[t] = in[base + t];
  if (kBarrier) __syncthreads();
  out[base + t] = t == 0 ? 0 : s[t - 1];
}

class Schedule : public SimTest {
 protected:
  static constexpr unsigned kBlocks = 8, kThreads = 64;
  // The number of wrong outputs of one launch.
  template <bool kBarrier> int wrong_outputs() {
    std::vector<int> h(kBlocks * kThreads);
    for (size_t i = 0; i < h.size(); ++i) h[i] = int(mix(unsigned(i)) % 100000) + 1;  // never a garbage pattern
    DeviceBuffer<int> in(h), out(h.size());
    auto cfg = launch_config(dim3(kBlocks), dim3(kThreads), kThreads * sizeof(int));
    EXPECT_EQ(cudaLaunchKernelEx(&cfg, shift_right<kBarrier>, static_cast<const int*>(in.get()), out.get()),
              cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    const std::vector<int> r = out.download();
    int wrong = 0;
    for (unsigned i = 0; i < h.size(); ++i) wrong += r[i] != (i % kThreads == 0 ? 0 : h[i - 1]);
    return wrong;
  }
};

TEST_F(Schedule, CorrectKernelIsRightForEverySeed) {
  for (uint64_t seed : {1ull, 2ull, 3ull, 42ull, 0xdeadbeefull, 123456789ull}) {
    ScheduleGuard g(gpusim::Schedule::Random, seed);
    EXPECT_EQ(wrong_outputs<true>(), 0) << "seed " << seed;
  }
  ScheduleGuard g(gpusim::Schedule::Deterministic);
  EXPECT_EQ(wrong_outputs<true>(), 0);
}

TEST_F(Schedule, MissingBarrierIsExposedByARandomSeed) {
  {
    // In thread order each thread reads a neighbour that already ran: the bug hides.
    ScheduleGuard g(gpusim::Schedule::Deterministic);
    const int wrong = wrong_outputs<false>();
    std::printf("missing barrier, deterministic schedule: %d wrong outputs\n", wrong);
  }
  int seeds_that_caught_it = 0;
  for (uint64_t seed : {1ull, 2ull, 3ull, 4ull, 5ull}) {
    ScheduleGuard g(gpusim::Schedule::Random, seed);
    const int wrong = wrong_outputs<false>();
    std::printf("missing barrier, random schedule seed %llu: %d wrong outputs\n", (unsigned long long)seed, wrong);
    seeds_that_caught_it += wrong > 0;
  }
  EXPECT_GE(seeds_that_caught_it, 1);
}

TEST_F(Schedule, GuardRestoresThePreviousSchedule) {
  const gpusim::Schedule before = gpusim::schedule();
  const uint64_t seed_before = gpusim::schedule_seed();
  {
    ScheduleGuard g(gpusim::Schedule::Random, 77);
    EXPECT_EQ(gpusim::schedule(), gpusim::Schedule::Random);
    EXPECT_EQ(gpusim::schedule_seed(), 77u);
  }
  EXPECT_EQ(gpusim::schedule(), before);
  EXPECT_EQ(gpusim::schedule_seed(), seed_before);
}

TEST_F(Schedule, FollowsTheEnvironment) {
  // Every test restores the schedule it changes, so here it is still what
  // GPUSIM_SCHEDULE / GPUSIM_SEED asked for.
  const char* mode = std::getenv("GPUSIM_SCHEDULE");
  const bool random = mode && std::string(mode) == "random";
  EXPECT_EQ(gpusim::schedule(), random ? gpusim::Schedule::Random : gpusim::Schedule::Deterministic);
  const char* seed = std::getenv("GPUSIM_SEED");
  if (random && seed) {
    EXPECT_EQ(gpusim::schedule_seed(), std::strtoull(seed, nullptr, 10));
  }
}

// Block order: each block takes a ticket on arrival. Every block runs exactly once in
// either schedule; the random schedule shuffles the order.
__global__ void take_ticket(unsigned* counter, unsigned* order) {
  __shared__ unsigned ticket;
  if (threadIdx.x == 0) ticket = atomicAdd(counter, 1u);
  __syncthreads();
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  if (threadIdx.x == 0) order[ticket] = block;
}

TEST_F(Schedule, BlocksRunOnceEachAndRandomOrderIsShuffled) {
  const dim3 grid(8, 4, 2);
  const unsigned n = grid.x * grid.y * grid.z;
  int shuffled = 0;
  for (uint64_t seed : {0ull, 11ull, 12ull, 13ull}) {
    ScheduleGuard g(seed == 0 ? gpusim::Schedule::Deterministic : gpusim::Schedule::Random, seed);
    DeviceBuffer<unsigned> counter(1), order(n);
    counter.fill_bytes(0);
    auto cfg = launch_config(grid, dim3(32));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, take_ticket, counter.get(), order.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    std::vector<unsigned> o = order.download();
    // Tickets follow the order blocks start in; with several workers that is only
    // roughly the scheduling order, so look for a block far from its own index.
    unsigned displacement = 0;
    for (unsigned i = 0; i < n; ++i) displacement = std::max(displacement, o[i] > i ? o[i] - i : i - o[i]);
    if (seed != 0) shuffled += displacement > 8;
    std::sort(o.begin(), o.end());
    for (unsigned i = 0; i < n; ++i) ASSERT_EQ(o[i], i) << "seed " << seed;
  }
  EXPECT_GE(shuffled, 2);
}

// Thread order inside a block: the first thread to run after the barrier writes its
// index; under the random schedule it varies with the seed, under the deterministic
// one it is the same every time.
__global__ void first_runner(unsigned* first) {
  __shared__ unsigned claimed;
  claimed = 0;  // every thread writes 0 before any barrier: harmless
  __syncthreads();
  if (atomicCAS(&claimed, 0u, 1u) == 0u) *first = threadIdx.x;
}

TEST_F(Schedule, RandomScheduleVariesThreadOrder) {
  std::vector<unsigned> firsts;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    ScheduleGuard g(gpusim::Schedule::Random, seed);
    DeviceBuffer<unsigned> first(1);
    auto cfg = launch_config(dim3(1), dim3(256));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, first_runner, first.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    firsts.push_back(first.download()[0]);
  }
  std::sort(firsts.begin(), firsts.end());
  EXPECT_GE(std::unique(firsts.begin(), firsts.end()) - firsts.begin(), 3);
  ScheduleGuard g(gpusim::Schedule::Deterministic);
  std::vector<unsigned> det;
  for (int k = 0; k < 3; ++k) {
    DeviceBuffer<unsigned> first(1);
    auto cfg = launch_config(dim3(1), dim3(256));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, first_runner, first.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    det.push_back(first.download()[0]);
  }
  EXPECT_EQ(det[0], det[1]);
  EXPECT_EQ(det[0], det[2]);
}

}  // namespace sim_schedule
