// __syncthreads: ordering of shared-memory writes across warps for 1-D, 2-D and 3-D
// blocks, barriers in loops, threads that exit before a barrier, and the reducing
// barriers __syncthreads_count/_and/_or against a CPU count.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/sim/sim_test_util.h"

extern __shared__ __align__(16) unsigned char dynamic_smem[];

namespace sim_barriers {
using namespace simtest;

__device__ unsigned linear_tid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }

// Each block reverses its slice of `in` through shared memory.
__global__ void reverse_through_smem(const int* in, int* out) {
  const unsigned n = blockDim.x * blockDim.y * blockDim.z, t = linear_tid();
  const size_t base = size_t(blockIdx.x) * n;
  int* s = reinterpret_cast<int*>(dynamic_smem);
  s[t] = in[base + t];
  __syncthreads();
  out[base + t] = s[n - 1 - t];
}

// `rounds` rotations by `shift` positions through a static array, two barriers per round.
__global__ void rotate_rounds(const int* in, int* out, int rounds, int shift) {
  __shared__ int s[1024];
  const unsigned n = blockDim.x, t = threadIdx.x;
  int v = in[blockIdx.x * n + t];
  for (int r = 0; r < rounds; ++r) {
    s[t] = v;
    __syncthreads();
    v = s[(t + unsigned(shift)) % n];
    __syncthreads();  // nobody overwrites s before everybody has read it
  }
  out[blockIdx.x * n + t] = v;
}

// Threads at or above `live` return before the barrier; the rest reverse their values.
__global__ void early_exit_reverse(const int* in, int* out, unsigned live) {
  __shared__ int s[1024];
  const unsigned t = threadIdx.x;
  if (t >= live) return;
  s[t] = in[t];
  __syncthreads();
  out[t] = s[live - 1 - t];
}

// Thread t (t != 0) exits after round t % 7; every round counts the live threads with
// an atomic between two barriers and with __syncthreads_count.
__global__ void staggered_exit(int* atomic_counts, int* barrier_counts, int rounds) {
  __shared__ int count;
  const unsigned t = threadIdx.x;
  for (int r = 0; r < rounds; ++r) {
    if (t == 0) count = 0;
    __syncthreads();
    atomicAdd(&count, 1);
    const int c = __syncthreads_count(1);
    if (t == 0) {
      atomic_counts[r] = count;
      barrier_counts[r] = c;
    }
    __syncthreads();
    if (t != 0 && int(t % 7) == r) return;
  }
}

__device__ __host__ int predicate(unsigned block, unsigned t, int kind) {
  switch (kind) {
    case 0: return 0;                                             // none
    case 1: return 1;                                             // all
    case 2: return t == 17 ? 5 : 0;                               // one thread, a truth value other than 1
    case 3: return int(simtest::mix(block * 4096 + t) % 3 == 0);  // about a third
    default: return int(t % 2 == 1 || block % 2 == 1);            // all in odd blocks
  }
}

// out[3 * gtid + {0,1,2}] = __syncthreads_count/_and/_or of predicate(kind); threads at
// or above `live` exit first.
__global__ void reducing_barriers(int* out, int kind, unsigned live) {
  const unsigned t = linear_tid(), n = blockDim.x * blockDim.y * blockDim.z;
  if (t >= live) return;
  const int p = predicate(blockIdx.x, t, kind);
  const size_t g = size_t(blockIdx.x) * n + t;
  out[3 * g + 0] = __syncthreads_count(p);
  out[3 * g + 1] = __syncthreads_and(p);
  out[3 * g + 2] = __syncthreads_or(p);
}

class Barriers : public SimTest {};

TEST_F(Barriers, ReverseThroughSharedMemoryAnyBlockShape) {
  const dim3 shapes[] = {dim3(1),       dim3(33),      dim3(256),      dim3(1024),     dim3(16, 8),  dim3(32, 32),
                         dim3(7, 3, 5), dim3(8, 4, 4), dim3(4, 4, 64), dim3(1, 1, 64), dim3(1, 1024)};
  const unsigned blocks = 3;
  for (const dim3& b : shapes) {
    const unsigned n = b.x * b.y * b.z;
    std::vector<int> h(n * blocks);
    for (size_t i = 0; i < h.size(); ++i) h[i] = int(mix(uint32_t(i)) >> 1);
    DeviceBuffer<int> in(h), out(h.size());
    auto cfg = launch_config(dim3(blocks), b, n * sizeof(int));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, reverse_through_smem, static_cast<const int*>(in.get()), out.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    const std::vector<int> r = out.download();
    int bad = 0;
    for (unsigned blk = 0; blk < blocks; ++blk)
      for (unsigned t = 0; t < n; ++t) bad += r[blk * n + t] != h[blk * n + (n - 1 - t)];
    EXPECT_EQ(bad, 0) << "block " << b.x << "x" << b.y << "x" << b.z;
  }
}

