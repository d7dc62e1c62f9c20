#include "tests/image/compose_reference.h"

#include <algorithm>
#include <string>

#include "kernels/pixel.h"
#include "src/common/error.h"
#include "src/image/image_io.h"
#include "src/image/resample.h"

namespace gp {

using image_detail::check_size;
using image_detail::resample;
using image_detail::round_u8;

std::vector<float> resize_hwc(std::span<const float> data, int width, int height, int channels, int new_width,
                              int new_height) {
  check_size(width, height, "resize");
  check_size(new_width, new_height, "resize");
  if (channels <= 0 || data.size() != size_t(width) * height * channels)
    throw Error(ErrorKind::Argument, "resize: " + std::to_string(data.size()) + " values for " + std::to_string(width) +
                                         " x " + std::to_string(height) + " x " + std::to_string(channels));
  if (width == new_width && height == new_height) return {data.begin(), data.end()};
  std::vector<float> out(size_t(new_width) * new_height * channels);
  const size_t row_len = size_t(new_width) * channels;
  resample(data.data(), width, height, channels, new_width, new_height,
           [&](int y, const float* row) { std::copy(row, row + row_len, out.data() + size_t(y) * row_len); });
  return out;
}

Image compose_output(const Image& colours, const Image& sketch, Compose mode) {
  check_image(colours, "compose: colours");
  check_image(sketch, "compose: sketch");
  Image out;
  out.width = sketch.width;
  out.height = sketch.height;
  out.rgb.resize(sketch.rgb.size());
  const int w = sketch.width;
  auto emit = [&](int y, const float* row) {
    const size_t base = size_t(y) * w * 3;
    uint8_t* dst = out.rgb.data() + base;
    if (mode == Compose::Raw) {
      for (size_t i = 0; i < size_t(w) * 3; ++i) dst[i] = round_u8(row[i]);
      return;
    }
    const uint8_t* s = sketch.rgb.data() + base;
    for (int x = 0; x < w; ++x) {
      const double grey = grey255(s + 3 * x);
      for (int c = 0; c < 3; ++c) dst[3 * x + c] = round_u8(double(row[3 * x + c]) * grey / 255.0);
    }
  };
  resample(colours.rgb.data(), colours.width, colours.height, 3, sketch.width, sketch.height, emit);
  return out;
}

Image image_from_float(std::span<const float> colours, int width, int height, Layout layout) {
  check_size(width, height, "image_from_float");
  const size_t pixels = size_t(width) * height;
  if (colours.size() != 3 * pixels)
    throw Error(ErrorKind::Argument, "image_from_float: " + std::to_string(colours.size()) + " values for " +
                                         std::to_string(width) + " x " + std::to_string(height) + " x 3");
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(3 * pixels);
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c)
      image.rgb[3 * p + c] = rgb8_of_float(layout == Layout::HWC ? colours[3 * p + c] : colours[c * pixels + p]);
  return image;
}

Image compose_output(std::span<const float> colours, int width, int height, Layout layout, const Image& sketch,
                     Compose mode) {
  return compose_output(image_from_float(colours, width, height, layout), sketch, mode);
}

}  // namespace gp
