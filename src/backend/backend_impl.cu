// The Backend over the CUDA runtime API: compiled by nvcc for the GPU and by the C++
// compiler for the simulator (same source, namespaces gp_cuda / gp_sim).
#include <string>

#include "kernels/argmax.cuh"
#include "kernels/image.cuh"
#include "src/backend/backend.h"
#include "src/common/error.h"

namespace GP_KERNEL_NS {
namespace {

// The one place that turns a CUDA error into the library's exception, naming the
// operation that failed.
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so the session stays usable
    throw gp::Error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
  }
}

class RuntimeBackend final : public gp::Backend {
 public:
  RuntimeBackend(gp::DeviceKind kind, int device) : kind_(kind), device_(device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    name_ = prop.name;
    if (kind == gp::DeviceKind::Cuda) name_ += " (cuda:" + std::to_string(device) + ")";
  }

  gp::DeviceKind kind() const override { return kind_; }
  std::string name() const override { return name_; }

  void* alloc(size_t bytes, const char* what) override {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw gp::Error(std::string("out of device memory allocating ") + std::to_string(bytes) + " bytes for " + what);
    }
    return p;
  }
  void release(void* p) noexcept override {
    if (p) cudaFree(p);
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "upload to device");
  }
  void download(void* dst, const void* src, size_t bytes) override {
    check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "download from device");
  }
  void synchronize(const char* what) override { check(cudaDeviceSynchronize(), what); }

  void rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x) override {
    check(GP_KERNEL_NS::rgb8_to_grey(rgb, pixels, x, nullptr), "rgb8_to_grey");
  }
  void rgb8_to_float(const uint8_t* rgb, size_t pixels, float* y) override {
    check(GP_KERNEL_NS::rgb8_to_float(rgb, pixels, y, nullptr), "rgb8_to_float");
  }
  void float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb) override {
    check(GP_KERNEL_NS::float_to_rgb8(y, pixels, rgb, nullptr), "float_to_rgb8");
  }
  void argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels) override {
    check(GP_KERNEL_NS::argmax_channels(logits, pixels, channels, labels, nullptr), "argmax_channels");
  }

 private:
  gp::DeviceKind kind_;
  int device_;
  std::string name_;
};

}  // namespace
}  // namespace GP_KERNEL_NS

#if defined(__CUDACC_SIM__)
namespace gp::gp_sim_backend {
std::unique_ptr<Backend> make() {
  return std::make_unique<GP_KERNEL_NS::RuntimeBackend>(DeviceKind::Simulator, 0);
}
}  // namespace gp::gp_sim_backend
#else
namespace gp::gp_cuda_backend {
int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}
std::unique_ptr<Backend> make(int device_index) {
  const int n = device_count();
  if (device_index < 0 || device_index >= n)
    throw Error("CUDA device " + std::to_string(device_index) + " requested, but " + std::to_string(n) +
                " CUDA device(s) are present");
  return std::make_unique<GP_KERNEL_NS::RuntimeBackend>(DeviceKind::Cuda, device_index);
}
}  // namespace gp::gp_cuda_backend
#endif
