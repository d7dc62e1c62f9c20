// The Backend over the CUDA runtime API: compiled by nvcc for the GPU and by the C++
// compiler for the simulator (same source, namespaces gp_cuda / gp_sim).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "kernels/areas.cuh"
#include "kernels/argmax.cuh"
#include "kernels/compose.cuh"
#include "kernels/image.cuh"
#include "kernels/regions.cuh"
#include "src/backend/backend.h"
#include "src/backend/conv_step.cuh"
#include "src/common/error.h"

namespace GP_KERNEL_NS {
namespace {

// The one place that turns a CUDA error into the library's exception, naming the
// operation that failed.
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::string message = std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
#if defined(__CUDACC_SIM__)
    // The simulator says what was wrong (an overrun, a bad GPUSIM_DEVICE_BYTES), when this
    // error is the one it recorded (a launcher's own refusal never reaches it).
    if (const char* why = gpusim::last_error_message(); cudaPeekAtLastError() == e && why && *why)
      message += ": " + std::string(why);
#endif
    cudaGetLastError();  // clear a non-sticky error so the session stays usable
    throw gp::Error(e == cudaErrorMemoryAllocation ? gp::ErrorKind::OutOfMemory : gp::ErrorKind::Device, message);
  }
}

// Makes the backend's GPU current for one call and gives the caller's back afterwards,
// so a Session used on a thread whose current device is another still allocates and
// launches on its model's GPU. Never throws: a failed cudaSetDevice shows in the call.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    int current = -1;
    if (cudaGetDevice(&current) != cudaSuccess) {
      cudaGetLastError();
      current = -1;
    }
    if (current != device) {
      if (cudaSetDevice(device) != cudaSuccess) cudaGetLastError();
      previous_ = current;
    }
  }
  ~DeviceGuard() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

#if defined(__CUDACC_SIM__)
// The kernel's estimate of what can be allocated without swapping (MemAvailable).
size_t host_available_memory() {
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    std::fclose(f);
    if (kb) return size_t(kb) * 1024;
  }
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : SIZE_MAX;
}
#endif

class RuntimeBackend final : public gp::Backend {
 public:
  RuntimeBackend(gp::DeviceKind kind, int device) : kind_(kind), device_(device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    name_ = prop.name;
    capability_ = prop.major * 10 + prop.minor;
    if (kind == gp::DeviceKind::Cuda) name_ += " (cuda:" + std::to_string(device) + ")";
    if (kind == gp::DeviceKind::Simulator && device != 0) name_ += " (device " + std::to_string(device) + ")";
  }

  gp::DeviceKind kind() const override { return kind_; }
  std::string name() const override { return name_; }
  int compute_capability() const override { return capability_; }

  size_t available_memory() override {
    DeviceGuard guard(device_);
    size_t free_bytes = 0, total = 0;
    if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) {
      cudaGetLastError();
      return SIZE_MAX;  // unknown: let the allocations tell
    }
#if defined(__CUDACC_SIM__)
    free_bytes = std::min(free_bytes, host_available_memory());
#endif
    return free_bytes;
  }
  void* alloc(size_t bytes, const char* what) override {
    DeviceGuard guard(device_);
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw gp::Error(gp::ErrorKind::OutOfMemory,
                      std::string("out of device memory allocating ") + std::to_string(bytes) + " bytes for " + what);
    }
    return p;
  }
  void release(void* p) noexcept override {
    DeviceGuard guard(device_);
    if (p) cudaFree(p);
  }
  void upload(void* dst, const void* src, size_t bytes, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda(stream)), "upload to device");
  }
  void fill_zero(void* dst, size_t bytes, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaMemsetAsync(dst, 0, bytes, cuda(stream)), "fill_zero");
  }
  void download(void* dst, const void* src, size_t bytes, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda(stream)), "download from device");
    check(cudaStreamSynchronize(cuda(stream)), "download from device");
  }
  void synchronize(const char* what, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaStreamSynchronize(cuda(stream)), what);
  }
#if defined(__CUDACC_SIM__)
  void set_interrupt(const std::atomic<bool>* flag) override { gpusim::set_interrupt(flag); }
