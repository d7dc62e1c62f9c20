// The fused convolutions against the unfused path and cuDNN (tests/cudnn/), built with -DGP_CUDNN=ON.
//
// On every backend (the simulator always, the GPU when there is one):
//   MaterializedGathers  the materialising kernels against the CPU references of
//                        kernels/conv_ref.h, and each fused gather conv against the
//                        plain conv of the materialised tensor;
//   MaterializedUNet     the whole U-Net plan on the MaterializedBackend (gathers + plain
//                        convs of the backend) against the fused engine, on the fixtures;
//                        in fp16 / bf16 bit for bit;
//   MaterializedGathers16  each 16-bit materialising kernel against the fp32 one rounded.
// On a GPU only (skipped without one):
//   Cudnn                each fused gather, the plain 3x3 and the 1x1 heads against
//                        cuDNN on the materialised input; a 3x3 without activation
//                        against the double reference; segment + colorize of the fused
//                        engine against the cuDNN U-Net and both against PyTorch, in
//                        fp32 and (both 16-bit) in fp16 and bf16.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tests/random_data.h"
#include "kernels/conv_ref.h"
#include "src/backend/select.h"
#include "src/engine/device_array.h"
#include "src/engine/unet.h"
#include "src/weights/model_weights.h"
#include "src/weights/safetensors.h"
#include "tests/cudnn/cudnn_conv.h"
#include "tests/cudnn/materialized_backend.h"
#include "tests/source_dir.h"

namespace gp {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = test::source_dir() / "tests" / "fixtures";

// cuDNN against our kernels: cuDNN may pick FFT or Winograd, whose fp32 rounding differs
// from a direct sum by ~1e-5 of the magnitude; a wrong gather (index, padding, scale)
// is off by a sizeable fraction of it. So: |diff| <= 5e-4 * max(1, max |ref|).
constexpr double kCudnnRel = 5e-4;
// The same sums in the same order (fused gather vs the plain conv of the materialised
// tensor): only FMA contraction may differ.
constexpr double kSameSumRel = 1e-5;

using gp::test::random_floats;

// A conv layer in PyTorch layout with outputs of order 1 for inputs of order 1.
ConvLayer random_layer(int cout, int cin, int ksize, unsigned seed) {
  ConvLayer l;
  l.name = "random";
  l.cout = cout;
  l.cin = cin;
  l.ksize = ksize;
  const float a = std::sqrt(3.0f / float(cin * ksize * ksize));
  l.weight = random_floats(size_t(cout) * cin * ksize * ksize, seed, -a, a);
  l.bias = random_floats(size_t(cout), seed + 1, -0.1f, 0.1f);
  return l;
}

::testing::AssertionResult close(const std::vector<float>& ref, const std::vector<float>& out, double rel,
                                 const std::string& what) {
  if (ref.size() != out.size())
    return ::testing::AssertionFailure() << what << ": size " << out.size() << " vs " << ref.size();
  double scale = 1.0;
  for (float v : ref) scale = std::max(scale, double(std::fabs(v)));
  const double atol = rel * scale;
  double worst = 0;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(double(ref[i]) - double(out[i]));
    if (!(d <= atol) && bad++ == 0) first = i;
    if (d > worst || d != d) worst = d;
  }
  std::printf("  %s: max |diff| %.3g (tolerance %.3g)\n", what.c_str(), worst, atol);
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << ref.size() << " values beyond " << atol
                                       << " (max |diff| " << worst << ", first at " << first << ": ref " << ref[first]
                                       << " out " << out[first] << ")";
}

std::vector<float> to_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// Labels must agree wherever the reference's top two logits are at least `gap` apart.
size_t label_mismatches(const std::vector<float>& ref_logits, int channels, const std::vector<uint8_t>& a,
                        const std::vector<uint8_t>& b, double gap) {
  const size_t pixels = a.size();
  std::vector<double> logits(ref_logits.begin(), ref_logits.end()), gaps(pixels);
  std::vector<uint8_t> ref(pixels);
  ref::argmax_with_gap(logits.data(), pixels, channels, ref.data(), gaps.data());
  size_t n = 0;
  for (size_t p = 0; p < pixels; ++p)
    if ((a[p] != b[p] || a[p] != ref[p]) && gaps[p] >= gap) ++n;
  return n;
}

std::vector<std::unique_ptr<Backend>> backends() {
  std::vector<std::unique_ptr<Backend>> list;
  list.push_back(open_backend(Device::Simulator));
  if (gp_cuda_backend::device_count() > 0) list.push_back(open_backend(Device::Cuda));
  return list;
}

// A tensor of the test, [h][w][c] (any buffer but Input: of the precision's type).
TensorRef tensor(int h, int w, int c) { return TensorRef{Buffer::Skip0, h, w, c}; }
// One fused conv as the plan makes it, writing [h][w][cout].
ConvStep step(Gather g, TensorRef in, TensorRef low, int h, int w, int cout, int ksize = 3,
              Epilogue e = Epilogue::BiasRelu) {
  return conv_step("test conv", 0, g, in, low, TensorRef{Buffer::Mid, h, w, cout}, ksize, e);
}

