// Which regions a user is asked about (SessionOptions::min_region): the rule, written once.
// A region of a few pixels is invisible in the overlay, and a hint there changes nothing
// anyone can see, so it gets no rank; the colorizer fills it unhinted. tools/reference.py
// (min_region_pixels) mirrors it for the PyTorch evaluation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "src/common/error.h"

namespace gp {

constexpr uint32_t kMinRegionFloorPixels = 4;

// The fewest pixels a ranked region has at a working size of `pixels`: max(4, ceil(fraction
// x pixels)); 1 (every non-empty region) for fraction 0.
inline uint32_t min_region_pixels(double fraction, size_t pixels) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    throw Error(ErrorKind::Argument, "min_region " + std::to_string(fraction) +
                                         ": expected a fraction of the working size's pixels in [0, 1)");
  if (fraction == 0.0) return 1;
  return std::max(kMinRegionFloorPixels, uint32_t(std::ceil(fraction * double(pixels))));
}

}  // namespace gp
