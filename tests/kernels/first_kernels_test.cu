// The first kernel families against their CPU references, on awkward sizes.
#include "kernels/argmax.cuh"
#include "kernels/argmax_ref.h"
#include "kernels/image.cuh"
#include "kernels/image_ref.h"
#include "kernels/reduce.cuh"
#include "kernels/reduce_ref.h"
#include "tests/kernels/harness.h"

namespace gp::test {
namespace {

namespace k = ::GP_KERNEL_NS;

class ReduceSum : public ::testing::TestWithParam<size_t> {};

TEST_P(ReduceSum, MatchesDoubleReference) {
  GP_REQUIRE_DEVICE();
  const size_t n = GetParam();
  const auto x = random_floats(n, 1000 + n, -2.0f, 3.0f);
  DeviceBuffer<float> dx(x), ws(k::reduce_sum_workspace(n)), out(1);
  GP_ASSERT_CUDA(k::reduce_sum(dx.get(), n, ws.get(), out.get(), nullptr));
  GP_ASSERT_CUDA(cudaDeviceSynchronize());
  const double ref = gp::ref::reduce_sum(x.data(), n);
  double abs_sum = 0;
  for (float v : x) abs_sum += std::fabs(v);
  // Float summation over a tree of depth ~log2(n) plus the final rounding: each
  // level adds at most eps * sum|x|; 16 eps covers depth 16 with margin.
  EXPECT_NEAR(out.download()[0], ref, 16 * 0x1p-24 * abs_sum);
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ReduceSum, ::testing::Values(1, 2, 31, 33, 255, 257, 1000, 65537, 300001));

struct ArgmaxCase {
  size_t pixels;
  int channels;
};
class ArgmaxChannels : public ::testing::TestWithParam<ArgmaxCase> {};

TEST_P(ArgmaxChannels, NoTiesExactMatch) {
  GP_REQUIRE_DEVICE();
  const auto [pixels, channels] = GetParam();
  // Distinct values per pixel: a random permutation of channel indices plus noise.
  std::mt19937_64 rng(pixels * 131 + channels);
  std::vector<float> logits(pixels * channels);
  std::vector<int> perm(channels);
  for (size_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < channels; ++c) perm[c] = c;
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int c = 0; c < channels; ++c) logits[p * channels + c] = float(perm[c]) * 0.5f - 7.0f;
  }
  std::vector<uint8_t> ref(pixels);
  gp::ref::argmax_channels(logits.data(), pixels, channels, ref.data());
  DeviceBuffer<float> dl(logits);
  DeviceBuffer<uint8_t> dlab(pixels);
  GP_ASSERT_CUDA(k::argmax_channels(dl.get(), pixels, channels, dlab.get(), nullptr));
  GP_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_TRUE(all_close(ref, dlab.download(), 0, 0));
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ArgmaxChannels,
                         ::testing::Values(ArgmaxCase{1, 30}, ArgmaxCase{127, 30}, ArgmaxCase{129, 30},
                                           ArgmaxCase{48 * 40, 30}, ArgmaxCase{33 * 47, 30}, ArgmaxCase{1000, 1},
                                           ArgmaxCase{999, 2}, ArgmaxCase{300, 64}));

TEST(ArgmaxChannels, TiesGoToLowestIndex) {
  GP_REQUIRE_DEVICE();
  const int channels = 30;
  const size_t pixels = 200;
  std::vector<float> logits(pixels * channels);
  std::vector<uint8_t> expect(pixels);
  for (size_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < channels; ++c) logits[p * channels + c] = -float((c * 7 + p) % 11);
    // Two maxima at channels a < b.
    const int a = int(p % 29), b = a + 1 + int(p % (29 - a));
    logits[p * channels + a] = logits[p * channels + b] = 5.0f;
    expect[p] = uint8_t(a);
  }
  DeviceBuffer<float> dl(logits);
  DeviceBuffer<uint8_t> dlab(pixels);
  GP_ASSERT_CUDA(k::argmax_channels(dl.get(), pixels, channels, dlab.get(), nullptr));
  EXPECT_TRUE(all_close(expect, dlab.download(), 0, 0));
}

TEST(ArgmaxChannels, RejectsBadChannelCount) {
  EXPECT_EQ(k::argmax_channels(nullptr, 10, 0, nullptr, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(k::argmax_channels(nullptr, 10, 65, nullptr, nullptr), cudaErrorInvalidValue);
}

class ImageConversions : public ::testing::TestWithParam<size_t> {};

TEST_P(ImageConversions, GreyAndFloatMatchReference) {
  GP_REQUIRE_DEVICE();
  const size_t pixels = GetParam();
  const auto rgb = random_bytes(3 * pixels, pixels);
  std::vector<float> grey(pixels), colour(3 * pixels);
  gp::ref::rgb8_to_grey(rgb.data(), pixels, grey.data());
  gp::ref::rgb8_to_float(rgb.data(), pixels, colour.data());
  DeviceBuffer<uint8_t> drgb(rgb);
  DeviceBuffer<float> dgrey(pixels), dcolour(3 * pixels);
  GP_ASSERT_CUDA(k::rgb8_to_grey(drgb.get(), pixels, dgrey.get(), nullptr));
  GP_ASSERT_CUDA(k::rgb8_to_float(drgb.get(), pixels, dcolour.get(), nullptr));
  EXPECT_TRUE(all_close(grey, dgrey.download(), 1e-6, 0));
  EXPECT_TRUE(all_close(colour, dcolour.download(), 1e-6, 0));
}

TEST_P(ImageConversions, FloatToRgb8IsExactAuthorsRule) {
  GP_REQUIRE_DEVICE();
  const size_t pixels = GetParam();
  auto y = random_floats(3 * pixels, 77 + pixels, -1.3f, 1.3f);  // beyond [-1, 1] to exercise the clamp
  if (y.size() >= 6) {
    y[0] = -1.0f;
    y[1] = 1.0f;
    y[2] = 0.0f;
    y[3] = std::nanf("");
    y[4] = 1.0f / 255.0f;
    y[5] = -0.999999f;
  }
  std::vector<uint8_t> ref(3 * pixels);
  gp::ref::float_to_rgb8(y.data(), pixels, ref.data());
  DeviceBuffer<float> dy(y);
  DeviceBuffer<uint8_t> drgb(3 * pixels);
  GP_ASSERT_CUDA(k::float_to_rgb8(dy.get(), pixels, drgb.get(), nullptr));
  EXPECT_TRUE(all_close(ref, drgb.download(), 0, 0));
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ImageConversions, ::testing::Values(1, 2, 17, 255, 257, 33 * 47, 48 * 40));

}  // namespace
}  // namespace gp::test
