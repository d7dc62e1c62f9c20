// CPU reference of kernels/image.cu (plain C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/pixel.h"

namespace gp::ref {
inline float grey_of_rgb8(const uint8_t* px) { return float(2.0 * (grey255(px) / 255.0) - 1.0); }
inline void rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x) {
  for (size_t p = 0; p < pixels; ++p) x[p] = grey_of_rgb8(rgb + 3 * p);
}
inline void rgb8_to_float(const uint8_t* rgb, size_t pixels, float* y) {
  for (size_t i = 0; i < 3 * pixels; ++i) y[i] = float(2.0 * rgb[i] / 255.0 - 1.0);
}
inline void float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb) {
  for (size_t i = 0; i < 3 * pixels; ++i) rgb[i] = rgb8_of_float(y[i]);
}
}  // namespace gp::ref
