// CPU reference of kernels/reduce.cu (plain C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gp::ref {
// CPU reference, in double.
inline double reduce_sum(const float* x, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return s;
}
}  // namespace gp::ref