// A layer uploaded for the fused kernels in fp32 (Backend::pack_step, the same for every
// gather of its shape) and, on a GPU, for cuDNN (filter and bias).
struct Uploaded {
  DeviceArray<uint8_t> packed;
  DeviceArray<float> filter, bias;
  Uploaded(Backend& b, const ConvLayer& l, bool for_cudnn)
      : packed(b,
               b.pack_step(step(Gather::Plain, tensor(1, 1, l.cin), {}, 1, 1, l.cout, l.ksize), l.weight.data(),
                           l.bias.data(), Precision::Fp32),
               "packed"),
        bias(b, l.bias, "bias") {
    if (for_cudnn)
      filter = DeviceArray<float>(b, CudnnConv::filter_from_torch(l.weight.data(), l.cout, l.cin, l.ksize), "filter");
  }
  // The fused kernel of step s (Backend::run_step) on these weights, in fp32.
  void run(Backend& b, const ConvStep& s, const StepTensors& t) const {
    b.run_step(s, Precision::Fp32, packed.get(), t, StepScratch{}, nullptr);
  }
};

// ---- the shapes of the gather checks ---------------------------------------------------

struct PoolCase {
  int h_in, w_in, c, cout;
};
struct UpCase {
  int h, w, cs, hl, wl, cl, cout;
};
struct ColorizerCase {
  int h, w, cout;
  float center;
};
// Odd sizes (floor pooling, asymmetric Up padding), channel counts that take the
// fused kernel's float4 path and ones that do not, a 1-sample low map, tile edges.
const PoolCase kPoolCases[] = {{19, 22, 6, 16}, {16, 20, 8, 24}, {34, 30, 32, 64}};
const UpCase kUpCases[] = {
    {13, 18, 8, 5, 8, 8, 16}, {16, 16, 4, 8, 8, 12, 8}, {7, 9, 3, 1, 2, 5, 4}, {24, 26, 32, 12, 12, 32, 32}};
const ColorizerCase kColorizerCases[] = {{11, 13, 8, 0.0f}, {20, 17, 16, 0.25f}};

struct ColorizerHost {
  std::vector<float> sketch, colors;
  std::vector<uint8_t> labels, active;
  ColorizerHost(int h, int w, unsigned seed) {
    sketch = random_floats(size_t(h) * w, seed);
    colors = random_floats(30 * 3, seed + 1);
    std::mt19937 rng(seed + 2);
    labels.resize(size_t(h) * w);
    for (auto& l : labels) l = uint8_t(rng() % 34);  // 30..33: no region
    active.resize(30);
    for (auto& a : active) a = uint8_t(rng() % 2);
  }
};
struct ColorizerDevice {
  DeviceArray<float> sketch, colors;
  DeviceArray<uint8_t> labels, active;
  ColorizerInput in;
  ColorizerDevice(Backend& b, const ColorizerHost& host, int h, int w, float center)
      : sketch(b, host.sketch, "sketch"),
        colors(b, host.colors, "colors"),
        labels(b, host.labels, "labels"),
        active(b, host.active, "active") {
    in.sketch = sketch.get();
    in.labels = labels.get();
    in.colors = colors.get();
    in.active = active.get();
    in.h = h;
    in.w = w;
    in.center = center;
  }
};

// ---- on every backend ------------------------------------------------------------------

TEST(MaterializedGathers, MaxPoolMatchesReferenceAndFusedConv) {
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    for (const PoolCase& t : kPoolCases) {
      SCOPED_TRACE("pool " + std::to_string(t.h_in) + "x" + std::to_string(t.w_in) + "x" + std::to_string(t.c));
      const int h = t.h_in / 2, w = t.w_in / 2;
      const auto x = random_floats(size_t(t.h_in) * t.w_in * t.c, 11);
      std::vector<float> ref(size_t(h) * w * t.c);
      ref::maxpool2(x.data(), t.h_in, t.w_in, t.c, ref.data());
      DeviceArray<float> dx(*backend, x, "x"), dpool(*backend, ref.size(), "pooled");
      materialize_maxpool(*backend, dx.get(), t.h_in, t.w_in, t.c, dpool.get());
      EXPECT_TRUE(close(ref, dpool.download(), 0.0, "maxpool"));

      const Uploaded conv(*backend, random_layer(t.cout, t.c, 3, 12), false);
      DeviceArray<float> fused(*backend, size_t(h) * w * t.cout, "fused"),
          plain(*backend, size_t(h) * w * t.cout, "plain");
      conv.run(*backend, step(Gather::MaxPool, tensor(t.h_in, t.w_in, t.c), {}, h, w, t.cout),
               {.in = dx.get(), .out = fused.get()});
      conv.run(*backend, step(Gather::Plain, tensor(h, w, t.c), {}, h, w, t.cout),
               {.in = dpool.get(), .out = plain.get()});
      EXPECT_TRUE(
          close(fused.download(), plain.download(), kSameSumRel, "pooled conv vs plain conv of the materialised"));
    }
  }
}

