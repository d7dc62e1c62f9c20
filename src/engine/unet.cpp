#include "src/engine/unet.h"

#include <algorithm>
#include <string>

#include "src/common/error.h"

namespace gp {

DeviceConv UploadedConv::view() const { return DeviceConv{packed.get(), bias.get(), cout, cin, ksize}; }

namespace {

UploadedConv upload_conv(Backend& backend, const ConvLayer& layer) {
  UploadedConv c;
  c.cout = layer.cout;
  c.cin = layer.cin;
  c.ksize = layer.ksize;
  c.packed = DeviceArray<float>(backend, backend.pack_conv_weights(layer.weight.data(), layer.cout, layer.cin, layer.ksize),
                                layer.name.c_str());
  c.bias = DeviceArray<float>(backend, layer.bias, layer.name.c_str());
  return c;
}

std::array<UploadedConv, 2> upload_double(Backend& backend, const DoubleConvWeights& d) {
  return {upload_conv(backend, d.conv1), upload_conv(backend, d.conv2)};
}

}  // namespace

UploadedUNet upload_unet(Backend& backend, const UNetWeights& weights, int width) {
  UploadedUNet net;
  net.width = width;
  net.inc = upload_double(backend, weights.inc);
  for (int k = 0; k < 4; ++k) {
    net.down[k] = upload_double(backend, weights.down[k]);
    net.up[k] = upload_double(backend, weights.up[k]);
  }
  net.outc = upload_conv(backend, weights.outc);
  return net;
}

const UploadedConv& UploadedUNet::layer(int i) const {
  if (i < 2) return inc[i];
  if (i < 10) return down[(i - 2) / 2][(i - 2) % 2];
  if (i < 18) return up[(i - 10) / 2][(i - 10) % 2];
  return outc;
}

UNetWorkspace::UNetWorkspace(Backend& backend, int width, int h, int w)
    : plan_{plan_unet(UNetKind::Segmentator, width, h, w), plan_unet(UNetKind::Colorizer, width, h, w)} {
  for (int b = 0; b < kBufferCount; ++b) {
    const size_t n = std::max(plan_[0].buffer_elements(Buffer(b)), plan_[1].buffer_elements(Buffer(b)));
    if (n) buffers_[b] = DeviceArray<float>(backend, n, "U-Net activations");
  }
}

float* UNetWorkspace::buffer(Buffer b) const { return buffers_[int(b)].get(); }

void UNetWorkspace::run(Backend& backend, const UploadedUNet& net, const UNetPlan& plan, const Io& io, Stream stream) {
  for (const ConvStep& s : plan.steps) {
    const UploadedConv& layer = net.layer(s.layer);
    if (layer.cin != s.cin || layer.cout != s.cout || layer.ksize != s.ksize)
      throw Error("U-Net layer " + s.name + " has weights " + std::to_string(layer.cout) + " x " +
                  std::to_string(layer.cin) + " x " + std::to_string(layer.ksize) + " x " + std::to_string(layer.ksize) +
                  ", but the network needs " + std::to_string(s.cout) + " x " + std::to_string(s.cin) + " x " +
                  std::to_string(s.ksize) + " x " + std::to_string(s.ksize));
    const DeviceConv conv = layer.view();
    const float* in = s.in.buffer == Buffer::Input ? io.x : buffer(s.in.buffer);
    float* out = buffer(s.out.buffer);
    if (s.epilogue == Epilogue::Argmax) {
      backend.conv1x1_argmax(in, s.in.h, s.in.w, s.in.c, conv, io.labels, io.logits, stream);
      continue;
    }
    if (s.epilogue == Epilogue::BiasTanh) {
      backend.conv1x1_tanh(in, s.in.h, s.in.w, s.in.c, conv, io.out, stream);
      continue;
    }
    switch (s.gather) {
      case Gather::Plain: backend.conv3x3_relu(in, s.in.h, s.in.w, s.in.c, conv, out, stream); break;
      case Gather::MaxPool: backend.conv3x3_relu_pooled(in, s.in.h, s.in.w, s.in.c, conv, out, stream); break;
      case Gather::UpConcat:
        backend.conv3x3_relu_up(in, s.in.h, s.in.w, s.in.c, buffer(s.low.buffer), s.low.h, s.low.w, s.low.c, conv, out,
                                stream);
        break;
      case Gather::Colorizer: backend.conv3x3_relu_colorizer(*io.colorizer, conv, out, stream); break;
    }
  }
}

void UNetWorkspace::segment(Backend& backend, const UploadedUNet& net, const float* x, uint8_t* labels, float* logits,
                            Stream stream) {
  Io io;
  io.x = x;
  io.labels = labels;
  io.logits = logits;
  run(backend, net, plan_[int(UNetKind::Segmentator)], io, stream);
}

void UNetWorkspace::colorize(Backend& backend, const UploadedUNet& net, const ColorizerInput& input, float* out,
                             Stream stream) {
  Io io;
  io.colorizer = &input;
  io.out = out;
  run(backend, net, plan_[int(UNetKind::Colorizer)], io, stream);
}

}  // namespace gp
