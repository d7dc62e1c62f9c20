// Pixel formulas the kernels, their references and the host code share (plain C++,
// usable without CUDA).
#pragma once

#include <cstdint>

namespace gp {

// A pixel's grey in [0, 255] (BT.601 luma: 0.299 R + 0.587 G + 0.114 B), in double: the
// sketch's X, the lines the output keeps, the overlays' shading.
inline double grey255(const uint8_t* px) { return 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2]; }

// The network's colour y in [-1, 1] as a byte. In float32 on purpose: that is the
// authors' conversion, bit for bit. NaN -> 0.
inline uint8_t rgb8_of_float(float y) {
  const float v = (y + 1.0f) / 2.0f;
  const float c = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
  return uint8_t(255.0f * c);
}

}  // namespace gp
