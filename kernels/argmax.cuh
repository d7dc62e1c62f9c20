// Channel argmax: NHWC logits with C channels per pixel -> uint8 label per pixel.
// Ties go to the lowest channel index (as torch.argmax). NaN never wins.
#pragma once
#include "kernels/common.cuh"

namespace GP_KERNEL_NS {

constexpr int kMaxArgmaxChannels = 64;

// labels[p] = argmax_c logits[p * channels + c], for 1 <= channels <= 64.
cudaError_t argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
