// Working size and resampling.
//
// The CLI's rule: `--size N` makes the long side N; the short side scales in
// proportion, round(short * N / long) with halves rounded up, and is at least 1.
// (300 x 200 at 256 -> 256 x 171; 256 x 256 at 256 -> unchanged.)
//
// Resampling is separable: the horizontal pass first, then the vertical one, each
// axis on its own rule:
//  - shrinking (new < old): exact area average. Output pixel i covers the source
//    interval [i * old / new, (i + 1) * old / new); every source pixel contributes
//    the length of its overlap with that interval, divided by old / new
//    (fractional coverage at both ends, computed in exact integers).
//  - enlarging (new > old): bilinear with pixel centres aligned (align_corners =
//    False): source coordinate u = (i + 0.5) * old / new - 0.5, clamped to
//    [0, old - 1]; the two nearest pixels weigh 1 - frac(u) and frac(u).
//  - same size: the axis is copied unchanged, so an N x N image at --size N is not
//    resampled at all.
// Passes accumulate in double and store float; 8-bit results are rounded to nearest
// (halves up) and clamped to 0..255.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"

namespace gp {

struct Size {
  int width = 0, height = 0;
  friend bool operator==(const Size&, const Size&) = default;
};

// The working size of a width x height picture for --size n. Throws gp::Error if a
// side or n is not positive.
Size working_size(int width, int height, int n);

// The image resampled to width x height by the rule above. Throws gp::Error for an
// inconsistent image or a non-positive size.
Image resize(const Image& image, int width, int height);
inline Image resize(const Image& image, Size size) { return resize(image, size.width, size.height); }

}  // namespace gp
