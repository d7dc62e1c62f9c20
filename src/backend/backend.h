// The engine's view of a device: memory, copies, and the kernel families, behind one
// interface with two implementations compiled from the same source
// (backend_impl.cu): gp_cuda (nvcc, a real GPU) and gp_sim (the gpusim simulator).
// Plain C++: no CUDA header is needed to use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace gp {

enum class DeviceKind { Cuda, Simulator };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceKind kind() const = 0;
  // e.g. "NVIDIA H100 80GB HBM3 (cuda:0)" or "gpusim (CPU SIMT simulator, sm_90 limits)"
  virtual std::string name() const = 0;

  // Device memory. alloc throws gp::Error naming `what` on failure; release never throws.
  virtual void* alloc(size_t bytes, const char* what) = 0;
  virtual void release(void* p) noexcept = 0;
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;
  virtual void download(void* dst, const void* src, size_t bytes) = 0;
  // Waits for queued work and throws gp::Error if any of it failed.
  virtual void synchronize(const char* what) = 0;

  // Kernel families (device pointers; see kernels/*.cuh for the contracts).
  virtual void rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x) = 0;
  virtual void rgb8_to_float(const uint8_t* rgb, size_t pixels, float* y) = 0;
  virtual void float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb) = 0;
  virtual void argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels) = 0;
};

namespace gp_sim_backend {
std::unique_ptr<Backend> make();
}
namespace gp_cuda_backend {
// Number of usable CUDA devices; 0 when there is no driver or no GPU.
int device_count();
std::unique_ptr<Backend> make(int device_index);
}

}  // namespace gp
