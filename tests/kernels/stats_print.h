// How GoogleTest prints a RegionStats (also an AreaStats) when two differ.
#pragma once

#include <ostream>

#include "kernels/regions_ref.h"

namespace gp {
inline std::ostream& operator<<(std::ostream& os, const RegionStats& s) {
  return os << "{count " << s.count << ", box (" << s.x0 << ", " << s.y0 << ")-(" << s.x1 << ", " << s.y1 << "), sum "
            << s.sum[0] << " " << s.sum[1] << " " << s.sum[2] << "}";
}
}  // namespace gp
