// The CPU reference of the output composition (kernels/compose.cuh, bit for bit) and of
// float resampling, on the rule of src/image/resize.h. Test code: the library composes
// on the device (Backend::compose_rgb8) and never links this.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"
#include "src/image/resize.h"

namespace gp {

// Float data, `channels` values per pixel, pixel-interleaved (HWC), same rule, not
// rounded. Returns new_height * new_width * channels values.
std::vector<float> resize_hwc(std::span<const float> data, int width, int height, int channels, int new_width,
                              int new_height);

// How the colorization is put back at the sketch's resolution.
enum class Compose {
  // colour * grey / 255 per channel, grey = 0.299 R + 0.587 G + 0.114 B of the
  // original-resolution sketch (0..255), rounded to nearest: white paper leaves the
  // colour, black lines stay black and crisp at full resolution.
  KeepLines,
  // The colours only, upsampled.
  Raw,
};

// The colorization `colours` (any size, normally the working size) brought to the
// size of `sketch` (the original picture) by the rule above (bilinear when
// enlarging), then composed with it by `mode`. Throws gp::Error for inconsistent images.
Image compose_output(const Image& colours, const Image& sketch, Compose mode = Compose::KeepLines);

enum class Layout { HWC, CHW };
// The network's output (3 channels in [-1, 1], `layout`) at width x height: first
// turned into 8-bit colour with the authors' rule (gp::rgb8_of_float:
// trunc(255 * clamp((y + 1) / 2, 0, 1))), then as above.
Image image_from_float(std::span<const float> colours, int width, int height, Layout layout = Layout::HWC);
Image compose_output(std::span<const float> colours, int width, int height, Layout layout, const Image& sketch,
                     Compose mode = Compose::KeepLines);

}  // namespace gp
