// A Session's closed areas through the public API, on the simulator: area labels exactly
// the non-line components of the sketch, each area's region the majority of the
// working-size labels, point hints that split an area off (and undo exactly), the flats'
// colour rules, the layers file, an all-line sketch, and channel exhaustion.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/error_kind.h"
#include "tests/source_dir.h"
#include "guidingpainter/guidingpainter.hpp"
#include "kernels/areas_ref.h"

namespace gp {
namespace {

namespace fs = std::filesystem;
using test::kind_of;
const fs::path kSource = test::source_dir();

std::shared_ptr<const Model> fixture_model() {
  ModelOptions o;
  o.device = Device::Simulator;
  return Model::load((kSource / "tests" / "fixtures" / "w4_48x40" / "model.safetensors").string(), o);
}

Image sample(const char* name = "1F3E0-sketch.png") {
  return Image::load((kSource / "examples" / "samples" / name).string());
}

SessionOptions sized(int size) {
  SessionOptions o;
  o.size = size;
  return o;
}

// A grid of `cell`-pixel squares separated by 1-pixel black lines, on white.
Image grid_sketch(int w, int h, int cell) {
  Image im{w, h, std::vector<uint8_t>(size_t(w) * h * 3, 255)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x % (cell + 1) == cell || y % (cell + 1) == cell)
        std::fill_n(&im.rgb[3 * (size_t(y) * w + x)], 3, uint8_t(0));
  return im;
}

// A pixel of the sketch inside area `a` (its first in raster order).
std::pair<int, int> pixel_of(const Session& s, int a) {
  const auto& labels = s.area_labels();
  const size_t p = size_t(std::find(labels.begin(), labels.end(), a) - labels.begin());
  return {int(p % s.sketch_width()), int(p / s.sketch_width())};
}

TEST(SessionAreas, LabelsAreTheNonLineComponentsWithMajorityRegions) {
  const Image sketch = sample();
  Session s(fixture_model(), sketch, sized(53));  // a working size unlike the sketch's
  const auto& labels = s.area_labels();
  ASSERT_EQ(labels.size(), size_t(sketch.width) * sketch.height);
  ASSERT_GT(s.areas().size(), 3u);
  const int W = sketch.width, H = sketch.height;
  std::vector<int64_t> count(s.areas().size(), 0);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t p = size_t(y) * W + x;
      const bool line = is_line_pixel(&sketch.rgb[3 * p], kDefaultLineThreshold);
      ASSERT_EQ(line, labels[p] == kLinePixel) << x << "," << y;
      if (line) continue;
      ASSERT_LT(size_t(labels[p]), s.areas().size());
      ++count[labels[p]];
      // 4-connected non-line neighbours share the area.
      if (x + 1 < W && labels[p + 1] != kLinePixel) {
        ASSERT_EQ(labels[p + 1], labels[p]);
      }
      if (y + 1 < H && labels[p + W] != kLinePixel) {
        ASSERT_EQ(labels[p + W], labels[p]);
      }
      EXPECT_EQ(s.area_at(x, y), labels[p]);
    }
  // Majority votes recomputed here from the working-size labels (nearest sampling).
  std::vector<std::map<int, int64_t>> votes(s.areas().size());
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const int a = labels[size_t(y) * W + x];
      if (a == kLinePixel) continue;
      ++votes[a][s.labels()[size_t(nearest_index(y, H, s.height())) * s.width() + nearest_index(x, W, s.width())]];
    }
  int previous_first = -1;
  for (const Area& area : s.areas()) {
    EXPECT_EQ(area.pixels, count[area.id]);
    int best = 0;
    int64_t best_votes = -1;
    for (const auto& [id, n] : votes[area.id])
      if (n > best_votes) best = id, best_votes = n;
    EXPECT_EQ(area.region_id, best) << "area " << area.id;
    // Ids in raster order of each area's first pixel.
    const auto [fx, fy] = pixel_of(s, area.id);
    EXPECT_GT(fy * W + fx, previous_first);
    previous_first = fy * W + fx;
    EXPECT_LE(area.x0, fx);
    EXPECT_EQ(area.y0, fy);
  }
}

