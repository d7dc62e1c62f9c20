// The conv family (kernels/conv.cuh) against its double-precision CPU reference: every
// gather (plain, maxpool, upsample+pad+concat, colorizer input) with every epilogue
// (3x3 bias+ReLU, 1x1 bias+tanh, 1x1 argmax head) on awkward sizes, both A-load paths
// (float4 when the channel counts are multiples of 4, scalar otherwise), the two
// references against each other, argument checks, and the golden fixtures (each U-Net
// block run from its stored input, compared with PyTorch's stored output).
//
// Tolerance: |ref - out| <= 1e-4 + 1e-4 |ref|. Inputs are in [-1, 1] and weights
// U(-1/sqrt(K), 1/sqrt(K)) (PyTorch's default scale), so outputs are O(1) and the fp32
// sums over K (<= 4608 here) have a rounding error of about sqrt(K) * 2^-24 * O(1),
// i.e. ~1e-6 (the bilinear gather adds a few ulp of its inputs): 1e-4 leaves a margin
// of more than 10x, while a single wrong tap, channel or weight moves an output by
// about |w| ~ 1/sqrt(K) >= 0.015, far above it.
#include "kernels/conv.cuh"
#include "kernels/conv_ref.h"
#include "src/weights/model_weights.h"
#include "src/weights/safetensors.h"
#include "src/plan/unet_plan.h"
#include "tests/kernels/harness.h"
#include "tests/source_dir.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>

#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gp::test {
namespace {

namespace k = ::GP_KERNEL_NS;

constexpr double kAtol = 1e-4, kRtol = 1e-4;
// Pixels whose two largest reference logits are closer than this may flip label in
// fp32; everywhere else the label must be exact.
constexpr double kArgmaxGap = 1e-4;

// A random conv layer: PyTorch layout on the host, packed weights and bias on the device.
struct Layer {
  int cout = 0, cin = 0, ksize = 0;
  std::vector<float> weight, bias;  // [cout][cin][k][k], [cout]
  DeviceBuffer<float> packed, dbias;