#endif
  gp::Stream create_stream() override {
    DeviceGuard guard(device_);
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    return s;
  }
  void destroy_stream(gp::Stream stream) noexcept override {
    DeviceGuard guard(device_);
    if (stream) cudaStreamDestroy(cuda(stream));
  }

  void* alloc_pinned(size_t bytes, const char* what) override {
    DeviceGuard guard(device_);
    void* p = nullptr;
    const cudaError_t e = cudaMallocHost(&p, bytes);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw gp::Error(gp::ErrorKind::OutOfMemory, std::string("out of page-locked host memory allocating ") +
                                                      std::to_string(bytes) + " bytes for " + what);
    }
    return p;
  }
  void release_pinned(void* p) noexcept override {
    DeviceGuard guard(device_);
    if (p) cudaFreeHost(p);
  }
  void download_async(void* dst, const void* src, size_t bytes, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda(stream)), "download from device");
  }

  void begin_capture(gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaStreamBeginCapture(cuda(stream), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  }
  Graph end_capture(gp::Stream stream) override {
    DeviceGuard guard(device_);
    cudaGraph_t graph = nullptr;
    check(cudaStreamEndCapture(cuda(stream), &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);  // the executable graph outlives it
    check(e, "cudaGraphInstantiate");
    return exec;
  }
  void abort_capture(gp::Stream stream) noexcept override {
    DeviceGuard guard(device_);
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(cuda(stream), &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    cudaGetLastError();
  }
  void launch_graph(Graph graph, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), cuda(stream)), "cudaGraphLaunch");
  }
  void destroy_graph(Graph graph) noexcept override {
    DeviceGuard guard(device_);
    if (graph) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
  }

  void compose_rgb8(const uint8_t* colours, int w, int h, const uint8_t* sketch, int W, int H, bool keep_lines,
                    uint8_t* out, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::compose_rgb8(colours, w, h, sketch, W, H, keep_lines, out, cuda(stream)), "compose_rgb8");
  }

  void rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::rgb8_to_grey(rgb, pixels, x, cuda(stream)), "rgb8_to_grey");
  }

  void float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::float_to_rgb8(y, pixels, rgb, cuda(stream)), "float_to_rgb8");
  }
  void argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::argmax_channels(logits, pixels, channels, labels, cuda(stream)), "argmax_channels");
  }

  std::vector<uint8_t> pack_step(const gp::ConvStep& step, const float* weight, const float* bias,
                                 gp::Precision p) const override {
    return GP_KERNEL_NS::pack_conv_step(step, weight, bias, p);
  }
  void run_step(const gp::ConvStep& step, gp::Precision p, const void* packed, const gp::StepTensors& tensors,
                const gp::StepScratch& scratch, gp::Stream stream) override {
    DeviceGuard guard(device_);
    const char* what = "conv step";
    const cudaError_t e = GP_KERNEL_NS::run_conv_step(step, p, packed, tensors, scratch, cuda(stream), &what);
    if (e != cudaSuccess) check(e, (step.name + ": " + what).c_str());
  }

  void region_stats(const uint8_t* labels, const uint8_t* rgb, int w, int h, int num_regions, gp::RegionStats* stats,
                    gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::region_stats(labels, rgb, w, h, num_regions, stats, cuda(stream)), "region_stats");
  }

  size_t label_areas_scratch_bytes(int w, int h) const override {
    return GP_KERNEL_NS::label_areas_scratch_bytes(w, h);
  }
  void label_areas(const uint8_t* rgb, int w, int h, int threshold, int32_t* labels, int32_t* num_areas, void* scratch,
                   gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::label_areas(rgb, w, h, threshold, labels, num_areas, scratch, cuda(stream)), "label_areas");
  }
  void area_stats(const int32_t* labels, const uint8_t* rgb, int w, int h, int num_areas, gp::AreaStats* stats,
                  gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::area_stats(labels, rgb, w, h, num_areas, stats, cuda(stream)), "area_stats");
  }
  void area_majority(const int32_t* labels, int W, int H, const uint8_t* seg, int w, int h, int num_regions,
                     int num_areas, uint32_t* votes, uint8_t* majority, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::area_majority(labels, W, H, seg, w, h, num_regions, num_areas, votes, majority, cuda(stream)),
          "area_majority");
  }
  void override_labels(const uint8_t* base, int w, int h, const int32_t* labels, int W, int H, const int8_t* channel,
                       uint8_t* out, gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::override_labels(base, w, h, labels, W, H, channel, out, cuda(stream)), "override_labels");
  }
  void paint_areas(const int32_t* labels, int w, int h, const uint8_t* colours, uint8_t* rgba,
                   gp::Stream stream) override {
    DeviceGuard guard(device_);
    check(GP_KERNEL_NS::paint_areas(labels, w, h, colours, rgba, cuda(stream)), "paint_areas");
  }

 private:
  static cudaStream_t cuda(gp::Stream s) { return static_cast<cudaStream_t>(s); }
  gp::DeviceKind kind_;
  int device_;
  int capability_ = 0;
  std::string name_;
};

}  // namespace
}  // namespace GP_KERNEL_NS

#if defined(__CUDACC_SIM__)
namespace gp::gp_sim_backend {
std::unique_ptr<Backend> make(int device_index) {
  return std::make_unique<GP_KERNEL_NS::RuntimeBackend>(DeviceKind::Simulator, device_index);
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
    throw Error(ErrorKind::Device, "CUDA device " + std::to_string(device_index) + " requested, but " +
                                       std::to_string(n) + " CUDA device(s) are present");
  return std::make_unique<GP_KERNEL_NS::RuntimeBackend>(DeviceKind::Cuda, device_index);
}
}  // namespace gp::gp_cuda_backend
#endif
