// The working-size rule, the resampling rules per axis, and output composition.
#include "kernels/image_ref.h"
#include "tests/image/compose_reference.h"
#include "tests/image/test_util.h"

namespace gp::test {
namespace {

TEST(WorkingSize, LongSideBecomesN) {
  EXPECT_EQ(working_size(300, 200, 256), (Size{256, 171}));  // 170.67 -> 171
  EXPECT_EQ(working_size(200, 300, 256), (Size{171, 256}));
  EXPECT_EQ(working_size(256, 256, 256), (Size{256, 256}));
  EXPECT_EQ(working_size(1024, 512, 256), (Size{256, 128}));
  EXPECT_EQ(working_size(3, 2, 256), (Size{256, 171}));   // enlarging too
  EXPECT_EQ(working_size(1000, 1, 256), (Size{256, 1}));  // 0.256 -> at least 1
  EXPECT_EQ(working_size(10, 5, 3), (Size{3, 2}));        // 1.5 -> 2: halves round up
  EXPECT_EQ(working_size(6, 5, 4), (Size{4, 3}));         // 3.33 -> 3
  EXPECT_EQ(working_size(7, 7, 1), (Size{1, 1}));
  EXPECT_NE(error_of([] { working_size(0, 5, 256); }), "");
  EXPECT_NE(error_of([] { working_size(5, 5, 0); }), "");
}

TEST(Resize, SameSizeIsNotResampled) {
  const Image image = random_image(256, 256, 1);
  const Size s = working_size(256, 256, 256);
  EXPECT_EQ(resize(image, s).rgb, image.rgb);
  const Image odd = random_image(13, 7, 2);
  EXPECT_EQ(resize(odd, 13, 7).rgb, odd.rgb);
}

Image grey_image(int w, int h, const std::vector<int>& values) {
  std::vector<uint8_t> rgb;
  for (int v : values)
    for (int c = 0; c < 3; ++c) rgb.push_back(uint8_t(v + 10 * c));  // channels differ by 10
  return make_image(w, h, rgb);
}
std::vector<int> channel(const Image& image, int c) {
  std::vector<int> v;
  for (size_t p = 0; p < size_t(image.width) * image.height; ++p) v.push_back(image.rgb[3 * p + c] - 10 * c);
  return v;
}

TEST(Resize, ShrinkIsExactAreaAverage) {
  // 4 x 4 -> 2 x 2: each output is the mean of a 2 x 2 block, rounded half up.
  const Image image = grey_image(4, 4,
                                 {10, 20, 0, 1,    //
                                  30, 40, 1, 1,    //
                                  1, 0, 200, 201,  //
                                  1, 0, 202, 203});
  const Image out = resize(image, 2, 2);
  // (10+20+30+40)/4 = 25; (0+1+1+1)/4 = 0.75 -> 1; (1+0+1+0)/4 = 0.5 -> 1; 201.5 -> 202
  for (int c = 0; c < 3; ++c) EXPECT_EQ(channel(out, c), (std::vector<int>{25, 1, 1, 202})) << c;
}

TEST(Resize, ShrinkUsesFractionalCoverage) {
  // 3 -> 2 columns: output 0 covers [0, 1.5): (v0 * 1 + v1 * 0.5) / 1.5.
  const Image image = grey_image(3, 1, {0, 30, 60});
  EXPECT_EQ(channel(resize(image, 2, 1), 0), (std::vector<int>{10, 50}));
  // 5 -> 3 rows: [0, 5/3), [5/3, 10/3), [10/3, 5): weights 3/5 + 2/5 | 1/5 + 3/5 + 1/5 | 2/5 + 3/5.
  const Image column = grey_image(1, 5, {0, 50, 100, 150, 200});
  EXPECT_EQ(channel(resize(column, 1, 3), 0), (std::vector<int>{20, 100, 180}));
}

TEST(Resize, EnlargeIsBilinearWithCentresAligned) {
  // 2 -> 4: u = (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1].
  const Image image = grey_image(2, 1, {0, 100});
  EXPECT_EQ(channel(resize(image, 4, 1), 0), (std::vector<int>{0, 25, 75, 100}));
  // Separable: 2 x 2 -> 4 x 4 is the outer product of the two 1-D interpolations.
  const Image square = grey_image(2, 2, {0, 100, 100, 200});
  const std::vector<int> expect = {0,   25,  75,  100,  //
                                   25,  50,  100, 125,  //
                                   75,  100, 150, 175,  //
                                   100, 125, 175, 200};
  EXPECT_EQ(channel(resize(square, 4, 4), 2), expect);
  // A single pixel spreads everywhere.
  EXPECT_EQ(channel(resize(grey_image(1, 1, {77}), 3, 2), 1), std::vector<int>(6, 77));
}

TEST(Resize, MixedAxes) {
  // Width 4 -> 2 (area), height 1 -> 3 (bilinear from one row: copies).
  const Image image = grey_image(4, 1, {0, 10, 20, 41});
  EXPECT_EQ(channel(resize(image, 2, 3), 0), (std::vector<int>{5, 31, 5, 31, 5, 31}));  // 30.5 -> 31
}

TEST(Resize, FloatDataAnyChannelCount) {
  std::vector<float> data;  // 3 x 1 pixels, 5 channels: pixel x, channel c = 10 * x + c
  for (int x = 0; x < 3; ++x)
    for (int c = 0; c < 5; ++c) data.push_back(float(10 * x + c));
  const auto out = resize_hwc(data, 3, 1, 5, 2, 1);
  ASSERT_EQ(out.size(), 10u);
  for (int c = 0; c < 5; ++c) {
    EXPECT_FLOAT_EQ(out[c], float((0 + c) * 1.0 / 1.5 + (10 + c) * 0.5 / 1.5));
    EXPECT_FLOAT_EQ(out[5 + c], float((10 + c) * 0.5 / 1.5 + (20 + c) * 1.0 / 1.5));
  }
  EXPECT_EQ(resize_hwc(data, 3, 1, 5, 3, 1), data);
  EXPECT_NE(error_of([&] { resize_hwc(data, 3, 2, 5, 2, 1); }), "");
}

TEST(Resize, RejectsBadArguments) {
  Image bad = random_image(4, 4, 3);
  bad.rgb.resize(10);
  EXPECT_NE(error_of([&] { resize(bad, 2, 2); }), "");
  EXPECT_NE(error_of([&] { resize(random_image(4, 4, 3), 0, 2); }), "");
}

TEST(Compose, WhitePaperKeepsColoursBlackLinesStay) {
  const Image colours = make_image(2, 1, {200, 100, 50, 10, 20, 30});
  // The sketch at 4 x 1: white, 50% grey, black, white.
  const Image sketch = make_image(4, 1, {255, 255, 255, 128, 128, 128, 0, 0, 0, 255, 255, 255});
  const Image raw = compose_output(colours, sketch, Compose::Raw);
  EXPECT_EQ(raw.rgb, resize(colours, 4, 1).rgb);
  const Image out = compose_output(colours, sketch);
  ASSERT_EQ(out.width, 4);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(out.rgb[c], raw.rgb[c]);  // white: the colour
    // grey 128 over the unrounded upsampled colour u = 0.75 * left + 0.25 * right
    const double u = 0.75 * colours.rgb[c] + 0.25 * colours.rgb[3 + c];
    EXPECT_EQ(out.rgb[3 + c], uint8_t(std::floor(u * 128.0 / 255.0 + 0.5)));
    EXPECT_EQ(out.rgb[6 + c], 0);  // black line
    EXPECT_EQ(out.rgb[9 + c], raw.rgb[9 + c]);
  }
}

TEST(Compose, MultiplyRoundsToNearest) {
  // 1 -> 4 upsampling of one colour, sketch grey 128: out = round(colour * 128 / 255).
  const Image colours = make_image(1, 1, {101, 255, 3});
  const Image sketch = make_image(2, 2, std::vector<uint8_t>(12, 128));
  const Image out = compose_output(colours, sketch);
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(out.rgb[3 * p + 0], 51);   // 50.7
    EXPECT_EQ(out.rgb[3 * p + 1], 128);  // 128
    EXPECT_EQ(out.rgb[3 * p + 2], 2);    // 1.506
  }
}