TEST(MaterializedGathers, UpConcatMatchesReferenceAndFusedConv) {
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    for (const UpCase& t : kUpCases) {
      SCOPED_TRACE("up " + std::to_string(t.h) + "x" + std::to_string(t.w) + " low " + std::to_string(t.hl) + "x" +
                   std::to_string(t.wl));
      const int c = t.cs + t.cl;
      const auto skip = random_floats(size_t(t.h) * t.w * t.cs, 21);
      const auto low = random_floats(size_t(t.hl) * t.wl * t.cl, 22);
      std::vector<float> ref(size_t(t.h) * t.w * c);
      ref::upsample2_pad_concat(skip.data(), t.h, t.w, t.cs, low.data(), t.hl, t.wl, t.cl, ref.data());
      DeviceArray<float> dskip(*backend, skip, "skip"), dlow(*backend, low, "low"),
          dcat(*backend, ref.size(), "concat");
      materialize_up_concat(*backend, dskip.get(), t.h, t.w, t.cs, dlow.get(), t.hl, t.wl, t.cl, dcat.get());
      // The source position in float (scale rounded once, as PyTorch and the fused
      // kernel) against the double reference: ~dst * 2^-24 samples off.
      EXPECT_TRUE(close(ref, dcat.download(), 1e-5, "up-concat"));

      const Uploaded conv(*backend, random_layer(t.cout, c, 3, 23), false);
      DeviceArray<float> fused(*backend, size_t(t.h) * t.w * t.cout, "fused"),
          plain(*backend, size_t(t.h) * t.w * t.cout, "plain");
      conv.run(*backend, step(Gather::UpConcat, tensor(t.h, t.w, t.cs), tensor(t.hl, t.wl, t.cl), t.h, t.w, t.cout),
               {.in = dskip.get(), .low = dlow.get(), .out = fused.get()});
      conv.run(*backend, step(Gather::Plain, tensor(t.h, t.w, c), {}, t.h, t.w, t.cout),
               {.in = dcat.get(), .out = plain.get()});
      EXPECT_TRUE(close(fused.download(), plain.download(), kSameSumRel, "up conv vs plain conv of the materialised"));
    }
  }
}

TEST(MaterializedGathers, ColorizerMatchesReferenceAndFusedConv) {
  constexpr int C = kColorizerChannels;
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    for (const ColorizerCase& t : kColorizerCases) {
      SCOPED_TRACE("colorizer " + std::to_string(t.h) + "x" + std::to_string(t.w));
      const ColorizerHost host(t.h, t.w, 31);
      std::vector<float> ref(size_t(t.h) * t.w * C);
      ref::colorizer_input(host.sketch.data(), host.labels.data(), host.colors.data(), host.active.data(), t.center,
                           t.h, t.w, ref.data());
      ColorizerDevice dev(*backend, host, t.h, t.w, t.center);
      DeviceArray<float> dmat(*backend, ref.size(), "colorizer input");
      materialize_colorizer(*backend, dev.in, dmat.get());
      EXPECT_TRUE(close(ref, dmat.download(), 0.0, "colorizer input"));

      const Uploaded conv(*backend, random_layer(t.cout, C, 3, 32), false);
      DeviceArray<float> fused(*backend, size_t(t.h) * t.w * t.cout, "fused"),
          plain(*backend, size_t(t.h) * t.w * t.cout, "plain");
      conv.run(*backend, step(Gather::Colorizer, TensorRef{Buffer::Input, t.h, t.w, C}, {}, t.h, t.w, t.cout),
               {.out = fused.get(), .colorizer = &dev.in});
      conv.run(*backend, step(Gather::Plain, tensor(t.h, t.w, C), {}, t.h, t.w, t.cout),
               {.in = dmat.get(), .out = plain.get()});
      EXPECT_TRUE(
          close(fused.download(), plain.download(), kSameSumRel, "colorizer conv vs plain conv of the materialised"));
    }
  }
}

TEST(MaterializedGathers, BiasActivation) {
  const size_t pixels = 37;
  const int c = 5;
  const auto y = random_floats(pixels * c, 41, -3.0f, 3.0f);
  const auto bias = random_floats(size_t(c), 42);
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    for (Activation act : {Activation::Identity, Activation::Relu, Activation::Tanh}) {
      std::vector<float> ref(y.size());
      for (size_t i = 0; i < y.size(); ++i) {
        const double v = double(y[i]) + double(bias[i % c]);
        ref[i] = float(act == Activation::Relu ? std::max(v, 0.0) : act == Activation::Tanh ? std::tanh(v) : v);
      }
      DeviceArray<float> dy(*backend, y, "y"), db(*backend, bias, "bias");
      bias_activation(*backend, dy.get(), pixels, c, db.get(), act);
      EXPECT_TRUE(close(ref, dy.download(), 1e-6, "bias+activation " + std::to_string(int(act))));
    }
  }
}

