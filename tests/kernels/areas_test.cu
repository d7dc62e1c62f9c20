// Closed areas against the CPU reference (a flood fill, not a union-find): exact
// equality of labels, counts, statistics, majorities, overridden labels and flats, on
// shapes that break tiled labelling when it is wrong (spirals, one-pixel gaps on tile
// borders, diagonal contacts, single pixels, one-pixel-thin pictures, 4096 x 4096).
#include "kernels/areas.cuh"
#include "kernels/areas_ref.h"
#include "tests/kernels/harness.h"
#include "tests/kernels/stats_print.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <ostream>

namespace gp::test {
namespace {

namespace k = ::GP_KERNEL_NS;

// ---- pictures ---------------------------------------------------------------------------
// A line mask [h][w] (1 = line) and the sketch drawn from it: paper in light random
// tints (grey >= 200), lines in dark random colours (grey < 60), so the default
// threshold 128 separates them and the colour sums are never trivial.
struct Mask {
  int w = 0, h = 0;
  std::vector<uint8_t> line;
  Mask(int width, int height, uint8_t fill = 0) : w(width), h(height), line(size_t(width) * height, fill) {}
  void set(int x, int y, uint8_t v = 1) {
    if (x >= 0 && y >= 0 && x < w && y < h) line[size_t(y) * w + x] = v;
  }
};

std::vector<uint8_t> sketch_of(const Mask& m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> rgb(3 * m.line.size());
  for (size_t p = 0; p < m.line.size(); ++p)
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = uint8_t(m.line[p] ? rng() % 60 : 200 + rng() % 56);
  return rgb;
}

void draw_line(Mask& m, int x0, int y0, int x1, int y1) {
  const int n = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  for (int i = 0; i <= n; ++i) {
    const double t = n ? double(i) / n : 0.0;
    m.set(int(std::lround(x0 + t * (x1 - x0))), int(std::lround(y0 + t * (y1 - y0))));
  }
}

void draw_circle(Mask& m, int cx, int cy, int r) {
  const int n = 8 * r + 8;
  for (int i = 0; i < n; ++i) {
    const double a = 2.0 * M_PI * i / n;
    m.set(int(std::lround(cx + r * std::cos(a))), int(std::lround(cy + r * std::sin(a))));
  }
}

// Random straight strokes and circles (8-connected, so 4-connected paper leaks through
// some diagonal steps), about one stroke per 400 pixels.
Mask random_drawing(int w, int h, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Mask m(w, h);
  const int strokes = 1 + int(size_t(w) * h / 400);
  const int reach = std::max(2, std::max(w, h) / 4);
  for (int i = 0; i < strokes; ++i) {
    const int x = int(rng() % w), y = int(rng() % h);
    if (rng() % 3 == 0) {
      draw_circle(m, x, y, 1 + int(rng() % reach));
    } else {
      draw_line(m, x, y, x + int(rng() % (2 * reach + 1)) - reach, y + int(rng() % (2 * reach + 1)) - reach);
    }
  }
  return m;
}

// One paper corridor, one pixel wide, winding inwards around a square spiral of line:
// a single area whose pixels lie in every tile, met again on each turn.
Mask spiral(int w, int h) {
  Mask m(w, h, 1);
  int x = 1, y = 1;
  m.set(x, y, 0);
  const int dx[4] = {1, 0, -1, 0}, dy[4] = {0, 1, 0, -1};
  for (int s = 0;; ++s) {
    const int len = s % 2 == 0 ? (w - 3) - std::max(0, s - 2) : (h - 3) - (s - 1);
    if (len <= 0) break;
    for (int i = 0; i < len; ++i) {
      x += dx[s % 4];
      y += dy[s % 4];
      m.set(x, y, 0);
    }
  }
  return m;
}

// ---- running the kernels ---------------------------------------------------------------
struct Labelled {
  std::vector<int32_t> labels;
  int32_t count = 0;
};

Labelled ref_label_areas(const std::vector<uint8_t>& rgb, int w, int h, int threshold = kDefaultLineThreshold) {
  Labelled r;
  r.labels.resize(size_t(w) * h);
  r.count = ref::label_areas(rgb.data(), w, h, threshold, r.labels.data());
  return r;
}

Labelled device_label_areas(const std::vector<uint8_t>& rgb, int w, int h, int threshold = kDefaultLineThreshold) {
  DeviceBuffer<uint8_t> drgb(rgb), scratch(k::label_areas_scratch_bytes(w, h));
  DeviceBuffer<int32_t> labels(size_t(w) * h), count(1);
  // Garbage first: neither the output nor the scratch needs preparation.
  if (labels.size()) {
    EXPECT_EQ(cudaMemset(labels.get(), 0xA5, labels.size() * 4), cudaSuccess);
  }
  if (scratch.size()) {
    EXPECT_EQ(cudaMemset(scratch.get(), 0x5A, scratch.size()), cudaSuccess);
  }
  EXPECT_EQ(cudaMemset(count.get(), 0xA5, 4), cudaSuccess);
  EXPECT_EQ(k::label_areas(drgb.get(), w, h, threshold, labels.get(), count.get(), scratch.get(), nullptr),
            cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return Labelled{labels.download(), count.download()[0]};
}

::testing::AssertionResult same_labels(const Labelled& ref, const Labelled& out, int w) {
  if (ref.count != out.count)
    return ::testing::AssertionFailure() << "count " << out.count << ", expected " << ref.count;
  if (ref.labels.size() != out.labels.size()) return ::testing::AssertionFailure() << "size differs";
  std::ostringstream msg;
  size_t bad = 0;
  for (size_t p = 0; p < ref.labels.size(); ++p)
    if (ref.labels[p] != out.labels[p]) {
      if (bad < 8)
        msg << "\n  (" << p % size_t(w) << ", " << p / size_t(w) << ") ref " << ref.labels[p] << " out "
            << out.labels[p];
      ++bad;
    }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << ref.labels.size() << " labels differ:" << msg.str();
}

// Labels the sketch on the device and checks it against the reference; returns the
// reference for further checks of the case itself.
Labelled expect_same_labels(const std::vector<uint8_t>& rgb, int w, int h, int threshold = kDefaultLineThreshold) {
  Labelled ref = ref_label_areas(rgb, w, h, threshold);
  EXPECT_TRUE(same_labels(ref, device_label_areas(rgb, w, h, threshold), w))
      << w << " x " << h << " threshold " << threshold;
  return ref;
}

Labelled expect_same_labels(const Mask& m, uint64_t seed) { return expect_same_labels(sketch_of(m, seed), m.w, m.h); }

std::vector<AreaStats> device_area_stats(const Labelled& l, const std::vector<uint8_t>& rgb, int w, int h) {
  DeviceBuffer<int32_t> dl(l.labels);
  DeviceBuffer<uint8_t> drgb(rgb);
  DeviceBuffer<AreaStats> ds{size_t(l.count)};
  if (l.count) {
    EXPECT_EQ(cudaMemset(ds.get(), 0xA5, ds.size() * sizeof(AreaStats)), cudaSuccess);
  }
  EXPECT_EQ(k::area_stats(dl.get(), rgb.empty() ? nullptr : drgb.get(), w, h, l.count, ds.get(), nullptr), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return ds.download();
}

::testing::AssertionResult same_stats(const std::vector<AreaStats>& ref, const std::vector<AreaStats>& out) {
  if (ref.size() != out.size()) return ::testing::AssertionFailure() << "size " << out.size() << " vs " << ref.size();
  for (size_t a = 0; a < ref.size(); ++a)
    if (!(ref[a] == out[a]))
      return ::testing::AssertionFailure() << "area " << a << ": ref " << ref[a] << ", out " << out[a];
  return ::testing::AssertionSuccess();
}

// ---- label_areas -------------------------------------------------------------------------
TEST(AreaLabels, SpiralIsOneArea) {
  GP_REQUIRE_DEVICE();
  for (const auto& [w, h] : {std::pair{9, 9}, std::pair{13, 9}, std::pair{77, 141}, std::pair{511, 385}}) {
    const Labelled ref = expect_same_labels(spiral(w, h), uint64_t(w) * h);
    EXPECT_EQ(ref.count, 1) << w << " x " << h;  // the case is what it claims to be
  }
}

// Walls on and beside the 32-pixel tile borders with single-pixel gaps: at a picture's
// first and last row, at a tile corner, and a contact through a diagonal only (which
// 4-connectivity must not join).
TEST(AreaLabels, OnePixelGapsJoinDiagonalsDoNot) {
  GP_REQUIRE_DEVICE();
  const int w = 97, h = 70;
  Mask m(w, h);
  for (int y = 0; y < h; ++y) m.set(32, y), m.set(63, y);
  for (int x = 0; x < w; ++x) m.set(x, 31), m.set(x, 64);
  m.set(32, 0, 0);   // left and right of x = 32 join through the first row
  m.set(63, 69, 0);  // ... and of x = 63 through the last row
  m.set(31, 31, 0);  // a gap in y = 31 right beside the tile corner (32, 32)
  m.set(80, 64, 0);  // the right cells of the middle and bottom strips join at x = 80
  const Labelled ref = expect_same_labels(m, 1);
  const auto at = [&](int x, int y) { return ref.labels[size_t(y) * w + x]; };
  EXPECT_EQ(at(0, 0), at(40, 0));
  EXPECT_EQ(at(33, 69), at(96, 69));
  EXPECT_EQ(at(0, 0), at(0, 40));     // through (31, 31)
  EXPECT_NE(at(40, 30), at(40, 40));  // no gap there
  EXPECT_EQ(at(80, 63), at(80, 69));
  EXPECT_NE(at(0, 69), at(33, 69));
  // Of the 3 x 3 cells: {top-left, top-middle, middle-left}, {top-right}, {middle},
  // {middle-right, bottom-right, bottom-middle}, {bottom-left}.
  EXPECT_EQ(ref.count, 5);
}

TEST(AreaLabels, DiagonalContactsStayApart) {
  GP_REQUIRE_DEVICE();
  // 2 x 2 checks of line and paper: every paper pair meets its neighbours at corners only,
  // including across the tile corners at (31, 31) / (32, 32).
  const int w = 70, h = 66;
  Mask m(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.set(x, y, uint8_t(((x + 1) / 2 + (y + 1) / 2) % 2));
  const Labelled ref = expect_same_labels(m, 2);
  EXPECT_GT(ref.count, 400);
}

TEST(AreaLabels, IsolatedPixels) {
  GP_REQUIRE_DEVICE();
  const int w = 101, h = 67;
  Mask m(w, h, 1);
  std::mt19937_64 rng(3);
  int placed = 0;
  const auto place = [&](int x, int y) {
    const auto line = [&](int a, int b) { return a < 0 || b < 0 || a >= w || b >= h || m.line[size_t(b) * w + a]; };
    if (!line(x, y) || !line(x - 1, y) || !line(x + 1, y) || !line(x, y - 1) || !line(x, y + 1)) return;
    m.set(x, y, 0);
    ++placed;
  };
  for (const auto& [x, y] : {std::pair{0, 0}, std::pair{w - 1, 0}, std::pair{0, h - 1}, std::pair{w - 1, h - 1},
                             std::pair{31, 31}, std::pair{32, 32}, std::pair{64, 31}, std::pair{63, 32}})
    place(x, y);
  for (int i = 0; i < 600; ++i) place(int(rng() % w), int(rng() % h));
  const Labelled ref = expect_same_labels(m, 4);
  EXPECT_EQ(ref.count, placed);
}

TEST(AreaLabels, Checkerboard) {
  GP_REQUIRE_DEVICE();
  const int w = 67, h = 45;
  Mask m(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.set(x, y, uint8_t((x + y) % 2));
  const Labelled ref = expect_same_labels(m, 5);
  EXPECT_EQ(ref.count, (w * h + 1) / 2);
}

TEST(AreaLabels, OnePixelWideAndTall) {
  GP_REQUIRE_DEVICE();
  for (const auto& [w, h] : {std::pair{1, 1000}, std::pair{1000, 1}, std::pair{1, 33}, std::pair{33, 1},
                             std::pair{2, 97}, std::pair{97, 2}}) {
    Mask m(w, h);
    std::mt19937_64 rng(uint64_t(w) * 1000 + h);
    for (auto& l : m.line) l = rng() % 5 == 0;
    const Labelled ref = expect_same_labels(m, 6);
    EXPECT_GT(ref.count, 1) << w << " x " << h;
  }
}

TEST(AreaLabels, OnePixel) {
  GP_REQUIRE_DEVICE();
  const Labelled paper = expect_same_labels(Mask(1, 1, 0), 7);
  EXPECT_EQ(paper.count, 1);
  EXPECT_EQ(paper.labels, std::vector<int32_t>{0});
  const Labelled line = expect_same_labels(Mask(1, 1, 1), 8);
  EXPECT_EQ(line.count, 0);
  EXPECT_EQ(line.labels, std::vector<int32_t>{kLinePixel});
}

TEST(AreaLabels, AllLineAndNoLine) {
  GP_REQUIRE_DEVICE();
  const int w = 100, h = 70;
  const Labelled none = expect_same_labels(Mask(w, h, 0), 9);
  EXPECT_EQ(none.count, 1);
  EXPECT_EQ(none.labels, std::vector<int32_t>(size_t(w) * h, 0));
  const Labelled all = expect_same_labels(Mask(w, h, 1), 10);
  EXPECT_EQ(all.count, 0);
  EXPECT_EQ(all.labels, std::vector<int32_t>(size_t(w) * h, kLinePixel));
  // Thresholds 0 and 256 make any sketch all paper and all line.
  const auto rgb = sketch_of(random_drawing(w, h, 11), 12);
  EXPECT_EQ(expect_same_labels(rgb, w, h, 0).count, 1);
  EXPECT_EQ(expect_same_labels(rgb, w, h, 256).count, 0);
}

TEST(AreaLabels, EmptyPicture) {
  GP_REQUIRE_DEVICE();
  for (const auto& [w, h] : {std::pair{0, 0}, std::pair{0, 5}, std::pair{5, 0}}) {
    DeviceBuffer<int32_t> count(1);
    EXPECT_EQ(cudaMemset(count.get(), 0xA5, 4), cudaSuccess);
    EXPECT_EQ(k::label_areas(nullptr, w, h, 128, nullptr, count.get(), nullptr, nullptr), cudaSuccess);
    EXPECT_EQ(count.download()[0], 0);
  }
}

// Colours whose integer grey 299 R + 587 G + 114 B is exactly 1000 t (paper: not below
// the threshold), one less (line) and one more (paper), mixed at random.
TEST(AreaLabels, GreyExactlyAtTheThreshold) {
  GP_REQUIRE_DEVICE();
  for (const int t : {1, 77, 128, 200, 255}) {
    std::vector<std::array<uint8_t, 3>> colours[3];  // 1000 t - 1, 1000 t, 1000 t + 1
    for (int d = -1; d <= 1; ++d)
      for (int r = 0; r < 256; ++r)
        for (int g = 0; g < 256; ++g) {
          const int rest = 1000 * t + d - 299 * r - 587 * g;  // = 114 B
          if (rest >= 0 && rest % 114 == 0 && rest / 114 < 256 && colours[d + 1].size() < 16)
            colours[d + 1].push_back({uint8_t(r), uint8_t(g), uint8_t(rest / 114)});
        }
    if (t == 77 || t == 128) {
      ASSERT_FALSE(colours[0].empty() || colours[1].empty() || colours[2].empty()) << t;
    }
    const uint8_t exact[3] = {uint8_t(t), uint8_t(t), uint8_t(t)};  // grey t: 1000 t exactly
    EXPECT_FALSE(is_line_pixel(exact, t));
    for (const auto& c : colours[0]) EXPECT_TRUE(is_line_pixel(c.data(), t));
    for (const auto& c : colours[1]) EXPECT_FALSE(is_line_pixel(c.data(), t));
    const int w = 45, h = 37;
    std::mt19937_64 rng{uint64_t(t)};
    std::vector<uint8_t> rgb(size_t(3) * w * h);
    for (size_t p = 0; p < size_t(w) * h; ++p) {
      const int kind = int(rng() % 4);
      std::array<uint8_t, 3> c = {exact[0], exact[1], exact[2]};
      if (kind < 3 && !colours[kind].empty()) c = colours[kind][rng() % colours[kind].size()];
      std::copy(c.begin(), c.end(), &rgb[3 * p]);
    }
    const Labelled ref = expect_same_labels(rgb, w, h, t);
    // Only where some colour is just below the threshold (none for t = 1 or 255) are there lines to split areas.
    if (!colours[0].empty()) {
      EXPECT_GT(ref.count, 1) << t;
    }
  }
}

struct LabelCase {
  int w, h;
};
std::ostream& operator<<(std::ostream& os, const LabelCase& c) { return os << c.w << "x" << c.h; }
class AreaLabelSizes : public ::testing::TestWithParam<LabelCase> {};

TEST_P(AreaLabelSizes, RandomDrawingMatchesReference) {
  GP_REQUIRE_DEVICE();
  const auto [w, h] = GetParam();
  const Labelled ref = expect_same_labels(random_drawing(w, h, uint64_t(w) * 7919 + h), uint64_t(w) + h);
  EXPECT_GE(ref.count, 1);
}
INSTANTIATE_TEST_SUITE_P(Awkward, AreaLabelSizes,
                         ::testing::Values(LabelCase{97, 61}, LabelCase{333, 17}, LabelCase{17, 333}, LabelCase{31, 33},
                                           LabelCase{32, 32}, LabelCase{33, 31}, LabelCase{64, 64}, LabelCase{65, 97},
                                           LabelCase{2, 2}, LabelCase{256, 255}, LabelCase{1000, 7}, LabelCase{7, 1000},
                                           LabelCase{129, 1}, LabelCase{1, 129}));

// A realistic drawing at a realistic size: 4096 x 4096, strokes and circles on paper
// (4096 chunks, so the one-block scan handles several chunks per thread).
TEST(AreaLabels, LargeDrawing4096) {
  GP_REQUIRE_DEVICE();
  const int w = 4096, h = 4096;
  Mask m(w, h);
  std::mt19937_64 rng(4096);
  for (int i = 0; i < 600; ++i) {
    const int x = int(rng() % w), y = int(rng() % h);
    if (i % 3 == 0) {
      draw_circle(m, x, y, 8 + int(rng() % 600));
    } else {
      draw_line(m, x, y, int(rng() % w), int(rng() % h));
    }
  }
  const auto rgb = sketch_of(m, 4097);
  const auto t0 = std::chrono::steady_clock::now();
  const Labelled out = device_label_areas(rgb, w, h);
  const auto t1 = std::chrono::steady_clock::now();
  const Labelled ref = ref_label_areas(rgb, w, h);
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_TRUE(same_labels(ref, out, w));
  EXPECT_GT(ref.count, 100);
  // Statistics of many areas over many blocks, with colour.
  DeviceBuffer<int32_t> dl(out.labels);
  DeviceBuffer<uint8_t> drgb(rgb);
  DeviceBuffer<AreaStats> ds{size_t(ref.count)};
  EXPECT_EQ(k::area_stats(dl.get(), drgb.get(), w, h, ref.count, ds.get(), nullptr), cudaSuccess);
  std::vector<AreaStats> sref(size_t(ref.count));
  ref::area_stats(ref.labels.data(), rgb.data(), w, h, ref.count, sref.data());
  EXPECT_TRUE(same_stats(sref, ds.download()));
  RecordProperty("label_ms", int(std::chrono::duration<double, std::milli>(t1 - t0).count()));
  RecordProperty("reference_ms", int(std::chrono::duration<double, std::milli>(t2 - t1).count()));
}

#ifdef __CUDACC_SIM__
// Shuffled fibers and blocks: the unions happen in another order, the labels must not change.
TEST(AreaLabels, SameUnderRandomSchedules) {
  const auto schedule = gpusim::schedule();
  const auto seed = gpusim::schedule_seed();
  const Mask drawing = random_drawing(201, 133, 13);
  const Mask winding = spiral(133, 101);
  for (const uint64_t s : {1u, 2u, 3u}) {
    gpusim::set_schedule(gpusim::Schedule::Random, s);
    expect_same_labels(drawing, 14);
    expect_same_labels(winding, 15);
  }
  gpusim::set_schedule(schedule, seed);
}
#endif

// ---- area_stats ------------------------------------------------------------------------
TEST(AreaStatistics, WithAndWithoutColour) {
  GP_REQUIRE_DEVICE();
  for (const auto& [w, h] : {std::pair{97, 61}, std::pair{333, 17}, std::pair{1, 50}, std::pair{67, 45}}) {
    Mask m = random_drawing(w, h, uint64_t(w) * h);
    if (w == 67)  // a checkerboard: one area per paper pixel
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) m.set(x, y, uint8_t((x + y) % 2));
    const auto rgb = sketch_of(m, 20);
    const Labelled l = ref_label_areas(rgb, w, h);
    std::vector<AreaStats> ref(size_t(l.count));
    ref::area_stats(l.labels.data(), rgb.data(), w, h, l.count, ref.data());
    EXPECT_TRUE(same_stats(ref, device_area_stats(l, rgb, w, h))) << w << " x " << h;
    ref::area_stats(l.labels.data(), nullptr, w, h, l.count, ref.data());
    EXPECT_TRUE(same_stats(ref, device_area_stats(l, {}, w, h))) << w << " x " << h << " no rgb";
    EXPECT_NE(ref[0].count, 0u);
  }
}

TEST(AreaStatistics, NoAreas) {
  GP_REQUIRE_DEVICE();
  const Labelled l{std::vector<int32_t>(35, kLinePixel), 0};
  EXPECT_TRUE(device_area_stats(l, {}, 7, 5).empty());
}

// ---- area_majority -----------------------------------------------------------------------
std::vector<uint8_t> device_area_majority(const Labelled& l, int W, int H, const std::vector<uint8_t>& seg, int w,
                                          int h, int num_regions) {
  DeviceBuffer<int32_t> dl(l.labels);
  DeviceBuffer<uint8_t> dseg(seg), dm(size_t(l.count));
  DeviceBuffer<uint32_t> votes(size_t(l.count) * num_regions);
  if (votes.size()) {
    EXPECT_EQ(cudaMemset(votes.get(), 0xA5, votes.size() * 4), cudaSuccess);
  }
  if (dm.size()) {
    EXPECT_EQ(cudaMemset(dm.get(), 0xA5, dm.size()), cudaSuccess);
  }
  EXPECT_EQ(k::area_majority(dl.get(), W, H, dseg.get(), w, h, num_regions, l.count, votes.get(), dm.get(), nullptr),
            cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return dm.download();
}

// A segmentation like the network's: cells of random ids, ids >= num_regions included
// (they vote for nothing).
std::vector<uint8_t> blocky_seg(int w, int h, int max_id, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int cell = 2 + int(rng() % 5);
  const int cw = (w + cell - 1) / cell;
  std::vector<uint8_t> cells(size_t(cw) * ((h + cell - 1) / cell)), seg(size_t(w) * h);
  for (auto& c : cells) c = uint8_t(rng() % (max_id + 1));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) seg[size_t(y) * w + x] = cells[size_t(y / cell) * cw + x / cell];
  return seg;
}

TEST(AreaMajority, MatchesReferenceDownAndUpSampled) {
  GP_REQUIRE_DEVICE();
  const int W = 97, H = 61, R = 5;
  const Labelled l = ref_label_areas(sketch_of(random_drawing(W, H, 30), 31), W, H);
  for (const auto& [w, h] : {std::pair{40, 25}, std::pair{97, 61}, std::pair{200, 130}, std::pair{1, 1}}) {
    const auto seg = blocky_seg(w, h, R + 2, uint64_t(w) * h);
    std::vector<uint8_t> ref(size_t(l.count));
    ref::area_majority(l.labels.data(), W, H, seg.data(), w, h, R, l.count, ref.data());
    EXPECT_TRUE(all_close(ref, device_area_majority(l, W, H, seg, w, h, R), 0, 0)) << w << " x " << h;
  }
}

TEST(AreaMajority, TiesGoToTheLowestIdAndNoVotesToZero) {
  GP_REQUIRE_DEVICE();
  // Three areas on one row: [0 0 0 0] | line | [1 1] | line | [2 2].
  const Labelled l{{0, 0, 0, 0, kLinePixel, 1, 1, kLinePixel, 2, 2}, 3};
  const std::vector<uint8_t> seg = {3, 1, 3, 1, 0, 2, 0, 9, 9, 9};  // same size
  const std::vector<uint8_t> expect = {1, 0, 0};                    // tie 1 / 3; tie 0 / 2; only id 9 >= R
  std::vector<uint8_t> ref(3);
  ref::area_majority(l.labels.data(), 10, 1, seg.data(), 10, 1, 4, 3, ref.data());
  EXPECT_EQ(ref, expect);
  EXPECT_EQ(device_area_majority(l, 10, 1, seg, 10, 1, 4), expect);
}

// ---- override_labels, paint_areas -------------------------------------------------------
TEST(AreaOverride, PointHintedAreasGetTheirChannel) {
  GP_REQUIRE_DEVICE();
  const int W = 97, H = 61;
  const Labelled l = ref_label_areas(sketch_of(random_drawing(W, H, 40), 41), W, H);
  std::mt19937_64 rng(42);
  std::vector<int8_t> channel(size_t(l.count));
  for (auto& c : channel) c = int8_t(rng() % 3 == 0 ? int(rng() % 64) : -1);
  DeviceBuffer<int32_t> dl(l.labels);
  DeviceBuffer<int8_t> dc(channel);
  for (const auto& [w, h] : {std::pair{40, 25}, std::pair{97, 61}, std::pair{150, 90}, std::pair{1, 1}}) {
    const auto base = blocky_seg(w, h, 63, uint64_t(w) + h);
    std::vector<uint8_t> ref(size_t(w) * h);
    ref::override_labels(base.data(), w, h, l.labels.data(), W, H, channel.data(), ref.data());
    DeviceBuffer<uint8_t> dbase(base), dout(size_t(w) * h);
    EXPECT_EQ(cudaMemset(dout.get(), 0xA5, dout.size()), cudaSuccess);
    EXPECT_EQ(k::override_labels(dbase.get(), w, h, dl.get(), W, H, dc.get(), dout.get(), nullptr), cudaSuccess);
    EXPECT_TRUE(all_close(ref, dout.download(), 0, 0)) << w << " x " << h;
    if (w > 1) {
      EXPECT_NE(ref, base);  // some pixels did change
    }
  }
}

TEST(AreaPaint, FlatsMatchReference) {
  GP_REQUIRE_DEVICE();
  for (const auto& [W, H] : {std::pair{97, 61}, std::pair{1, 1}, std::pair{333, 17}}) {
    const Labelled l = ref_label_areas(sketch_of(random_drawing(W, H, 50), 51), W, H);
    const auto colours = random_bytes(size_t(3) * std::max(1, l.count), 52);
    std::vector<uint8_t> ref(size_t(4) * W * H);
    ref::paint_areas(l.labels.data(), W, H, colours.data(), ref.data());
    DeviceBuffer<int32_t> dl(l.labels);
    DeviceBuffer<uint8_t> dc(colours), dout(ref.size());
    EXPECT_EQ(cudaMemset(dout.get(), 0xA5, dout.size()), cudaSuccess);
    EXPECT_EQ(k::paint_areas(dl.get(), W, H, dc.get(), dout.get(), nullptr), cudaSuccess);
    EXPECT_TRUE(all_close(ref, dout.download(), 0, 0)) << W << " x " << H;
  }
}

// ---- arguments ------------------------------------------------------------------------------
TEST(AreaArguments, RejectsBadArguments) {
  const auto invalid = cudaErrorInvalidValue;
  EXPECT_EQ(k::label_areas(nullptr, -1, 4, 128, nullptr, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::label_areas(nullptr, 4, -1, 128, nullptr, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::label_areas(nullptr, 4, 4, -1, nullptr, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::label_areas(nullptr, 4, 4, 257, nullptr, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::label_areas(nullptr, 65536, 32768, 128, nullptr, nullptr, nullptr, nullptr), invalid);  // 2^31
  EXPECT_EQ(k::label_areas_scratch_bytes(0, 0), 0u);
  EXPECT_GE(k::label_areas_scratch_bytes(4096, 4096), size_t(4096) * 4);

  EXPECT_EQ(k::area_stats(nullptr, nullptr, -1, 4, 3, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_stats(nullptr, nullptr, 4, 4, -1, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_stats(nullptr, nullptr, 70000, 70000, 3, nullptr, nullptr), invalid);

  EXPECT_EQ(k::area_majority(nullptr, 4, 4, nullptr, 2, 2, 0, 3, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_majority(nullptr, 4, 4, nullptr, 2, 2, 65, 3, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_majority(nullptr, 4, -4, nullptr, 2, 2, 5, 3, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_majority(nullptr, 4, 4, nullptr, -2, 2, 5, 3, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_majority(nullptr, 4, 4, nullptr, 2, 2, 5, -3, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::area_majority(nullptr, 4, 4, nullptr, 0, 2, 5, 3, nullptr, nullptr, nullptr), invalid);

  EXPECT_EQ(k::override_labels(nullptr, -1, 2, nullptr, 4, 4, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::override_labels(nullptr, 2, 2, nullptr, 4, -4, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::override_labels(nullptr, 2, 2, nullptr, 0, 4, nullptr, nullptr, nullptr), invalid);

  EXPECT_EQ(k::paint_areas(nullptr, -1, 4, nullptr, nullptr, nullptr), invalid);
  EXPECT_EQ(k::paint_areas(nullptr, 0, 4, nullptr, nullptr, nullptr), cudaSuccess);  // nothing to paint
}

}  // namespace
}  // namespace gp::test
