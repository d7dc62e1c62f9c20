// Region statistics: the type the region kernels (kernels/regions.cuh) and the host
// share, and the host-side helpers the Session ranks and colours regions with (plain
// C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/model_shape.h"

namespace gp {

// One region's statistics. Coordinates are pixels, x to the right, y down; the box is
// inclusive. An empty region (count == 0) has x0 = y0 = kEmptyMin and x1 = y1 = 0:
// the identities of min and max, which is what the kernel's atomics start from.
struct RegionStats {
  static constexpr uint32_t kEmptyMin = std::numeric_limits<uint32_t>::max();
  uint32_t count = 0;
  uint32_t x0 = kEmptyMin, y0 = kEmptyMin, x1 = 0, y1 = 0;
  uint32_t pad_ = 0;                      // keeps sum 8-byte aligned for 64-bit atomics; always 0
  unsigned long long sum[3] = {0, 0, 0};  // R, G, B (CUDA's 64-bit atomicAdd type)

  bool empty() const { return count == 0; }
  friend bool operator==(const RegionStats&, const RegionStats&) = default;
};
static_assert(sizeof(RegionStats) == 48, "RegionStats layout is shared by host and device");

// mean[3 * r + c] = 2 * (sum_c / count) / 255 - 1 in [-1, 1] (the network's colour
// range), computed in double; 0 for an empty region (MODEL.md: c_i = 0 if empty).
inline void region_mean_colours(const RegionStats* stats, int num_regions, float* mean) {
  for (int r = 0; r < num_regions; ++r)
    for (int c = 0; c < 3; ++c)
      mean[3 * r + c] =
          stats[r].count == 0 ? 0.0f : float(2.0 * (double(stats[r].sum[c]) / double(stats[r].count)) / 255.0 - 1.0);
}

// The ranking shown to a user: rank k (0-based here) -> the k-th non-empty channel in
// ascending channel order (channel 0 has the highest priority; empty ones are skipped).
inline std::vector<int> ranked_regions(const RegionStats* stats, int num_regions) {
  std::vector<int> ranked;
  for (int r = 0; r < num_regions; ++r)
    if (stats[r].count != 0) ranked.push_back(r);
  return ranked;
}

}  // namespace gp