  Layer(int cout_, int cin_, int ksize_, std::vector<float> weight_, std::vector<float> bias_)
      : cout(cout_),
        cin(cin_),
        ksize(ksize_),
        weight(std::move(weight_)),
        bias(std::move(bias_)),
        packed(k::conv_pack_weights(weight.data(), cout, cin, ksize)),
        dbias(bias) {}
  static Layer random(int cout, int cin, int ksize, uint64_t seed) {
    const float bound = 1.0f / std::sqrt(float(cin * ksize * ksize));
    return Layer(cout, cin, ksize, random_floats(size_t(cout) * cin * ksize * ksize, seed, -bound, bound),
                 random_floats(size_t(cout), seed + 1, -0.5f, 0.5f));
  }
  k::ConvWeights view() const { return {packed.get(), dbias.get(), cout, cin, ksize}; }
};

enum class Epilogue { Relu3x3, Tanh1x1, Argmax1x1 };
const char* name(Epilogue e) {
  return e == Epilogue::Relu3x3 ? "conv3x3_bias_relu" : e == Epilogue::Tanh1x1 ? "conv1x1_bias_tanh" : "conv1x1_argmax";
}
std::ostream& operator<<(std::ostream& os, Epilogue e) { return os << name(e); }
int ksize_of(Epilogue e) { return e == Epilogue::Relu3x3 ? 3 : 1; }

// Runs `in` through the epilogue's launcher and compares with `pre` (the reference's
// pre-activation sums, [h][w][cout]).
template <class Input>
void check_epilogue(const Input& in, int h, int w, const Layer& layer, Epilogue epi, std::vector<double> pre) {
  const size_t pixels = size_t(h) * w;
  ASSERT_EQ(pre.size(), pixels * layer.cout);
  if (epi == Epilogue::Relu3x3 || epi == Epilogue::Tanh1x1) {
    DeviceBuffer<float> out(pixels * layer.cout);
    if (epi == Epilogue::Relu3x3) {
      GP_ASSERT_CUDA(k::conv3x3_bias_relu(in, layer.view(), out.get(), nullptr));
      gp::ref::apply_relu(pre);
    } else {
      GP_ASSERT_CUDA(k::conv1x1_bias_tanh(in, layer.view(), out.get(), nullptr));
      gp::ref::apply_tanh(pre);
    }
    GP_ASSERT_CUDA(cudaDeviceSynchronize());
    EXPECT_TRUE(all_close(pre, out.download(), kAtol, kRtol)) << name(epi);
    return;
  }
  std::vector<uint8_t> ref_labels(pixels);
  std::vector<double> gap(pixels);
  gp::ref::argmax_with_gap(pre.data(), pixels, layer.cout, ref_labels.data(), gap.data());
  DeviceBuffer<uint8_t> labels(pixels), labels_only(pixels);
  DeviceBuffer<float> logits(pixels * layer.cout);
  GP_ASSERT_CUDA(k::conv1x1_argmax(in, layer.view(), labels.get(), logits.get(), nullptr));
  GP_ASSERT_CUDA(k::conv1x1_argmax(in, layer.view(), labels_only.get(), nullptr, nullptr));  // logits are optional
  GP_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_TRUE(all_close(pre, logits.download(), kAtol, kRtol)) << name(epi) << " logits";
  const auto got = labels.download();
  EXPECT_EQ(got, labels_only.download()) << "labels depend on whether logits are written";
  size_t excused = 0, wrong = 0;
  std::ostringstream msg;
  for (size_t p = 0; p < pixels; ++p) {
    if (gap[p] < kArgmaxGap) {
      ++excused;
      continue;
    }
    if (got[p] != ref_labels[p] && wrong++ < 8)
      msg << "\n  pixel " << p << ": label " << int(got[p]) << ", expected " << int(ref_labels[p]) << " (gap " << gap[p]
          << ")";
  }
  EXPECT_EQ(wrong, 0u) << name(epi) << " labels:" << msg.str();
  EXPECT_LT(excused, pixels / 10 + 1) << "too many near-ties: the test data does not test labels";
}

const std::vector<Epilogue> kAllEpilogues = {Epilogue::Relu3x3, Epilogue::Tanh1x1, Epilogue::Argmax1x1};

// The argmax head needs cout <= kConvArgmaxMaxChannels; larger cases use 30 there.
int cout_for(Epilogue epi, int cout) {
  return epi == Epilogue::Argmax1x1 && cout > k::kConvArgmaxMaxChannels ? 30 : cout;
}

// Readable test names: "<case>_<launcher>" with everything but letters and digits as '_'.
struct ParamName {
  template <class Param> std::string operator()(const ::testing::TestParamInfo<Param>& info) const {
    std::ostringstream os;
    os << std::get<0>(info.param) << " " << std::get<1>(info.param);
    std::string s = os.str();
    for (char& c : s)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
  }
};

// ---- plain -----------------------------------------------------------------------------

struct PlainCase {
  int h, w, cin, cout;
};
std::ostream& operator<<(std::ostream& os, const PlainCase& c) {
  return os << c.h << "x" << c.w << " cin " << c.cin << " cout " << c.cout;
}
class ConvPlainInput : public ::testing::TestWithParam<std::tuple<PlainCase, Epilogue>> {};

TEST_P(ConvPlainInput, MatchesReference) {
  GP_REQUIRE_DEVICE();
  const auto [c, epi] = GetParam();
  const uint64_t seed = uint64_t(c.h) * 7919 + c.w * 131 + c.cin * 17 + c.cout + int(epi);
  const auto x = random_floats(size_t(c.h) * c.w * c.cin, seed);
  const Layer layer = Layer::random(cout_for(epi, c.cout), c.cin, ksize_of(epi), seed + 2);
  std::vector<double> pre(size_t(c.h) * c.w * layer.cout);
  gp::ref::conv2d(x.data(), c.h, c.w, c.cin, layer.weight.data(), layer.bias.data(), layer.cout, layer.ksize,
                  pre.data());
  DeviceBuffer<float> dx(x);
  check_epilogue(k::ConvPlain{dx.get(), c.h, c.w, c.cin}, c.h, c.w, layer, epi, std::move(pre));
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvPlainInput,
                         ::testing::Combine(::testing::Values(PlainCase{1, 1, 1, 1}, PlainCase{2, 3, 3, 30},
                                                              PlainCase{7, 5, 35, 64}, PlainCase{33, 47, 13, 70},
                                                              PlainCase{48, 40, 64, 64}, PlainCase{9, 7, 4, 3},
                                                              PlainCase{1, 17, 8, 65}, PlainCase{3, 5, 512, 70}),
                                            ::testing::ValuesIn(kAllEpilogues)),
                         ParamName());

// ---- maxpool ---------------------------------------------------------------------------

struct MaxPoolCase {
  int h_in, w_in, cin, cout;
};
std::ostream& operator<<(std::ostream& os, const MaxPoolCase& c) {
  return os << c.h_in << "x" << c.w_in << " (pooled) cin " << c.cin << " cout " << c.cout;
}
class ConvMaxPoolInput : public ::testing::TestWithParam<std::tuple<MaxPoolCase, Epilogue>> {};

TEST_P(ConvMaxPoolInput, MatchesReference) {
  GP_REQUIRE_DEVICE();
  const auto [c, epi] = GetParam();
  const uint64_t seed = uint64_t(c.h_in) * 7907 + c.w_in * 127 + c.cin * 19 + c.cout + int(epi);
  const int h = c.h_in / 2, w = c.w_in / 2;
  const auto x = random_floats(size_t(c.h_in) * c.w_in * c.cin, seed);
  const Layer layer = Layer::random(cout_for(epi, c.cout), c.cin, ksize_of(epi), seed + 2);
  std::vector<double> pre(size_t(h) * w * layer.cout);
  gp::ref::conv2d_maxpool(x.data(), c.h_in, c.w_in, c.cin, layer.weight.data(), layer.bias.data(), layer.cout,
                          layer.ksize, pre.data());
  DeviceBuffer<float> dx(x);
  check_epilogue(k::ConvMaxPool{dx.get(), c.h_in, c.w_in, c.cin}, h, w, layer, epi, std::move(pre));
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvMaxPoolInput,
                         ::testing::Combine(::testing::Values(MaxPoolCase{2, 2, 1, 1}, MaxPoolCase{3, 7, 3, 30},
                                                              MaxPoolCase{15, 11, 35, 64}, MaxPoolCase{67, 95, 13, 70},
                                                              MaxPoolCase{96, 80, 64, 64}, MaxPoolCase{7, 9, 16, 3},
                                                              MaxPoolCase{4, 35, 8, 70}),
                                            ::testing::ValuesIn(kAllEpilogues)),
                         ParamName());

// ---- upsample + pad + concat -----------------------------------------------------------

struct UpCase {
  int h, w, cs;    // skip
  int hl, wl, cl;  // low
  int cout;
};
std::ostream& operator<<(std::ostream& os, const UpCase& c) {
  return os << "skip " << c.h << "x" << c.w << "x" << c.cs << " low " << c.hl << "x" << c.wl << "x" << c.cl << " cout "
            << c.cout;
}
class ConvUpConcatInput : public ::testing::TestWithParam<std::tuple<UpCase, Epilogue>> {};

TEST_P(ConvUpConcatInput, MatchesReference) {
  GP_REQUIRE_DEVICE();
  const auto [c, epi] = GetParam();
  const uint64_t seed = uint64_t(c.h) * 7901 + c.w * 113 + c.cs * 23 + c.cl * 5 + c.cout + int(epi);
  const auto skip = random_floats(size_t(c.h) * c.w * c.cs, seed);
  const auto low = random_floats(size_t(c.hl) * c.wl * c.cl, seed + 1);
  const Layer layer = Layer::random(cout_for(epi, c.cout), c.cs + c.cl, ksize_of(epi), seed + 2);
  std::vector<double> pre(size_t(c.h) * c.w * layer.cout);
  gp::ref::conv2d_upconcat(skip.data(), c.h, c.w, c.cs, low.data(), c.hl, c.wl, c.cl, layer.weight.data(),
                           layer.bias.data(), layer.cout, layer.ksize, pre.data());
  DeviceBuffer<float> dskip(skip), dlow(low);
  check_epilogue(k::ConvUpConcat{dskip.get(), c.h, c.w, c.cs, dlow.get(), c.hl, c.wl, c.cl}, c.h, c.w, layer, epi,
                 std::move(pre));
}
INSTANTIATE_TEST_SUITE_P(
    AwkwardSizes, ConvUpConcatInput,
    ::testing::Combine(::testing::Values(UpCase{3, 3, 4, 1, 1, 4, 30},        // low 1x1 (constant), skip 2h+1
                                         UpCase{2, 2, 1, 1, 1, 3, 1},         // low 1x1, no padding
                                         UpCase{2, 3, 5, 1, 1, 8, 3},         // W = 2w + 1 only
                                         UpCase{7, 5, 13, 3, 2, 3, 64},       // odd both, scalar path
                                         UpCase{6, 5, 16, 3, 2, 16, 16},      // the w4 fixture's up1 shape
                                         UpCase{9, 12, 8, 3, 4, 4, 30},       // pad 3 rows (top 1, bottom 2), 4 cols
                                         UpCase{33, 47, 32, 16, 23, 32, 70},  // odd, float4 path
                                         UpCase{48, 40, 64, 24, 20, 64, 64}),
                       ::testing::ValuesIn(kAllEpilogues)),
    ParamName());

// ---- colorizer input -------------------------------------------------------------------

struct ColorizerCase {
  int h, w, cout;
  float center;
};
std::ostream& operator<<(std::ostream& os, const ColorizerCase& c) {
  return os << c.h << "x" << c.w << " cout " << c.cout << " center " << c.center;
}

// Labels 0..29 plus a few ids >= 30 (no region); about half of the regions active.
struct ColorizerData {
  std::vector<float> sketch, colors;
  std::vector<uint8_t> labels, active;
  DeviceBuffer<float> dsketch, dcolors;
  DeviceBuffer<uint8_t> dlabels, dactive;
  ColorizerData(int h, int w, uint64_t seed)
      : sketch(random_floats(size_t(h) * w, seed)),
        colors(random_floats(30 * 3, seed + 1)),
        labels(random_bytes(size_t(h) * w, seed + 2)),
        active(random_bytes(30, seed + 3)) {
    for (auto& l : labels) l = l < 248 ? uint8_t(l % 30) : uint8_t(30 + l % 3 * 100);  // 30, 130, 230
    for (auto& a : active) a = a & 1 ? a : 0;  // nonzero means active, not only 1
    dsketch = DeviceBuffer<float>(sketch);
    dcolors = DeviceBuffer<float>(colors);
    dlabels = DeviceBuffer<uint8_t>(labels);
    dactive = DeviceBuffer<uint8_t>(active);
  }
  k::ConvColorizer view(int h, int w, float center) const {
    return {dsketch.get(), dlabels.get(), dcolors.get(), dactive.get(), h, w, center};
  }
};

class ConvColorizerInput : public ::testing::TestWithParam<std::tuple<ColorizerCase, Epilogue>> {};

TEST_P(ConvColorizerInput, MatchesReference) {
  GP_REQUIRE_DEVICE();
  const auto [c, epi] = GetParam();
  const uint64_t seed = uint64_t(c.h) * 7883 + c.w * 109 + c.cout + int(epi);
  const ColorizerData d(c.h, c.w, seed);
  const Layer layer = Layer::random(cout_for(epi, c.cout), gp::kColorizerChannels, ksize_of(epi), seed + 4);
  std::vector<double> pre(size_t(c.h) * c.w * layer.cout);
  gp::ref::conv2d_colorizer(d.sketch.data(), d.labels.data(), d.colors.data(), d.active.data(), c.center, c.h, c.w,
                            layer.weight.data(), layer.bias.data(), layer.cout, layer.ksize, pre.data());
  check_epilogue(d.view(c.h, c.w, c.center), c.h, c.w, layer, epi, std::move(pre));
}
INSTANTIATE_TEST_SUITE_P(
    AwkwardSizes, ConvColorizerInput,
    ::testing::Combine(::testing::Values(ColorizerCase{1, 1, 1, 0.0f}, ColorizerCase{2, 3, 30, 0.5f},
                                         ColorizerCase{7, 5, 64, 0.0f}, ColorizerCase{33, 47, 70, 0.25f},
                                         ColorizerCase{48, 40, 64, 0.0f}),
                       ::testing::ValuesIn(kAllEpilogues)),
    ParamName());

// ---- the references against each other ------------------------------------------------

// Materialised gather -> plain conv equals the direct per-mode conv.
TEST(ConvReference, GathersComposeWithPlainConv) {
  GP_REQUIRE_DEVICE();  // Layer keeps a device copy of its weights
  const auto check = [](const std::vector<float>& gathered, int h, int w, int cin, const Layer& layer,
                        const std::vector<double>& direct) {
    std::vector<double> composed(direct.size());
    gp::ref::conv2d(gathered.data(), h, w, cin, layer.weight.data(), layer.bias.data(), layer.cout, layer.ksize,
                    composed.data());
    // The materialised tensors are rounded to float once: a few ulp of the inputs.
    EXPECT_TRUE(all_close(direct, composed, 1e-6, 1e-6));
  };
  {
    const int h_in = 9, w_in = 11, c = 5;
    const auto x = random_floats(size_t(h_in) * w_in * c, 1);
    const Layer layer = Layer::random(7, c, 3, 2);
    std::vector<float> pooled(size_t(h_in / 2) * (w_in / 2) * c);
    gp::ref::maxpool2(x.data(), h_in, w_in, c, pooled.data());
    std::vector<double> direct(size_t(h_in / 2) * (w_in / 2) * layer.cout);
    gp::ref::conv2d_maxpool(x.data(), h_in, w_in, c, layer.weight.data(), layer.bias.data(), layer.cout, 3,
                            direct.data());
    check(pooled, h_in / 2, w_in / 2, c, layer, direct);
  }
  for (const UpCase u : {UpCase{7, 5, 3, 3, 2, 4, 6}, UpCase{3, 3, 2, 1, 1, 2, 5}, UpCase{9, 12, 4, 3, 4, 3, 2}}) {
    const auto skip = random_floats(size_t(u.h) * u.w * u.cs, 3), low = random_floats(size_t(u.hl) * u.wl * u.cl, 4);
    const Layer layer = Layer::random(u.cout, u.cs + u.cl, 3, 5);
    std::vector<float> cat(size_t(u.h) * u.w * (u.cs + u.cl));
    gp::ref::upsample2_pad_concat(skip.data(), u.h, u.w, u.cs, low.data(), u.hl, u.wl, u.cl, cat.data());
    std::vector<double> direct(size_t(u.h) * u.w * u.cout);
    gp::ref::conv2d_upconcat(skip.data(), u.h, u.w, u.cs, low.data(), u.hl, u.wl, u.cl, layer.weight.data(),
                             layer.bias.data(), u.cout, 3, direct.data());
    check(cat, u.h, u.w, u.cs + u.cl, layer, direct);
  }
  {
    const int h = 6, w = 7;
    const ColorizerData d(h, w, 6);
    const Layer layer = Layer::random(4, 35, 3, 7);
    std::vector<float> input(size_t(h) * w * 35);
    gp::ref::colorizer_input(d.sketch.data(), d.labels.data(), d.colors.data(), d.active.data(), 0.5f, h, w,
                             input.data());
    std::vector<double> direct(size_t(h) * w * layer.cout);
    gp::ref::conv2d_colorizer(d.sketch.data(), d.labels.data(), d.colors.data(), d.active.data(), 0.5f, h, w,
                              layer.weight.data(), layer.bias.data(), layer.cout, 3, direct.data());
    check(input, h, w, 35, layer, direct);
  }
}

// Hand-checked values of the align_corners=True x2 upsampling, including a size-1
// input (constant output) and the zero padding around an odd-sized skip.
TEST(ConvReference, UpsamplePadConcatByHand) {
  // low 1 x 2, one channel: [0, 3] -> 2 x 4 rows [0, 1, 2, 3]; skip 3 x 5 (one channel of 9s):
  // padding top 0, bottom 1, left 0, right 1.
  const std::vector<float> low = {0.0f, 3.0f}, skip(15, 9.0f);
  std::vector<float> out(15 * 2);
  gp::ref::upsample2_pad_concat(skip.data(), 3, 5, 1, low.data(), 1, 2, 1, out.data());
  const float expect_up[3][5] = {{0, 1, 2, 3, 0}, {0, 1, 2, 3, 0}, {0, 0, 0, 0, 0}};
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) {
      EXPECT_EQ(out[(y * 5 + x) * 2], 9.0f);
      EXPECT_NEAR(out[(y * 5 + x) * 2 + 1], expect_up[y][x], 1e-6) << y << "," << x;
    }
}

