// Every stage of the engine against the PyTorch fixtures (tools/make_fixtures.py):
// segmentation logits and labels from the fixture's sketch; hint maps; and the
// colorizer run on the fixture's labels and hints. On every backend present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "src/backend/select.h"
#include "src/common/error.h"
#include "src/engine/device_array.h"
#include "src/engine/unet.h"
#include "src/weights/model_weights.h"
#include "src/weights/safetensors.h"
#include "tests/source_dir.h"

namespace gp {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = test::source_dir() / "tests" / "fixtures";

struct Fixture {
  std::string name;
  ModelWeights weights;
  SafetensorsFile stages;
  int h = 0, w = 0;

  explicit Fixture(const std::string& dir)
      : name(dir),
        weights(load_model_weights(kFixtures / dir / "model.safetensors")),
        stages(SafetensorsFile::open(kFixtures / dir / "stages.safetensors")) {
    const auto& x = stages.at("x");
    h = int(x.shape[1]);
    w = int(x.shape[2]);
  }
  std::vector<float> floats(const std::string& tensor) const { return decode_to_float(stages, stages.at(tensor)); }
  std::vector<int32_t> ints(const std::string& tensor) const {
    const TensorView& t = stages.at(tensor);
    EXPECT_EQ(t.dtype, DType::I32) << tensor;
    std::vector<int32_t> v(size_t(t.numel()));
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
};

// [C][H][W] -> [H][W][C]
std::vector<float> chw_to_hwc(const std::vector<float>& chw, int c, int h, int w) {
  std::vector<float> hwc(chw.size());
  for (int k = 0; k < c; ++k)
    for (int p = 0; p < h * w; ++p) hwc[size_t(p) * c + k] = chw[size_t(k) * h * w + p];
  return hwc;
}

::testing::AssertionResult close(const std::vector<float>& ref, const std::vector<float>& out, double atol,
                                 const std::string& what) {
  if (ref.size() != out.size())
    return ::testing::AssertionFailure() << what << ": size " << out.size() << " vs " << ref.size();
  double worst = 0;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(double(ref[i]) - double(out[i]));
    if (!(d <= atol)) {
      if (bad++ == 0) first = i;
    }
    if (d > worst || d != d) worst = d;
  }
  ::testing::Test::RecordProperty(what + ".max_abs_diff", std::to_string(worst));
  std::printf("  %s: max |diff| %.3g (tolerance %.3g)\n", what.c_str(), worst, atol);
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << ref.size() << " values beyond " << atol
                                       << " (max |diff| " << worst << ", first at " << first << ": ref " << ref[first]
                                       << " out " << out[first] << ")";
}

std::vector<std::unique_ptr<Backend>> backends() {
  std::vector<std::unique_ptr<Backend>> list;
  list.push_back(open_backend(Device::Simulator));
  if (gp_cuda_backend::device_count() > 0) list.push_back(open_backend(Device::Cuda));
  return list;
}

class Stages : public ::testing::TestWithParam<std::string> {};

TEST_P(Stages, SegmentationMatchesPyTorch) {
  const Fixture f(GetParam());
  const auto x = f.floats("x");
  const auto logits_ref = chw_to_hwc(f.floats("logits"), 30, f.h, f.w);
  const auto labels_ref = f.ints("labels");
  const auto gap = f.floats("top2_gap");
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    const UploadedUNet net =
        upload_unet(*backend, f.weights.segmentator, UNetKind::Segmentator, f.weights.config.width);
    UNetWorkspace ws(*backend, f.weights.config.width, f.h, f.w);
    DeviceArray<float> dx(*backend, x, "x"), dlogits(*backend, size_t(f.h) * f.w * 30, "logits");
    DeviceArray<uint8_t> dlabels(*backend, size_t(f.h) * f.w, "labels");
    ws.segment(*backend, net, dx.get(), dlabels.get(), dlogits.get());
    backend->synchronize("segment");
    // fp32 against the float64 reference through ~19 convs with K up to 9 * 16w:
    // relative error ~1e-6 per layer on logits of magnitude <= ~30.
    EXPECT_TRUE(close(logits_ref, dlogits.download(), 2e-4, "logits"));
    const auto labels = dlabels.download();
    size_t differ = 0;
    for (size_t p = 0; p < labels.size(); ++p)
      if (labels[p] != labels_ref[p] && gap[p] >= 1e-3f) ++differ;
    EXPECT_EQ(differ, 0u) << "labels differ where the top two logits are >= 1e-3 apart";
  }
}

