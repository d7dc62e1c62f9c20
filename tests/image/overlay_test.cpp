// The region overlay: palette, label points, digits, and a smoke test of the picture.
#include <set>

#include "src/image/overlay.h"
#include "tests/image/test_util.h"

namespace gp::test {
namespace {

TEST(Overlay, PaletteHas30DistinctColours) {
  const auto& palette = region_palette();
  std::set<std::tuple<int, int, int>> distinct;
  for (const Rgb& c : palette) distinct.insert({c.r, c.g, c.b});
  EXPECT_EQ(distinct.size(), 30u);
}

TEST(Overlay, LabelPointIsDeepInsideTheRegion) {
  // 20 x 10: region 3 is the rectangle x 2..12, y 1..8; the rest is region 0.
  const int w = 20, h = 10;
  std::vector<uint8_t> labels(size_t(w) * h, 0);
  for (int y = 1; y <= 8; ++y)
    for (int x = 2; x <= 12; ++x) labels[size_t(y) * w + x] = 3;
  const std::vector<int> ranked = {0, 3, 7};
  const auto points = region_label_points(labels, w, h, ranked);
  ASSERT_EQ(points.size(), 3u);
  // Chessboard depth 4 is reached first at (5, 4) in row-major order.
  EXPECT_EQ(points[1], (Point{5, 4}));
  EXPECT_EQ(labels[size_t(points[0].y) * w + points[0].x], 0);
  EXPECT_EQ(points[2], (Point{-1, -1}));  // channel 7 has no pixel
  EXPECT_NE(error_of([&] { region_label_points(labels, w, h + 1, ranked); }), "");
}

// Thin stacked bands put every label point at the same x: the numbers would be drawn on
// top of one another ("1211"). Each number moves along its band to a free place instead.
TEST(Overlay, NumbersDoNotOverlap) {
  const int w = 211, h = 3 * 12, scale = 1;
  std::vector<uint8_t> labels(size_t(w) * h);
  std::vector<int> ranked;
  for (int band = 0; band < 12; ++band) {
    ranked.push_back(band);
    for (int y = 3 * band; y < 3 * band + 3; ++y)
      for (int x = 0; x < w; ++x) labels[size_t(y) * w + x] = uint8_t(band);
  }
  const auto first = region_label_points(labels, w, h, ranked);
  EXPECT_TRUE(number_box(w, h, first[0], 1, scale).overlaps(number_box(w, h, first[1], 2, scale)));  // the old way
  const auto places = region_label_places(labels, w, h, ranked, scale);
  EXPECT_EQ(places[0], first[0]);  // the first number stays at its label point
  for (size_t a = 0; a < places.size(); ++a) {
    EXPECT_EQ(labels[size_t(places[a].y) * w + places[a].x], ranked[a]) << "rank " << a + 1 << " left its region";
    for (size_t b = 0; b < a; ++b)
      EXPECT_FALSE(
          number_box(w, h, places[a], int(a) + 1, scale).overlaps(number_box(w, h, places[b], int(b) + 1, scale)))
          << "ranks " << b + 1 << " and " << a + 1;
  }
}

TEST(Overlay, DrawNumberUsesTheFont) {
  Image image = make_image(30, 20, std::vector<uint8_t>(30 * 20 * 3, 90));
  draw_number(image, Point{15, 10}, 1, 2);
  // Box: 5 * 2 + 2 * 2 = 14 wide, 7 * 2 + 4 = 18 high, centred: x 8..21, y 1..18.
  auto at = [&](int x, int y) { return image.rgb[(size_t(y) * 30 + x) * 3]; };
  EXPECT_EQ(at(7, 10), 90);
  EXPECT_EQ(at(8, 1), 255);
  EXPECT_EQ(at(21, 18), 255);
  EXPECT_EQ(at(22, 10), 90);
  // '1' row 0 is 00100: column 2 black (x 10 + 4 .. 10 + 5), columns 1 and 3 white.
  EXPECT_EQ(at(14, 3), 0);
  EXPECT_EQ(at(15, 4), 0);
  EXPECT_EQ(at(12, 3), 255);
  EXPECT_EQ(at(16, 3), 255);
  // Row 6 of '1' is 01110.
  EXPECT_EQ(at(12, 15), 0);
  EXPECT_EQ(at(17, 16), 0);
  EXPECT_EQ(at(10, 15), 255);
  // Near a corner the box moves inside; a box larger than the image is clipped.
  Image tiny = make_image(4, 3, std::vector<uint8_t>(36, 90));
  draw_number(tiny, Point{0, 0}, 1234567, 3);
  EXPECT_EQ(tiny.rgb.size(), 36u);
}

TEST(Overlay, SmokeTwoRegionsWithLines) {
  const int w = 64, h = 48;
  std::vector<uint8_t> sketch_rgb(size_t(w) * h * 3, 255);
  for (int y = 0; y < h; ++y)
    for (int c = 0; c < 3; ++c) sketch_rgb[(size_t(y) * w + 31) * 3 + c] = 0;  // a vertical line
  const Image sketch = make_image(w, h, sketch_rgb);
  std::vector<uint8_t> labels(size_t(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) labels[size_t(y) * w + x] = x < 32 ? 5 : 2;
  const std::vector<int> ranked = {2, 5};  // rank 1 is channel 2 (right), rank 2 channel 5 (left)
  const Image out = region_overlay(sketch, labels, ranked);
  ASSERT_EQ(out.width, w);
  ASSERT_EQ(out.rgb.size(), sketch.rgb.size());
  auto px = [&](int x, int y) {
    return Rgb{out.rgb[(size_t(y) * w + x) * 3], out.rgb[(size_t(y) * w + x) * 3 + 1],
               out.rgb[(size_t(y) * w + x) * 3 + 2]};
  };
  EXPECT_EQ(px(63, 0), region_palette()[0]);  // rank 1 colour on white paper
  EXPECT_EQ(px(0, 47), region_palette()[1]);  // rank 2
  EXPECT_EQ(px(31, 0), (Rgb{0, 0, 0}));       // the line stays black
  // Each number sits on a white box at its region's label point.
  const auto points = region_label_points(labels, w, h, ranked);
  int black = 0, white = 0;
  for (const Point& p : points)
    for (int dy = -3; dy <= 3; ++dy)
      for (int dx = -3; dx <= 3; ++dx) {
        const Rgb c = px(p.x + dx, p.y + dy);
        black += c == Rgb{0, 0, 0};
        white += c == Rgb{255, 255, 255};
      }
  EXPECT_GT(black, 6);
  EXPECT_GT(white, 6);
  // The session's Region list gives the same picture.
  std::vector<Region> regions = {Region{1, 2, 0, 0, 0, 0, 0}, Region{2, 5, 0, 0, 0, 0, 0}};
  EXPECT_EQ(region_overlay(sketch, labels, regions).rgb, out.rgb);
  EXPECT_NE(error_of([&] { region_overlay(sketch, std::span(labels).first(10), ranked); }), "");
  if (const char* dump = std::getenv("GP_OVERLAY_DUMP")) write_png(dump, out);
}

}  // namespace
}  // namespace gp::test