struct Fixture {
  ModelWeights weights;
  SafetensorsFile stages;
  int h = 0, w = 0;
  explicit Fixture(const std::string& dir)
      : weights(load_model_weights(kFixtures / dir / "model.safetensors")),
        stages(SafetensorsFile::open(kFixtures / dir / "stages.safetensors")) {
    const auto& x = stages.at("x");
    h = int(x.shape[1]);
    w = int(x.shape[2]);
  }
  std::vector<float> floats(const std::string& tensor) const { return decode_to_float(stages, stages.at(tensor)); }
  std::vector<uint8_t> bytes(const std::string& tensor) const {
    const TensorView& t = stages.at(tensor);
    EXPECT_EQ(t.dtype, DType::I32) << tensor;
    std::vector<int32_t> v(size_t(t.numel()));
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return std::vector<uint8_t>(v.begin(), v.end());
  }
};

// ---- 16-bit materialising kernels ----------------------------------------------------------

float from16(uint16_t bits, Precision p) {
  if (p == Precision::Fp16) return half_to_float(bits);
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
std::vector<uint16_t> to16(const std::vector<float>& v, Precision p) { return CudnnConv::to16(v.data(), v.size(), p); }
std::vector<float> from16(const std::vector<uint16_t>& v, Precision p) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = from16(v[i], p);
  return out;
}

// On 16-bit inputs, every 16-bit materialising kernel equals the fp32 kernel on the same
// values rounded once (nearest even): the float formula is shared, only the store differs.
TEST(MaterializedGathers16, EqualTheFp32KernelRoundedOnce) {
  for (auto& backend : backends()) {
    Backend& b = *backend;
    if (b.compute_capability() < 80) continue;  // bf16 materialising needs sm_80's types
    for (Precision p : {Precision::Fp16, Precision::Bf16}) {
      SCOPED_TRACE(backend->name() + " " + precision_name(p));
      for (const PoolCase& t : kPoolCases) {
        const auto x16 = to16(random_floats(size_t(t.h_in) * t.w_in * t.c, 81, -3.0f, 3.0f), p);
        const size_t n = size_t(t.h_in / 2) * (t.w_in / 2) * t.c;
        DeviceArray<float> dx(b, from16(x16, p), "x"), ref(b, n, "fp32");
        DeviceArray<uint16_t> dx16(b, x16, "x16"), got(b, n, "16-bit");
        materialize_maxpool(b, dx.get(), t.h_in, t.w_in, t.c, ref.get());
        materialize_maxpool(b, p, dx16.get(), t.h_in, t.w_in, t.c, got.get());
        EXPECT_EQ(to16(ref.download(), p), got.download()) << "maxpool " << t.h_in << "x" << t.w_in;
      }
      for (const UpCase& t : kUpCases) {
        const auto skip16 = to16(random_floats(size_t(t.h) * t.w * t.cs, 82, -3.0f, 3.0f), p);
        const auto low16 = to16(random_floats(size_t(t.hl) * t.wl * t.cl, 83, -3.0f, 3.0f), p);
        const size_t n = size_t(t.h) * t.w * (t.cs + t.cl);
        DeviceArray<float> skip(b, from16(skip16, p), "skip"), low(b, from16(low16, p), "low"), ref(b, n, "fp32");
        DeviceArray<uint16_t> skip_d(b, skip16, "skip16"), low_d(b, low16, "low16"), got(b, n, "16-bit");
        materialize_up_concat(b, skip.get(), t.h, t.w, t.cs, low.get(), t.hl, t.wl, t.cl, ref.get());
        materialize_up_concat(b, p, skip_d.get(), t.h, t.w, t.cs, low_d.get(), t.hl, t.wl, t.cl, got.get());
        EXPECT_EQ(to16(ref.download(), p), got.download()) << "up-concat " << t.h << "x" << t.w;
      }
      for (const ColorizerCase& t : kColorizerCases) {
        const ColorizerHost host(t.h, t.w, 84);
        ColorizerDevice dev(b, host, t.h, t.w, t.center);
        const size_t n = size_t(t.h) * t.w * kColorizerChannels;
        DeviceArray<float> ref(b, n, "fp32");
        DeviceArray<uint16_t> got(b, n, "16-bit");
        materialize_colorizer(b, dev.in, ref.get());
        materialize_colorizer(b, p, dev.in, got.get());
        EXPECT_EQ(to16(ref.download(), p), got.download()) << "colorizer " << t.h << "x" << t.w;
      }
      for (Activation act : {Activation::Identity, Activation::Relu, Activation::Tanh}) {
        const size_t pixels = 37, c = 5;
        const auto y16 = to16(random_floats(pixels * c, 85, -2.0f, 2.0f), p);
        const auto bias16 = to16(random_floats(c, 86, -0.5f, 0.5f), p);
        DeviceArray<float> y(b, from16(y16, p), "y"), bias(b, from16(bias16, p), "bias");
        DeviceArray<uint16_t> yd(b, y16, "y16"), bd(b, bias16, "bias16");
        bias_activation(b, y.get(), pixels, int(c), bias.get(), act);
        bias_activation(b, p, yd.get(), pixels, int(c), bd.get(), act);
        EXPECT_EQ(to16(y.download(), p), yd.download()) << "bias + activation " << int(act);
      }
      const auto x = random_floats(1001, 87, -70000.0f, 70000.0f);  // beyond fp16's range too
      DeviceArray<float> dx(b, x, "x");
      DeviceArray<uint16_t> got(b, x.size(), "16-bit");
      materialize_convert(b, p, dx.get(), x.size(), got.get());
      EXPECT_EQ(to16(x, p), got.download()) << "convert";
    }
  }
}