TEST_P(Stages, ColorizerOnFixtureLabelsMatchesPyTorch) {
  const Fixture f(GetParam());
  const auto x = f.floats("x");
  const auto labels32 = f.ints("labels");
  const std::vector<uint8_t> labels(labels32.begin(), labels32.end());
  const auto means = f.floats("region_means");
  const auto active32 = f.ints("hints_active");
  const std::vector<uint8_t> active(active32.begin(), active32.end());
  const auto raw_ref = chw_to_hwc(f.floats("raw"), 3, f.h, f.w);
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    const UploadedUNet net = upload_unet(*backend, f.weights.colorizer, UNetKind::Colorizer, f.weights.config.width);
    UNetWorkspace ws(*backend, f.weights.config.width, f.h, f.w);
    DeviceArray<float> dx(*backend, x, "x"), dtable(*backend, means, "table"),
        dout(*backend, size_t(f.h) * f.w * 3, "out");
    DeviceArray<uint8_t> dlabels(*backend, labels, "labels"), dactive(*backend, active, "active");

    ColorizerInput in;
    in.sketch = dx.get();
    in.labels = dlabels.get();
    in.colors = dtable.get();
    in.active = dactive.get();
    in.h = f.h;
    in.w = f.w;
    in.center = f.weights.config.center;
    ws.colorize(*backend, net, in, dout.get());
    backend->synchronize("colorize");
    EXPECT_TRUE(close(raw_ref, dout.download(), 1e-4, "raw"));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Stages, ::testing::Values("w4_48x40", "w8_33x47", "w4_17x19"));

// The 16-bit paths (tensor-core 3x3 convs, 16-bit activations, fp32 accumulation and
// heads) against the same float64 PyTorch fixtures.
//
// Tolerance, to first order: every one of the L = 19 convs rounds its weights (<= u
// relative each), its computed gather inputs (<= u) and its stored output (<= u) to T,
// so each layer adds at most 3u relative to the magnitudes it sums; BN folding keeps the
// layer gains near 1 on these nets, so the error at the head is about 3 L u times the
// largest magnitude along the way, which the float64 fixture bounds by the output's own
// range M: tol = 3 L u M, u = 2^-11 (fp16) or 2^-8 (bf16). Labels must agree wherever the
// reference's top two logits differ by more than twice the largest logit error seen.
struct PrecisionCase {
  std::string fixture;
  Precision precision;
};
class Stages16 : public ::testing::TestWithParam<PrecisionCase> {};

double unit_roundoff(Precision p) { return p == Precision::Fp16 ? 1.0 / 2048 : 1.0 / 256; }
double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

TEST_P(Stages16, SegmentationAndColorizerMatchPyTorch) {
  const Fixture f(GetParam().fixture);
  const Precision precision = GetParam().precision;
  const double per_range = 3.0 * kUNetLayers * unit_roundoff(precision);
  const auto x = f.floats("x");
  const auto logits_ref = chw_to_hwc(f.floats("logits"), 30, f.h, f.w);
  const auto labels_ref = f.ints("labels");
  const auto gap = f.floats("top2_gap");
  const auto raw_ref = chw_to_hwc(f.floats("raw"), 3, f.h, f.w);
  const std::vector<uint8_t> labels(labels_ref.begin(), labels_ref.end());
  const auto means = f.floats("region_means");
  const auto active32 = f.ints("hints_active");
  const std::vector<uint8_t> active(active32.begin(), active32.end());
  auto backend = open_backend(Device::Simulator);
  const int width = f.weights.config.width;
  UNetWorkspace ws(*backend, width, f.h, f.w, precision);

  const UploadedUNet seg = upload_unet(*backend, f.weights.segmentator, UNetKind::Segmentator, width, precision);
  DeviceArray<float> dx(*backend, x, "x"), dlogits(*backend, size_t(f.h) * f.w * 30, "logits");
  DeviceArray<uint8_t> dlabels(*backend, size_t(f.h) * f.w, "labels");
  ws.segment(*backend, seg, dx.get(), dlabels.get(), dlogits.get());
  backend->synchronize("segment");
  const double logit_tol = per_range * max_abs(logits_ref);
  const auto logits = dlogits.download();
  EXPECT_TRUE(close(logits_ref, logits, logit_tol, std::string(precision_name(precision)) + " logits"));
  // With every logit within e of the reference, the argmax can only differ where the
  // reference's top two are within 2e: so the head must agree everywhere else.
  double e = 0;
  for (size_t i = 0; i < logits.size(); ++i) e = std::max(e, std::fabs(double(logits[i]) - double(logits_ref[i])));
  const auto got = dlabels.download();
  size_t differ = 0, compared = 0;
  for (size_t p = 0; p < got.size(); ++p)
    if (gap[p] > 2 * e) {
      ++compared;
      differ += got[p] != labels_ref[p];
    }
  EXPECT_EQ(differ, 0u) << "of " << compared << " labels with a clear winner";
  std::printf("  %s labels: %zu of %zu pixels have a clear winner, %zu differ\n", precision_name(precision), compared,
              got.size(), differ);

  const UploadedUNet col = upload_unet(*backend, f.weights.colorizer, UNetKind::Colorizer, width, precision);
  DeviceArray<float> dtable(*backend, means, "table"), dout(*backend, size_t(f.h) * f.w * 3, "out");
  DeviceArray<uint8_t> dref_labels(*backend, labels, "labels"), dactive(*backend, active, "active");
  ColorizerInput in;
  in.sketch = dx.get();
  in.labels = dref_labels.get();
  in.colors = dtable.get();
  in.active = dactive.get();
  in.h = f.h;
  in.w = f.w;
  in.center = f.weights.config.center;
  ws.colorize(*backend, col, in, dout.get());
  backend->synchronize("colorize");
  EXPECT_TRUE(
      close(raw_ref, dout.download(), per_range * max_abs(raw_ref), std::string(precision_name(precision)) + " raw"));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, Stages16,
    ::testing::Values(PrecisionCase{"w4_48x40", Precision::Fp16}, PrecisionCase{"w8_33x47", Precision::Fp16},
                      PrecisionCase{"w4_17x19", Precision::Fp16}, PrecisionCase{"w4_48x40", Precision::Bf16},
                      PrecisionCase{"w8_33x47", Precision::Bf16}, PrecisionCase{"w4_17x19", Precision::Bf16}),
    [](const auto& i) { return i.param.fixture + "_" + precision_name(i.param.precision); });

