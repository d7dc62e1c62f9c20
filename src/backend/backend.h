// The engine's view of a device: memory, copies, graphs, the U-Net's plan steps and the
// few other kernel families the Session needs, behind one interface with two
// implementations compiled from the same source (backend_impl.cu, conv_step.cu): gp_cuda
// (nvcc, a real GPU) and gp_sim (the gpusim simulator).
// Plain C++: no CUDA header is needed to use it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guidingpainter/precision.hpp"
#include "kernels/area_rules.h"
#include "kernels/region_stats.h"
#include "src/plan/unet_plan.h"

namespace gp {

enum class DeviceKind { Cuda, Simulator };

// A cudaStream_t of the backend's device (null: the default stream). Every operation
// is queued on the stream it is given; download and synchronize wait for it.
using Stream = void*;

// The colorizer's first-layer input, gathered on the fly (kernels/conv.cuh).
struct ColorizerInput {
  const float* sketch = nullptr;    // [h][w] in [-1, 1]
  const uint8_t* labels = nullptr;  // [h][w] region ids
  const float* colors = nullptr;    // [30][3] hint colours in [-1, 1]
  const uint8_t* active = nullptr;  // [30] nonzero: hinted
  int h = 0, w = 0;
  float center = 0.0f;
};

// The device tensors one plan step reads and writes, [h][w][c] as its TensorRefs say.
struct StepTensors {
  const void* in = nullptr;                   // step.in (not read by Gather::Colorizer)
  const void* low = nullptr;                  // step.low (Gather::UpConcat)
  void* out = nullptr;                        // step.out; Epilogue::BiasTanh: float [h][w][3]
  const ColorizerInput* colorizer = nullptr;  // Gather::Colorizer
  uint8_t* labels = nullptr;                  // Epilogue::Argmax: [h][w]
  float* logits = nullptr;                    // Epilogue::Argmax: [h][w][cout], or null
};

// Device scratch the 16-bit path's steps use (UNetWorkspace sizes it from the plan).
struct StepScratch {
  // Gather::UpConcat: h x w x low.c 16-bit elements, or null. Given, and both channel
  // counts multiples of 8, the upsampled input is written there once and the conv
  // gathers it by copies (kernels/upsample.cuh says why); else the gather computes it.
  void* upsampled = nullptr;
  // Gather::Colorizer on the 16-bit path: h x w x step.mma_cin 16-bit elements, where
  // the input is written once (kernels/colorizer_input.cuh) for the conv on weights
  // packed for step.mma_cin input channels. Required there (the launch fails without it).
  void* colorizer_input = nullptr;
  // step.mma's split-K partial sums and tile counters (kernels/conv_mma_tile.h): required
  // by a 16-bit step whose schedule splits K (the launch fails without them).
  float* split_partials = nullptr;
  unsigned* split_counters = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceKind kind() const = 0;
  // e.g. "NVIDIA H100 80GB HBM3 (cuda:0)" or "gpusim (CPU SIMT simulator, sm_90 limits)"
  virtual std::string name() const = 0;
  // major * 10 + minor (the simulator reports 90).
  virtual int compute_capability() const = 0;

  // Bytes a new allocation can still get: the GPU's free memory; on the simulator, whose
  // device memory is host memory, the host's available memory.
  virtual size_t available_memory() = 0;
  // Device memory. alloc throws gp::Error naming `what` on failure; release never throws.
  virtual void* alloc(size_t bytes, const char* what) = 0;
  virtual void release(void* p) noexcept = 0;
  virtual void upload(void* dst, const void* src, size_t bytes, Stream stream = nullptr) = 0;
  virtual void download(void* dst, const void* src, size_t bytes, Stream stream = nullptr) = 0;
  // Sets `bytes` bytes of device memory to zero, in stream order (a graph node when captured).
  virtual void fill_zero(void* dst, size_t bytes, Stream stream) = 0;
  // Waits for the stream's work and throws gp::Error naming `what` if any of it failed.
  virtual void synchronize(const char* what, Stream stream = nullptr) = 0;
  // The calling thread's cancel flag (null: none). The simulator stops a running launch
  // between thread blocks once it is set (the launch then fails at synchronize); a GPU
  // runs its launches to the end, so the engine checks the flag between launches.
  virtual void set_interrupt(const std::atomic<bool>* flag) { (void)flag; }
  // A new stream of this device, and its release (never throws).
  virtual Stream create_stream() = 0;
  virtual void destroy_stream(Stream stream) noexcept = 0;