std::vector<float> chw_to_hwc(const std::vector<float>& chw, int c, int h, int w) {
  std::vector<float> hwc(chw.size());
  for (int k = 0; k < c; ++k)
    for (int p = 0; p < h * w; ++p) hwc[size_t(p) * c + k] = chw[size_t(k) * h * w + p];
  return hwc;
}

// The fused engine (or, through run_materialized, the unfused one) on one backend, segment and colorize on the
// fixture's inputs; returns {logits, labels, raw} of each.
struct UNetOutputs {
  std::vector<float> logits, raw;
  std::vector<uint8_t> labels;
};

UNetOutputs run_fused(Backend& b, const Fixture& f, Precision precision = Precision::Fp32) {
  const int width = f.weights.config.width;
  UNetOutputs o;
  DeviceArray<float> dx(b, f.floats("x"), "x"), dlogits(b, size_t(f.h) * f.w * 30, "logits");
  DeviceArray<uint8_t> dlabels(b, size_t(f.h) * f.w, "labels");
  {
    const UploadedUNet net = upload_unet(b, f.weights.segmentator, UNetKind::Segmentator, width, precision);
    UNetWorkspace ws(b, width, f.h, f.w, precision);
    ws.segment(b, net, dx.get(), dlabels.get(), dlogits.get());
  }
  o.logits = dlogits.download();
  o.labels = dlabels.download();
  DeviceArray<float> dtable(b, f.floats("region_means"), "table"), dout(b, size_t(f.h) * f.w * 3, "out");
  DeviceArray<uint8_t> dflabels(b, f.bytes("labels"), "labels"), dactive(b, f.bytes("hints_active"), "active");
  const ColorizerInput in{dx.get(), dflabels.get(), dtable.get(), dactive.get(), f.h, f.w, f.weights.config.center};
  const UploadedUNet net = upload_unet(b, f.weights.colorizer, UNetKind::Colorizer, width, precision);
  UNetWorkspace ws(b, width, f.h, f.w, precision);
  ws.colorize(b, net, in, dout.get());
  o.raw = dout.download();
  return o;
}

// The same plan, every step unfused (tests/cudnn/materialized_backend.h).
UNetOutputs run_materialized(Backend& b, const Fixture& f, MaterializedBackend::Convs convs, CudnnConv* cudnn,
                             Precision precision = Precision::Fp32) {
  const int width = f.weights.config.width;
  MaterializedBackend unfused(b, convs, cudnn, plan_unet(UNetKind::Segmentator, width, f.h, f.w),
                              plan_unet(UNetKind::Colorizer, width, f.h, f.w));
  return run_fused(unfused, f, precision);
}

class OnFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(OnFixtures, MaterializedUNetMatchesFusedEngine) {
  const Fixture f(GetParam());
  for (auto& backend : backends()) {
    SCOPED_TRACE(backend->name());
    const UNetOutputs fused = run_fused(*backend, f);
    const UNetOutputs plain = run_materialized(*backend, f, MaterializedBackend::Convs::Backend, nullptr);
    EXPECT_TRUE(close(fused.logits, plain.logits, kSameSumRel, "logits, unfused vs fused"));
    EXPECT_EQ(label_mismatches(fused.logits, 30, fused.labels, plain.labels, 1e-4), 0u);
    EXPECT_TRUE(close(fused.raw, plain.raw, kSameSumRel, "raw, unfused vs fused"));
  }
}