TEST(Stages16, Fp16RefusesWeightsBeyondItsRange) {
  const Fixture f("w4_17x19");
  UNetWeights weights = f.weights.colorizer;
  weights.up[1].conv2.weight[3] = 1e5f;
  auto backend = open_backend(Device::Simulator);
  try {
    upload_unet(*backend, weights, UNetKind::Colorizer, f.weights.config.width, Precision::Fp16);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside fp16's range"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(upload_unet(*backend, weights, UNetKind::Colorizer, f.weights.config.width, Precision::Bf16));
}

}  // namespace
}  // namespace gp

namespace gp {
namespace {

// Backend::run_step refuses what no kernel family runs, naming why, rather than running
// something else: a head on a 3x3, a 3x3 ending in tanh, the 16-bit colorizer step
// without the scratch its packing needs, a split step without split scratch.
std::string run_step_error(Backend& b, const ConvStep& s, Precision p, const StepScratch& scratch = {}) {
  std::vector<float> weight(size_t(s.cout) * s.cin * s.ksize * s.ksize, 0.25f), bias(size_t(s.cout), 0.5f);
  DeviceArray<uint8_t> packed(b, b.pack_step(s, weight.data(), bias.data(), p), "packed");
  DeviceArray<float> in(b, size_t(s.in.h) * s.in.w * s.in.c + 64, "in"), out(b, s.out.elements() + 64, "out");
  DeviceArray<uint8_t> labels(b, size_t(s.out.h) * s.out.w, "labels");
  StepTensors t;
  t.in = in.get();
  t.out = out.get();
  t.labels = labels.get();
  try {
    b.run_step(s, p, packed.get(), t, scratch, nullptr);
    b.synchronize("run_step");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RunStep, RefusesStepsNoKernelRuns) {
  auto b = open_backend(Device::Simulator);
  const TensorRef in{Buffer::Skip0, 9, 7, 8}, out{Buffer::Mid, 9, 7, 16};
  EXPECT_NE(
      run_step_error(*b, conv_step("argmax 3x3", 0, Gather::Plain, in, {}, out, 3, Epilogue::Argmax), Precision::Fp32)
          .find("a head is a 1x1"),
      std::string::npos);
  EXPECT_NE(
      run_step_error(*b, conv_step("tanh 3x3", 0, Gather::Plain, in, {}, out, 3, Epilogue::BiasTanh), Precision::Fp16)
          .find("a head is a 1x1"),
      std::string::npos);
  EXPECT_NE(
      run_step_error(*b, conv_step("relu 1x1", 0, Gather::Plain, in, {}, out, 1), Precision::Bf16).find("a head is"),
      std::string::npos);
  EXPECT_NE(
      run_step_error(
          *b, conv_step("pooled head", 0, Gather::MaxPool, in, {}, {Buffer::Mid, 4, 3, 16}, 1, Epilogue::BiasTanh),
          Precision::Fp32)
          .find("plain input"),
      std::string::npos);
  EXPECT_EQ(run_step_error(*b, conv_step("plain", 0, Gather::Plain, in, {}, out), Precision::Fp16), "");

  // The 16-bit colorizer step without its written-input scratch.
  DeviceArray<float> sketch(*b, size_t(9) * 7, "sketch"), colors(*b, size_t(3) * kNumRegions, "colors");
  DeviceArray<uint8_t> labels(*b, size_t(9) * 7, "labels"), active(*b, size_t(kNumRegions), "active");
  const ColorizerInput c{sketch.get(), labels.get(), colors.get(), active.get(), 9, 7, 0.0f};
  const ConvStep col = conv_step("inc.conv1", 0, Gather::Colorizer, {Buffer::Input, 9, 7, kColorizerChannels}, {}, out);
  std::vector<float> weight(size_t(col.cout) * col.cin * 9, 0.25f), bias(size_t(col.cout), 0.5f);
  DeviceArray<uint8_t> packed(*b, b->pack_step(col, weight.data(), bias.data(), Precision::Fp16), "packed");
  DeviceArray<float> dout(*b, out.elements(), "out");
  StepTensors t;
  t.out = dout.get();
  t.colorizer = &c;
  try {
    b->run_step(col, Precision::Fp16, packed.get(), t, StepScratch{}, nullptr);
    ADD_FAILURE() << "ran without the colorizer scratch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("colorizer_input"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gp
