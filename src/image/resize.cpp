#include "src/image/resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "src/common/error.h"
#include "src/image/image_io.h"
#include "src/image/resample.h"

namespace gp {
namespace image_detail {

AxisTaps axis_taps(int old_size, int new_size) {
  AxisTaps a;
  a.identity = old_size == new_size;
  a.offset.reserve(size_t(new_size) + 1);
  a.offset.push_back(0);
  for (int i = 0; i < new_size; ++i) {
    if (old_size == new_size) {
      a.taps.push_back({i, 1.0});
    } else if (new_size < old_size) {
      // In units of 1 / new_size: output i covers [i * old, (i + 1) * old) and source
      // pixel j covers [j * new, (j + 1) * new); overlaps are exact integers.
      const int64_t lo = int64_t(i) * old_size, hi = int64_t(i + 1) * old_size;
      for (int64_t j = lo / new_size; j * new_size < hi; ++j) {
        const int64_t overlap = std::min((j + 1) * new_size, hi) - std::max(j * new_size, lo);
        if (overlap > 0) a.taps.push_back({int(j), double(overlap) / double(old_size)});
      }
    } else {
      double u = (i + 0.5) * double(old_size) / double(new_size) - 0.5;
      u = std::clamp(u, 0.0, double(old_size - 1));
      const int j0 = int(std::floor(u));
      const int j1 = std::min(j0 + 1, old_size - 1);
      const double f = u - j0;
      a.taps.push_back({j0, 1.0 - f});
      if (f > 0.0) a.taps.push_back({j1, f});
    }
    a.offset.push_back(int(a.taps.size()));
  }
  return a;
}

void check_size(int width, int height, const char* what) {
  if (width <= 0 || height <= 0)
    throw Error(ErrorKind::Argument, std::string(what) + ": size " + std::to_string(width) + " x " +
                                         std::to_string(height) + " is not positive");
}

}  // namespace image_detail

using image_detail::check_size;
using image_detail::resample;
using image_detail::round_u8;

Size working_size(int width, int height, int n) {
  if (width <= 0 || height <= 0 || n <= 0)
    throw Error(ErrorKind::Argument, "working size: image " + std::to_string(width) + " x " + std::to_string(height) +
                                         " at size " + std::to_string(n) + ": sides and size must be positive");
  const int64_t long_side = std::max(width, height), short_side = std::min(width, height);
  // round(short * n / long) with halves up, in integers.
  const int scaled = int(std::max<int64_t>(1, (2 * short_side * n + long_side) / (2 * long_side)));
  return width >= height ? Size{n, scaled} : Size{scaled, n};
}

Image resize(const Image& image, int width, int height) {
  check_image(image, "resize");
  check_size(width, height, "resize");
  Image out;
  out.width = width;
  out.height = height;
  if (width == image.width && height == image.height) {
    out.rgb = image.rgb;
    return out;
  }
  out.rgb.resize(size_t(width) * height * 3);
  resample(image.rgb.data(), image.width, image.height, 3, width, height, [&](int y, const float* row) {
    uint8_t* dst = out.rgb.data() + size_t(y) * width * 3;
    for (size_t i = 0; i < size_t(width) * 3; ++i) dst[i] = round_u8(row[i]);
  });
  return out;
}

}  // namespace gp
