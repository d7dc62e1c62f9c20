// Channel argmax: NHWC logits with C channels per pixel -> uint8 label per pixel.
// Ties go to the lowest channel index (as torch.argmax). NaN never wins.
#pragma once
#include "kernels/common.cuh"

namespace gp::ref {
inline void argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels) {
  for (size_t p = 0; p < pixels; ++p) {
    const float* v = logits + p * channels;
    int best = 0;
    for (int c = 1; c < channels; ++c)
      if (v[c] > v[best]) best = c;
    labels[p] = uint8_t(best);
  }
}
}  // namespace gp::ref

namespace GP_KERNEL_NS {

constexpr int kMaxArgmaxChannels = 64;

// labels[p] = argmax_c logits[p * channels + c], for 1 <= channels <= 64.
cudaError_t argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
