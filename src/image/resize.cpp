#include "src/image/resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/pixel.h"
#include "src/common/error.h"
#include "src/image/image_io.h"

namespace gp {
namespace {

// The taps of one axis: output i reads source taps[offset[i] .. offset[i + 1]).
struct Tap {
  int src;
  double weight;
};
struct AxisTaps {
  std::vector<int> offset;
  std::vector<Tap> taps;
  bool identity = false;
};

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

// Resamples [height][width][channels] of T to new_width x new_height; emit(y, row)
// receives each output row as new_width * channels floats (not rounded).
template <class T, class Emit>
void resample(const T* in, int width, int height, int channels, int new_width, int new_height, Emit&& emit) {
  const AxisTaps ax = axis_taps(width, new_width), ay = axis_taps(height, new_height);
  const size_t row_len = size_t(new_width) * channels;
  // Horizontal pass over every source row: height x new_width x channels floats.
  std::vector<float> tmp(size_t(height) * row_len);
  std::vector<double> acc(static_cast<size_t>(channels));
  for (int y = 0; y < height; ++y) {
    const T* src = in + size_t(y) * width * channels;
    float* dst = tmp.data() + size_t(y) * row_len;
    for (int x = 0; x < new_width; ++x) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int t = ax.offset[x]; t < ax.offset[x + 1]; ++t) {
        const T* px = src + size_t(ax.taps[t].src) * channels;
        for (int c = 0; c < channels; ++c) acc[c] += ax.taps[t].weight * double(px[c]);
      }
      for (int c = 0; c < channels; ++c) dst[size_t(x) * channels + c] = float(acc[c]);
    }
  }
  // Vertical pass, one output row at a time.
  std::vector<double> row_acc(row_len);
  std::vector<float> row(row_len);
  for (int y = 0; y < new_height; ++y) {
    std::fill(row_acc.begin(), row_acc.end(), 0.0);
    for (int t = ay.offset[y]; t < ay.offset[y + 1]; ++t) {
      const float* src = tmp.data() + size_t(ay.taps[t].src) * row_len;
      const double w = ay.taps[t].weight;
      for (size_t i = 0; i < row_len; ++i) row_acc[i] += w * double(src[i]);
    }
    for (size_t i = 0; i < row_len; ++i) row[i] = float(row_acc[i]);
    emit(y, row.data());
  }
}

inline uint8_t round_u8(double v) { return uint8_t(std::clamp(std::floor(v + 0.5), 0.0, 255.0)); }

void check_size(int width, int height, const char* what) {
  if (width <= 0 || height <= 0)
    throw Error(ErrorKind::Argument, std::string(what) + ": size " + std::to_string(width) + " x " +
                                         std::to_string(height) + " is not positive");
}

}  // namespace

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
