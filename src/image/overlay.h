// The region picture: every ranked region in its own colour over the sketch's lines,
// with its rank number (1-based) in black on a white box.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"

namespace gp {

// 30 distinguishable colours (greedy farthest-point picks in CIELAB, lightness 45..92,
// so black lines stay visible on them). Rank k (1-based) uses entry (k - 1) % 30.
const std::array<Rgb, 30>& region_palette();

struct Point {
  int x = 0, y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

// Where each ranked region's number goes: the region pixel farthest (chessboard
// distance, paths inside the region, the image border counting as outside) from any
// pixel of another region; ties go to the first in row-major order. labels is
// [height][width]; ranked[k] is the channel id of rank k + 1. A channel id with no
// pixel gets {-1, -1}. Throws gp::Error if labels does not hold width * height.
std::vector<Point> region_label_points(std::span<const uint8_t> labels, int width, int height,
                                       std::span<const int> ranked);

// A number's white box in the overlay: [x0, x1) x [y0, y1), as draw_number places it.
struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};
Box number_box(int width, int height, Point centre, int number, int scale);
// Where the overlay draws each rank's number: its label point when the number's box
// there, widened by `scale` pixels, overlaps no box of a lower rank, else the region's
// deepest pixel where it overlaps none (deepest first, row-major among equals); a region with no such pixel
// keeps its label point.
std::vector<Point> region_label_places(std::span<const uint8_t> labels, int width, int height,
                                       std::span<const int> ranked, int scale);
// Draws `number` (>= 0) with the built-in 5 x 7 digit font, each font pixel a
// scale x scale square, in black on a white box with a `scale`-pixel margin,
// centred on `centre` and moved inside the image when it fits; clipped otherwise.
void draw_number(Image& image, Point centre, int number, int scale);

// The overlay at the sketch's size (the working size): a pixel of the region of
// rank k becomes palette[k - 1] * grey / 255 (grey = 0.299 R + 0.587 G + 0.114 B of
// the sketch pixel, rounded), so the lines show through; pixels of channels not in
// `ranked` keep the sketch. Then each rank's number is drawn at region_label_places,
// font scale max(1, min(width, height) / 128) capped at 8. labels and ranked as
// above. Throws gp::Error for inconsistent sizes.
Image region_overlay(const Image& sketch, std::span<const uint8_t> labels, std::span<const int> ranked);
// The same from the session's regions: regions[i].id with its 1-based regions[i].rank.
Image region_overlay(const Image& sketch, std::span<const uint8_t> labels, std::span<const Region> regions);

}  // namespace gp
