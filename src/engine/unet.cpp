#include "src/engine/unet.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "src/common/error.h"

namespace gp {

DeviceConv UploadedConv::view() const { return DeviceConv{packed.get(), bias.get(), cout, cin, ksize}; }
DeviceConv16 UploadedConv::view16() const { return DeviceConv16{packed16.get(), bias.get(), cout, cin16}; }

namespace {

// fp16's largest finite value; a larger folded weight would become infinity.
constexpr float kFp16Max = 65504.0f;

float largest_weight(const ConvLayer& layer) {
  float largest = 0.0f;
  for (float v : layer.weight) largest = std::max(largest, std::fabs(v));
  return largest;
}

UploadedConv upload_conv(Backend& backend, const ConvLayer& layer, Precision precision, int cin16) {
  UploadedConv c;
  c.cout = layer.cout;
  c.cin = layer.cin;
  c.cin16 = std::max(cin16, layer.cin);
  c.ksize = layer.ksize;
  if (precision != Precision::Fp32 && layer.ksize == 3) {
    if (precision == Precision::Fp16) {
      const float largest = largest_weight(layer);
      if (!(largest <= kFp16Max))
        throw Error(ErrorKind::Argument, "layer " + layer.name + ": a folded weight of magnitude " + std::to_string(largest) +
                    " is outside fp16's range (65504); use --precision bf16 or fp32");
    }
    const std::vector<float> weight = pad_input_channels(layer, c.cin16);
    c.packed16 = DeviceArray<uint16_t>(backend, backend.pack_conv_weights16(weight.data(), layer.cout, c.cin16, precision),
                                       layer.name.c_str());
  } else {
    c.packed = DeviceArray<float>(backend, backend.pack_conv_weights(layer.weight.data(), layer.cout, layer.cin, layer.ksize),
                                  layer.name.c_str());
  }
  c.bias = DeviceArray<float>(backend, layer.bias, layer.name.c_str());
  return c;
}

std::array<UploadedConv, 2> upload_double(Backend& backend, const DoubleConvWeights& d, Precision p, const int* cin16) {
  return {upload_conv(backend, d.conv1, p, cin16[0]), upload_conv(backend, d.conv2, p, cin16[1])};
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

// [cout][cin][k][k] -> [cout][cin16][k][k], the extra input channels' weights zero.
std::vector<float> pad_input_channels(const ConvLayer& layer, int cin16) {
  if (cin16 == layer.cin) return layer.weight;
  const size_t taps = size_t(layer.ksize) * layer.ksize;
  std::vector<float> padded(size_t(layer.cout) * cin16 * taps, 0.0f);
  for (int co = 0; co < layer.cout; ++co)
    std::copy_n(layer.weight.begin() + std::ptrdiff_t(size_t(co) * layer.cin * taps), size_t(layer.cin) * taps,
                padded.begin() + std::ptrdiff_t(size_t(co) * cin16 * taps));
  return padded;
}

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
  auto fits = [](const ConvLayer& l) { return largest_weight(l) <= kFp16Max; };
  bool ok = fits(weights.inc.conv1) && fits(weights.inc.conv2);
  for (const auto& d : weights.down) ok = ok && fits(d.conv1) && fits(d.conv2);
  for (const auto& u : weights.up) ok = ok && fits(u.conv1) && fits(u.conv2);
  return ok;
}

UploadedUNet upload_unet(Backend& backend, const UNetWeights& weights, UNetKind kind, int width, Precision precision) {
  UploadedUNet net;
  net.width = width;
  net.precision = precision;
  // The channels each layer's 16-bit conv reads do not depend on the working size.
  const std::array<int, kUNetLayers> cin16 = mma_cin_by_layer(plan_unet(kind, width, 16, 16));
  net.inc = upload_double(backend, weights.inc, precision, &cin16[0]);
  for (int k = 0; k < 4; ++k) {
    net.down[k] = upload_double(backend, weights.down[k], precision, &cin16[2 + 2 * k]);
    net.up[k] = upload_double(backend, weights.up[k], precision, &cin16[10 + 2 * k]);
  }
  net.outc = upload_conv(backend, weights.outc, precision, cin16[18]);
  return net;
}

const UploadedConv& UploadedUNet::layer(int i) const {
  if (i < 2) return inc[i];
  if (i < 10) return down[(i - 2) / 2][(i - 2) % 2];
  if (i < 18) return up[(i - 10) / 2][(i - 10) % 2];
  return outc;
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
  const int total = int(plan.steps.size());
  int done = 0;
  split_k_.clear(backend, stream);
  for (const ConvStep& s : plan.steps) {
    if (observer) {
      if (done > 0) observer->after_launch(backend, done, total, stream);
      observer->before_launch(backend, stream);
    }
    ++done;
    const UploadedConv& layer = net.layer(s.layer);
    if (layer.cin != s.cin || layer.cout != s.cout || layer.ksize != s.ksize)
      throw Error("U-Net layer " + s.name + " has weights " + std::to_string(layer.cout) + " x " +
                  std::to_string(layer.cin) + " x " + std::to_string(layer.ksize) + " x " + std::to_string(layer.ksize) +
                  ", but the network needs " + std::to_string(s.cout) + " x " + std::to_string(s.cin) + " x " +
                  std::to_string(s.ksize) + " x " + std::to_string(s.ksize));
    if (net.precision != precision_)
      throw Error(std::string("a U-Net uploaded in ") + precision_name(net.precision) + " run in a " +
                  precision_name(precision_) + " workspace");
    const bool input = s.in.buffer == Buffer::Input;
    const void* in = input ? static_cast<const void*>(io.x) : buffer(s.in.buffer);
    void* out = buffer(s.out.buffer);
    if (precision_ == Precision::Fp32) {
      run_fp32(backend, s, layer.view(), static_cast<const float*>(in), static_cast<float*>(out), io, stream);
      continue;
    }
    const Precision p = precision_;
    if (s.epilogue == Epilogue::Argmax) {
      backend.conv1x1_argmax16(p, in, s.in.h, s.in.w, s.in.c, layer.view(), io.labels, io.logits, stream);
      continue;
    }
    if (s.epilogue == Epilogue::BiasTanh) {
      backend.conv1x1_tanh16(p, in, s.in.h, s.in.w, s.in.c, layer.view(), io.out, stream);
      continue;
    }
    const DeviceConv16 conv = layer.view16();
    if (conv.cin != s.mma_cin)
      throw Error("U-Net layer " + s.name + ": 16-bit weights packed for " + std::to_string(conv.cin) +
                  " input channels, the plan's conv reads " + std::to_string(s.mma_cin));
    const ConvMmaLaunch launch = split_k_.launch(s.mma);
    switch (s.gather) {
      case Gather::Plain: backend.conv3x3_relu16(p, in, input, s.in.h, s.in.w, s.in.c, conv, out, launch, stream); break;
      case Gather::MaxPool:
        backend.conv3x3_relu_pooled16(p, in, s.in.h, s.in.w, s.in.c, conv, out, launch, stream);
        break;
      case Gather::UpConcat:
        backend.conv3x3_relu_up16(p, in, s.in.h, s.in.w, s.in.c, buffer(s.low.buffer), s.low.h, s.low.w, s.low.c, conv,
                                  out, upsampled_.get(), launch, stream);
        break;
      case Gather::Colorizer:
        backend.conv3x3_relu_colorizer16(p, *io.colorizer, conv, out, colorizer_input_.get(), launch, stream);
        break;
    }
  }
  if (observer) observer->after_launch(backend, done, total, stream);
}

void UNetWorkspace::run_fp32(Backend& backend, const ConvStep& s, const DeviceConv& conv, const float* in, float* out,
                             const Io& io, Stream stream) {
  if (s.epilogue == Epilogue::Argmax) {
    backend.conv1x1_argmax(in, s.in.h, s.in.w, s.in.c, conv, io.labels, io.logits, stream);
    return;
  }
  if (s.epilogue == Epilogue::BiasTanh) {
    backend.conv1x1_tanh(in, s.in.h, s.in.w, s.in.c, conv, io.out, stream);
    return;
  }
  switch (s.gather) {
    case Gather::Plain: backend.conv3x3_relu(in, s.in.h, s.in.w, s.in.c, conv, out, stream); break;
    case Gather::MaxPool: backend.conv3x3_relu_pooled(in, s.in.h, s.in.w, s.in.c, conv, out, stream); break;
    case Gather::UpConcat:
      backend.conv3x3_relu_up(in, s.in.h, s.in.w, s.in.c, static_cast<const float*>(buffer(s.low.buffer)), s.low.h,
                              s.low.w, s.low.c, conv, out, stream);
      break;
    case Gather::Colorizer: backend.conv3x3_relu_colorizer(*io.colorizer, conv, out, stream); break;
  }
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
