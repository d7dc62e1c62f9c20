// Warp votes (__ballot_sync, __any_sync, __all_sync) with varied predicates, partial
// masks and partial warps against a CPU ballot; __activemask with exited lanes;
// __syncwarp ordering shared-memory writes within a warp (full and partial masks).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_vote {
using namespace simtest;

constexpr int kPredicates = 6;

__device__ __host__ int vote_predicate(unsigned t, int kind) {
  switch (kind) {
    case 0: return 0;
    case 1: return 7;             // all, with a truth value other than 1
    case 2: return t % 32 == 31;  // the last lane only
    case 3: return t % 3 == 0;
    case 4: return int(simtest::mix(t) & 1u);
    default: return t % 32 != 5;  // all but one
  }
}

constexpr unsigned kMasks[] = {0xffffffffu, 0x0000ffffu, 0x80000001u, 0x55555555u, 0x00f0f0f0u, 0x00000004u};
constexpr int kMaskCount = int(sizeof(kMasks) / sizeof(kMasks[0]));

// For every mask and predicate kind, the lanes of the mask vote; the others write
// nothing. out[((m * kPredicates + k) * n + t) * 3 + {ballot, any, all}].
__global__ void votes(unsigned* out, const unsigned* masks, int nmasks, unsigned live) {
  const unsigned t = threadIdx.x, lane = t % 32, n = blockDim.x;
  if (t >= live) return;
  for (int m = 0; m < nmasks; ++m) {
    const unsigned mask = masks[m];
    if (!((mask >> lane) & 1u)) continue;
    for (int k = 0; k < kPredicates; ++k) {
      const int p = vote_predicate(t, k);
      unsigned* o = out + ((size_t(m) * kPredicates + k) * n + t) * 3;
      o[0] = __ballot_sync(mask, p);
      o[1] = unsigned(__any_sync(mask, p));
      o[2] = unsigned(__all_sync(mask, p));
    }
  }
}

class Vote : public SimTest {};

TEST_F(Vote, BallotAnyAllMatchCpuForMasksAndPredicates) {
  for (unsigned n : {32u, 64u, 50u}) {
    for (unsigned live : {n, n - 7}) {
      DeviceBuffer<unsigned> d_masks(std::vector<unsigned>(kMasks, kMasks + kMaskCount));
      const size_t count = size_t(kMaskCount) * kPredicates * n * 3;
      DeviceBuffer<unsigned> out(count);
      out.fill_bytes(0xab);
      auto cfg = launch_config(dim3(1), dim3(n));
      SIM_ASSERT_CUDA(
          cudaLaunchKernelEx(&cfg, votes, out.get(), static_cast<const unsigned*>(d_masks.get()), kMaskCount, live));
      SIM_ASSERT_CUDA(cudaDeviceSynchronize());
      const std::vector<unsigned> r = out.download();
      for (int m = 0; m < kMaskCount; ++m)
        for (int k = 0; k < kPredicates; ++k)
          for (unsigned t = 0; t < n; ++t) {
            const unsigned* o = &r[((size_t(m) * kPredicates + k) * n + t) * 3];
            const unsigned lane = t % 32, w = t / 32 * 32;
            if (t >= live || !((kMasks[m] >> lane) & 1u)) {
              EXPECT_EQ(o[0], 0xababababu);  // did not vote
              continue;
            }
            // Lanes of the mask that exist and have not exited take part.
            unsigned ballot = 0, voters = 0;
            for (unsigned l = 0; l < 32; ++l)
              if (((kMasks[m] >> l) & 1u) && w + l < live) {
                voters |= 1u << l;
                if (vote_predicate(w + l, k)) ballot |= 1u << l;
              }
            const std::string where = "n " + std::to_string(n) + " live " + std::to_string(live) + " mask " +
                                      std::to_string(kMasks[m]) + " pred " + std::to_string(k) + " t " +
                                      std::to_string(t);
            ASSERT_EQ(o[0], ballot) << where;
            ASSERT_EQ(o[1] != 0, ballot != 0) << where;
            ASSERT_EQ(o[2] != 0, ballot == voters) << where;
          }
    }
  }
}

// __activemask after some lanes exited: the non-exited lanes of the warp.
__global__ void active_after_exit(unsigned* out) {
  const unsigned lane = threadIdx.x % 32;
  if (lane % 4 == 3) return;
  __syncwarp(__activemask());
  out[threadIdx.x] = __activemask();
}

TEST_F(Vote, ActivemaskExcludesExitedLanes) {
  DeviceBuffer<unsigned> out(48);
  out.fill_bytes(0);
  auto cfg = launch_config(dim3(1), dim3(48));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, active_after_exit, out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned> r = out.download();
  for (unsigned t = 0; t < 48; ++t) {
    if (t % 4 == 3) continue;
    // Warp 0: every lane but 3, 7, ...; warp 1 has 16 lanes.
    const unsigned exist = t < 32 ? 0xffffffffu : 0x0000ffffu;
    EXPECT_EQ(r[t], exist & ~0x88888888u) << t;
  }
}

