// Hint scatter against its CPU reference: exact equality.
#include "kernels/hints.cuh"
#include "kernels/hints_ref.h"

#include <algorithm>
#include <cstring>

#include "src/weights/safetensors.h"
#include "tests/kernels/harness.h"
#include "tests/source_dir.h"

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

// The golden fixtures' C and M (tools/make_fixtures.py: PyTorch's hint maps of the
// fixture's labels, region means and active hints), exactly.
class HintScatterFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(HintScatterFixture, MatchesPyTorchsHintMaps) {
  GP_REQUIRE_DEVICE();
  const gp::SafetensorsFile file =
      gp::SafetensorsFile::open(gp::test::source_dir() / "tests" / "fixtures" / GetParam() / "stages.safetensors");
  auto tensor = [&](const char* name) -> const gp::TensorView& {
    for (const gp::TensorView& t : file.tensors())
      if (t.name == name) return t;
    throw std::runtime_error(std::string("fixture has no tensor ") + name);
  };
  auto bytes_of_ints = [&](const char* name) {
    const gp::TensorView& t = tensor(name);
    std::vector<int32_t> ints(size_t(t.numel()));
    std::memcpy(ints.data(), t.bytes.data(), t.bytes.size());
    std::vector<uint8_t> out(ints.size());
    std::transform(ints.begin(), ints.end(), out.begin(), [](int32_t v) { return uint8_t(v); });
    return out;
  };
  const std::vector<uint8_t> labels = bytes_of_ints("labels"), active = bytes_of_ints("hints_active");
  const std::vector<float> table = gp::decode_to_float(file, tensor("region_means"));
  const std::vector<float> c_chw = gp::decode_to_float(file, tensor("C")), m = gp::decode_to_float(file, tensor("M"));
  const size_t pixels = labels.size();
  ASSERT_EQ(c_chw.size(), 3 * pixels);
  std::vector<float> c_hwc(3 * pixels);
  for (size_t p = 0; p < pixels; ++p)
    for (size_t ch = 0; ch < 3; ++ch) c_hwc[p * 3 + ch] = c_chw[ch * pixels + p];
  DeviceBuffer<uint8_t> dl(labels), da(active);
  DeviceBuffer<float> dt(table), dc(3 * pixels), dm(pixels);
  GP_ASSERT_CUDA(k::hint_scatter(dl.get(), pixels, 30, dt.get(), da.get(), dc.get(), dm.get(), nullptr));
  EXPECT_TRUE(all_close(c_hwc, dc.download(), 0, 0));
  EXPECT_TRUE(all_close(m, dm.download(), 0, 0));
}
INSTANTIATE_TEST_SUITE_P(Golden, HintScatterFixture, ::testing::Values("w4_48x40", "w8_33x47", "w4_17x19"));

TEST(HintScatter, RejectsBadRegionCount) {
  EXPECT_EQ(k::hint_scatter(nullptr, 4, 0, nullptr, nullptr, nullptr, nullptr, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::hint_scatter(nullptr, 4, 65, nullptr, nullptr, nullptr, nullptr, nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace gp::test