// ---- exact tie and argument checks -------------------------------------------------------

TEST(ConvArgmax, ExactTiesGoToLowestChannel) {
  GP_REQUIRE_DEVICE();
  const int h = 9, w = 13, cin = 8, cout = 30;
  const auto x = random_floats(size_t(h) * w * cin, 11, 0.5f, 1.0f);
  auto weight = random_floats(size_t(cout) * cin, 12, -0.1f, 0.1f);
  std::vector<float> bias(cout, -5.0f);
  // Channels 4 and 17 are identical and far above the rest: bit-identical logits.
  for (int ci = 0; ci < cin; ++ci) weight[4 * cin + ci] = weight[17 * cin + ci] = 1.0f;
  bias[4] = bias[17] = 0.25f;
  const Layer layer(cout, cin, 1, weight, bias);
  DeviceBuffer<float> dx(x);
  DeviceBuffer<uint8_t> labels(size_t(h) * w);
  GP_ASSERT_CUDA(k::conv1x1_argmax(k::ConvPlain{dx.get(), h, w, cin}, layer.view(), labels.get(), nullptr, nullptr));
  EXPECT_EQ(labels.download(), std::vector<uint8_t>(size_t(h) * w, 4));
}

TEST(ConvLaunch, RejectsMismatchedShapes) {
  GP_REQUIRE_DEVICE();
  const Layer l3 = Layer::random(8, 4, 3, 1), l1 = Layer::random(65, 4, 1, 2);
  DeviceBuffer<float> x(16 * 16 * 4), out(16 * 16 * 65);
  DeviceBuffer<uint8_t> labels(16 * 16);
  const k::ConvPlain plain{x.get(), 16, 16, 4};
  EXPECT_EQ(k::conv3x3_bias_relu(k::ConvPlain{x.get(), 16, 16, 5}, l3.view(), out.get(), nullptr),
            cudaErrorInvalidValue);                                                                       // cin
  EXPECT_EQ(k::conv3x3_bias_relu(plain, l1.view(), out.get(), nullptr), cudaErrorInvalidValue);           // 1x1 weights
  EXPECT_EQ(k::conv1x1_bias_tanh(plain, l3.view(), out.get(), nullptr), cudaErrorInvalidValue);           // 3x3 weights
  EXPECT_EQ(k::conv1x1_argmax(plain, l1.view(), labels.get(), nullptr, nullptr), cudaErrorInvalidValue);  // cout 65
  EXPECT_EQ(k::conv3x3_bias_relu(k::ConvPlain{x.get(), -1, 16, 4}, l3.view(), out.get(), nullptr),
            cudaErrorInvalidValue);
  // Up: the upsampled map must fit the skip (2 * 5 > 9).
  EXPECT_EQ(k::conv3x3_bias_relu(k::ConvUpConcat{x.get(), 9, 16, 2, x.get(), 5, 4, 2}, l3.view(), out.get(), nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(k::conv3x3_bias_relu(k::ConvColorizer{nullptr, nullptr, nullptr, nullptr, 4, 4, 0.0f}, l3.view(), out.get(),
                                 nullptr),
            cudaErrorInvalidValue);  // cin 4 != 35
  // Empty outputs launch nothing: a 1-row input pools to nothing.
  EXPECT_EQ(k::conv3x3_bias_relu(k::ConvMaxPool{x.get(), 1, 16, 4}, l3.view(), out.get(), nullptr), cudaSuccess);
  EXPECT_EQ(k::conv3x3_bias_relu(k::ConvPlain{x.get(), 0, 16, 4}, l3.view(), out.get(), nullptr), cudaSuccess);
}

// ---- golden fixtures ---------------------------------------------------------------------

// A fixture's stages (tools/make_fixtures.py) as float tensors, read with the
// engine's own safetensors reader (int32 tensors converted to float).
class Fixture {
 public:
  struct Tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;
  };

  explicit Fixture(const std::filesystem::path& path) {
    const gp::SafetensorsFile file = gp::SafetensorsFile::open(path);
    for (const gp::TensorView& t : file.tensors()) {
      Tensor& out = tensors_[t.name];
      out.shape = t.shape;
      if (t.dtype == gp::DType::I32) {
        std::vector<int32_t> ints(size_t(t.numel()));
        std::memcpy(ints.data(), t.bytes.data(), t.bytes.size());
        out.data.assign(ints.begin(), ints.end());
      } else {
        out.data = gp::decode_to_float(file, t);
      }
    }
  }
  const Tensor& operator[](const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::runtime_error("fixture has no tensor '" + name + "'");
    return it->second;
  }

 private:
  std::map<std::string, Tensor> tensors_;
};

// [c][h][w] -> [h][w][c]
std::vector<float> to_hwc(const Fixture::Tensor& t) {
  const size_t c = size_t(t.shape.at(0)), hw = t.data.size() / c;
  std::vector<float> out(t.data.size());
  for (size_t ch = 0; ch < c; ++ch)
    for (size_t p = 0; p < hw; ++p) out[p * c + ch] = t.data[ch * hw + p];
  return out;
}

// A layer of the fixture model as the engine's loader gives it (BatchNorm folded),
// by name: "segmentator.up2.conv1", "colorizer.outc", ...
Layer layer(const gp::ModelWeights& model, const std::string& name) {
  const size_t dot = name.find('.');
  const std::string net = name.substr(0, dot);
  if (net != "segmentator" && net != "colorizer") throw std::runtime_error("fixture model has no net '" + net + "'");
  const gp::ConvLayer& l = (net == "segmentator" ? model.segmentator : model.colorizer).conv(name.substr(dot + 1));
  return Layer(l.cout, l.cin, l.ksize, l.weight, l.bias);
}

class ConvFixture : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const auto dir = gp::test::source_dir() / "tests" / "fixtures" / GetParam();
    model_ = std::make_unique<gp::ModelWeights>(gp::load_model_weights(dir / "model.safetensors"));
    stages_ = std::make_unique<Fixture>(dir / "stages.safetensors");
    const auto& x = (*stages_)["x"];
    h_ = int(x.shape[1]);
    w_ = int(x.shape[2]);
  }
  // Device copy of stage `name` as [h][w][c].
  DeviceBuffer<float> stage(const std::string& name) const { return DeviceBuffer<float>(to_hwc((*stages_)[name])); }
  // Runs DoubleConv `block` of `net` on `first` (the first conv's gather) and compares
  // with the stored block output.
  template <class Input>
  void double_conv(const std::string& net, const std::string& block, const Input& first, int h, int w) {
    SCOPED_TRACE(net + "." + block);
    const Layer c1 = layer(*model_, net + "." + block + ".conv1"), c2 = layer(*model_, net + "." + block + ".conv2");
    DeviceBuffer<float> mid(size_t(h) * w * c1.cout), out(size_t(h) * w * c2.cout);
    GP_ASSERT_CUDA(k::conv3x3_bias_relu(first, c1.view(), mid.get(), nullptr));
    GP_ASSERT_CUDA(k::conv3x3_bias_relu(k::ConvPlain{mid.get(), h, w, c1.cout}, c2.view(), out.get(), nullptr));
    const std::string short_net = net == "segmentator" ? "seg" : "col";
    EXPECT_TRUE(all_close(to_hwc((*stages_)[short_net + "." + block]), out.download(), kAtol, kRtol));
  }

  // The U-Net body of `net` block by block as the engine's plan lays it out
  // (src/plan/unet_plan.h), each block from the stored outputs of the blocks that
  // wrote its inputs. `inc` is the first block's gather. Returns the stage name of the
  // buffer the head reads.
  template <class Inc> std::string unet_body(const std::string& net, const Inc& inc) {
    const std::string prefix = net == "segmentator" ? "seg." : "col.";
    const gp::UNetPlan plan = gp::plan_unet(net == "segmentator" ? gp::UNetKind::Segmentator : gp::UNetKind::Colorizer,
                                            layer(*model_, net + ".inc.conv1").cout, h_, w_);
    std::map<gp::Buffer, std::string> written_by;  // buffer -> the stage stored for it
    for (const gp::ConvStep& st : plan.steps) {
      const std::string block = st.name.substr(0, st.name.find('.'));
      if (st.ksize == 1) return written_by.at(st.in.buffer);
      if (st.name.find(".conv2") != std::string::npos) {
        written_by[st.out.buffer] = prefix + block;
        continue;  // run with its conv1 by double_conv
      }
      const auto in_name = [&](gp::Buffer b) { return written_by.at(b); };
      switch (st.gather) {
        case gp::Gather::Plain:
        case gp::Gather::Colorizer: double_conv(net, block, inc, st.out.h, st.out.w); break;
        case gp::Gather::MaxPool: {
          const auto x = stage(in_name(st.in.buffer));
          double_conv(net, block, k::ConvMaxPool{x.get(), st.in.h, st.in.w, st.in.c}, st.out.h, st.out.w);
          break;
        }
        case gp::Gather::UpConcat: {
          const auto skip = stage(in_name(st.in.buffer)), low = stage(in_name(st.low.buffer));
          double_conv(net, block,
                      k::ConvUpConcat{skip.get(), st.in.h, st.in.w, st.in.c, low.get(), st.low.h, st.low.w, st.low.c},
                      st.out.h, st.out.w);
          break;
        }
      }
    }
    ADD_FAILURE() << "the plan of " << net << " has no head";
    return "";
  }
  Layer outc(const std::string& net) const { return layer(*model_, net + ".outc"); }

  std::unique_ptr<gp::ModelWeights> model_;
  std::unique_ptr<Fixture> stages_;
  int h_ = 0, w_ = 0;
};