TEST(Compose, FloatOutputUsesTheAuthorsRuleInBothLayouts) {
  const int w = 5, h = 3;
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> d(-1.2f, 1.2f);
  std::vector<float> hwc(size_t(w) * h * 3), chw(hwc.size());
  for (auto& v : hwc) v = d(rng);
  for (int p = 0; p < w * h; ++p)
    for (int c = 0; c < 3; ++c) chw[size_t(c) * w * h + p] = hwc[size_t(p) * 3 + c];
  const Image a = image_from_float(hwc, w, h, Layout::HWC), b = image_from_float(chw, w, h, Layout::CHW);
  EXPECT_EQ(a.rgb, b.rgb);
  for (size_t i = 0; i < hwc.size(); ++i) EXPECT_EQ(a.rgb[i], rgb8_of_float(hwc[i]));
  // At the sketch's own size, raw composition is that picture exactly.
  const Image sketch = random_image(w, h, 5);
  EXPECT_EQ(compose_output(hwc, w, h, Layout::HWC, sketch, Compose::Raw).rgb, a.rgb);
  EXPECT_EQ(compose_output(chw, w, h, Layout::CHW, sketch).rgb, compose_output(a, sketch).rgb);
  EXPECT_NE(error_of([&] { image_from_float(hwc, w + 1, h); }), "");
}

TEST(Compose, UpsamplesToTheOriginalSize) {
  const Image colours = random_image(256, 171, 6);
  const Image sketch = random_image(300, 200, 7);
  const Image out = compose_output(colours, sketch);
  EXPECT_EQ(out.width, 300);
  EXPECT_EQ(out.height, 200);
  EXPECT_EQ(out.rgb.size(), 300u * 200 * 3);
}

}  // namespace
}  // namespace gp::test
