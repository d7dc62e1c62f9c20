// Every shuffle variant at every width, with many deltas / lane masks / source lanes,
// for several types, against the lane formulas of the CUDA programming guide:
//   __shfl_sync:      lane reads lane (segment base + srcLane mod width)
//   __shfl_up_sync:   lane keeps its own value if lane % width < delta
//   __shfl_down_sync: lane keeps its own value if lane % width + delta >= width
//   __shfl_xor_sync:  lane reads lane ^ laneMask, unless that lane is in a later
//                     segment (then it keeps its own value); earlier segments are read
// plus partial masks (only the lanes in the mask call) and partial warps.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_shuffle {
using namespace simtest;

enum Op : int { kIdx = 0, kUp = 1, kDown = 2, kXor = 3 };
const char* const kOpName[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync"};

// One shuffle call: every lane passes param + stride * lane.
struct Case {
  int op, width, param, stride;
};

struct Wide {  // 16 bytes: the simulator shuffles trivially copyable types up to 16 bytes
  int a;
  float b;
  double c;
  bool operator==(const Wide& o) const { return a == o.a && b == o.b && c == o.c; }
};

// The value thread t holds; distinct for every thread, never zero.
template <class T> __device__ __host__ T value_of(unsigned t);
template <> __device__ __host__ int value_of<int>(unsigned t) { return int(mix(t) | 1u); }
template <> __device__ __host__ unsigned long long value_of<unsigned long long>(unsigned t) {
  return (0x1234567800000000ull | mix(t)) ^ (uint64_t(t) << 40);
}
template <> __device__ __host__ float value_of<float>(unsigned t) {
  return float(t) * 1.25f - 17.5f + 0.001f * float(t % 7);
}
template <> __device__ __host__ double value_of<double>(unsigned t) { return double(t) * 1e10 + 1.0 / 3.0 + t; }
template <> __device__ __host__ __half value_of<__half>(unsigned t) { return __half(float(t) * 0.5f - 7.25f); }
template <> __device__ __host__ Wide value_of<Wide>(unsigned t) {
  return Wide{int(mix(t)), float(t) + 0.5f, -double(t) * 3.0e-3};
}

template <class T> bool same_bits(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Wide>) return a == b;
  else return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class T> __global__ void shuffle_cases(const Case* cases, int ncases, T* out) {
  const unsigned t = threadIdx.x, lane = t % 32, n = blockDim.x;
  const T mine = value_of<T>(t);
  for (int c = 0; c < ncases; ++c) {
    const Case k = cases[c];
    const int p = k.param + k.stride * int(lane);
    T r;
    switch (k.op) {
      case kIdx: r = __shfl_sync(0xffffffffu, mine, p, k.width); break;
      case kUp: r = __shfl_up_sync(0xffffffffu, mine, unsigned(p), k.width); break;
      case kDown: r = __shfl_down_sync(0xffffffffu, mine, unsigned(p), k.width); break;
      default: r = __shfl_xor_sync(0xffffffffu, mine, p, k.width); break;
    }
    out[size_t(c) * n + t] = r;
  }
}

// The source lane by the programming guide's rules (param already per lane).
int expected_source(int op, int lane, int width, int p) {
  const int base = lane / width * width, i = lane % width;
  switch (op) {
    case kIdx: return base + ((p % width) + width) % width;
    case kUp: return i < p ? lane : lane - p;
    case kDown: return i + p >= width ? lane : lane + p;
    default: {
      const int s = lane ^ p;
      return s / width > lane / width ? lane : s;
    }
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int width : {32, 16, 8, 4, 2, 1}) {
    // srcLane: in range, >= width, >= 32, negative; a broadcast and per-lane patterns.
    for (int p : {0, 1, 3, 5, 7, 8, 15, 16, 17, 31, 32, 45, 100, -1, -3, -17, -32, -33})
      cases.push_back({kIdx, width, p, 0});
    cases.push_back({kIdx, width, 0, 1});    // identity
    cases.push_back({kIdx, width, 3, 7});    // a permutation with wrap
    cases.push_back({kIdx, width, 31, -1});  // reversal
    cases.push_back({kIdx, width, 5, 2});
    // deltas and lane masks below 32 (PTX uses their low five bits)
    for (int p : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31}) {
      cases.push_back({kUp, width, p, 0});
      cases.push_back({kDown, width, p, 0});
      cases.push_back({kXor, width, p, 0});
    }
  }
  return cases;
}

