#include "src/image/overlay.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "kernels/pixel.h"
#include "src/common/error.h"
#include "src/image/image_io.h"

namespace gp {
namespace {

// 5 x 7 digits, one byte per row, bit 4 = leftmost column.
constexpr uint8_t kDigits[10][7] = {
    {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110},  // 0
    {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},  // 1
    {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111},  // 2
    {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110},  // 3
    {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010},  // 4
    {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110},  // 5
    {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110},  // 6
    {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000},  // 7
    {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110},  // 8
    {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100},  // 9
};
constexpr int kGlyphW = 5, kGlyphH = 7, kGlyphGap = 1;

void fill(Image& image, int x0, int y0, int x1, int y1, uint8_t value) {  // [x0, x1) x [y0, y1), clipped
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, image.width);
  y1 = std::min(y1, image.height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      uint8_t* px = image.rgb.data() + (size_t(y) * image.width + x) * 3;
      px[0] = px[1] = px[2] = value;
    }
}

// Places [0, size) centred on c inside [0, limit) when it fits.
int place(int c, int size, int limit) {
  int start = c - size / 2;
  if (size <= limit) start = std::clamp(start, 0, limit - size);
  return start;
}

void check_labels(std::span<const uint8_t> labels, int width, int height, const char* what) {
  if (width <= 0 || height <= 0 || labels.size() != size_t(width) * size_t(height))
    throw Error(ErrorKind::Argument, std::string(what) + ": " + std::to_string(labels.size()) + " labels for " +
                                         std::to_string(width) + " x " + std::to_string(height) + " pixels");
}

}  // namespace

const std::array<Rgb, 30>& region_palette() {
  static const std::array<Rgb, 30> palette = {{
      {238, 34, 34},   {0, 255, 0},     {68, 85, 255},   {68, 238, 255}, {119, 119, 0},  {238, 153, 204},
      {255, 0, 221},   {0, 204, 119},   {0, 136, 221},   {238, 238, 0},  {255, 153, 0},  {255, 221, 170},
      {238, 0, 119},   {51, 119, 102},  {170, 85, 68},   {136, 85, 187}, {119, 187, 17}, {170, 0, 255},
      {187, 204, 255}, {170, 238, 187}, {255, 136, 255}, {221, 204, 85}, {17, 153, 187}, {170, 255, 0},
      {255, 136, 85},  {136, 119, 170}, {102, 153, 85},  {0, 255, 221},  {170, 136, 85}, {0, 255, 119},
  }};
  return palette;
}

namespace {

// Two-pass chamfer transform, chessboard metric: d = 1 next to another label or the
// border, else 1 + the smallest d of the same-label 8-neighbours.
std::vector<int> depth_in_region(std::span<const uint8_t> labels, int width, int height) {
  const size_t n = labels.size();
  std::vector<int> d(n, INT_MAX);
  auto relax = [&](int x, int y, int dx, int dy) {
    const size_t p = size_t(y) * width + x;
    const int qx = x + dx, qy = y + dy;
    int via;
    if (qx < 0 || qy < 0 || qx >= width || qy >= height) {
      via = 1;
    } else {
      const size_t q = size_t(qy) * width + qx;
      via = labels[q] != labels[p] ? 1 : (d[q] == INT_MAX ? INT_MAX : d[q] + 1);
    }
    d[p] = std::min(d[p], via);
  };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      relax(x, y, -1, 0);
      relax(x, y, -1, -1);
      relax(x, y, 0, -1);
      relax(x, y, 1, -1);
    }
  for (int y = height - 1; y >= 0; --y)
    for (int x = width - 1; x >= 0; --x) {
      relax(x, y, 1, 0);
      relax(x, y, 1, 1);
      relax(x, y, 0, 1);
      relax(x, y, -1, 1);
    }
  return d;
}

// Each ranked region's deepest pixel (d: depth_in_region).
std::vector<Point> deepest_points(std::span<const uint8_t> labels, int width, int height, std::span<const int> ranked,
                                  const std::vector<int>& d) {
  std::vector<Point> best(256, Point{-1, -1});
  std::vector<int> best_d(256, 0);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t p = size_t(y) * width + x;
      const int l = labels[p];
      if (d[p] > best_d[l]) {
        best_d[l] = d[p];
        best[l] = {x, y};
      }
    }
  std::vector<Point> points;
  points.reserve(ranked.size());
  for (int id : ranked) points.push_back(id >= 0 && id < 256 ? best[id] : Point{-1, -1});
  return points;
}

}  // namespace

std::vector<Point> region_label_points(std::span<const uint8_t> labels, int width, int height,
                                       std::span<const int> ranked) {
  check_labels(labels, width, height, "region label points");
  return deepest_points(labels, width, height, ranked, depth_in_region(labels, width, height));
}