  // Page-locked host memory (cudaMallocHost): what a graph's copies read and write.
  virtual void* alloc_pinned(size_t bytes, const char* what) = 0;
  virtual void release_pinned(void* p) noexcept = 0;
  // A queued device -> host copy that does not wait (dst pinned, or it is no true copy).
  virtual void download_async(void* dst, const void* src, size_t bytes, Stream stream) = 0;

  // Stream capture into an executable CUDA graph (thread-local mode: other threads' CUDA
  // calls do not disturb it). end_capture instantiates what was queued on `stream` since
  // begin_capture; abort_capture ends a capture that failed and discards it.
  using Graph = void*;
  virtual void begin_capture(Stream stream) = 0;
  virtual Graph end_capture(Stream stream) = 0;
  virtual void abort_capture(Stream stream) noexcept = 0;
  virtual void launch_graph(Graph graph, Stream stream) = 0;
  virtual void destroy_graph(Graph graph) noexcept = 0;

  // Kernel families (device pointers; see kernels/*.cuh for the contracts).
  virtual void rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x, Stream stream = nullptr) = 0;
  virtual void float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb, Stream stream = nullptr) = 0;
  virtual void argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels,
                               Stream stream = nullptr) = 0;

  // ---- the U-Net's convolutions: one plan step at a time (src/plan/unet_plan.h) ----
  // A step's weights, PyTorch's [cout][cin][k][k] with BatchNorm folded (step.cin,
  // step.cout, step.ksize), and its bias [cout], packed into one block as run_step reads
  // them in precision p (the layout is the backend's business: for this one, the fp32
  // kernels' or, for a 3x3 step of the 16-bit path, the tensor cores' for step.mma_cin
  // input channels, the extra ones zero; then the fp32 bias). Host memory, which the
  // caller uploads as it is.
  virtual std::vector<uint8_t> pack_step(const ConvStep& step, const float* weight, const float* bias,
                                         Precision p) const = 0;
  // Runs one step in precision p: its gather, the conv on `packed` (pack_step's block on
  // the device) and its epilogue, on the pointers of `tensors` (activations of the
  // precision's storage type; the network input is fp32), with the 16-bit path's
  // `scratch`. Queued on `stream`; throws gp::Error naming the launch that failed.
  virtual void run_step(const ConvStep& step, Precision p, const void* packed, const StepTensors& tensors,
                        const StepScratch& scratch, Stream stream) = 0;

  // out [H][W][3] uint8: colours [h][w][3] resampled to W x H and, with keep_lines,
  // times the sketch's grey (kernels/compose.cuh; bit-identical to tests/image/compose_reference.h).
  virtual void compose_rgb8(const uint8_t* colours, int w, int h, const uint8_t* sketch, int W, int H, bool keep_lines,
                            uint8_t* out, Stream stream = nullptr) = 0;

  // stats [num_regions]; rgb [h][w][3] may be null (sums stay 0).
  virtual void region_stats(const uint8_t* labels, const uint8_t* rgb, int w, int h, int num_regions,
                            RegionStats* stats, Stream stream = nullptr) = 0;

  // Closed areas of a sketch (kernels/areas.cuh has the contracts). scratch: at least
  // label_areas_scratch_bytes(w, h) bytes of device memory; num_areas one device int32.
  virtual size_t label_areas_scratch_bytes(int w, int h) const = 0;
  virtual void label_areas(const uint8_t* rgb, int w, int h, int threshold, int32_t* labels, int32_t* num_areas,
                           void* scratch, Stream stream = nullptr) = 0;
  virtual void area_stats(const int32_t* labels, const uint8_t* rgb, int w, int h, int num_areas, AreaStats* stats,
                          Stream stream = nullptr) = 0;
  virtual void area_majority(const int32_t* labels, int W, int H, const uint8_t* seg, int w, int h, int num_regions,
                             int num_areas, uint32_t* votes, uint8_t* majority, Stream stream = nullptr) = 0;
  virtual void override_labels(const uint8_t* base, int w, int h, const int32_t* labels, int W, int H,
                               const int8_t* channel, uint8_t* out, Stream stream = nullptr) = 0;
  virtual void paint_areas(const int32_t* labels, int w, int h, const uint8_t* colours, uint8_t* rgba,
                           Stream stream = nullptr) = 0;
};

namespace gp_sim_backend {
// The simulator's device `device_index` (gpusim::set_device_count; 1 device by default).
std::unique_ptr<Backend> make(int device_index = 0);
}  // namespace gp_sim_backend
namespace gp_cuda_backend {
// Number of usable CUDA devices; 0 when there is no driver or no GPU.
int device_count();
std::unique_ptr<Backend> make(int device_index);
}  // namespace gp_cuda_backend

}  // namespace gp
