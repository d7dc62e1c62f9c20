// Launch configuration: sm_90 limits on block and grid dimensions with CUDA's error
// codes (not sticky), the built-in index variables in 3-D grids of 3-D blocks, warps
// formed from consecutive linear thread indices, and kernel arguments of varied types.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_launch {
using namespace simtest;

__global__ void write_one(int* out) {
  if (out)
    out[blockIdx.x * blockDim.x * blockDim.y * blockDim.z + threadIdx.x +
        blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)] = 1;
}
__global__ void nothing() {}

std::string dims(dim3 d) {
  std::string text = "(";  // appended piecewise: GCC 12's false -Wrestrict on "(" + std::string
  text += std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
  return text;
}

class LaunchConfig : public SimTest {
 protected:
  // The launch fails at once with cudaErrorInvalidConfiguration; the error is reported
  // once by cudaGetLastError, nothing is pending for the next synchronisation, and a
  // good launch right afterwards works.
  void expect_invalid(dim3 grid, dim3 block, const std::string& what) {
    SCOPED_TRACE("grid " + dims(grid) + " block " + dims(block));
    auto cfg = launch_config(grid, block);
    EXPECT_EQ(cudaLaunchKernelEx(&cfg, write_one, static_cast<int*>(nullptr)), cudaErrorInvalidConfiguration);
    EXPECT_TRUE(MessageHas({"write_one", what}));
    EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidConfiguration);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    DeviceBuffer<int> out(64);
    out.fill_bytes(0);
    auto good = launch_config(dim3(2), dim3(32));
    EXPECT_EQ(cudaLaunchKernelEx(&good, write_one, out.get()), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(out.download(), std::vector<int>(64, 1));
  }
};

TEST_F(LaunchConfig, BlockDimensionsOverTheLimitsAreInvalidConfiguration) {
  for (dim3 b : {dim3(1025), dim3(1, 1025), dim3(1, 1, 65), dim3(32, 32, 2), dim3(64, 17), dim3(2048, 1, 1),
                 dim3(0, 1, 1), dim3(1, 0, 1), dim3(1, 1, 0), dim3(0, 0, 0)})
    expect_invalid(dim3(1), b, "block " + dims(b));
}

TEST_F(LaunchConfig, GridDimensionsOverTheLimitsAreInvalidConfiguration) {
  for (dim3 g : {dim3(1, 65536), dim3(1, 1, 65536), dim3(0, 1, 1), dim3(1, 0, 1), dim3(1, 1, 0), dim3(2147483648u),
                 dim3(0xffffffffu, 1, 1)})
    expect_invalid(g, dim3(32), "grid " + dims(g));
}

TEST_F(LaunchConfig, BlockDimensionsAtTheLimitsRun) {
  for (dim3 b : {dim3(1024), dim3(1, 1024), dim3(1, 1, 64), dim3(16, 1, 64), dim3(32, 32), dim3(8, 2, 64), dim3(1)}) {
    const unsigned n = b.x * b.y * b.z;
    DeviceBuffer<int> out(2 * n);
    out.fill_bytes(0);
    auto cfg = launch_config(dim3(2), b);
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, write_one, out.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    EXPECT_EQ(out.download(), std::vector<int>(2 * n, 1)) << dims(b);
  }
}

TEST_F(LaunchConfig, LargestGridsPassTheConfigurationCheck) {
  // Running 2^31-1 blocks is out of the question, so each launch carries a host
  // pointer: the argument check, which comes after the configuration check, rejects
  // it with cudaErrorInvalidValue before any block runs.
  int host = 0;
  for (dim3 g : {dim3(2147483647u), dim3(2147483647u, 65535, 65535), dim3(1, 65535, 1), dim3(1, 1, 65535)}) {
    auto cfg = launch_config(g, dim3(1024));
    EXPECT_EQ(cudaLaunchKernelEx(&cfg, write_one, &host), cudaErrorInvalidValue) << dims(g);
    EXPECT_TRUE(MessageHas({"argument 0"}));
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  }
  EXPECT_EQ(host, 0);
  // Grids at the y and z limits do run (one thread per block, a kernel that returns).
  for (dim3 g : {dim3(1, 65535, 1), dim3(1, 1, 65535)}) {
    auto cfg = launch_config(g, dim3(1));
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, nothing));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  }
}

struct Record {
  unsigned tx, ty, tz, bx, by, bz, dx, dy, dz, gx, gy, gz, warp_first, warp_size;
};

