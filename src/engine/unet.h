// The bilinear "milesial" U-Net as a sequence of fused convolutions:
//   inc:   conv(input gather) -> conv                          H x W, w
//   downK: conv(max-pool gather of the previous level) -> conv  H/2^K, (2w, 4w, 8w, 8w)
//   upK:   conv([skip, upsampled] gather) -> conv              back up to H x W, w
//   outc:  1x1 conv fused with argmax (segmentation) or tanh (colorization)
// No pooled, upsampled or concatenated tensor is ever written to memory.
#pragma once

#include <array>
#include <cstdint>

#include "src/backend/backend.h"
#include "src/engine/device_array.h"
#include "src/weights/model_weights.h"

namespace gp {

// One conv on the device: packed weights and bias.
struct UploadedConv {
  DeviceArray<float> packed, bias;
  DeviceConv view() const;
  int cout = 0, cin = 0, ksize = 0;
};

struct UploadedUNet {
  std::array<UploadedConv, 2> inc;
  std::array<std::array<UploadedConv, 2>, 4> down, up;
  UploadedConv outc;
  int width = 0;
};

UploadedUNet upload_unet(Backend& backend, const UNetWeights& weights, int width);

// Activation buffers of one U-Net run at H x W (H, W >= 16), allocated once.
class UNetWorkspace {
 public:
  UNetWorkspace(Backend& backend, int width, int h, int w);
  int h(int level) const { return h_[level]; }
  int w(int level) const { return w_[level]; }

  // Segmentation: x [h][w] grey sketch -> labels [h][w] (and logits [h][w][classes] unless null).
  void segment(Backend& backend, const UploadedUNet& net, const float* x, uint8_t* labels, float* logits,
               Stream stream = nullptr);
  // Colorization: the fused 35-channel input -> out [h][w][3] (tanh).
  void colorize(Backend& backend, const UploadedUNet& net, const ColorizerInput& input, float* out,
                Stream stream = nullptr);

 private:
  // Everything after the first conv of inc: the encoder, decoder and up to the last
  // 3x3 conv; leaves the result (w channels at H x W) in up_out_.
  void body(Backend& backend, const UploadedUNet& net, Stream stream);

  int width_;
  int h_[5], w_[5];
  std::array<DeviceArray<float>, 5> skip_;  // level outputs x1..x5 (the encoder)
  DeviceArray<float> mid_;                  // the first conv of each block
  DeviceArray<float> up_a_, up_b_;          // decoder outputs, ping-pong
  const float* result_ = nullptr;
};

}  // namespace gp
