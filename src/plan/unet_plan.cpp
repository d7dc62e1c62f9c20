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
    case Gather::Colorizer: sources = double(in.h) * in.w * (4 + 1) + 30 * (3 * 4 + 1); break;
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

UNetPlan plan_unet(UNetKind kind, int width, int h, int w, int classes) {
  if (h < 16 || w < 16)
    throw Error(ErrorKind::Argument, "the working size " + std::to_string(w) + " x " + std::to_string(h) +
                " is too small: the U-Net pools four times, so both sides must be at least 16");
  if (width < 1) throw Error(ErrorKind::Format, "U-Net width " + std::to_string(width) + " must be at least 1");
  UNetPlan plan;
  plan.kind = kind;
  plan.width = width;
  plan.h = h;
  plan.w = w;
  int lh[5], lw[5];
  for (int k = 0; k < 5; ++k) {
    lh[k] = h >> k;
    lw[k] = w >> k;
  }
  const int ch[5] = {width, 2 * width, 4 * width, 8 * width, 8 * width};
  const Buffer skip[5] = {Buffer::Skip0, Buffer::Skip1, Buffer::Skip2, Buffer::Skip3, Buffer::Skip4};
  auto at = [&](Buffer b, int level, int c) { return TensorRef{b, lh[level], lw[level], c}; };
  auto add = [&](std::string name, int layer, Gather g, TensorRef in, TensorRef low, TensorRef out) {
    plan.steps.push_back(conv_step(std::move(name), layer, g, in, low, out));
  };

  // inc
  if (kind == UNetKind::Segmentator)
    add("inc.conv1", 0, Gather::Plain, at(Buffer::Input, 0, 1), {}, at(Buffer::Mid, 0, width));
  else
    add("inc.conv1", 0, Gather::Colorizer, at(Buffer::Input, 0, kColorizerChannels), {}, at(Buffer::Mid, 0, width));
  add("inc.conv2", 1, Gather::Plain, at(Buffer::Mid, 0, width), {}, at(skip[0], 0, width));
  // down1..4: conv on the 2x2 max of the previous level, then a plain conv.
  for (int k = 1; k <= 4; ++k) {
    const std::string block = "down" + std::to_string(k);
    add(block + ".conv1", 2 + 2 * (k - 1), Gather::MaxPool, at(skip[k - 1], k - 1, ch[k - 1]), {}, at(Buffer::Mid, k, ch[k]));
    add(block + ".conv2", 3 + 2 * (k - 1), Gather::Plain, at(Buffer::Mid, k, ch[k]), {}, at(skip[k], k, ch[k]));
  }
  // up1..4: conv on [skip, upsampled low], halving the channels, then a plain conv.
  TensorRef low = at(skip[4], 4, ch[4]);
  Buffer out = Buffer::UpA;
  for (int j = 0; j < 4; ++j) {
    const int s = 3 - j;
    const int cin = ch[s] + low.c;
    const int mid = cin / 2;
    const int cout = s == 0 ? width : mid / 2;
    const std::string block = "up" + std::to_string(j + 1);
    add(block + ".conv1", 10 + 2 * j, Gather::UpConcat, at(skip[s], s, ch[s]), low, at(Buffer::Mid, s, mid));
    add(block + ".conv2", 11 + 2 * j, Gather::Plain, at(Buffer::Mid, s, mid), {}, at(out, s, cout));
    low = at(out, s, cout);
    out = out == Buffer::UpA ? Buffer::UpB : Buffer::UpA;
  }
  // outc: 1x1 with the head fused.
  const bool seg = kind == UNetKind::Segmentator;
  plan.steps.push_back(conv_step("outc", 18, Gather::Plain, low, {}, at(Buffer::Output, 0, seg ? classes : 3), 1,
                                 seg ? Epilogue::Argmax : Epilogue::BiasTanh));
  return plan;
}

}  // namespace gp