// The 16-bit unfused plan on the backend's tensor-core kernels sees exactly the fused
// kernels' staged inputs (each gather rounded once from the same float), so it must give
// the fused 16-bit engine's outputs bit for bit.
TEST_P(OnFixtures, MaterializedUNet16MatchesFusedEngine16BitForBit) {
  const Fixture f(GetParam());
  for (auto& backend : backends()) {
    if (backend->compute_capability() < 80) continue;  // no 16-bit path before sm_80
    for (Precision p : {Precision::Fp16, Precision::Bf16}) {
      SCOPED_TRACE(backend->name() + " " + precision_name(p));
      const UNetOutputs fused = run_fused(*backend, f, p);
      const UNetOutputs plain = run_materialized(*backend, f, MaterializedBackend::Convs::Backend, nullptr, p);
      EXPECT_TRUE(close(fused.logits, plain.logits, 0.0, "logits, unfused vs fused"));
      EXPECT_EQ(fused.labels, plain.labels);
      EXPECT_TRUE(close(fused.raw, plain.raw, 0.0, "raw, unfused vs fused"));
    }
  }
}

// ---- on a GPU only: cuDNN --------------------------------------------------------------

std::unique_ptr<Backend> gpu_or_null() {
  if (gp_cuda_backend::device_count() == 0) return nullptr;
  return open_backend(Device::Cuda);
}
#define GP_NEED_GPU(backend)    \
  auto backend = gpu_or_null(); \
  if (!backend) GTEST_SKIP() << "no CUDA GPU: the cuDNN path runs on a GPU only";

void print_plans(const CudnnConv& cudnn) {
  for (const std::string& line : cudnn.plans()) std::printf("  cuDNN plan: %s\n", line.c_str());
}

TEST(Cudnn, PlainConvsMatchFusedKernelsAndReference) {
  GP_NEED_GPU(gpu);
  CudnnConv cudnn(*gpu);
  struct Case {
    int h, w, cin, cout;
  };
  for (const Case& t : {Case{9, 7, 1, 4}, Case{17, 19, 3, 64}, Case{64, 64, 64, 128}, Case{32, 32, 256, 256}}) {
    SCOPED_TRACE(std::to_string(t.h) + "x" + std::to_string(t.w) + " " + std::to_string(t.cin) + "->" +
                 std::to_string(t.cout));
    const ConvLayer layer = random_layer(t.cout, t.cin, 3, 51);
    const Uploaded conv(*gpu, layer, true);
    const auto x = random_floats(size_t(t.h) * t.w * t.cin, 52);
    const size_t n = size_t(t.h) * t.w * t.cout;
    DeviceArray<float> dx(*gpu, x, "x"), fused(*gpu, n, "fused"), ours(*gpu, n, "cudnn");
    conv.run(*gpu, step(Gather::Plain, tensor(t.h, t.w, t.cin), {}, t.h, t.w, t.cout),
             {.in = dx.get(), .out = fused.get()});
    cudnn.forward(dx.get(), t.h, t.w, t.cin, conv.filter.get(), conv.bias.get(), t.cout, 3, Activation::Relu,
                  ours.get());
    EXPECT_TRUE(close(fused.download(), ours.download(), kCudnnRel, "plain conv3x3+relu, fused vs cuDNN"));

    // No activation (cudnnConvolutionForward + bias kernel) against the double reference:
    // checks the filter layout independently of our kernels.
    if (t.h * t.w * t.cin <= 64 * 64 * 64) {
      std::vector<double> ref(n);
      ref::conv2d(x.data(), t.h, t.w, t.cin, layer.weight.data(), layer.bias.data(), t.cout, 3, ref.data());
      cudnn.forward(dx.get(), t.h, t.w, t.cin, conv.filter.get(), conv.bias.get(), t.cout, 3, Activation::Identity,
                    ours.get());
      EXPECT_TRUE(close(to_floats(ref), ours.download(), kCudnnRel, "conv3x3, cuDNN vs double reference"));
    }
  }
  print_plans(cudnn);
}