template <class T> void check_all_shuffles(unsigned block) {
  const std::vector<Case> cases = all_cases();
  DeviceBuffer<Case> d_cases(cases);
  DeviceBuffer<T> out(cases.size() * block);
  auto cfg = launch_config(dim3(1), dim3(block));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, shuffle_cases<T>, static_cast<const Case*>(d_cases.get()), int(cases.size()),
                                     out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<T> r = out.download();
  int bad = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    const Case& k = cases[c];
    for (unsigned t = 0; t < block; ++t) {
      const int lane = int(t % 32), p = k.param + k.stride * lane;
      const unsigned src = t / 32 * 32 + unsigned(expected_source(k.op, lane, k.width, p));
      if (!same_bits(r[c * block + t], value_of<T>(src)) && ++bad <= 10)
        ADD_FAILURE() << kOpName[k.op] << "(width " << k.width << ", param " << p << ") at thread " << t
                      << ": expected the value of thread " << src;
    }
  }
  EXPECT_EQ(bad, 0);
}

class Shuffle : public SimTest {};

TEST_F(Shuffle, AllVariantsAllWidthsInt) { check_all_shuffles<int>(64); }
TEST_F(Shuffle, AllVariantsAllWidthsUnsignedLongLong) { check_all_shuffles<unsigned long long>(32); }
TEST_F(Shuffle, AllVariantsAllWidthsFloat) { check_all_shuffles<float>(96); }
TEST_F(Shuffle, AllVariantsAllWidthsDouble) { check_all_shuffles<double>(64); }
TEST_F(Shuffle, AllVariantsAllWidthsHalf) { check_all_shuffles<__half>(32); }
TEST_F(Shuffle, AllVariantsAllWidthsSixteenByteStruct) { check_all_shuffles<Wide>(64); }

// Only the lanes of `mask` call; each reads a lane inside the mask.
__global__ void shuffle_partial_mask(int* out) {
  const unsigned t = threadIdx.x, lane = t % 32;
  const int v = value_of<int>(t);
  int* o = out + size_t(t) * 6;
  if (lane % 2 == 0) {  // even lanes: 0x55555555
    o[0] = __shfl_xor_sync(0x55555555u, v, 2);
    o[1] = __shfl_down_sync(0x55555555u, v, 4);  // lane 28, 30: own value
    o[2] = __shfl_sync(0x55555555u, v, 0, 2);    // reads the even lane of its pair: itself
  } else {                                       // odd lanes, a different call site and mask at the same time
    o[0] = __shfl_xor_sync(0xaaaaaaaau, v, 6);
    o[1] = __shfl_up_sync(0xaaaaaaaau, v, 2, 8);  // lanes 1, 9, 17, 25: own value
    o[2] = __shfl_sync(0xaaaaaaaau, v, 15, 16);   // last lane of its half
  }
  if (lane % 8 < 4) {  // 0x0f0f0f0f, one call site, mask chosen per lane group
    o[3] = __shfl_xor_sync(0x0f0f0f0fu, v, 3);
    o[4] = __shfl_up_sync(0x0f0f0f0fu, v, 1, 4);
    o[5] = __shfl_sync(0x0f0f0f0fu, v, 10, 8);  // base + 2
  }
}

