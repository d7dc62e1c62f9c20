// compose_rgb8 (kernels/compose.cu) against the host path it replaces,
// gp::compose_output (tests/image/compose_reference.h): bit-identical on random colours and
// sketches, for enlarging, shrinking, mixed axes, the same size and 1-pixel sides.
#include "kernels/compose.cuh"
#include "tests/image/compose_reference.h"
#include "tests/kernels/harness.h"

#include <cstring>
#include <string>
#include <vector>

namespace k = GP_KERNEL_NS;

namespace gp::test {
namespace {

struct ComposeCase {
  int w, h, W, H;
};
class Compose : public ::testing::TestWithParam<ComposeCase> {};

Image random_image(int w, int h, uint64_t seed) {
  Image im;
  im.width = w;
  im.height = h;
  im.rgb = random_bytes(size_t(w) * h * 3, seed);
  return im;
}

void check(const ComposeCase& c, bool keep_lines) {
  const Image colours = random_image(c.w, c.h, 7 + c.w);
  Image sketch = random_image(c.W, c.H, 11 + c.H);
  // Line art: mostly paper, some black lines, a few grey pixels.
  for (size_t p = 0; p < size_t(c.W) * c.H; ++p) {
    const uint8_t r = sketch.rgb[3 * p];
    const uint8_t v = r < 40 ? 0 : r < 60 ? uint8_t(r * 3) : 255;
    for (int k = 0; k < 3; ++k) sketch.rgb[3 * p + k] = r < 60 ? uint8_t(v + k) : 255;
  }
  const Image ref = compose_output(colours, sketch, keep_lines ? gp::Compose::KeepLines : gp::Compose::Raw);
  const DeviceBuffer<uint8_t> d_colours(colours.rgb), d_sketch(sketch.rgb);
  DeviceBuffer<uint8_t> d_out(ref.rgb.size());
  GP_ASSERT_CUDA(
      k::compose_rgb8(d_colours.get(), c.w, c.h, d_sketch.get(), c.W, c.H, keep_lines, d_out.get(), nullptr));
  GP_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<uint8_t> got = d_out.download();
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != ref.rgb[i] && differ++ == 0) first = i;
  EXPECT_EQ(differ, 0u) << c.w << "x" << c.h << " -> " << c.W << "x" << c.H << (keep_lines ? " keep lines" : " raw")
                        << ": first at byte " << first << " (" << int(got[first]) << ", host " << int(ref.rgb[first])
                        << ")";
}

TEST_P(Compose, KeepLinesMatchesHostBitForBit) {
  GP_REQUIRE_DEVICE();
  check(GetParam(), true);
}
TEST_P(Compose, RawMatchesHostBitForBit) {
  GP_REQUIRE_DEVICE();
  check(GetParam(), false);
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, Compose,
                         ::testing::Values(ComposeCase{17, 13, 61, 47},  // enlarge, odd factors
                                           ComposeCase{16, 16, 64, 64},  // enlarge x4
                                           ComposeCase{40, 30, 13, 11},  // shrink, fractional coverage
                                           ComposeCase{9, 20, 31, 7},    // one axis each way
                                           ComposeCase{23, 19, 23, 19},  // the same size: a copy
                                           ComposeCase{1, 1, 5, 3},      // from one pixel
                                           ComposeCase{6, 4, 1, 1},      // to one pixel
                                           ComposeCase{1, 37, 1, 90}),   // one pixel wide
                         [](const auto& i) {
                           const ComposeCase& c = i.param;
                           return std::to_string(c.w) + "x" + std::to_string(c.h) + "_to_" + std::to_string(c.W) + "x" +
                                  std::to_string(c.H);
                         });

TEST(ComposeLaunch, RejectsBadArguments) {
  GP_REQUIRE_DEVICE();
  DeviceBuffer<uint8_t> a(12), b(12);
  EXPECT_EQ(k::compose_rgb8(a.get(), 0, 2, b.get(), 2, 2, true, b.get(), nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::compose_rgb8(a.get(), 2, 2, nullptr, 2, 2, true, b.get(), nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::compose_rgb8(nullptr, 2, 2, b.get(), 2, 2, false, b.get(), nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace gp::test
