// Region statistics against the CPU reference: exact equality of counts, boxes, sums.
#include "kernels/regions.cuh"
#include "kernels/regions_ref.h"
#include "tests/kernels/harness.h"
#include "tests/kernels/stats_print.h"

#include <algorithm>
#include <ostream>

namespace gp::test {
namespace {

namespace k = ::GP_KERNEL_NS;

// A label map like a segmentation: random cells of labels (so rows hold runs), then
// 10% noise pixels; labels come from `allowed` only, so the others stay empty.
std::vector<uint8_t> blocky_labels(int w, int h, const std::vector<int>& allowed, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int cell = 1 + int(rng() % 9);
  const int cw = (w + cell - 1) / cell, ch = (h + cell - 1) / cell;
  std::vector<uint8_t> cells(size_t(cw) * ch), labels(size_t(w) * h);
  for (auto& c : cells) c = uint8_t(allowed[rng() % allowed.size()]);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) labels[size_t(y) * w + x] = cells[size_t(y / cell) * cw + x / cell];
  for (auto& l : labels)
    if (rng() % 10 == 0) l = uint8_t(allowed[rng() % allowed.size()]);
  return labels;
}

std::vector<int> all_but(int num_regions, std::initializer_list<int> excluded) {
  std::vector<int> ids;
  for (int r = 0; r < num_regions; ++r)
    if (std::find(excluded.begin(), excluded.end(), r) == excluded.end()) ids.push_back(r);
  return ids;
}

// Runs the kernel (rgb may be empty: no colour) and returns the statistics.
std::vector<RegionStats> device_region_stats(const std::vector<uint8_t>& labels, const std::vector<uint8_t>& rgb, int w,
                                             int h, int num_regions, unsigned max_blocks = k::kMaxRegionBlocks) {
  DeviceBuffer<uint8_t> dl(labels), drgb(rgb);
  DeviceBuffer<RegionStats> ds{size_t(num_regions)};
  // Garbage first: the launcher must initialise the output itself.
  EXPECT_EQ(cudaMemset(ds.get(), 0xA5, num_regions * sizeof(RegionStats)), cudaSuccess);
  EXPECT_EQ(
      k::region_stats(dl.get(), rgb.empty() ? nullptr : drgb.get(), w, h, num_regions, ds.get(), nullptr, max_blocks),
      cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return ds.download();
}

::testing::AssertionResult same_stats(const std::vector<RegionStats>& ref, const std::vector<RegionStats>& out) {
  if (ref.size() != out.size()) return ::testing::AssertionFailure() << "size " << out.size() << " vs " << ref.size();
  for (size_t r = 0; r < ref.size(); ++r)
    if (!(ref[r] == out[r]))
      return ::testing::AssertionFailure() << "region " << r << ": ref " << ref[r] << ", out " << out[r];
  return ::testing::AssertionSuccess();
}

struct RegionCase {
  int w, h, num_regions;
  bool colour;
};
std::ostream& operator<<(std::ostream& os, const RegionCase& c) {
  return os << c.w << "x" << c.h << " R" << c.num_regions << (c.colour ? " rgb" : " no-rgb");
}
class RegionStatsSizes : public ::testing::TestWithParam<RegionCase> {};

TEST_P(RegionStatsSizes, ExactMatchWithEmptyRegions) {
  GP_REQUIRE_DEVICE();
  const auto [w, h, num_regions, colour] = GetParam();
  const uint64_t seed = uint64_t(w) * 7919 + h * 31 + num_regions;
  // Regions 0, 3 and the last never occur (empty); 1 < num_regions cases keep >= 1 id.
  const auto allowed = num_regions > 4 ? all_but(num_regions, {0, 3, num_regions - 1}) : all_but(num_regions, {});
  const auto labels = blocky_labels(w, h, allowed, seed);
  const auto rgb = colour ? random_bytes(size_t(3) * w * h, seed + 1) : std::vector<uint8_t>{};
  std::vector<RegionStats> ref(num_regions);
  gp::ref::region_stats(labels.data(), colour ? rgb.data() : nullptr, w, h, num_regions, ref.data());
  EXPECT_TRUE(same_stats(ref, device_region_stats(labels, rgb, w, h, num_regions))) << GetParam();
  if (num_regions > 4) {
    EXPECT_TRUE(ref[0].empty() && ref[3].empty() && ref[num_regions - 1].empty());
  }
}
INSTANTIATE_TEST_SUITE_P(Awkward, RegionStatsSizes,
                         ::testing::Values(RegionCase{1, 1, 30, true}, RegionCase{1, 7, 30, true},
                                           RegionCase{7, 1, 30, false}, RegionCase{33, 47, 30, true},
                                           RegionCase{33, 47, 30, false}, RegionCase{48, 40, 30, true},
                                           RegionCase{256, 255, 30, true}, RegionCase{256, 255, 30, false},
                                           RegionCase{17, 19, 1, true}, RegionCase{100, 3, 64, true},
                                           RegionCase{31, 33, 2, false}));

TEST(RegionStats, AllPixelsInOneRegion) {
  GP_REQUIRE_DEVICE();
  const int w = 57, h = 43, num_regions = 30, id = 11;
  const std::vector<uint8_t> labels(size_t(w) * h, uint8_t(id));
  std::vector<uint8_t> rgb(size_t(3) * w * h);
  for (size_t p = 0; p < size_t(w) * h; ++p) {
    rgb[3 * p] = 255;
    rgb[3 * p + 1] = uint8_t(p % 2 ? 100 : 0);
    rgb[3 * p + 2] = 7;
  }
  const auto out = device_region_stats(labels, rgb, w, h, num_regions);
  RegionStats expect;
  expect.count = w * h;
  expect.x0 = expect.y0 = 0;
  expect.x1 = w - 1;
  expect.y1 = h - 1;
  expect.sum[0] = 255ull * w * h;
  expect.sum[1] = 100ull * (size_t(w) * h / 2);
  expect.sum[2] = 7ull * w * h;
  for (int r = 0; r < num_regions; ++r) EXPECT_EQ(out[r], r == id ? expect : RegionStats{}) << "region " << r;
  std::vector<float> mean(3 * num_regions);
  region_mean_colours(out.data(), num_regions, mean.data());
  EXPECT_EQ(mean[3 * id + 0], 1.0f);
  EXPECT_FLOAT_EQ(mean[3 * id + 1], float(2.0 * (100.0 * (w * h / 2) / (w * h)) / 255.0 - 1.0));
  EXPECT_FLOAT_EQ(mean[3 * id + 2], float(2.0 * 7 / 255.0 - 1.0));
  EXPECT_EQ(mean[0], 0.0f);  // empty region: colour 0
  EXPECT_EQ(ranked_regions(out.data(), num_regions), std::vector<int>{id});
}

TEST(RegionStats, OutOfRangeLabelsBelongToNoRegion) {
  GP_REQUIRE_DEVICE();
  const int w = 40, h = 9, num_regions = 5;
  auto labels = blocky_labels(w, h, {0, 1, 2, 4, 5, 29, 255}, 5);
  const auto rgb = random_bytes(size_t(3) * w * h, 6);
  std::vector<RegionStats> ref(num_regions);
  gp::ref::region_stats(labels.data(), rgb.data(), w, h, num_regions, ref.data());
  EXPECT_TRUE(same_stats(ref, device_region_stats(labels, rgb, w, h, num_regions)));
  uint64_t counted = 0;
  for (const auto& s : ref) counted += s.count;
  EXPECT_LT(counted, uint64_t(w) * h);  // the case does contain labels >= 5
}

// Many blocks on the simulator's parallel workers, the grid-stride loop (few blocks,
// many segments each), and identical results run to run.
TEST(RegionStats, ManyBlocksDeterministic) {
  GP_REQUIRE_DEVICE();
  const int w = 1031, h = 517, num_regions = 30;
  const auto labels = blocky_labels(w, h, all_but(num_regions, {2, 17}), 99);
  const auto rgb = random_bytes(size_t(3) * w * h, 100);
  std::vector<RegionStats> ref(num_regions);
  gp::ref::region_stats(labels.data(), rgb.data(), w, h, num_regions, ref.data());
  const auto first = device_region_stats(labels, rgb, w, h, num_regions);  // 136 blocks
  EXPECT_TRUE(same_stats(ref, first));
  EXPECT_TRUE(same_stats(ref, device_region_stats(labels, rgb, w, h, num_regions, 3)));
  auto no_colour = ref;  // without an image the sums stay 0
  for (auto& s : no_colour) s.sum[0] = s.sum[1] = s.sum[2] = 0;
  EXPECT_TRUE(same_stats(no_colour, device_region_stats(labels, {}, w, h, num_regions, 7)));
#ifdef __CUDACC_SIM__
  EXPECT_GE(gpusim::worker_count(), 1);
  // Shuffle the fibers' order inside blocks too: integer atomics make it irrelevant.
  const auto schedule = gpusim::schedule();
  const auto seed = gpusim::schedule_seed();
  gpusim::set_schedule(gpusim::Schedule::Random, 12345);
  EXPECT_TRUE(same_stats(first, device_region_stats(labels, rgb, w, h, num_regions)));
  gpusim::set_schedule(schedule, seed);
#endif
}

TEST(RegionStats, EmptyImageGivesEmptyRegions) {
  GP_REQUIRE_DEVICE();
  const auto out = device_region_stats({}, {}, 0, 5, 30);
  for (const auto& s : out) EXPECT_EQ(s, RegionStats{});
}

TEST(RegionStats, RejectsBadArguments) {
  RegionStats* none = nullptr;
  EXPECT_EQ(k::region_stats(nullptr, nullptr, 4, 4, 0, none, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::region_stats(nullptr, nullptr, 4, 4, 65, none, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::region_stats(nullptr, nullptr, -1, 4, 30, none, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::region_stats(nullptr, nullptr, 70000, 70000, 30, none, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::region_stats(nullptr, nullptr, 4, 4, 30, none, nullptr, 0), cudaErrorInvalidValue);
}

TEST(RegionStats, MeanColoursAndRanking) {
  std::vector<RegionStats> stats(4);
  stats[1].count = 2;
  stats[1].sum[0] = 0;
  stats[1].sum[1] = 255;  // mean 127.5 -> exactly 0
  stats[1].sum[2] = 510;
  stats[3].count = 3;
  stats[3].sum[0] = 3;
  std::vector<float> mean(12, 42.0f);
  region_mean_colours(stats.data(), 4, mean.data());
  const std::vector<float> expect = {0, 0, 0, -1, 0, 1, 0, 0, 0, float(2.0 / 255.0 - 1.0), -1, -1};
  EXPECT_EQ(mean, expect);
  EXPECT_EQ(ranked_regions(stats.data(), 4), (std::vector<int>{1, 3}));
}

}  // namespace
}  // namespace gp::test