TEST(SessionAreas, PointHintSplitsAnAreaOffAndUndoesExactly) {
  const auto model = fixture_model();
  Session s(model, sample(), sized(64));
  s.set_hint(1, Rgb{30, 160, 60});
  const Image before = s.colorize();
  const int door = s.area_at(80, 210);
  ASSERT_GE(door, 0);
  s.set_point_hint(80, 210, Rgb{0x7A, 0x3B, 0x10});
  ASSERT_EQ(s.point_hints().size(), 1u);
  EXPECT_EQ(s.point_hints()[0].area, door);
  std::set<int> ranked;
  for (const Region& r : s.regions()) ranked.insert(r.id);
  EXPECT_EQ(ranked.count(s.point_hints()[0].channel), 0u) << "a point takes a channel no ranked region uses";
  const Image with_point = s.colorize();
  EXPECT_NE(with_point.rgb, before.rgb);
  // The same area through another pixel replaces the colour: still one point.
  const auto [ox, oy] = pixel_of(s, door);
  s.set_point_hint(ox, oy, Rgb{0x7A, 0x3B, 0x10});
  EXPECT_EQ(s.point_hints().size(), 1u);
  EXPECT_EQ(s.colorize().rgb, with_point.rgb);
  EXPECT_TRUE(s.clear_point_hint(80, 210));
  EXPECT_FALSE(s.clear_point_hint(80, 210));
  EXPECT_EQ(s.colorize().rgb, before.rgb);
}

TEST(SessionAreas, PointsOnLinesOrOutsideAreRefusedNamingThePoint) {
  const Image sketch = sample();
  Session s(fixture_model(), sketch, sized(48));
  int lx = -1, ly = -1;
  for (size_t p = 0; p < s.area_labels().size() && lx < 0; ++p)
    if (s.area_labels()[p] == kLinePixel) lx = int(p % sketch.width), ly = int(p / sketch.width);
  ASSERT_GE(lx, 0);
  std::string message;
  EXPECT_EQ(kind_of([&] { s.set_point_hint(lx, ly, Rgb{1, 2, 3}); }, &message), ErrorKind::Argument);
  EXPECT_NE(message.find("(" + std::to_string(lx) + ", " + std::to_string(ly) + ")"), std::string::npos) << message;
  EXPECT_NE(message.find("line"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { s.set_point_hint(sketch.width, 0, Rgb{1, 2, 3}); }, &message), ErrorKind::Argument);
  EXPECT_NE(message.find("outside"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { s.area_at(-1, 0); }), ErrorKind::Argument);
  EXPECT_TRUE(s.point_hints().empty());
}

TEST(SessionAreas, FlatsFollowPointsThenRegionHintsThenTheMeanColour) {
  Session s(fixture_model(), sample(), sized(64));
  const Rgb door_colour{0x7A, 0x3B, 0x10};
  const Colour rank1{200.4f, 17.6f, 99.0f};  // fractions round to the nearest
  s.set_hint(1, rank1);
  s.set_point_hint(80, 210, door_colour);
  const ImageRgba flats = s.flats();
  ASSERT_EQ(flats.width, s.sketch_width());
  ASSERT_EQ(flats.height, s.sketch_height());
  ASSERT_EQ(flats.rgba.size(), size_t(flats.width) * flats.height * 4);
  const int door = s.area_at(80, 210);
  const int rank1_id = s.regions()[0].id;
  std::vector<std::array<uint8_t, 4>> colour_of(s.areas().size(), {0, 0, 0, 0});
  std::vector<bool> seen(s.areas().size(), false);
  int region_hinted = 0;
  for (size_t p = 0; p < s.area_labels().size(); ++p) {
    const uint8_t* px = &flats.rgba[4 * p];
    const int a = s.area_labels()[p];
    if (a == kLinePixel) {
      ASSERT_EQ(px[3], 0) << "line pixels are transparent";
      continue;
    }
    ASSERT_EQ(px[3], 255);
    const std::array<uint8_t, 4> c{px[0], px[1], px[2], px[3]};
    if (!seen[a]) seen[a] = true, colour_of[a] = c;
    ASSERT_EQ(c, colour_of[a]) << "one flat colour per area";
    if (a == door) {
      ASSERT_EQ(c, (std::array<uint8_t, 4>{0x7A, 0x3B, 0x10, 255}));
    } else if (s.areas()[a].region_id == rank1_id) {
      ASSERT_EQ(c, (std::array<uint8_t, 4>{200, 18, 99, 255}));
      ++region_hinted;
    }
  }
  EXPECT_GT(region_hinted, 0) << "some area lies mostly in rank 1's region";
}