TEST(Cudnn, GathersMatchFusedKernels) {
  GP_NEED_GPU(gpu);
  CudnnConv cudnn(*gpu);
  for (const PoolCase& t : kPoolCases) {
    const int h = t.h_in / 2, w = t.w_in / 2;
    const Uploaded conv(*gpu, random_layer(t.cout, t.c, 3, 61), true);
    DeviceArray<float> dx(*gpu, random_floats(size_t(t.h_in) * t.w_in * t.c, 62), "x");
    DeviceArray<float> pooled(*gpu, size_t(h) * w * t.c, "pooled"), fused(*gpu, size_t(h) * w * t.cout, "fused"),
        ours(*gpu, size_t(h) * w * t.cout, "cudnn");
    conv.run(*gpu, step(Gather::MaxPool, tensor(t.h_in, t.w_in, t.c), {}, h, w, t.cout),
             {.in = dx.get(), .out = fused.get()});
    materialize_maxpool(*gpu, dx.get(), t.h_in, t.w_in, t.c, pooled.get());
    cudnn.forward(pooled.get(), h, w, t.c, conv.filter.get(), conv.bias.get(), t.cout, 3, Activation::Relu, ours.get());
    EXPECT_TRUE(close(fused.download(), ours.download(), kCudnnRel, "max-pool gather, fused vs cuDNN"));
  }
  for (const UpCase& t : kUpCases) {
    const int c = t.cs + t.cl;
    const Uploaded conv(*gpu, random_layer(t.cout, c, 3, 63), true);
    DeviceArray<float> skip(*gpu, random_floats(size_t(t.h) * t.w * t.cs, 64), "skip");
    DeviceArray<float> low(*gpu, random_floats(size_t(t.hl) * t.wl * t.cl, 65), "low");
    const size_t n = size_t(t.h) * t.w * t.cout;
    DeviceArray<float> cat(*gpu, size_t(t.h) * t.w * c, "concat"), fused(*gpu, n, "fused"), ours(*gpu, n, "cudnn");
    conv.run(*gpu, step(Gather::UpConcat, tensor(t.h, t.w, t.cs), tensor(t.hl, t.wl, t.cl), t.h, t.w, t.cout),
             {.in = skip.get(), .low = low.get(), .out = fused.get()});
    materialize_up_concat(*gpu, skip.get(), t.h, t.w, t.cs, low.get(), t.hl, t.wl, t.cl, cat.get());
    cudnn.forward(cat.get(), t.h, t.w, c, conv.filter.get(), conv.bias.get(), t.cout, 3, Activation::Relu, ours.get());
    EXPECT_TRUE(close(fused.download(), ours.download(), kCudnnRel, "up-concat gather, fused vs cuDNN"));
  }
  for (const ColorizerCase& t : kColorizerCases) {
    constexpr int C = kColorizerChannels;
    const ColorizerHost host(t.h, t.w, 66);
    ColorizerDevice dev(*gpu, host, t.h, t.w, t.center);
    const Uploaded conv(*gpu, random_layer(t.cout, C, 3, 67), true);
    const size_t n = size_t(t.h) * t.w * t.cout;
    DeviceArray<float> mat(*gpu, size_t(t.h) * t.w * C, "colorizer input"), fused(*gpu, n, "fused"),
        ours(*gpu, n, "cudnn");
    conv.run(*gpu, step(Gather::Colorizer, TensorRef{Buffer::Input, t.h, t.w, C}, {}, t.h, t.w, t.cout),
             {.out = fused.get(), .colorizer = &dev.in});
    materialize_colorizer(*gpu, dev.in, mat.get());
    cudnn.forward(mat.get(), t.h, t.w, C, conv.filter.get(), conv.bias.get(), t.cout, 3, Activation::Relu, ours.get());
    EXPECT_TRUE(close(fused.download(), ours.download(), kCudnnRel, "colorizer gather, fused vs cuDNN"));
  }
  print_plans(cudnn);
}

TEST(Cudnn, HeadsMatchFusedKernels) {
  GP_NEED_GPU(gpu);
  CudnnConv cudnn(*gpu);
  const int h = 37, w = 29;
  for (int width : {4, 64}) {
    const size_t pixels = size_t(h) * w;
    DeviceArray<float> x(*gpu, random_floats(pixels * width, 71, 0.0f, 2.0f), "x");  // post-ReLU-like
    // tanh head, 3 channels
    const Uploaded tanh_conv(*gpu, random_layer(3, width, 1, 72), true);
    DeviceArray<float> fused(*gpu, pixels * 3, "fused"), ours(*gpu, pixels * 3, "cudnn");
    tanh_conv.run(*gpu, step(Gather::Plain, tensor(h, w, width), {}, h, w, 3, 1, Epilogue::BiasTanh),
                  {.in = x.get(), .out = fused.get()});
    cudnn.forward(x.get(), h, w, width, tanh_conv.filter.get(), tanh_conv.bias.get(), 3, 1, Activation::Tanh,
                  ours.get());
    EXPECT_TRUE(close(fused.download(), ours.download(), kCudnnRel, "conv1x1+tanh, fused vs cuDNN"));
    // argmax head, 30 channels
    const Uploaded seg(*gpu, random_layer(30, width, 1, 73), true);
    DeviceArray<float> logits(*gpu, pixels * 30, "logits"), cudnn_logits(*gpu, pixels * 30, "cudnn logits");
    DeviceArray<uint8_t> labels(*gpu, pixels, "labels"), cudnn_labels(*gpu, pixels, "cudnn labels");
    seg.run(*gpu, step(Gather::Plain, tensor(h, w, width), {}, h, w, 30, 1, Epilogue::Argmax),
            {.in = x.get(), .labels = labels.get(), .logits = logits.get()});
    cudnn.forward(x.get(), h, w, width, seg.filter.get(), seg.bias.get(), 30, 1, Activation::Identity,
                  cudnn_logits.get());
    gpu->argmax_channels(cudnn_logits.get(), pixels, 30, cudnn_labels.get());
    const auto ref_logits = logits.download();
    EXPECT_TRUE(close(ref_logits, cudnn_logits.download(), kCudnnRel, "conv1x1 logits, fused vs cuDNN"));
    EXPECT_EQ(label_mismatches(ref_logits, 30, labels.download(), cudnn_labels.download(), 1e-3), 0u);
  }
  print_plans(cudnn);
}

