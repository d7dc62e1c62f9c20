// Image conversions between interleaved uint8 RGB (H x W x 3) and the networks'
// float tensors:
//  - rgb8_to_grey: x = 2 * (0.299 R + 0.587 G + 0.114 B) / 255 - 1   (the sketch X)
//  - rgb8_to_float: y = 2 * c / 255 - 1 per channel, HWC            (colour Y)
//  - float_to_rgb8: c = trunc(255 * clamp((y + 1) / 2, 0, 1))      (the authors' output rule)
#pragma once
#include "kernels/common.cuh"

namespace GP_KERNEL_NS {

cudaError_t rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x, cudaStream_t stream);
cudaError_t rgb8_to_float(const uint8_t* rgb, size_t pixels, float* y, cudaStream_t stream);
cudaError_t float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