TEST(SessionAreas, LayersFileIsOpenRaster) {
  Session s(fixture_model(), sample("1F432-sketch.png"), sized(40));
  s.set_hint(2, Rgb{10, 20, 230});
  const std::vector<uint8_t> ora = s.layers_ora();
  ASSERT_GT(ora.size(), 100u);
  EXPECT_EQ(std::string(ora.begin(), ora.begin() + 2), "PK");
  EXPECT_EQ(std::string(ora.begin() + 30, ora.begin() + 54), "mimetypeimage/openraster");
  const fs::path file = fs::temp_directory_path() /
                        ("gp-layers-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".ora");
  s.save_layers(file.string());
  EXPECT_EQ(fs::file_size(file), ora.size());
  fs::remove(file);
}

TEST(SessionAreas, AllLineSketchHasNoAreasAndStillColorizes) {
  Image black{37, 23, std::vector<uint8_t>(37 * 23 * 3, 0)};
  for (size_t i = 0; i < black.rgb.size(); ++i) black.rgb[i] = uint8_t(i % 97);  // dark, never paper
  Session s(fixture_model(), black, sized(32));
  EXPECT_TRUE(s.areas().empty());
  EXPECT_EQ(kind_of([&] { s.set_point_hint(3, 4, Rgb{1, 2, 3}); }), ErrorKind::Argument);
  const ImageRgba flats = s.flats();
  EXPECT_TRUE(std::all_of(flats.rgba.begin(), flats.rgba.end(), [](uint8_t v) { return v == 0; }));
  EXPECT_EQ(s.colorize().width, 37);
  EXPECT_GT(s.layers_ora().size(), 100u);
}

TEST(SessionAreas, ChannelsRunOutThenPointsOfOneColourShare) {
  const Image grid = grid_sketch(71, 59, 5);  // 12 x 10 cells
  const auto model = fixture_model();
  Session s(model, grid, sized(48));
  ASSERT_EQ(s.areas().size(), 120u);
  const int free_channels = model->config().num_regions - int(s.regions().size());
  ASSERT_GT(free_channels, 0);
  for (int k = 0; k < free_channels; ++k) {
    const auto [x, y] = pixel_of(s, k);
    s.set_point_hint(x, y, Rgb{uint8_t(10 * k), 7, 9});
  }
  const auto [x, y] = pixel_of(s, free_channels);
  std::string message;
  EXPECT_EQ(kind_of([&] { s.set_point_hint(x, y, Rgb{255, 255, 1}); }, &message), ErrorKind::Argument);
  EXPECT_NE(message.find("channels are taken"), std::string::npos) << message;
  s.set_point_hint(x, y, Rgb{10, 7, 9});  // the colour of point 1: its channel
  ASSERT_EQ(int(s.point_hints().size()), free_channels + 1);
  EXPECT_EQ(s.point_hints().back().channel, s.point_hints()[1].channel);
  const ImageRgba flats = s.flats();
  const size_t p = size_t(y) * grid.width + x;
  EXPECT_EQ(flats.rgba[4 * p], 10);
  s.clear_point_hints();
  EXPECT_TRUE(s.point_hints().empty());
}

TEST(SessionAreas, MovedFromSessionSaysSo) {
  Session s(fixture_model(), sample(), sized(32));
  Session t(std::move(s));
  EXPECT_FALSE(t.areas().empty());
  EXPECT_EQ(kind_of([&] { (void)s.areas(); }), ErrorKind::Argument);
  EXPECT_EQ(kind_of([&] { s.set_point_hint(1, 1, Rgb{}); }), ErrorKind::Argument);
}

}  // namespace
}  // namespace gp