TEST_P(OnFixtures, CudnnUNetMatchesFusedEngineAndPyTorch) {
  GP_NEED_GPU(gpu);
  const Fixture f(GetParam());
  CudnnConv cudnn(*gpu);
  const UNetOutputs fused = run_fused(*gpu, f);
  const UNetOutputs dnn = run_materialized(*gpu, f, MaterializedBackend::Convs::Cudnn, &cudnn);
  const auto logits_ref = chw_to_hwc(f.floats("logits"), 30, f.h, f.w);
  const auto raw_ref = chw_to_hwc(f.floats("raw"), 3, f.h, f.w);
  EXPECT_TRUE(close(fused.logits, dnn.logits, kCudnnRel, "logits, fused vs cuDNN U-Net"));
  EXPECT_TRUE(close(logits_ref, dnn.logits, kCudnnRel, "logits, cuDNN U-Net vs PyTorch"));
  EXPECT_EQ(label_mismatches(logits_ref, 30, fused.labels, dnn.labels, 1e-3), 0u);
  EXPECT_TRUE(close(fused.raw, dnn.raw, kCudnnRel, "raw, fused vs cuDNN U-Net"));
  EXPECT_TRUE(close(raw_ref, dnn.raw, kCudnnRel, "raw, cuDNN U-Net vs PyTorch"));
  print_plans(cudnn);
}

// The 16-bit cuDNN U-Net and the fused 16-bit engine, each against PyTorch (float64) with
// the bound of tests/engine/stages_test.cpp: |error| <= 3 L u M (L = 19 layers, u the
// format's unit roundoff, M the reference's range); labels agree wherever the reference's
// top two logits are further apart than twice the larger logit error measured.
TEST_P(OnFixtures, CudnnUNet16MatchesPyTorchLikeTheFusedEngine16) {
  GP_NEED_GPU(gpu);
  if (gpu->compute_capability() < 80) GTEST_SKIP() << "the 16-bit path needs sm_80 or later";
  const Fixture f(GetParam());
  const auto logits_ref = chw_to_hwc(f.floats("logits"), 30, f.h, f.w);
  const auto raw_ref = chw_to_hwc(f.floats("raw"), 3, f.h, f.w);
  const auto labels_ref = f.bytes("labels");
  const auto gap = f.floats("top2_gap");
  auto max_abs = [](const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, double(std::fabs(x)));
    return m;
  };
  auto max_err = [](const std::vector<float>& a, const std::vector<float>& b) {
    double e = 0;
    for (size_t i = 0; i < a.size(); ++i) e = std::max(e, std::fabs(double(a[i]) - double(b[i])));
    return e;
  };
  for (Precision p : {Precision::Fp16, Precision::Bf16}) {
    SCOPED_TRACE(precision_name(p));
    CudnnConv cudnn(*gpu);
    const UNetOutputs fused = run_fused(*gpu, f, p);
    const UNetOutputs dnn = run_materialized(*gpu, f, MaterializedBackend::Convs::Cudnn, &cudnn, p);
    const double per_range = 3.0 * kUNetLayers * (p == Precision::Fp16 ? 1.0 / 2048 : 1.0 / 256);
    EXPECT_TRUE(close(logits_ref, dnn.logits, per_range * max_abs(logits_ref), "logits, cuDNN 16-bit vs PyTorch"));
    EXPECT_TRUE(close(raw_ref, dnn.raw, per_range * max_abs(raw_ref), "raw, cuDNN 16-bit vs PyTorch"));
    const double e = std::max(max_err(logits_ref, dnn.logits), max_err(logits_ref, fused.logits));
    size_t differ = 0;
    for (size_t i = 0; i < dnn.labels.size(); ++i)
      if (gap[i] > 2 * e) differ += dnn.labels[i] != labels_ref[i] || fused.labels[i] != labels_ref[i];
    EXPECT_EQ(differ, 0u);
    std::printf("  %s: max logit error cuDNN %.3g, fused %.3g; max raw error cuDNN %.3g, fused %.3g\n",
                precision_name(p), max_err(logits_ref, dnn.logits), max_err(logits_ref, fused.logits),
                max_err(raw_ref, dnn.raw), max_err(raw_ref, fused.raw));
    print_plans(cudnn);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnFixtures, ::testing::Values("w4_48x40", "w8_33x47", "w4_17x19"));

}  // namespace
}  // namespace gp