// Every thread records the built-ins; lane 0's linear index comes to every lane by a
// shuffle, which shows how threads are grouped into warps.
__global__ void record_builtins(Record* out) {
  const unsigned lin = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  const unsigned first = __shfl_sync(__activemask(), lin, 0);
  out[size_t(block) * per_block + lin] =
      Record{threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z, blockDim.x,
             blockDim.y,  blockDim.z,  gridDim.x,   gridDim.y,  gridDim.z,  first,      unsigned(warpSize)};
}

TEST_F(LaunchConfig, BuiltinsIn3DGridsOf3DBlocks) {
  for (auto [grid, block] : {std::pair{dim3(3, 2, 2), dim3(4, 3, 2)}, std::pair{dim3(2, 3, 4), dim3(5, 7, 3)},
                             std::pair{dim3(1, 1, 5), dim3(1, 1, 64)}, std::pair{dim3(7, 1, 1), dim3(33, 1, 1)},
                             std::pair{dim3(2, 2, 1), dim3(16, 16, 4)}}) {
    const unsigned per_block = block.x * block.y * block.z, blocks = grid.x * grid.y * grid.z;
    DeviceBuffer<Record> out(size_t(per_block) * blocks);
    out.fill_bytes(0xee);
    auto cfg = launch_config(grid, block);
    SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, record_builtins, out.get()));
    SIM_ASSERT_CUDA(cudaDeviceSynchronize());
    const std::vector<Record> r = out.download();
    for (unsigned bz = 0; bz < grid.z; ++bz)
      for (unsigned by = 0; by < grid.y; ++by)
        for (unsigned bx = 0; bx < grid.x; ++bx)
          for (unsigned tz = 0; tz < block.z; ++tz)
            for (unsigned ty = 0; ty < block.y; ++ty)
              for (unsigned tx = 0; tx < block.x; ++tx) {
                const unsigned lin = tx + block.x * (ty + block.y * tz);
                const unsigned b = bx + grid.x * (by + grid.y * bz);
                const Record& e = r[size_t(b) * per_block + lin];
                const Record want{
                    tx, ty, tz, bx, by, bz, block.x, block.y, block.z, grid.x, grid.y, grid.z, lin / 32 * 32, 32};
                ASSERT_EQ(std::memcmp(&e, &want, sizeof want), 0)
                    << "grid " << dims(grid) << " block " << dims(block) << " thread (" << tx << "," << ty << "," << tz
                    << ") of block (" << bx << "," << by << "," << bz << ") recorded thread (" << e.tx << "," << e.ty
                    << "," << e.tz << ") block (" << e.bx << "," << e.by << "," << e.bz << ") warp_first "
                    << e.warp_first;
              }
  }
}

// Arguments of many kinds arrive unchanged: by-value structs, scalars of every width,
// an enum, const and non-const pointers, a pointer into the middle of an allocation.
enum class Mode : short { A = 3, B = -7 };
struct Params {
  double scale;
  int offset[3];
  char tag;
};
struct Echo {
  double scale;
  int offset[3];
  char tag;
  unsigned long long big;
  float f;
  short mode;
  bool flag;
  unsigned char byte;
  long long neg;
  int first_in;
};

__global__ void echo_args(Params p, unsigned long long big, float f, Mode mode, bool flag, unsigned char byte,
                          const int* in, long long neg, Echo* out) {
  *out = Echo{p.scale, {p.offset[0], p.offset[1], p.offset[2]}, p.tag, big, f, short(mode), flag, byte, neg, in[0]};
}

TEST_F(LaunchConfig, KernelArgumentsOfVariedTypes) {
  DeviceBuffer<int> in(std::vector<int>{10, 20, 30, 40});
  DeviceBuffer<Echo> out(1);
  const Params p{-2.5e-7, {1, -2, 3}, 'q'};
  auto cfg = launch_config(dim3(1), dim3(1));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, echo_args, p, 0xfedcba9876543210ull, 3.25f, Mode::B, true,
                                     static_cast<unsigned char>(200), static_cast<const int*>(in.get() + 2),
                                     -(1ll << 40), out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const Echo e = out.download()[0];
  EXPECT_EQ(e.scale, -2.5e-7);
  EXPECT_EQ(e.offset[0], 1);
  EXPECT_EQ(e.offset[1], -2);
  EXPECT_EQ(e.offset[2], 3);
  EXPECT_EQ(e.tag, 'q');
  EXPECT_EQ(e.big, 0xfedcba9876543210ull);
  EXPECT_EQ(e.f, 3.25f);
  EXPECT_EQ(e.mode, short(-7));
  EXPECT_TRUE(e.flag);
  EXPECT_EQ(e.byte, 200);
  EXPECT_EQ(e.neg, -(1ll << 40));
  EXPECT_EQ(e.first_in, 30);
}

}  // namespace sim_launch
