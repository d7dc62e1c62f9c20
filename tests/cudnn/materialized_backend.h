// A Backend that runs every plan step unfused: the step's gather written out as a tensor
// (materialize.h), then a plain convolution, by cuDNN (Convs::Cudnn: GPU only) or by the
// wrapped backend's own plain-input kernels (Convs::Backend: any backend, so the
// materialising path is checked on the simulator too, where cuDNN does not exist).
// Every other operation is the wrapped backend's. The engine's UNetWorkspace runs on it
// unchanged: the same plan, the same buffers, another way to execute each step.
//
// Heads: segmentation = 1x1 conv, then argmax over the channels; colorization = 1x1 conv
// + tanh; on the 16-bit path both run on the wrapped backend's head kernels in either
// mode (they are under 1% of the FLOPs). 16-bit cuDNN convs take 16-bit input, bias and
// filter: the network input is rounded to 16 bits first.
//
// One run at a time: the written-out input is one scratch buffer of this object.
// Test and benchmark code: never linked into the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "src/backend/backend.h"
#include "src/engine/device_array.h"

namespace gp {

class CudnnConv;

class MaterializedBackend final : public Backend {
 public:
  enum class Convs { Cudnn, Backend };
  // Scratch for the steps of plans a and b (the largest written-out input, and cuDNN's
  // logits); `inner` and `cudnn` (needed for Convs::Cudnn) must outlive this object.
  MaterializedBackend(Backend& inner, Convs convs, CudnnConv* cudnn, const UNetPlan& a, const UNetPlan& b);
  ~MaterializedBackend() override;

  DeviceKind kind() const override { return inner_.kind(); }
  std::string name() const override;
  int compute_capability() const override { return inner_.compute_capability(); }
  size_t available_memory() override { return inner_.available_memory(); }
  void* alloc(size_t bytes, const char* what) override { return inner_.alloc(bytes, what); }
  void release(void* p) noexcept override { inner_.release(p); }
  void upload(void* dst, const void* src, size_t bytes, Stream s) override { inner_.upload(dst, src, bytes, s); }
  void download(void* dst, const void* src, size_t bytes, Stream s) override { inner_.download(dst, src, bytes, s); }
  void fill_zero(void* dst, size_t bytes, Stream s) override { inner_.fill_zero(dst, bytes, s); }
  void synchronize(const char* what, Stream s) override { inner_.synchronize(what, s); }
  void set_interrupt(const std::atomic<bool>* flag) override { inner_.set_interrupt(flag); }
  Stream create_stream() override { return inner_.create_stream(); }
  void destroy_stream(Stream s) noexcept override { inner_.destroy_stream(s); }
  void* alloc_pinned(size_t bytes, const char* what) override { return inner_.alloc_pinned(bytes, what); }
  void release_pinned(void* p) noexcept override { inner_.release_pinned(p); }
  void download_async(void* dst, const void* src, size_t bytes, Stream s) override {
    inner_.download_async(dst, src, bytes, s);
  }
  void begin_capture(Stream s) override { inner_.begin_capture(s); }
  Graph end_capture(Stream s) override { return inner_.end_capture(s); }
  void abort_capture(Stream s) noexcept override { inner_.abort_capture(s); }
  void launch_graph(Graph g, Stream s) override { inner_.launch_graph(g, s); }
  void destroy_graph(Graph g) noexcept override { inner_.destroy_graph(g); }
  void rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x, Stream s) override {
    inner_.rgb8_to_grey(rgb, pixels, x, s);
  }
  void float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb, Stream s) override {
    inner_.float_to_rgb8(y, pixels, rgb, s);
  }
  void argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels, Stream s) override {
    inner_.argmax_channels(logits, pixels, channels, labels, s);
  }
  void compose_rgb8(const uint8_t* colours, int w, int h, const uint8_t* sketch, int W, int H, bool keep_lines,
                    uint8_t* out, Stream s) override {
    inner_.compose_rgb8(colours, w, h, sketch, W, H, keep_lines, out, s);
  }
  void region_stats(const uint8_t* labels, const uint8_t* rgb, int w, int h, int num_regions, RegionStats* stats,
                    Stream s) override {
    inner_.region_stats(labels, rgb, w, h, num_regions, stats, s);
  }
  size_t label_areas_scratch_bytes(int w, int h) const override { return inner_.label_areas_scratch_bytes(w, h); }
  void label_areas(const uint8_t* rgb, int w, int h, int threshold, int32_t* labels, int32_t* num_areas, void* scratch,
                   Stream s) override {
    inner_.label_areas(rgb, w, h, threshold, labels, num_areas, scratch, s);
  }
  void area_stats(const int32_t* labels, const uint8_t* rgb, int w, int h, int num_areas, AreaStats* stats,
                  Stream s) override {
    inner_.area_stats(labels, rgb, w, h, num_areas, stats, s);
  }
  void area_majority(const int32_t* labels, int W, int H, const uint8_t* seg, int w, int h, int num_regions,
                     int num_areas, uint32_t* votes, uint8_t* majority, Stream s) override {
    inner_.area_majority(labels, W, H, seg, w, h, num_regions, num_areas, votes, majority, s);
  }
  void override_labels(const uint8_t* base, int w, int h, const int32_t* labels, int W, int H, const int8_t* channel,
                       uint8_t* out, Stream s) override {
    inner_.override_labels(base, w, h, labels, W, H, channel, out, s);
  }
  void paint_areas(const int32_t* labels, int w, int h, const uint8_t* colours, uint8_t* rgba, Stream s) override {
    inner_.paint_areas(labels, w, h, colours, rgba, s);
  }

  // Convs::Backend, and the 16-bit heads: the wrapped backend's block. Convs::Cudnn: the
  // filter in cuDNN's layout (CudnnConv::filter_from_torch), then at a 256-byte boundary
  // the bias, both fp32 or both 16-bit as the precision stores activations.
  std::vector<uint8_t> pack_step(const ConvStep& step, const float* weight, const float* bias,
                                 Precision p) const override;
  void run_step(const ConvStep& step, Precision p, const void* packed, const StepTensors& tensors,
                const StepScratch& scratch, Stream stream) override;

 private:
  bool on_inner_kernels(const ConvStep& step, Precision p) const;
  void* gathered(size_t bytes, const ConvStep& step) const;

  Backend& inner_;
  Convs convs_;
  CudnnConv* cudnn_;
  DeviceArray<uint8_t> gathered_;  // a step's written-out input
  DeviceArray<float> logits_;      // cuDNN's fp32 logits when the caller keeps none
};

}  // namespace gp
