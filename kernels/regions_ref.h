// CPU reference of kernels/regions.cu (plain C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/region_stats.h"

namespace gp::ref {
// Statistics of the pixels labelled 0..count-1 (others count nowhere): the CPU
// reference of region_stats and, with int32 area labels, of area_stats. rgb may be
// nullptr (sums stay 0).
template <class Label>
inline void label_stats(const Label* labels, const uint8_t* rgb, int width, int height, int count, RegionStats* stats) {
  for (int r = 0; r < count; ++r) stats[r] = RegionStats{};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t p = size_t(y) * size_t(width) + size_t(x);
      const int64_t l = int64_t(labels[p]);
      if (l < 0 || l >= count) continue;
      RegionStats& s = stats[l];
      ++s.count;
      if (uint32_t(x) < s.x0) s.x0 = uint32_t(x);
      if (uint32_t(y) < s.y0) s.y0 = uint32_t(y);
      if (uint32_t(x) > s.x1) s.x1 = uint32_t(x);
      if (uint32_t(y) > s.y1) s.y1 = uint32_t(y);
      if (rgb)
        for (int c = 0; c < 3; ++c) s.sum[c] += rgb[3 * p + c];
    }
}

// CPU reference. rgb may be nullptr.
inline void region_stats(const uint8_t* labels, const uint8_t* rgb, int width, int height, int num_regions,
                         RegionStats* stats) {
  label_stats(labels, rgb, width, height, num_regions, stats);
}
}  // namespace gp::ref
