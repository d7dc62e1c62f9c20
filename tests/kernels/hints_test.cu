// Hint scatter against its CPU reference: exact equality.
#include "kernels/hints.cuh"
#include "tests/kernels/harness.h"

namespace gp::test {
namespace {

namespace k = ::GP_KERNEL_NS;

// Labels in runs (as a segmentation has them) drawn from `ids`.
std::vector<uint8_t> run_labels(size_t pixels, const std::vector<int>& ids, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> labels(pixels);
  uint8_t current = 0;
  for (auto& l : labels) {
    if (rng() % 6 == 0) current = uint8_t(ids[rng() % ids.size()]);
    l = current;
  }
  return labels;
}

struct HintCase {
  int w, h, num_regions;
};
class HintScatterSizes : public ::testing::TestWithParam<HintCase> {};

TEST_P(HintScatterSizes, ExactMatch) {
  GP_REQUIRE_DEVICE();
  const auto [w, h, num_regions] = GetParam();
  const size_t pixels = size_t(w) * h;
  const uint64_t seed = uint64_t(w) * 131 + h + num_regions;
  // Labels 0..num_regions plus 255: those >= num_regions get no hint.
  std::vector<int> ids;
  for (int r = 0; r <= num_regions; ++r) ids.push_back(r);
  ids.push_back(255);
  const auto labels = run_labels(pixels, ids, seed);
  const auto table = random_floats(size_t(3) * num_regions, seed + 1);
  auto active = random_bytes(num_regions, seed + 2);
  for (auto& a : active) a = a % 3 == 0 ? 0 : a;  // about a third off; "on" is any nonzero
  std::vector<float> ref_c(3 * pixels), ref_m(pixels);
  gp::ref::hint_scatter(labels.data(), pixels, num_regions, table.data(), active.data(), ref_c.data(), ref_m.data());
  DeviceBuffer<uint8_t> dl(labels), da(active);
  DeviceBuffer<float> dt(table), dc(3 * pixels), dm(pixels);
  GP_ASSERT_CUDA(k::hint_scatter(dl.get(), pixels, num_regions, dt.get(), da.get(), dc.get(), dm.get(), nullptr));
  GP_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_TRUE(all_close(ref_c, dc.download(), 0, 0));
  EXPECT_TRUE(all_close(ref_m, dm.download(), 0, 0));
}
INSTANTIATE_TEST_SUITE_P(Awkward, HintScatterSizes,
                         ::testing::Values(HintCase{1, 1, 30}, HintCase{1, 7, 30}, HintCase{33, 47, 30},
                                           HintCase{48, 40, 30}, HintCase{256, 255, 30}, HintCase{19, 17, 1},
                                           HintCase{64, 9, 64}));

TEST(HintScatter, KnownValues) {
  GP_REQUIRE_DEVICE();
  const int num_regions = 30;
  const std::vector<uint8_t> labels = {0, 1, 2, 29, 30, 1};
  std::vector<float> table(3 * num_regions, 0.5f);
  table[3 * 1 + 0] = -1.0f;
  table[3 * 1 + 1] = 0.25f;
  table[3 * 1 + 2] = 1.0f;
  std::vector<uint8_t> active(num_regions, 0);
  active[1] = 1;
  active[29] = 1;
  DeviceBuffer<uint8_t> dl(labels), da(active);
  DeviceBuffer<float> dt(table), dc(18), dm(6);
  GP_ASSERT_CUDA(k::hint_scatter(dl.get(), 6, num_regions, dt.get(), da.get(), dc.get(), dm.get(), nullptr));
  const std::vector<float> expect_c = {0, 0, 0, -1, 0.25f, 1, 0, 0, 0, 0.5f, 0.5f, 0.5f, 0, 0, 0, -1, 0.25f, 1};
  const std::vector<float> expect_m = {0, 1, 0, 1, 0, 1};
  EXPECT_EQ(dc.download(), expect_c);
  EXPECT_EQ(dm.download(), expect_m);
}

TEST(HintScatter, RejectsBadRegionCount) {
  EXPECT_EQ(k::hint_scatter(nullptr, 4, 0, nullptr, nullptr, nullptr, nullptr, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::hint_scatter(nullptr, 4, 65, nullptr, nullptr, nullptr, nullptr, nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace gp::test
