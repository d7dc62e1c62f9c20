// Shared by the simulator conformance tests: device buffers, launch configs, a
// schedule guard, checks on gpusim::last_error_message(), and source-line lookup
// for the call sites that error messages must name.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace simtest {

#define SIM_ASSERT_CUDA(expr)                                                               \
  do {                                                                                      \
    const cudaError_t sim_err_ = (expr);                                                    \
    ASSERT_EQ(sim_err_, cudaSuccess) << #expr << ": " << cudaGetErrorName(sim_err_) << ": " \
                                     << gpusim::last_error_message();                       \
  } while (0)

// Move-only device buffer of n elements.
template <class T> class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n && cudaMalloc(&p_, n * sizeof(T)) != cudaSuccess) p_ = nullptr;
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    ASSERT_LE(host.size(), n_);
    ASSERT_EQ(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  void fill_bytes(int byte) { ASSERT_EQ(cudaMemset(p_, byte, n_ * sizeof(T)), cudaSuccess); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    EXPECT_EQ(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

inline cudaLaunchConfig_t launch_config(dim3 grid, dim3 block, size_t smem = 0, cudaStream_t stream = nullptr) {
  cudaLaunchConfig_t c{};
  c.gridDim = grid;
  c.blockDim = block;
  c.dynamicSmemBytes = smem;
  c.stream = stream;
  return c;
}

// Sets a schedule for the scope and restores the previous one (which may come from
// GPUSIM_SCHEDULE / GPUSIM_SEED) afterwards.
class ScheduleGuard {
 public:
  ScheduleGuard(gpusim::Schedule s, uint64_t seed = 0) : old_(gpusim::schedule()), old_seed_(gpusim::schedule_seed()) {
    gpusim::set_schedule(s, seed);
  }
  ~ScheduleGuard() { gpusim::set_schedule(old_, old_seed_); }
  ScheduleGuard(const ScheduleGuard&) = delete;
  ScheduleGuard& operator=(const ScheduleGuard&) = delete;

 private:
  gpusim::Schedule old_;
  uint64_t old_seed_;
};

// Every test starts with no pending error, so one test's error cannot leak into the next.
class SimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)cudaDeviceSynchronize();
    (void)cudaGetLastError();
  }
};

// Success if gpusim::last_error_message() contains every phrase.
inline ::testing::AssertionResult MessageHas(std::initializer_list<std::string> phrases) {
  const std::string msg = gpusim::last_error_message();
  for (const std::string& p : phrases)
    if (msg.find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "last_error_message() lacks \"" << p << "\"; it is:\n" << msg;
  return ::testing::AssertionSuccess();
}

// "FILE:LINE:" of the single line of `file` that contains "SITE(<name>)": error
// messages name call sites as file:line:column.
inline std::string site(const char* file, const std::string& name) {
  std::ifstream in(file);
  const std::string marker = "SITE(" + name + ")";
  std::string line, found;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(marker) != std::string::npos) {
      EXPECT_TRUE(found.empty()) << marker << " occurs twice in " << file;
      found = std::string(file) + ":" + std::to_string(n) + ":";
    }
  EXPECT_FALSE(found.empty()) << marker << " not found in " << file;
  return found;
}

// A reproducible non-trivial value for index i (never zero for small i).
inline uint32_t mix(uint32_t i) {
  uint32_t x = i * 0x9e3779b1u + 0x7f4a7c15u;
  x ^= x >> 15;
  x *= 0x2c1b3c6du;
  x ^= x >> 12;
  return x;
}

}  // namespace simtest