TEST_F(Shuffle, PartialMasksOnlyMaskedLanesCall) {
  const unsigned n = 64;
  DeviceBuffer<int> out(n * 6);
  out.fill_bytes(0);
  auto cfg = launch_config(dim3(1), dim3(n));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, shuffle_partial_mask, out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<int> r = out.download();
  for (unsigned t = 0; t < n; ++t) {
    const int lane = int(t % 32);
    const unsigned w = t / 32 * 32;
    auto val = [&](int src_lane) { return value_of<int>(w + unsigned(src_lane)); };
    if (lane % 2 == 0) {
      EXPECT_EQ(r[t * 6 + 0], val(expected_source(kXor, lane, 32, 2))) << t;
      EXPECT_EQ(r[t * 6 + 1], val(expected_source(kDown, lane, 32, 4))) << t;
      EXPECT_EQ(r[t * 6 + 2], val(expected_source(kIdx, lane, 2, 0))) << t;
    } else {
      EXPECT_EQ(r[t * 6 + 0], val(expected_source(kXor, lane, 32, 6))) << t;
      EXPECT_EQ(r[t * 6 + 1], val(expected_source(kUp, lane, 8, 2))) << t;
      EXPECT_EQ(r[t * 6 + 2], val(expected_source(kIdx, lane, 16, 15))) << t;
    }
    if (lane % 8 < 4) {
      EXPECT_EQ(r[t * 6 + 3], val(expected_source(kXor, lane, 32, 3))) << t;
      EXPECT_EQ(r[t * 6 + 4], val(expected_source(kUp, lane, 4, 1))) << t;
      EXPECT_EQ(r[t * 6 + 5], val(expected_source(kIdx, lane, 8, 10))) << t;
    } else {
      for (int k = 3; k < 6; ++k) EXPECT_EQ(r[t * 6 + k], 0) << t;
    }
  }
}

// A block of 20 threads: lanes 20-31 of the only warp do not exist, the full-mask
// shuffle still completes; lanes whose source exists get its value.
__global__ void shuffle_partial_warp(int* out) {
  const int v = value_of<int>(threadIdx.x);
  const int down = __shfl_down_sync(0xffffffffu, v, 4);
  const int idx = __shfl_sync(0xffffffffu, v, 19 - int(threadIdx.x));
  const int x = __shfl_xor_sync(0xffffffffu, v, 1);
  int* o = out + (blockIdx.x * blockDim.x + threadIdx.x) * 3;
  o[0] = down;
  o[1] = idx;
  o[2] = x;
}

TEST_F(Shuffle, PartialWarpWithFullMask) {
  DeviceBuffer<int> out(2 * 20 * 3);
  auto cfg = launch_config(dim3(2), dim3(20));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, shuffle_partial_warp, out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<int> r = out.download();
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 20; ++t) {
      const int* o = &r[(b * 20 + t) * 3];
      if (t + 4 < 20) {
        EXPECT_EQ(o[0], value_of<int>(unsigned(t + 4))) << t;
      }
      EXPECT_EQ(o[1], value_of<int>(unsigned(19 - t))) << t;
      EXPECT_EQ(o[2], value_of<int>(unsigned(t ^ 1))) << t;
    }
}

// A warp reduction and an inclusive scan, the two idioms kernels build from shuffles.
__global__ void reduce_and_scan(const float* in, float* sums, float* scans) {
  const unsigned t = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x % 32;
  const float v = in[t];
  float s = v;
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  float scan = v;
  for (unsigned d = 1; d < 32; d <<= 1) {
    const float up = __shfl_up_sync(0xffffffffu, scan, d);
    if (lane >= d) scan += up;
  }
  sums[t] = s;
  scans[t] = scan;
}

TEST_F(Shuffle, WarpReductionAndScanIdioms) {
  const unsigned blocks = 5, block = 128, n = blocks * block;
  std::vector<float> h(n);
  for (unsigned i = 0; i < n; ++i) h[i] = float(int(mix(i) % 201) - 100) * 0.25f;  // exact sums
  DeviceBuffer<float> in(h), sums(n), scans(n);
  auto cfg = launch_config(dim3(blocks), dim3(block));
  SIM_ASSERT_CUDA(
      cudaLaunchKernelEx(&cfg, reduce_and_scan, static_cast<const float*>(in.get()), sums.get(), scans.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<float> rs = sums.download(), rc = scans.download();
  for (unsigned w = 0; w < n / 32; ++w) {
    float total = 0, prefix = 0;
    for (unsigned l = 0; l < 32; ++l) total += h[w * 32 + l];
    for (unsigned l = 0; l < 32; ++l) {
      prefix += h[w * 32 + l];
      ASSERT_EQ(rs[w * 32 + l], total) << "warp " << w;
      ASSERT_EQ(rc[w * 32 + l], prefix) << "warp " << w << " lane " << l;
    }
  }
}

}  // namespace sim_shuffle
