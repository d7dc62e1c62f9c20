// CPU reference of kernels/hints.cu (plain C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gp::ref {
inline void hint_scatter(const uint8_t* labels, size_t pixels, int num_regions, const float* table,
                         const uint8_t* active, float* colour, float* mask) {
  for (size_t p = 0; p < pixels; ++p) {
    const int l = labels[p];
    const bool on = l < num_regions && active[l] != 0;
    for (int c = 0; c < 3; ++c) colour[3 * p + c] = on ? table[3 * l + c] : 0.0f;
    mask[p] = on ? 1.0f : 0.0f;
  }
}
}  // namespace gp::ref