// __activemask in divergent branches: the lanes of the caller's branch. The lanes of
// the first branch call while the others wait at a barrier; after the branches
// reconverge the whole warp is active again, and the branch masks work as shuffle masks.
__global__ void active_in_branches(unsigned* out) {
  const unsigned t = threadIdx.x, lane = t % 32;
  unsigned m = 0, v = 0;
  if (lane < 10) {
    m = __activemask();
    v = __shfl_sync(m, t, 9);
  } else if (lane % 2 == 1) {
    m = __activemask();
    v = __shfl_sync(m, t, 31);
  } else {
    m = __activemask();
    v = unsigned(__popc(__ballot_sync(m, 1)));
  }
  __syncthreads();
  unsigned* o = out + t * 4;
  o[0] = m;
  o[1] = v;
  o[2] = __activemask();
  if (lane >= 20) {
    o[3] = __activemask();  // while lanes 0-19 wait at the barrier below (these lanes then exit)
  } else {
    __syncthreads();
  }
}

TEST_F(Vote, ActivemaskInDivergentBranchesIsTheBranch) {
  const unsigned n = 64;
  DeviceBuffer<unsigned> out(n * 4);
  out.fill_bytes(0);
  auto cfg = launch_config(dim3(1), dim3(n));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, active_in_branches, out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned> r = out.download();
  for (unsigned t = 0; t < n; ++t) {
    const unsigned lane = t % 32, w = t - lane;
    const unsigned* o = &r[t * 4];
    if (lane < 10) {
      EXPECT_EQ(o[0], 0x000003ffu) << t;
      EXPECT_EQ(o[1], w + 9) << t;
    } else if (lane % 2 == 1) {
      EXPECT_EQ(o[0], 0xaaaaa800u) << t;
      EXPECT_EQ(o[1], w + 31) << t;
    } else {
      EXPECT_EQ(o[0], 0x55555400u) << t;
      EXPECT_EQ(o[1], 11u) << t;
    }
    EXPECT_EQ(o[2], 0xffffffffu) << t;
    EXPECT_EQ(o[3], lane >= 20 ? 0xfff00000u : 0u) << t;
  }
}

// Each lane writes a slot, __syncwarp, then reads the slot of lane + shift: without
// the __syncwarp the read could come first. `rounds` rotations within each warp.
__global__ void syncwarp_rotate(const int* in, int* out, int rounds, int shift) {
  __shared__ int s[1024];
  const unsigned t = threadIdx.x, lane = t % 32, w = t - lane;
  int v = in[blockIdx.x * blockDim.x + t];
  for (int r = 0; r < rounds; ++r) {
    s[t] = v;
    __syncwarp();
    v = s[w + (lane + unsigned(shift)) % 32];
    __syncwarp();
  }
  out[blockIdx.x * blockDim.x + t] = v;
}

TEST_F(Vote, SyncwarpOrdersSharedMemoryWithinTheWarp) {
  const unsigned blocks = 3, n = 256;
  const int rounds = 5, shift = 3;
  std::vector<int> h(blocks * n);
  for (size_t i = 0; i < h.size(); ++i) h[i] = int(mix(uint32_t(i) + 5));
  DeviceBuffer<int> in(h), out(h.size());
  auto cfg = launch_config(dim3(blocks), dim3(n));
  SIM_ASSERT_CUDA(
      cudaLaunchKernelEx(&cfg, syncwarp_rotate, static_cast<const int*>(in.get()), out.get(), rounds, shift));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<int> r = out.download();
  for (size_t i = 0; i < h.size(); ++i) {
    const size_t lane = i % 32;
    ASSERT_EQ(r[i], h[i - lane + (lane + size_t(rounds) * shift) % 32]) << i;
  }
}

// Only the low half-warp exchanges through shared memory, synchronised by
// __syncwarp(0x0000ffff); the high half does its own exchange with its own mask.
__global__ void syncwarp_halves(int* out) {
  __shared__ int s[64];
  const unsigned t = threadIdx.x, lane = t % 32;
  const int v = int(simtest::mix(t));
  s[t] = v;
  if (lane < 16) {
    __syncwarp(0x0000ffffu);
    out[t] = s[t - lane + (lane + 1) % 16];
  } else {
    __syncwarp(0xffff0000u);
    out[t] = s[t - lane + 16 + (lane - 16 + 5) % 16];
  }
}

TEST_F(Vote, SyncwarpWithPartialMasks) {
  DeviceBuffer<int> out(64);
  auto cfg = launch_config(dim3(1), dim3(64));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, syncwarp_halves, out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<int> r = out.download();
  for (unsigned t = 0; t < 64; ++t) {
    const unsigned lane = t % 32, w = t - lane;
    const unsigned src = lane < 16 ? w + (lane + 1) % 16 : w + 16 + (lane - 16 + 5) % 16;
    EXPECT_EQ(r[t], int(mix(src))) << t;
  }
}

}  // namespace sim_vote
