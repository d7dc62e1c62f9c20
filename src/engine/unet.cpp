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

UNetWorkspace::UNetWorkspace(Backend& backend, int width, int h, int w) : width_(width) {
  if (h < 16 || w < 16)
    throw Error("the working size " + std::to_string(w) + " x " + std::to_string(h) +
                " is too small: the U-Net pools four times, so both sides must be at least 16");
  const int channels[5] = {width, 2 * width, 4 * width, 8 * width, 8 * width};
  for (int k = 0; k < 5; ++k) {
    h_[k] = h >> k;
    w_[k] = w >> k;
    skip_[k] = DeviceArray<float>(backend, size_t(h_[k]) * w_[k] * channels[k], "U-Net activations");
  }
  // The widest intermediate is a level-0 tensor of `width` channels (inc, up4).
  const size_t level0 = size_t(h) * w * width;
  mid_ = DeviceArray<float>(backend, level0, "U-Net activations");
  up_a_ = DeviceArray<float>(backend, level0, "U-Net activations");
  up_b_ = DeviceArray<float>(backend, level0, "U-Net activations");
}

void UNetWorkspace::body(Backend& backend, const UploadedUNet& net, Stream stream) {
  const int channels[5] = {width_, 2 * width_, 4 * width_, 8 * width_, 8 * width_};
  for (int k = 1; k <= 4; ++k) {
    const auto& down = net.down[k - 1];
    backend.conv3x3_relu_pooled(skip_[k - 1].get(), h_[k - 1], w_[k - 1], channels[k - 1], down[0].view(), mid_.get(), stream);
    backend.conv3x3_relu(mid_.get(), h_[k], w_[k], down[0].cout, down[1].view(), skip_[k].get(), stream);
  }
  const float* low = skip_[4].get();
  int low_channels = channels[4];
  DeviceArray<float>* out = &up_a_;
  for (int j = 0; j < 4; ++j) {
    const int s = 3 - j;  // the skip's level
    const auto& up = net.up[j];
    backend.conv3x3_relu_up(skip_[s].get(), h_[s], w_[s], channels[s], low, h_[s + 1], w_[s + 1], low_channels,
                            up[0].view(), mid_.get(), stream);
    backend.conv3x3_relu(mid_.get(), h_[s], w_[s], up[0].cout, up[1].view(), out->get(), stream);
    low = out->get();
    low_channels = up[1].cout;
    out = out == &up_a_ ? &up_b_ : &up_a_;
  }
  result_ = low;
}

void UNetWorkspace::segment(Backend& backend, const UploadedUNet& net, const float* x, uint8_t* labels, float* logits,
                            Stream stream) {
  backend.conv3x3_relu(x, h_[0], w_[0], net.inc[0].cin, net.inc[0].view(), mid_.get(), stream);
  backend.conv3x3_relu(mid_.get(), h_[0], w_[0], net.inc[0].cout, net.inc[1].view(), skip_[0].get(), stream);
  body(backend, net, stream);
  backend.conv1x1_argmax(result_, h_[0], w_[0], width_, net.outc.view(), labels, logits, stream);
}

void UNetWorkspace::colorize(Backend& backend, const UploadedUNet& net, const ColorizerInput& input, float* out,
                             Stream stream) {
  backend.conv3x3_relu_colorizer(input, net.inc[0].view(), mid_.get(), stream);
  backend.conv3x3_relu(mid_.get(), h_[0], w_[0], net.inc[0].cout, net.inc[1].view(), skip_[0].get(), stream);
  body(backend, net, stream);
  backend.conv1x1_tanh(result_, h_[0], w_[0], width_, net.outc.view(), out, stream);
}

}  // namespace gp
