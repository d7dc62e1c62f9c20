// Shared by the kernel tests: device buffers, seeded random inputs, and a
// comparison that prints the first mismatches with their indices.
//
// The kernel tests are compiled for the simulator (gp_sim) and, when nvcc is
// present, for the GPU (gp_cuda); the GPU binary skips when no device is present.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/random_data.h"

namespace gp::test {

#define GP_ASSERT_CUDA(expr)                                                         \
  do {                                                                               \
    const cudaError_t gp_err_ = (expr);                                              \
    ASSERT_EQ(gp_err_, cudaSuccess) << #expr << ": " << cudaGetErrorString(gp_err_); \
  } while (0)

// Skips the test when the build targets a GPU and none is present.
inline bool device_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}
#define GP_REQUIRE_DEVICE()                                           \
  do {                                                                \
    if (!::gp::test::device_available()) GTEST_SKIP() << "no device"; \
  } while (0)

// Move-only device buffer; the destructor never throws.
template <class T> class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n && cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)) != cudaSuccess) p_ = nullptr;
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }

  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    if (n_) {
      EXPECT_EQ(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
    }
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    if (n_) {
      EXPECT_EQ(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    }
    return host;
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// |ref - out| <= atol + rtol * |ref| everywhere; reports the first few mismatches.
template <class R, class O>
::testing::AssertionResult all_close(const std::vector<R>& ref, const std::vector<O>& out, double atol, double rtol) {
  if (ref.size() != out.size())
    return ::testing::AssertionFailure() << "size " << out.size() << ", expected " << ref.size();
  std::ostringstream msg;
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double r = double(ref[i]), o = double(out[i]), err = std::fabs(r - o);
    if (!(err <= atol + rtol * std::fabs(r))) {
      if (bad < 8) msg << "\n  [" << i << "] ref " << r << " out " << o << " |diff| " << err;
      ++bad;
      if (err > worst || err != err) worst = err;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << ref.size() << " values differ (atol " << atol << ", rtol "
                                       << rtol << ", worst " << worst << "):" << msg.str();
}

}  // namespace gp::test