Box number_box(int width, int height, Point centre, int number, int scale) {
  const int digits = int(std::to_string(std::max(number, 0)).size());
  scale = std::max(scale, 1);
  const int box_w = (digits * (kGlyphW + kGlyphGap) - kGlyphGap) * scale + 2 * scale;
  const int box_h = kGlyphH * scale + 2 * scale;
  const int bx = place(centre.x, box_w, width), by = place(centre.y, box_h, height);
  return Box{bx, by, bx + box_w, by + box_h};
}

std::vector<Point> region_label_places(std::span<const uint8_t> labels, int width, int height,
                                       std::span<const int> ranked, int scale) {
  check_labels(labels, width, height, "region label places");
  const std::vector<int> d = depth_in_region(labels, width, height);
  std::vector<Point> places = deepest_points(labels, width, height, ranked, d);
  std::vector<Box> drawn;
  const auto free_at = [&](Point p, int number) {
    // A gap of one font pixel too, so neighbouring numbers do not read as one ("1211").
    Box b = number_box(width, height, p, number, scale);
    b.x0 -= scale, b.y0 -= scale, b.x1 += scale, b.y1 += scale;
    return std::none_of(drawn.begin(), drawn.end(), [&](const Box& o) { return b.overlaps(o); });
  };
  for (size_t k = 0; k < places.size(); ++k) {
    const int number = int(k) + 1;
    if (places[k].x < 0) continue;
    if (!free_at(places[k], number)) {
      // The region's pixels, deepest first (row-major among equals): the first free one.
      std::vector<size_t> pixels;
      for (size_t p = 0; p < labels.size(); ++p)
        if (labels[p] == ranked[k]) pixels.push_back(p);
      std::stable_sort(pixels.begin(), pixels.end(), [&](size_t a, size_t b) { return d[a] > d[b]; });
      for (size_t p : pixels) {
        const Point candidate{int(p % size_t(width)), int(p / size_t(width))};
        if (free_at(candidate, number)) {
          places[k] = candidate;
          break;
        }
      }
    }
    drawn.push_back(number_box(width, height, places[k], number, scale));
  }
  return places;
}

void draw_number(Image& image, Point centre, int number, int scale) {
  check_image(image, "draw number");
  const std::string digits = std::to_string(std::max(number, 0));
  scale = std::max(scale, 1);
  const Box box = number_box(image.width, image.height, centre, number, scale);
  const int bx = box.x0, by = box.y0;
  fill(image, box.x0, box.y0, box.x1, box.y1, 255);
  for (size_t i = 0; i < digits.size(); ++i) {
    const int gx = bx + scale + int(i) * (kGlyphW + kGlyphGap) * scale, gy = by + scale;
    const uint8_t* glyph = kDigits[digits[i] - '0'];
    for (int r = 0; r < kGlyphH; ++r)
      for (int c = 0; c < kGlyphW; ++c)
        if (glyph[r] & (1u << (kGlyphW - 1 - c)))
          fill(image, gx + c * scale, gy + r * scale, gx + (c + 1) * scale, gy + (r + 1) * scale, 0);
  }
}

Image region_overlay(const Image& sketch, std::span<const uint8_t> labels, std::span<const int> ranked) {
  check_image(sketch, "region overlay: sketch");
  check_labels(labels, sketch.width, sketch.height, "region overlay");
  std::array<int, 256> rank_of;  // channel id -> 0-based rank, -1 if not ranked
  rank_of.fill(-1);
  for (size_t k = 0; k < ranked.size(); ++k)
    if (ranked[k] >= 0 && ranked[k] < 256 && rank_of[ranked[k]] < 0) rank_of[ranked[k]] = int(k);

  Image out = sketch;
  const auto& palette = region_palette();
  for (size_t p = 0; p < labels.size(); ++p) {
    const int k = rank_of[labels[p]];
    if (k < 0) continue;
    uint8_t* px = out.rgb.data() + 3 * p;
    const double grey = grey255(px);
    const Rgb colour = palette[size_t(k) % palette.size()];
    const uint8_t rgb[3] = {colour.r, colour.g, colour.b};
    for (int c = 0; c < 3; ++c) px[c] = uint8_t(std::min(255.0, std::floor(rgb[c] * grey / 255.0 + 0.5)));
  }
  const int scale = std::clamp(std::min(sketch.width, sketch.height) / 128, 1, 8);
  const auto points = region_label_places(labels, sketch.width, sketch.height, ranked, scale);
  for (size_t k = 0; k < points.size(); ++k)
    if (points[k].x >= 0) draw_number(out, points[k], int(k) + 1, scale);
  return out;
}

Image region_overlay(const Image& sketch, std::span<const uint8_t> labels, std::span<const Region> regions) {
  std::vector<int> ranked;
  for (const Region& r : regions) {
    if (r.rank < 1 || r.rank > int(regions.size()))
      throw Error(ErrorKind::Argument, "region overlay: rank " + std::to_string(r.rank) + " of " +
                                           std::to_string(regions.size()) + " regions");
    if (ranked.size() < size_t(r.rank)) ranked.resize(size_t(r.rank), -1);
    ranked[size_t(r.rank) - 1] = r.id;
  }
  return region_overlay(sketch, labels, ranked);
}

}  // namespace gp
