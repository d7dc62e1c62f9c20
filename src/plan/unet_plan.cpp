#include "src/plan/unet_plan.h"

#include <algorithm>
#include <string>

#include "kernels/model_shape.h"
#include "src/common/error.h"

namespace gp {

const char* buffer_name(Buffer b) {
  switch (b) {
    case Buffer::Input: return "input";
    case Buffer::Skip0: return "x1";
    case Buffer::Skip1: return "x2";
    case Buffer::Skip2: return "x3";
    case Buffer::Skip3: return "x4";
    case Buffer::Skip4: return "x5";
    case Buffer::Mid: return "mid";
    case Buffer::UpA: return "upA";
    case Buffer::UpB: return "upB";
    case Buffer::Output: return "output";
  }
  return "?";
}

double ConvStep::flops() const { return 2.0 * out.h * out.w * double(cin) * cout * ksize * ksize; }

double ConvStep::bytes(int e) const {
  const double weights = double(ksize) * ksize * cin * cout * e + 4.0 * cout;
  double sources = 0;
  switch (gather) {
    case Gather::Plain:
    case Gather::MaxPool: sources = double(in.elements()) * e; break;
    case Gather::UpConcat: sources = double(in.elements() + low.elements()) * e; break;
    case Gather::Colorizer: sources = double(in.h) * in.w * (4 + 1) + kNumRegions * (3 * 4 + 1); break;
  }
  const double output = epilogue == Epilogue::Argmax ? double(out.h) * out.w : double(out.elements()) * e;
  return sources + weights + output;
}

size_t UNetPlan::buffer_elements(Buffer b) const {
  if (b == Buffer::Input || b == Buffer::Output) return 0;
  size_t n = 0;
  for (const ConvStep& s : steps)
    if (s.out.buffer == b) n = std::max(n, s.out.elements());
  return n;
}

double UNetPlan::flops() const {
  double f = 0;
  for (const ConvStep& s : steps) f += s.flops();
  return f;
}

bool mma_vector_gather(const ConvStep& s) {
  if (s.gather == Gather::Colorizer) return true;
  if (s.in.buffer == Buffer::Input) return false;  // the segmentator's fp32 sketch
  return s.in.c % 8 == 0 && (s.gather != Gather::UpConcat || s.low.c % 8 == 0);
}

std::array<int, kUNetLayers> mma_cin_by_layer(const UNetPlan& plan) {
  std::array<int, kUNetLayers> cin{};
  for (const ConvStep& s : plan.steps) cin[size_t(s.layer)] = s.mma_cin;
  return cin;
}

ConvStep conv_step(std::string name, int layer, Gather gather, TensorRef in, TensorRef low, TensorRef out, int ksize,
                   Epilogue epilogue) {
  ConvStep s;
  s.name = std::move(name);
  s.layer = layer;
  s.gather = gather;
  s.in = in;
  s.low = low;
  s.out = out;
  s.ksize = ksize;
  s.epilogue = epilogue;
  s.cin = in.c + (gather == Gather::UpConcat ? low.c : 0);
  s.cout = out.c;
  s.mma_cin = gather == Gather::Colorizer ? kConvMmaColorizerChannels : s.cin;
  s.mma = conv_mma_choose_schedule(size_t(out.h) * out.w, out.c, conv_mma_k_chunks(s.mma_cin));
  if (!mma_vector_gather(s)) s.mma.splits = 1;
  return s;
}

std::array<UNetBlock, kUNetBlocks> unet_blocks(int in_channels, int width) {
  const int w = width;
  return {{{"inc", BlockKind::In, 0, in_channels, w, w},
           {"down1", BlockKind::Down, 1, w, 2 * w, 2 * w},
           {"down2", BlockKind::Down, 2, 2 * w, 4 * w, 4 * w},
           {"down3", BlockKind::Down, 3, 4 * w, 8 * w, 8 * w},
           {"down4", BlockKind::Down, 4, 8 * w, 8 * w, 8 * w},
           {"up1", BlockKind::Up, 3, 16 * w, 8 * w, 4 * w},
           {"up2", BlockKind::Up, 2, 8 * w, 4 * w, 2 * w},
           {"up3", BlockKind::Up, 1, 4 * w, 2 * w, w},
           {"up4", BlockKind::Up, 0, 2 * w, w, w}}};
}

UNetPlan plan_unet(UNetKind kind, int width, int h, int w, int classes) {
  if (h < 16 || w < 16)
    throw Error(ErrorKind::Argument,
                "the working size " + std::to_string(w) + " x " + std::to_string(h) +
                    " is too small: the U-Net pools four times, so both sides must be at least 16");
  if (width < 1) throw Error(ErrorKind::Format, "U-Net width " + std::to_string(width) + " must be at least 1");
  UNetPlan plan;
  plan.kind = kind;
  plan.width = width;
  plan.h = h;
  plan.w = w;
  const bool seg = kind == UNetKind::Segmentator;
  auto at = [&](Buffer b, int level, int c) { return TensorRef{b, h >> level, w >> level, c}; };
  // Each level's block output stays for the decoder (the skips); the decoder's blocks
  // alternate between two buffers.
  const Buffer skip[5] = {Buffer::Skip0, Buffer::Skip1, Buffer::Skip2, Buffer::Skip3, Buffer::Skip4};
  TensorRef last{}, low{};
  Buffer decoder = Buffer::UpA;
  int layer = 0;
  for (const UNetBlock& b : unet_blocks(seg ? 1 : kColorizerChannels, width)) {
    const std::string conv1 = std::string(b.name) + ".conv1", conv2 = std::string(b.name) + ".conv2";
    const TensorRef mid = at(Buffer::Mid, b.level, b.mid);
    switch (b.kind) {
      case BlockKind::In:
        plan.steps.push_back(
            conv_step(conv1, layer, seg ? Gather::Plain : Gather::Colorizer, at(Buffer::Input, 0, b.in), {}, mid));
        last = at(skip[0], 0, b.out);
        break;
      case BlockKind::Down:
        plan.steps.push_back(conv_step(conv1, layer, Gather::MaxPool, last, {}, mid));
        last = at(skip[b.level], b.level, b.out);
        break;
      case BlockKind::Up:
        plan.steps.push_back(
            conv_step(conv1, layer, Gather::UpConcat, at(skip[b.level], b.level, b.in - low.c), low, mid));
        last = at(decoder, b.level, b.out);
        decoder = decoder == Buffer::UpA ? Buffer::UpB : Buffer::UpA;
        break;
    }
    plan.steps.push_back(conv_step(conv2, layer + 1, Gather::Plain, mid, {}, last));
    layer += 2;
    low = last;
  }
  // outc: 1x1 with the head fused.
  plan.steps.push_back(conv_step("outc", layer, Gather::Plain, last, {}, at(Buffer::Output, 0, seg ? classes : 3), 1,
                                 seg ? Epilogue::Argmax : Epilogue::BiasTanh));
  return plan;
}

}  // namespace gp
