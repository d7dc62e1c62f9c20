// The resampling rule of resize.h written once: per-axis taps (exact area average when
// shrinking, bilinear with centres aligned when enlarging, a copy at the same size) and
// the separable two-pass resampler over them. Internal to src/image and the references
// of the tests (tests/image/compose_reference.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gp::image_detail {

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

AxisTaps axis_taps(int old_size, int new_size);

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

// Throws gp::Error (kind Argument) naming `what` unless both sides are positive.
void check_size(int width, int height, const char* what);

}  // namespace gp::image_detail