TEST_P(ConvFixture, SegmentatorBlocksAndHead) {
  GP_REQUIRE_DEVICE();
  const auto x = stage("x");
  const std::string last = unet_body("segmentator", k::ConvPlain{x.get(), h_, w_, 1});

  const Layer head = outc("segmentator");
  const auto up4 = stage(last);
  const size_t pixels = size_t(h_) * w_;
  DeviceBuffer<uint8_t> labels(pixels);
  DeviceBuffer<float> logits(pixels * head.cout);
  GP_ASSERT_CUDA(
      k::conv1x1_argmax(k::ConvPlain{up4.get(), h_, w_, head.cin}, head.view(), labels.get(), logits.get(), nullptr));
  EXPECT_TRUE(all_close(to_hwc((*stages_)["logits"]), logits.download(), kAtol, kRtol));
  const auto got = labels.download();
  const auto& ref = (*stages_)["labels"].data;
  const auto& gap = (*stages_)["top2_gap"].data;
  size_t wrong = 0;
  for (size_t p = 0; p < pixels; ++p) wrong += gap[p] >= kArgmaxGap && got[p] != uint8_t(ref[p]);
  EXPECT_EQ(wrong, 0u) << "labels differ from the fixture's where its top-2 gap is >= " << kArgmaxGap;
}