TEST_F(Barriers, BarrierInALoopRotatesAcrossWarps) {
  for (unsigned n : {32u, 96u, 1000u, 1024u}) {
    const unsigned blocks = 4;
    const int rounds = 9, shift = 37;
    std::vector<int> h(n * blocks);
    for (size_t i = 0; i < h.size(); ++i) h[i] = int(mix(uint32_t(i) + 77));
    DeviceBuffer<int> in(h), out(h.size());
    auto cfg = launch_config(dim3(blocks), dim3(n));
    SIM_ASSERT_CUDA(
        cudaLaunchKernelEx(&cfg, rotate_rounds, static_cast<const int*>(in.get()), out.get(), rounds, shift));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    const std::vector<int> r = out.download();
    int bad = 0;
    for (unsigned blk = 0; blk < blocks; ++blk)
      for (unsigned t = 0; t < n; ++t) bad += r[blk * n + t] != h[blk * n + (t + size_t(rounds) * shift) % n];
    EXPECT_EQ(bad, 0) << "n = " << n;
  }
}

TEST_F(Barriers, ExitedThreadsDoNotHoldUpTheBarrier) {
  const unsigned n = 256;
  for (unsigned live : {1u, 31u, 32u, 33u, 200u, 255u}) {
    std::vector<int> h(n);
    for (unsigned i = 0; i < n; ++i) h[i] = int(mix(i) % 100000) + 1;
    DeviceBuffer<int> in(h), out(n);
    out.fill_bytes(0);
    auto cfg = launch_config(dim3(1), dim3(n));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, early_exit_reverse, static_cast<const int*>(in.get()), out.get(), live));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    const std::vector<int> r = out.download();
    for (unsigned t = 0; t < n; ++t) ASSERT_EQ(r[t], t < live ? h[live - 1 - t] : 0) << "live " << live << " t " << t;
  }
}

TEST_F(Barriers, ThreadsExitingBetweenBarriersLeaveTheRestSynchronised) {
  const int rounds = 8;
  for (unsigned n : {7u, 64u, 300u, 1024u}) {
    DeviceBuffer<int> a(rounds), b(rounds);
    a.fill_bytes(0xff);
    b.fill_bytes(0xff);
    auto cfg = launch_config(dim3(1), dim3(n));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, staggered_exit, a.get(), b.get(), rounds));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    const std::vector<int> ra = a.download(), rb = b.download();
    for (int r = 0; r < rounds; ++r) {
      int live = 0;  // thread 0 never exits; thread t exits after round t % 7
      for (unsigned t = 0; t < n; ++t) live += t == 0 || int(t % 7) >= r;
      EXPECT_EQ(ra[r], live) << "n " << n << " round " << r;
      EXPECT_EQ(rb[r], live) << "n " << n << " round " << r;
    }
  }
}

TEST_F(Barriers, CountAndOrMatchCpu) {
  const dim3 shapes[] = {dim3(1), dim3(37), dim3(256), dim3(1024), dim3(8, 8, 3)};
  const unsigned blocks = 4;
  for (const dim3& b : shapes) {
    const unsigned n = b.x * b.y * b.z;
    for (int kind = 0; kind < 5; ++kind) {
      for (unsigned live : {n, (n + 1) / 2}) {
        DeviceBuffer<int> out(size_t(3) * n * blocks);
        out.fill_bytes(0x7f);
        auto cfg = launch_config(dim3(blocks), b);
        SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, reducing_barriers, out.get(), kind, live));
        SIM_ASSERT_CUDA(cudaDeviceSynchronize());
        const std::vector<int> r = out.download();
        for (unsigned blk = 0; blk < blocks; ++blk) {
          int count = 0;
          for (unsigned t = 0; t < live; ++t) count += predicate(blk, t, kind) != 0;
          for (unsigned t = 0; t < live; ++t) {
            const size_t g = size_t(blk) * n + t;
            ASSERT_EQ(r[3 * g + 0], count) << "n " << n << " kind " << kind << " live " << live << " block " << blk;
            // _and/_or return "non-zero" for true (programming guide), so compare truth values.
            ASSERT_EQ(r[3 * g + 1] != 0, count == int(live)) << "n " << n << " kind " << kind << " live " << live;
            ASSERT_EQ(r[3 * g + 2] != 0, count > 0) << "n " << n << " kind " << kind << " live " << live;
          }
        }
      }
    }
  }
}

}  // namespace sim_barriers
