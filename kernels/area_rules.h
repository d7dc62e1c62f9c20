// Closed areas: the type and the rules the area kernels (kernels/areas.cuh), their
// reference and the host share (plain C++, usable without CUDA).
#pragma once

#include <cstdint>

#include "kernels/region_stats.h"

namespace gp {

constexpr int32_t kLinePixel = -1;
// Grey below this is line art (the bundled samples are black on white; anti-aliased
// edges lighter than mid-grey count as paper).
constexpr int kDefaultLineThreshold = 128;

// One area's statistics: the regions' (count, inclusive box, colour sums; the layout
// the kernels share with the host).
using AreaStats = RegionStats;

// The pixel of a size-`to` axis nearest to pixel i of a size-`from` axis (centres
// aligned): floor((2 i + 1) * to / (2 from)), in integers.
constexpr int nearest_index(int i, int from, int to) {
  return int((int64_t(2 * int64_t(i) + 1) * to) / (2 * int64_t(from)));
}

// 1 where the pixel is line art (grey below threshold), in the kernels' integer rule:
// 299 R + 587 G + 114 B < 1000 * threshold.
constexpr bool is_line_pixel(const uint8_t* px, int threshold) {
  return 299 * int(px[0]) + 587 * int(px[1]) + 114 * int(px[2]) < 1000 * threshold;
}

}  // namespace gp
