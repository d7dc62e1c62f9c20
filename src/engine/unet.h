// Running the bilinear "milesial" U-Net on a Backend: its weights on the device and the
// activation buffers of one working size. The topology is src/plan/unet_plan.h's: the
// workspace runs a plan's fused convolutions in order (no pooled or concatenated tensor
// is written to memory; on the 16-bit path each decoder block's upsampled input is, once,
// because the tensor-core conv gathers it by copies far cheaper than it computes it).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "src/backend/backend.h"
#include "src/engine/device_array.h"
#include "src/plan/unet_plan.h"
#include "src/weights/model_weights.h"

namespace gp {

// One plan step's conv on the device: its weights and bias as Backend::pack_step packs
// them for the precision.
struct UploadedConv {
  std::string step;                  // ConvStep::name
  int cout = 0, cin = 0, ksize = 0;  // the step's shape it was packed for
  DeviceArray<uint8_t> packed;
};

// A U-Net's convs on the device, one per step of its plan, in the plan's order (the
// plan of its kind and width; what a step's conv is does not depend on the working size).
struct UploadedUNet {
  UNetKind kind = UNetKind::Segmentator;
  int width = 0;
  Precision precision = Precision::Fp32;
  std::vector<UploadedConv> steps;
};

// The split-K scratch of two plans' 16-bit steps (kernels/conv_mma_tile.h): the largest
// step's partial sums and tile counters (the steps run one at a time); none for fp32.
// clear() zeroes the counters, once a run: a launch the simulator interrupts between
// blocks (a cancellation) can leave a count behind.
class SplitKScratch {
 public:
  SplitKScratch() = default;
  SplitKScratch(Backend& backend, const UNetPlan& a, const UNetPlan& b, Precision precision);
  static size_t bytes(const UNetPlan& a, const UNetPlan& b, Precision precision);
  void clear(Backend& backend, Stream stream) const;
  float* partials() const { return partials_.get(); }
  unsigned* counters() const { return counters_.get(); }

 private:
  DeviceArray<float> partials_;
  DeviceArray<unsigned> counters_;
};

// Whether every folded 3x3 weight is within fp16's range (65504).
bool fits_fp16(const UNetWeights& weights);
// Each step's conv of the plan of `kind` and `width`, looked up by the step's name and
// packed by the backend for `precision`. A conv whose shape is not the step's is refused,
// naming both; fp16: folded weights beyond fp16's range (65504) are refused, naming the layer.
UploadedUNet upload_unet(Backend& backend, const UNetWeights& weights, UNetKind kind, int width,
                         Precision precision = Precision::Fp32);

// Watches a run launch by launch: stops it when `cancel` is set (checked between
// launches; the simulator also stops between thread blocks, see Backend::set_interrupt)
// and, when `progress` is set, waits for each launch and reports it (stage, launches
// done, total); a false return cancels. Cancelling throws gp::Error of kind Cancelled.
struct LaunchObserver {
  const char* stage = "";
  const std::function<bool(const char*, int, int)>* progress = nullptr;
  const std::atomic<bool>* cancel = nullptr;

  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
  // Waits for what was queued (its failure, an interrupted launch, is the cancellation's
  // doing and is dropped), then throws Cancelled.
  [[noreturn]] void cancel_now(Backend& backend, Stream stream) const;
  // Waits for the stream; a failure while the cancel flag is set is the cancellation.
  void synchronize(Backend& backend, Stream stream) const;
  void before_launch(Backend& backend, Stream stream) const;
  void after_launch(Backend& backend, int done, int total, Stream stream) const;
};

// Activation buffers of one U-Net run at H x W (H, W >= 16), allocated once, in the
// precision's element type; run only nets uploaded in the same precision.
class UNetWorkspace {
 public:
  UNetWorkspace(Backend& backend, int width, int h, int w, Precision precision = Precision::Fp32);
  // The device bytes such a workspace allocates.
  static size_t bytes(int width, int h, int w, Precision precision);
  int h(int level) const { return plan_[0].h >> level; }
  int w(int level) const { return plan_[0].w >> level; }
  const UNetPlan& plan(UNetKind kind) const { return plan_[int(kind)]; }

  // Segmentation: x [h][w] grey sketch -> labels [h][w] (and logits [h][w][classes] unless null).
  void segment(Backend& backend, const UploadedUNet& net, const float* x, uint8_t* labels, float* logits,
               Stream stream = nullptr, const LaunchObserver* observer = nullptr);
  // Colorization: the fused 35-channel input -> out [h][w][3] (tanh).
  void colorize(Backend& backend, const UploadedUNet& net, const ColorizerInput& input, float* out,
                Stream stream = nullptr, const LaunchObserver* observer = nullptr);

 private:
  // What the caller gives a run: the input and where the head writes.
  struct Io {
    const float* x = nullptr;  // segmentator input
    const ColorizerInput* colorizer = nullptr;
    uint8_t* labels = nullptr;
    float* logits = nullptr;
    float* out = nullptr;
  };
  void run(Backend& backend, const UploadedUNet& net, const UNetPlan& plan, const Io& io, Stream stream,
           const LaunchObserver* observer);
  void* buffer(Buffer b) const;

  Precision precision_;
  UNetPlan plan_[2];  // by UNetKind
  std::array<DeviceArray<float>, kBufferCount> buffers_;
  DeviceArray<float> upsampled_;        // 16-bit: a decoder block's upsampled input (see unet.cpp)
  DeviceArray<float> colorizer_input_;  // 16-bit: the colorizer's input, written out (see unet.cpp)
  SplitKScratch split_k_;               // 16-bit: cleared at the start of every run
};

}  // namespace gp