TEST_P(ConvFixture, ColorizerBlocksAndOutput) {
  GP_REQUIRE_DEVICE();
  const auto& st = *stages_;
  std::vector<uint8_t> labels(st["labels"].data.size()), active(30);
  std::transform(st["labels"].data.begin(), st["labels"].data.end(), labels.begin(),
                 [](float l) { return uint8_t(l); });
  std::transform(st["hints_active"].data.begin(), st["hints_active"].data.end(), active.begin(),
                 [](float a) { return uint8_t(a != 0); });
  DeviceBuffer<float> sketch(st["x"].data), colors(st["region_means"].data);
  DeviceBuffer<uint8_t> dlabels(labels), dactive(active);
  const std::string last = unet_body(
      "colorizer", k::ConvColorizer{sketch.get(), dlabels.get(), colors.get(), dactive.get(), h_, w_, /*center=*/0.0f});

  const Layer head = outc("colorizer");
  const auto up4 = stage(last);
  DeviceBuffer<float> raw(size_t(h_) * w_ * head.cout);
  GP_ASSERT_CUDA(k::conv1x1_bias_tanh(k::ConvPlain{up4.get(), h_, w_, head.cin}, head.view(), raw.get(), nullptr));
  EXPECT_TRUE(all_close(to_hwc(st["raw"]), raw.download(), kAtol, kRtol));
}

INSTANTIATE_TEST_SUITE_P(Golden, ConvFixture, ::testing::Values("w4_48x40", "w8_33x47", "w4_17x19"));

}  // namespace
}  // namespace gp::test
