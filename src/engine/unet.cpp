#include "src/engine/unet.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "src/common/error.h"

namespace gp {

namespace {

// fp16's largest finite value; a larger folded weight would become infinity.
constexpr float kFp16Max = 65504.0f;

float largest_weight(const ConvLayer& layer) {
  float largest = 0.0f;
  for (float v : layer.weight) largest = std::max(largest, std::fabs(v));
  return largest;
}

std::string shape_text(int cout, int cin, int ksize) {
  return std::to_string(cout) + " x " + std::to_string(cin) + " x " + std::to_string(ksize) + " x " +
         std::to_string(ksize);
}

UploadedConv upload_conv(Backend& backend, const ConvStep& step, const ConvLayer& layer, Precision precision) {
  if (layer.cin != step.cin || layer.cout != step.cout || layer.ksize != step.ksize)
    throw Error(ErrorKind::Failed, "U-Net layer " + layer.name + " has weights " +
                                       shape_text(layer.cout, layer.cin, layer.ksize) + ", but the network's step " +
                                       step.name + " needs " + shape_text(step.cout, step.cin, step.ksize));
  if (precision == Precision::Fp16 && layer.ksize == 3) {
    const float largest = largest_weight(layer);
    if (!(largest <= kFp16Max))
      throw Error(ErrorKind::Argument, "layer " + layer.name + ": a folded weight of magnitude " +
                                           std::to_string(largest) +
                                           " is outside fp16's range (65504); use --precision bf16 or fp32");
  }
  UploadedConv c;
  c.step = step.name;
  c.cout = step.cout;
  c.cin = step.cin;
  c.ksize = step.ksize;
  c.packed = DeviceArray<uint8_t>(backend, backend.pack_step(step, layer.weight.data(), layer.bias.data(), precision),
                                  layer.name.c_str());
  return c;
}

// The 16-bit path writes each decoder block's upsampled input out once (the backend's
// conv3x3_relu_up16): room for the largest, h x w x c_low 16-bit elements.
size_t upsampled_elements(const UNetPlan& a, const UNetPlan& b, Precision precision) {
  if (precision == Precision::Fp32) return 0;
  size_t n = 0;
  for (const UNetPlan* plan : {&a, &b})
    for (const ConvStep& s : plan->steps)
      if (s.gather == Gather::UpConcat) n = std::max(n, size_t(s.out.h) * s.out.w * s.low.c);
  return n;
}

// The 16-bit path writes the colorizer's input out once, padded (conv3x3_relu_colorizer16).
size_t colorizer_input_elements(const UNetPlan& colorizer, Precision precision) {
  if (precision == Precision::Fp32) return 0;
  for (const ConvStep& s : colorizer.steps)
    if (s.gather == Gather::Colorizer) return size_t(s.out.h) * s.out.w * s.mma_cin;
  return 0;
}

}  // namespace

namespace {
struct SplitKSizes {
  size_t partials = 0, counters = 0;
};
SplitKSizes split_k_sizes(const UNetPlan& a, const UNetPlan& b, Precision precision) {
  SplitKSizes n;
  if (precision == Precision::Fp32) return n;
  for (const UNetPlan* plan : {&a, &b})
    for (const ConvStep& s : plan->steps) {
      if (s.ksize != 3) continue;
      const size_t pixels = size_t(s.out.h) * s.out.w;
      n.partials = std::max(n.partials, conv_mma_split_partials(pixels, s.cout, s.mma));
      n.counters = std::max(n.counters, conv_mma_split_counters(pixels, s.cout, s.mma));
    }
  return n;
}
}  // namespace

SplitKScratch::SplitKScratch(Backend& backend, const UNetPlan& a, const UNetPlan& b, Precision precision) {
  const SplitKSizes n = split_k_sizes(a, b, precision);
  if (!n.partials) return;
  partials_ = DeviceArray<float>(backend, n.partials, "split-K partial sums");
  counters_ = DeviceArray<unsigned>(backend, n.counters, "split-K tile counters");
}

size_t SplitKScratch::bytes(const UNetPlan& a, const UNetPlan& b, Precision precision) {
  const SplitKSizes n = split_k_sizes(a, b, precision);
  return n.partials * sizeof(float) + n.counters * sizeof(unsigned);
}

void SplitKScratch::clear(Backend& backend, Stream stream) const {
  if (counters_.size()) backend.fill_zero(counters_.get(), counters_.size() * sizeof(unsigned), stream);
}

bool fits_fp16(const UNetWeights& weights) {
  // The 3x3 convs of the table of blocks (the names do not depend on the channels).
  for (const UNetBlock& b : unet_blocks(1, 1)) {
    const DoubleConvWeights& d = weights.block(b.name);
    if (!(largest_weight(d.conv1) <= kFp16Max && largest_weight(d.conv2) <= kFp16Max)) return false;
  }
  return true;
}

UploadedUNet upload_unet(Backend& backend, const UNetWeights& weights, UNetKind kind, int width, Precision precision) {
  UploadedUNet net;
  net.kind = kind;
  net.width = width;
  net.precision = precision;
  // A step's conv (its shape, its 16-bit packing) does not depend on the working size.
  for (const ConvStep& step : plan_unet(kind, width, 16, 16, weights.outc.cout).steps)
    net.steps.push_back(upload_conv(backend, step, weights.conv(step.name), precision));
  return net;
}

UNetWorkspace::UNetWorkspace(Backend& backend, int width, int h, int w, Precision precision)
    : precision_(precision),
      plan_{plan_unet(UNetKind::Segmentator, width, h, w), plan_unet(UNetKind::Colorizer, width, h, w)} {
  for (int b = 0; b < kBufferCount; ++b) {
    const size_t n = std::max(plan_[0].buffer_elements(Buffer(b)), plan_[1].buffer_elements(Buffer(b)));
    // 16-bit elements: half as many floats (rounded up) hold them.
    const size_t floats = precision == Precision::Fp32 ? n : (n + 1) / 2;
    if (n) buffers_[b] = DeviceArray<float>(backend, floats, "U-Net activations");
  }
  if (const size_t n = upsampled_elements(plan_[0], plan_[1], precision))
    upsampled_ = DeviceArray<float>(backend, (n + 1) / 2, "U-Net upsampled decoder input");
  if (const size_t n = colorizer_input_elements(plan_[1], precision))
    colorizer_input_ = DeviceArray<float>(backend, (n + 1) / 2, "colorizer input");
  split_k_ = SplitKScratch(backend, plan_[0], plan_[1], precision);
}

size_t UNetWorkspace::bytes(int width, int h, int w, Precision precision) {
  const UNetPlan seg = plan_unet(UNetKind::Segmentator, width, h, w), col = plan_unet(UNetKind::Colorizer, width, h, w);
  size_t total = 0;
  for (int b = 0; b < kBufferCount; ++b) {
    const size_t n = std::max(seg.buffer_elements(Buffer(b)), col.buffer_elements(Buffer(b)));
    total += (precision == Precision::Fp32 ? n : (n + 1) / 2) * sizeof(float);
  }
  return total + (upsampled_elements(seg, col, precision) + 1) / 2 * sizeof(float) +
         (colorizer_input_elements(col, precision) + 1) / 2 * sizeof(float) + SplitKScratch::bytes(seg, col, precision);
}

void* UNetWorkspace::buffer(Buffer b) const { return buffers_[int(b)].get(); }

void LaunchObserver::cancel_now(Backend& backend, Stream stream) const {
  try {
    backend.synchronize(stage, stream);
  } catch (const Error&) {
  }
  throw Error(ErrorKind::Cancelled, std::string(stage) + ": cancelled");
}

void LaunchObserver::synchronize(Backend& backend, Stream stream) const {
  try {
    backend.synchronize(stage, stream);
  } catch (const Error&) {
    if (cancelled()) cancel_now(backend, stream);
    throw;
  }
}

void LaunchObserver::before_launch(Backend& backend, Stream stream) const {
  if (cancelled()) cancel_now(backend, stream);
}

void LaunchObserver::after_launch(Backend& backend, int done, int total, Stream stream) const {
  if (progress && *progress) {
    synchronize(backend, stream);
    if (cancelled() || !(*progress)(stage, done, total)) cancel_now(backend, stream);
  } else if (cancelled()) {
    cancel_now(backend, stream);
  }
}

void UNetWorkspace::run(Backend& backend, const UploadedUNet& net, const UNetPlan& plan, const Io& io, Stream stream,
                        const LaunchObserver* observer) {
  if (net.kind != plan.kind || net.width != plan.width || net.steps.size() != plan.steps.size())
    throw Error(ErrorKind::Failed, std::string("a U-Net of width ") + std::to_string(net.width) +
                                       " uploaded for another network run as the " +
                                       (plan.kind == UNetKind::Segmentator ? "segmentator" : "colorizer") +
                                       " of width " + std::to_string(plan.width));
  if (net.precision != precision_)
    throw Error(ErrorKind::Failed, std::string("a U-Net uploaded in ") + precision_name(net.precision) + " run in a " +
                                       precision_name(precision_) + " workspace");
  const StepScratch scratch{upsampled_.get(), colorizer_input_.get(), split_k_.partials(), split_k_.counters()};
  const int total = int(plan.steps.size());
  split_k_.clear(backend, stream);
  for (int i = 0; i < total; ++i) {
    const ConvStep& s = plan.steps[size_t(i)];
    const UploadedConv& conv = net.steps[size_t(i)];
    if (conv.step != s.name || conv.cout != s.cout || conv.cin != s.cin || conv.ksize != s.ksize)
      throw Error(ErrorKind::Failed, "U-Net step " + s.name + " (" + shape_text(s.cout, s.cin, s.ksize) +
                                         ") given the weights of " + conv.step + " (" +
                                         shape_text(conv.cout, conv.cin, conv.ksize) + ")");
    if (observer) {
      if (i > 0) observer->after_launch(backend, i, total, stream);
      observer->before_launch(backend, stream);
    }
    StepTensors t;
    t.in = s.in.buffer == Buffer::Input ? static_cast<const void*>(io.x) : buffer(s.in.buffer);
    if (s.gather == Gather::UpConcat) t.low = buffer(s.low.buffer);
    t.out = s.epilogue == Epilogue::BiasTanh ? static_cast<void*>(io.out) : buffer(s.out.buffer);
    t.colorizer = io.colorizer;
    t.labels = io.labels;
    t.logits = io.logits;
    backend.run_step(s, precision_, conv.packed.get(), t, scratch, stream);
  }
  if (observer) observer->after_launch(backend, total, total, stream);
}

void UNetWorkspace::segment(Backend& backend, const UploadedUNet& net, const float* x, uint8_t* labels, float* logits,
                            Stream stream, const LaunchObserver* observer) {
  Io io;
  io.x = x;
  io.labels = labels;
  io.logits = logits;
  run(backend, net, plan_[int(UNetKind::Segmentator)], io, stream, observer);
}

void UNetWorkspace::colorize(Backend& backend, const UploadedUNet& net, const ColorizerInput& input, float* out,
                             Stream stream, const LaunchObserver* observer) {
  Io io;
  io.colorizer = &input;
  io.out = out;
  run(backend, net, plan_[int(UNetKind::Colorizer)], io, stream, observer);
}

}  // namespace gp
