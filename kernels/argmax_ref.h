// CPU reference of kernels/argmax.cu (plain C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

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
