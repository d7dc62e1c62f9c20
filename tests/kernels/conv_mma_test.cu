// The tensor-core 3x3 conv family (kernels/conv_mma.cuh) against the double-precision CPU
// reference, in fp16 and bf16: every gather (plain, max-pool, upsample + pad + concat, the
// colorizer's input, an fp32 input) on awkward sizes (1 x 1, odd widths, cout not a
// multiple of the tile, K longer than the pipeline, channel counts whose K steps cross taps
// in every way: 8, 16, 24, 32, 40, 56, 64), both A paths (the vector gather when every
// channel count is a multiple of 8, per element otherwise), and the argument checks.
//
// Tolerance, per output, derived rather than tuned. The reference runs on the inputs and
// weights as rounded to T (so storage rounding is not the kernel's error), in double.
// With u = 2^-11 (fp16) or 2^-8 (bf16), S = |bias| + sum_k |w_k x_k| and K = 9 cin:
//  - a gather that computes its value (bilinear, colorizer) rounds it to T once: <= u S;
//  - products of two T values are exact in fp32; their fp32 sum of K + 1 terms errs by at
//    most (K + 1) 2^-24 S with round-to-nearest, and twice that for hardware that
//    truncates inside the tensor core: 2 (K + 1) 2^-24 S;
//  - the result is rounded to T once: <= u |ref| (+ 2^-25 absolute below fp16's normal
//    range, where its spacing is fixed).
// So |out - ref| <= u |ref| + (u + 2 (K + 1) 2^-24) S + 2^-24. A wrong tap, channel or
// weight moves an output by ~|w x| ~ 1/sqrt(K), far above this (S ~ sqrt(K) / 2 here).
#include "kernels/conv.cuh"
#include "kernels/conv_ref.h"
#include "kernels/conv_mma.cuh"
#include "kernels/colorizer_input.cuh"
#include "kernels/upsample.cuh"
#include "tests/kernels/harness.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace gp::test {
namespace {

namespace k = ::GP_KERNEL_NS;

template <class T> struct Elem;
template <> struct Elem<__half> {
  static constexpr double kUnit = 1.0 / 2048;  // 2^-11
  static const char* name() { return "fp16"; }
  static __half from(float v) { return __float2half_rn(v); }
  static float to(__half v) { return __half2float(v); }
};
template <> struct Elem<__nv_bfloat16> {
  static constexpr double kUnit = 1.0 / 256;  // 2^-8
  static const char* name() { return "bf16"; }
  static __nv_bfloat16 from(float v) { return __float2bfloat16_rn(v); }
  static float to(__nv_bfloat16 v) { return __bfloat162float(v); }
};

// Random values rounded to T: the device copy (T) and the reference's copy (float, exact).
template <class T> struct Tensor {
  std::vector<float> value;
  DeviceBuffer<T> device;
  Tensor(size_t n, uint64_t seed) : value(random_floats(n, seed)) {
    std::vector<T> bits(n);
    for (size_t i = 0; i < n; ++i) {
      bits[i] = Elem<T>::from(value[i]);
      value[i] = Elem<T>::to(bits[i]);
    }
    device = DeviceBuffer<T>(bits);
  }
};

template <class T> struct Layer {
  int cout, cin;
  std::vector<float> weight, bias;  // [cout][cin][3][3] rounded to T, [cout] fp32
  DeviceBuffer<T> packed;
  DeviceBuffer<float> dbias;
  Layer(int cout_, int cin_, uint64_t seed) : cout(cout_), cin(cin_) {
    const float bound = 1.0f / std::sqrt(float(9 * cin));
    weight = random_floats(size_t(cout) * cin * 9, seed, -bound, bound);
    for (float& w : weight) w = Elem<T>::to(Elem<T>::from(w));
    bias = random_floats(size_t(cout), seed + 1, -0.5f, 0.5f);
    packed = DeviceBuffer<T>(k::conv_mma_pack_weights<T>(weight.data(), cout, cin));
    dbias = DeviceBuffer<float>(bias);
  }
  k::ConvMmaWeights<T> view() const { return {packed.get(), dbias.get(), cout, cin}; }
};

// Checks out [h][w][cout] against relu(conv3x3(input) + bias) of the materialised input
// x [h][w][cin], with the per-output bound above.
template <class T>::testing::AssertionResult matches(const std::vector<T>& out, const std::vector<float>& x, int h,
                                                     int w, const Layer<T>& layer) {
  const int cin = layer.cin, cout = layer.cout;
  std::vector<double> ref(size_t(h) * w * cout), mag(ref.size());
  std::vector<float> abs_w(layer.weight.size()), abs_b(layer.bias.size());
  for (size_t i = 0; i < abs_w.size(); ++i) abs_w[i] = std::fabs(layer.weight[i]);
  for (size_t i = 0; i < abs_b.size(); ++i) abs_b[i] = std::fabs(layer.bias[i]);
  gp::ref::conv2d(x.data(), h, w, cin, layer.weight.data(), layer.bias.data(), cout, 3, ref.data());
  gp::ref::conv2d_fetch(
      h, w, cin, [&](int y, int xx, int c) { return std::fabs(x[(size_t(y) * w + xx) * cin + c]); }, abs_w.data(),
      abs_b.data(), cout, 3, mag.data());
  const double u = Elem<T>::kUnit, accumulation = 2.0 * (9.0 * cin + 1) / 16777216.0;
  size_t bad = 0;
  std::ostringstream msg;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double r = std::max(ref[i], 0.0), o = Elem<T>::to(out[i]);
    const double bound = u * r + (u + accumulation) * mag[i] + 1.0 / 16777216.0;
    if (!(std::fabs(o - r) <= bound)) {
      if (bad < 8)
        msg << "\n  pixel " << i / cout << " channel " << i % cout << ": ref " << r << " out " << o << " bound "
            << bound;
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << Elem<T>::name() << ": " << bad << " of " << ref.size()
                                       << " outputs outside the bound" << msg.str();
}

// The kernels need sm_80 (the simulator reports sm_90).
bool has_sm80() {
  int device = 0;
  cudaDeviceProp prop{};
  return cudaGetDevice(&device) == cudaSuccess && cudaGetDeviceProperties(&prop, device) == cudaSuccess &&
         prop.major >= 8;
}
#define GP_REQUIRE_SM80()                                              \
  do {                                                                 \
    GP_REQUIRE_DEVICE();                                               \
    if (!has_sm80()) GTEST_SKIP() << "tensor-core kernels need sm_80"; \
  } while (0)

// Runs the launch with the tile Auto picks and with every tile forced; every tile must give
// the bit pattern of the first (each output sums the same products in the same order), and
// that output must pass `check` (the reference). Then, for a gather that may split K
// (`splits`: the vector gathers but the fused up-concat; the others must refuse), K split
// over 2, 3 and as many blocks as there are K chunks (at most kConvMmaMaxSplits), on every
// tile: each must pass `check`, give the same bits when run again, and leave its tile
// counters at zero. Returns the first.
template <class T>
std::vector<T> run(size_t pixels, int cout, int cin, const std::function<cudaError_t(T*, k::ConvMmaLaunch)>& launch,
                   const std::function<::testing::AssertionResult(const std::vector<T>&)>& check, bool splits) {
  const size_t count = pixels * cout;
  std::vector<T> first;
  for (const k::ConvMmaTile tile :
       {k::ConvMmaTile::Auto, k::ConvMmaTile::M64N64, k::ConvMmaTile::M128N32, k::ConvMmaTile::M32N64}) {
    DeviceBuffer<T> out(count);
    EXPECT_EQ(launch(out.get(), tile), cudaSuccess) << k::conv_mma_tile_name(tile);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << k::conv_mma_tile_name(tile);
    std::vector<T> got = out.download();
    if (first.empty()) {
      first = std::move(got);
    } else {
      EXPECT_EQ(std::memcmp(first.data(), got.data(), count * sizeof(T)), 0)
          << "tile " << k::conv_mma_tile_name(tile) << " differs from the tile Auto chose";
    }
  }
  EXPECT_TRUE(check(first)) << "unsplit";
  const int k_chunks = int(k::conv_mma_packed_rows(cin) / k::kConvMmaTileK);
  if (!splits) {
    if (k_chunks >= 2) {
      DeviceBuffer<float> partials(gp::conv_mma_split_partials(pixels, cout, {k::ConvMmaTile::M64N64, 2}));
      DeviceBuffer<unsigned> counters(
          std::vector<unsigned>(gp::conv_mma_split_counters(pixels, cout, {k::ConvMmaTile::M64N64, 2}), 0u));
      DeviceBuffer<T> out(count);
      EXPECT_EQ(launch(out.get(), k::ConvMmaLaunch({k::ConvMmaTile::M64N64, 2}, partials.get(), counters.get())),
                cudaErrorInvalidValue)
          << "a gather without split K took a split launch";
    }
    return first;
  }
  for (const k::ConvMmaTile tile : {k::ConvMmaTile::M64N64, k::ConvMmaTile::M128N32, k::ConvMmaTile::M32N64})
    for (const int splits : std::set<int>{2, 3, std::min(k_chunks, k::kConvMmaMaxSplits)}) {
      if (splits > k_chunks) continue;
      const k::ConvMmaSchedule schedule{tile, splits};
      const std::string label = std::string(k::conv_mma_tile_name(tile)) + " split " + std::to_string(splits);
      DeviceBuffer<float> partials(gp::conv_mma_split_partials(pixels, cout, schedule));
      DeviceBuffer<unsigned> counters(std::vector<unsigned>(gp::conv_mma_split_counters(pixels, cout, schedule), 0u));
      std::vector<T> again;
      for (int run = 0; run < 2; ++run) {
        DeviceBuffer<T> out(count);
        EXPECT_EQ(launch(out.get(), k::ConvMmaLaunch(schedule, partials.get(), counters.get())), cudaSuccess) << label;
        EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << label;
        std::vector<T> got = out.download();
        if (run == 0) {
          EXPECT_TRUE(check(got)) << label;
          again = std::move(got);
        } else {
          EXPECT_EQ(std::memcmp(again.data(), got.data(), count * sizeof(T)), 0) << label << ": not deterministic";
        }
      }
      const std::vector<unsigned> left = counters.download();
      EXPECT_EQ(std::count(left.begin(), left.end(), 0u), std::ptrdiff_t(left.size()))
          << label << ": tile counters left non-zero";
    }
  return first;
}

// ---- plain ------------------------------------------------------------------------------
struct PlainCase {
  int h, w, cin, cout;
};
class ConvMmaPlain : public ::testing::TestWithParam<PlainCase> {};

template <class T> void check_plain(const PlainCase& c) {
  const Tensor<T> x(size_t(c.h) * c.w * c.cin, 11 + c.cin);
  const Layer<T> layer(c.cout, c.cin, 23 + c.cout);
  const auto out = run<T>(
      size_t(c.h) * c.w, c.cout, c.cin,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(k::ConvPlainT<T>{x.device.get(), c.h, c.w, c.cin}, layer.view(), o, nullptr,
                                           tile);
      },
      [&](const std::vector<T>& o) { return matches(o, x.value, c.h, c.w, layer); }, c.cin % 8 == 0);
}
TEST_P(ConvMmaPlain, Fp16MatchesReference) {
  GP_REQUIRE_SM80();
  check_plain<__half>(GetParam());
}
TEST_P(ConvMmaPlain, Bf16MatchesReference) {
  GP_REQUIRE_SM80();
  check_plain<__nv_bfloat16>(GetParam());
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvMmaPlain,
                         ::testing::Values(PlainCase{1, 1, 8, 8}, PlainCase{7, 9, 16, 24}, PlainCase{13, 11, 8, 70},
                                           PlainCase{5, 17, 3, 5}, PlainCase{2, 3, 1, 1}, PlainCase{9, 10, 40, 64},
                                           PlainCase{4, 33, 24, 17}, PlainCase{6, 7, 32, 40}, PlainCase{3, 70, 56, 9}),
                         [](const auto& i) {
                           const PlainCase& c = i.param;
                           return std::to_string(c.h) + "x" + std::to_string(c.w) + "_c" + std::to_string(c.cin) +
                                  "_o" + std::to_string(c.cout);
                         });

// ---- fp32 input (the segmentator's grey sketch), rounded to T as it is gathered ----------
class ConvMmaFloatPlain : public ::testing::TestWithParam<PlainCase> {};

template <class T> void check_float_plain(const PlainCase& c) {
  const std::vector<float> x = random_floats(size_t(c.h) * c.w * c.cin, 13 + c.cin);
  const DeviceBuffer<float> dx(x);
  std::vector<float> rounded(x.size());
  for (size_t i = 0; i < x.size(); ++i) rounded[i] = Elem<T>::to(Elem<T>::from(x[i]));
  const Layer<T> layer(c.cout, c.cin, 29 + c.cout);
  const auto out = run<T>(
      size_t(c.h) * c.w, c.cout, c.cin,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(k::ConvPlainFloatMma{dx.get(), c.h, c.w, c.cin}, layer.view(), o, nullptr,
                                           tile);
      },
      [&](const std::vector<T>& o) { return matches(o, rounded, c.h, c.w, layer); }, false);
}
TEST_P(ConvMmaFloatPlain, Fp16MatchesReference) {
  GP_REQUIRE_SM80();
  check_float_plain<__half>(GetParam());
}
TEST_P(ConvMmaFloatPlain, Bf16MatchesReference) {
  GP_REQUIRE_SM80();
  check_float_plain<__nv_bfloat16>(GetParam());
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvMmaFloatPlain,
                         ::testing::Values(PlainCase{5, 17, 1, 16}, PlainCase{9, 7, 3, 40}, PlainCase{1, 1, 1, 4},
                                           PlainCase{11, 12, 8, 24}),
                         [](const auto& i) {
                           const PlainCase& c = i.param;
                           return std::to_string(c.h) + "x" + std::to_string(c.w) + "_c" + std::to_string(c.cin) +
                                  "_o" + std::to_string(c.cout);
                         });

// ---- max-pool ---------------------------------------------------------------------------
struct PoolCase {
  int h_in, w_in, cin, cout;
};
class ConvMmaMaxPool : public ::testing::TestWithParam<PoolCase> {};

template <class T> void check_pool(const PoolCase& c) {
  const Tensor<T> x(size_t(c.h_in) * c.w_in * c.cin, 31 + c.cin);
  const Layer<T> layer(c.cout, c.cin, 37 + c.cout);
  const int h = c.h_in / 2, w = c.w_in / 2;
  std::vector<float> pooled(size_t(h) * w * c.cin);
  gp::ref::maxpool2(x.value.data(), c.h_in, c.w_in, c.cin, pooled.data());
  const auto out = run<T>(
      size_t(h) * w, c.cout, c.cin,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(k::ConvMaxPoolT<T>{x.device.get(), c.h_in, c.w_in, c.cin}, layer.view(), o,
                                           nullptr, tile);
      },
      [&](const std::vector<T>& o) { return matches(o, pooled, h, w, layer); }, c.cin % 8 == 0);
}
TEST_P(ConvMmaMaxPool, Fp16MatchesReference) {
  GP_REQUIRE_SM80();
  check_pool<__half>(GetParam());
}
TEST_P(ConvMmaMaxPool, Bf16MatchesReference) {
  GP_REQUIRE_SM80();
  check_pool<__nv_bfloat16>(GetParam());
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvMmaMaxPool,
                         ::testing::Values(PoolCase{9, 7, 16, 12}, PoolCase{14, 18, 8, 65}, PoolCase{3, 5, 3, 4},
                                           PoolCase{2, 2, 8, 8}, PoolCase{21, 18, 64, 33}),
                         [](const auto& i) {
                           const PoolCase& c = i.param;
                           return std::to_string(c.h_in) + "x" + std::to_string(c.w_in) + "_c" + std::to_string(c.cin) +
                                  "_o" + std::to_string(c.cout);
                         });

// ---- upsample + pad + concat ------------------------------------------------------------
struct UpCase {
  int h, w, cs, hl, wl, cl, cout;
};
class ConvMmaUpConcat : public ::testing::TestWithParam<UpCase> {};

template <class T> void check_up(const UpCase& c) {
  const Tensor<T> skip(size_t(c.h) * c.w * c.cs, 41 + c.cs), low(size_t(c.hl) * c.wl * c.cl, 43 + c.cl);
  const Layer<T> layer(c.cout, c.cs + c.cl, 47 + c.cout);
  std::vector<float> cat(size_t(c.h) * c.w * (c.cs + c.cl));
  gp::ref::upsample2_pad_concat(skip.value.data(), c.h, c.w, c.cs, low.value.data(), c.hl, c.wl, c.cl, cat.data());
  const auto out = run<T>(
      size_t(c.h) * c.w, c.cout, c.cs + c.cl,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(
            k::ConvUpConcatT<T>{skip.device.get(), c.h, c.w, c.cs, low.device.get(), c.hl, c.wl, c.cl}, layer.view(), o,
            nullptr, tile);
      },
      [&](const std::vector<T>& o) { return matches(o, cat, c.h, c.w, layer); }, false);
  if (c.cs % 8 != 0 || c.cl % 8 != 0) return;
  // The engine's 16-bit path: the upsample written out once (kernels/upsample.cuh), then a
  // conv gathering [skip, up] by copies. Its values are the fused gather's bits (one
  // formula, one rounding to T), so the conv's output must be the fused conv's, bit for bit.
  DeviceBuffer<T> up(size_t(c.h) * c.w * c.cl);
  ASSERT_EQ(k::upsample2x_pad<T>(low.device.get(), c.hl, c.wl, c.cl, up.get(), c.h, c.w, nullptr), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const std::vector<T> upsampled = up.download();
  int bad = 0;
  for (size_t p = 0; p < size_t(c.h) * c.w; ++p)
    for (int ch = 0; ch < c.cl; ++ch) {
      const double ref = cat[p * (c.cs + c.cl) + c.cs + ch], got = Elem<T>::to(upsampled[p * c.cl + ch]);
      bad += std::fabs(got - ref) > Elem<T>::kUnit * std::fabs(ref) + 1.0 / 16777216.0;  // one rounding to T
    }
  EXPECT_EQ(bad, 0) << "upsampled values off the reference by more than one rounding";
  const auto concat = run<T>(
      size_t(c.h) * c.w, c.cout, c.cs + c.cl,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(k::ConvConcatT<T>{skip.device.get(), up.get(), c.h, c.w, c.cs, c.cl},
                                           layer.view(), o, nullptr, tile);
      },
      [&](const std::vector<T>& o) { return matches(o, cat, c.h, c.w, layer); }, true);
  EXPECT_EQ(std::memcmp(concat.data(), out.data(), out.size() * sizeof(T)), 0)
      << "written-out upsample differs from the fused gather";
}
TEST_P(ConvMmaUpConcat, Fp16MatchesReference) {
  GP_REQUIRE_SM80();
  check_up<__half>(GetParam());
}
TEST_P(ConvMmaUpConcat, Bf16MatchesReference) {
  GP_REQUIRE_SM80();
  check_up<__nv_bfloat16>(GetParam());
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvMmaUpConcat,
                         ::testing::Values(UpCase{9, 11, 8, 4, 5, 16, 20}, UpCase{16, 16, 16, 8, 8, 16, 32},
                                           UpCase{7, 6, 3, 3, 3, 5, 6}, UpCase{5, 4, 8, 1, 1, 8, 8},
                                           UpCase{13, 10, 24, 6, 5, 40, 33}),
                         [](const auto& i) {
                           const UpCase& c = i.param;
                           return std::to_string(c.h) + "x" + std::to_string(c.w) + "_s" + std::to_string(c.cs) +
                                  "_low" + std::to_string(c.hl) + "x" + std::to_string(c.wl) + "_c" +
                                  std::to_string(c.cl) + "_o" + std::to_string(c.cout);
                         });

// ---- the colorizer's input --------------------------------------------------------------
struct ColorizerCase {
  int h, w, cout;
};
class ConvMmaColorizer : public ::testing::TestWithParam<ColorizerCase> {};

template <class T> void check_colorizer(const ColorizerCase& c) {
  const size_t pixels = size_t(c.h) * c.w;
  const std::vector<float> sketch = random_floats(pixels, 51), colors = random_floats(30 * 3, 52);
  std::vector<uint8_t> labels = random_bytes(pixels, 53), active = random_bytes(30, 54);
  for (uint8_t& l : labels) l %= 33;  // 30..32: no region
  for (uint8_t& a : active) a &= 1;
  const DeviceBuffer<float> d_sketch(sketch), d_colors(colors);
  const DeviceBuffer<uint8_t> d_labels(labels), d_active(active);
  const float center = 0.25f;
  const Layer<T> layer(c.cout, gp::kColorizerChannels, 57 + c.cout);
  std::vector<float> x(pixels * gp::kColorizerChannels);
  gp::ref::colorizer_input(sketch.data(), labels.data(), colors.data(), active.data(), center, c.h, c.w, x.data());
  const auto out = run<T>(
      pixels, c.cout, gp::kColorizerChannels,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(
            k::ConvColorizerMma{d_sketch.get(), d_labels.get(), d_colors.get(), d_active.get(), c.h, c.w, center},
            layer.view(), o, nullptr, tile);
      },
      [&](const std::vector<T>& o) { return matches(o, x, c.h, c.w, layer); }, false);

  // The engine's 16-bit path: the input written out once, padded to 40 channels (each
  // value the gather's, rounded once to T; the padding zero), then a plain vector conv.
  constexpr int kPadded = k::kColorizerInputChannels16;
  DeviceBuffer<T> written(pixels * kPadded);
  ASSERT_EQ(k::colorizer_input16<T>(
                k::ConvColorizerMma{d_sketch.get(), d_labels.get(), d_colors.get(), d_active.get(), c.h, c.w, center},
                written.get(), nullptr),
            cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const std::vector<T> got = written.download();
  std::vector<float> x40(pixels * kPadded, 0.0f);
  int bad = 0;
  for (size_t p = 0; p < pixels; ++p)
    for (int ch = 0; ch < kPadded; ++ch) {
      const float want =
          ch < gp::kColorizerChannels ? Elem<T>::to(Elem<T>::from(x[p * gp::kColorizerChannels + ch])) : 0.0f;
      x40[p * kPadded + ch] = want;
      bad += Elem<T>::to(got[p * kPadded + ch]) != want;
    }
  EXPECT_EQ(bad, 0) << "written colorizer input differs from the reference rounded to T";
  const Layer<T> layer40(c.cout, kPadded, 59 + c.cout);
  run<T>(
      pixels, c.cout, kPadded,
      [&](T* o, k::ConvMmaLaunch tile) {
        return k::conv3x3_mma_bias_relu<T>(k::ConvPlainT<T>{written.get(), c.h, c.w, kPadded}, layer40.view(), o,
                                           nullptr, tile);
      },
      [&](const std::vector<T>& o) { return matches(o, x40, c.h, c.w, layer40); }, true);
}
TEST_P(ConvMmaColorizer, Fp16MatchesReference) {
  GP_REQUIRE_SM80();
  check_colorizer<__half>(GetParam());
}
TEST_P(ConvMmaColorizer, Bf16MatchesReference) {
  GP_REQUIRE_SM80();
  check_colorizer<__nv_bfloat16>(GetParam());
}
INSTANTIATE_TEST_SUITE_P(AwkwardSizes, ConvMmaColorizer,
                         ::testing::Values(ColorizerCase{9, 13, 16}, ColorizerCase{20, 17, 70}, ColorizerCase{1, 1, 4}),
                         [](const auto& i) {
                           const ColorizerCase& c = i.param;
                           return std::to_string(c.h) + "x" + std::to_string(c.w) + "_o" + std::to_string(c.cout);
                         });

// ---- the 1x1 heads on 16-bit activations (kernels/conv.cuh) ------------------------------
// fp32 weights and arithmetic on inputs that are exact in fp32, so conv_test.cu's fp32
// tolerance (1e-4 absolute + relative, > 10x the fp32 rounding of these sums) applies; an
// argmax label must be exact wherever the two best reference logits differ by > 1e-4.
template <class T, class In> void check_heads(int h, int w, int cin) {
  const Tensor<T> x(size_t(h) * w * cin, 61 + cin);
  for (const int cout : {3, 30}) {
    const float bound = 1.0f / std::sqrt(float(cin));
    const std::vector<float> weight = random_floats(size_t(cout) * cin, 62 + cout, -bound, bound),
                             bias = random_floats(size_t(cout), 63 + cout, -0.5f, 0.5f);
    const DeviceBuffer<float> packed(k::conv_pack_weights(weight.data(), cout, cin, 1)), dbias(bias);
    const k::ConvWeights wt{packed.get(), dbias.get(), cout, cin, 1};
    std::vector<double> ref(size_t(h) * w * cout);
    gp::ref::conv2d(x.value.data(), h, w, cin, weight.data(), bias.data(), cout, 1, ref.data());
    const In in{x.device.get(), h, w, cin};
    if (cout == 3) {
      DeviceBuffer<float> out(ref.size());
      ASSERT_EQ(k::conv1x1_bias_tanh(in, wt, out.get(), nullptr), cudaSuccess);
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      std::vector<double> expected(ref.size());
      for (size_t i = 0; i < ref.size(); ++i) expected[i] = std::tanh(ref[i]);
      EXPECT_TRUE(all_close(expected, out.download(), 1e-4, 1e-4)) << Elem<T>::name() << " tanh head";
    } else {
      DeviceBuffer<uint8_t> labels(size_t(h) * w);
      DeviceBuffer<float> logits(ref.size());
      ASSERT_EQ(k::conv1x1_argmax(in, wt, labels.get(), logits.get(), nullptr), cudaSuccess);
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      EXPECT_TRUE(all_close(ref, logits.download(), 1e-4, 1e-4)) << Elem<T>::name() << " argmax logits";
      const std::vector<uint8_t> got = labels.download();
      int wrong = 0;
      for (size_t p = 0; p < got.size(); ++p) {
        const double* v = &ref[p * cout];
        const int best = int(std::max_element(v, v + cout) - v);
        double second = -1e300;
        for (int c = 0; c < cout; ++c)
          if (c != best) second = std::max(second, v[c]);
        wrong += v[best] - second > 1e-4 && got[p] != best;
      }
      EXPECT_EQ(wrong, 0) << Elem<T>::name() << " argmax labels";
    }
  }
}
TEST(ConvHeads16, Fp16InputMatchesReference) {
  GP_REQUIRE_DEVICE();
  check_heads<__half, k::ConvPlainF16>(13, 7, 16);
  check_heads<__half, k::ConvPlainF16>(1, 1, 3);
}
TEST(ConvHeads16, Bf16InputMatchesReference) {
  GP_REQUIRE_DEVICE();
  check_heads<__nv_bfloat16, k::ConvPlainBF16>(9, 17, 64);
  check_heads<__nv_bfloat16, k::ConvPlainBF16>(1, 1, 5);
}

// ---- argument checks --------------------------------------------------------------------
TEST(ConvMmaLaunch, UpsampleAndConcatRejectBadShapes) {
  GP_REQUIRE_SM80();
  DeviceBuffer<__half> a(64 * 64), b(64 * 64);
  EXPECT_EQ(k::upsample2x_pad<__half>(a.get(), 2, 2, 4, b.get(), 4, 4, nullptr), cudaErrorInvalidValue);  // c % 8
  EXPECT_EQ(k::upsample2x_pad<__half>(a.get(), 3, 2, 8, b.get(), 5, 4, nullptr), cudaErrorInvalidValue);  // 2 hl > h
  EXPECT_EQ(k::upsample2x_pad<__half>(nullptr, 2, 2, 8, b.get(), 4, 4, nullptr), cudaErrorInvalidValue);
  const Layer<__half> layer(8, 16, 5);
  EXPECT_EQ(k::conv3x3_mma_bias_relu<__half>(k::ConvConcatT<__half>{a.get(), b.get(), 4, 4, 8, 4}, layer.view(),
                                             a.get(), nullptr),
            cudaErrorInvalidValue);  // c_up % 8
  // A row of w x c beyond a quarter of the int range: the vector gathers' tap offsets would
  // overflow, so the launch is refused before anything is read.
  const Layer<__half> wide(8, 1024, 6);
  EXPECT_EQ(
      k::conv3x3_mma_bias_relu<__half>(k::ConvPlainT<__half>{a.get(), 1, 1 << 20, 1024}, wide.view(), b.get(), nullptr),
      cudaErrorInvalidValue);
}

TEST(ConvMmaTileChoice, NarrowLayersGetNarrowTilesAndSmallGridsShorterOnes) {
  EXPECT_EQ(k::conv_mma_choose_tile(128 * 128, 16), k::ConvMmaTile::M128N32);
  EXPECT_EQ(k::conv_mma_choose_tile(128 * 128, 4), k::ConvMmaTile::M128N32);
  EXPECT_EQ(k::conv_mma_choose_tile(64 * 64, 32), k::ConvMmaTile::M128N32);
  EXPECT_EQ(k::conv_mma_choose_tile(256 * 256, 64), k::ConvMmaTile::M64N64);     // 1024 blocks
  EXPECT_EQ(k::conv_mma_choose_tile(128 * 128, 128), k::ConvMmaTile::M64N64);    // 512 blocks: 3.9 waves of 132
  EXPECT_EQ(k::conv_mma_choose_tile(64 * 64, 128), k::ConvMmaTile::M32N64);      // 128 blocks of 64 x 64
  EXPECT_EQ(k::conv_mma_choose_tile(16 * 16, 512), k::ConvMmaTile::M32N64);      // 32 blocks of 64 x 64
  EXPECT_EQ(k::conv_mma_choose_tile(16 * 16, 512, 16), k::ConvMmaTile::M64N64);  // a small GPU
  for (const k::ConvMmaTile t : {k::ConvMmaTile::M64N64, k::ConvMmaTile::M128N32, k::ConvMmaTile::M32N64})
    EXPECT_EQ(k::kConvMmaTileN % k::conv_mma_tile_shape(t).n, 0) << k::conv_mma_tile_name(t);
}

TEST(ConvMmaTileChoice, SplitsKWhereBlocksAreTooFewToHideLatency) {
  // The U-Net's levels at 256 x 256, width 64, 132 SMs: (pixels, cout, cin) -> splits.
  auto splits = [](size_t pixels, int cout, int cin, int sms = 132) {
    return k::conv_mma_choose_schedule(pixels, cout, int(k::conv_mma_packed_rows(cin) / k::kConvMmaTileK), sms).splits;
  };
  EXPECT_EQ(splits(256 * 256, 64, 64), 1);      // 1024 blocks
  EXPECT_EQ(splits(64 * 64, 256, 256), 1);      // 512 blocks of 32 x 64
  EXPECT_EQ(splits(32 * 32, 512, 512), 2);      // 256 blocks
  EXPECT_EQ(splits(16 * 16, 512, 512), 8);      // 64 blocks
  EXPECT_EQ(splits(32 * 32, 256, 512), 4);      // 128 blocks
  EXPECT_EQ(splits(16 * 16, 512, 8), 1);        // 3 K chunks: too few to split
  EXPECT_EQ(splits(16 * 16, 512, 512, 16), 2);  // a small GPU: 32 blocks of 64 x 64 on 16 SMs, split to 4 a SM
  for (const size_t pixels : {size_t(1), size_t(100), size_t(4096)})
    for (const int cin : {1, 8, 64, 1024}) {
      const int chunks = int(k::conv_mma_packed_rows(cin) / k::kConvMmaTileK);
      const k::ConvMmaSchedule s = k::conv_mma_choose_schedule(pixels, 64, chunks);
      EXPECT_GE(s.splits, 1);
      EXPECT_LE(s.splits, std::min(chunks, k::kConvMmaMaxSplits)) << pixels << " px, cin " << cin;
      EXPECT_NE(s.tile, k::ConvMmaTile::Auto);
    }
}

TEST(ConvMmaLaunch, SplitKRejectsBadSplitsAndMissingScratch) {
  GP_REQUIRE_SM80();
  const Tensor<__half> x(4 * 4 * 8, 1);
  const Layer<__half> layer(8, 8, 2);  // 72 k: 3 chunks
  DeviceBuffer<__half> out(4 * 4 * 8);
  DeviceBuffer<float> partials(64 * 64 * 16 + 4);
  DeviceBuffer<unsigned> counters(std::vector<unsigned>(4, 0u));
  const k::ConvPlainT<__half> in{x.device.get(), 4, 4, 8};
  auto launch = [&](int splits, float* p, unsigned* c) {
    return k::conv3x3_mma_bias_relu<__half>(in, layer.view(), out.get(), nullptr,
                                            k::ConvMmaLaunch(k::ConvMmaSchedule{k::ConvMmaTile::M64N64, splits}, p, c));
  };
  EXPECT_EQ(launch(4, partials.get(), counters.get()), cudaErrorInvalidValue);  // more splits than K chunks
  EXPECT_EQ(launch(0, partials.get(), counters.get()), cudaErrorInvalidValue);
  EXPECT_EQ(launch(2, nullptr, counters.get()), cudaErrorInvalidValue);
  EXPECT_EQ(launch(2, partials.get(), nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(launch(2, partials.get() + 1, counters.get()), cudaErrorInvalidValue);  // partials not 16-byte aligned
  EXPECT_EQ(launch(1, nullptr, nullptr), cudaSuccess);                              // unsplit needs no scratch
  EXPECT_EQ(launch(3, partials.get(), counters.get()), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

TEST(ConvMmaLaunch, RejectsMismatchedShapes) {
  GP_REQUIRE_SM80();
  const Tensor<__half> x(4 * 4 * 8, 1);
  const Layer<__half> layer(8, 8, 2);
  DeviceBuffer<__half> out(4 * 4 * 8);
  const k::ConvPlainT<__half> wrong_channels{x.device.get(), 4, 4, 16};
  EXPECT_EQ(k::conv3x3_mma_bias_relu<__half>(wrong_channels, layer.view(), out.get(), nullptr), cudaErrorInvalidValue);
  const k::ConvPlainT<__half> misaligned{x.device.get() + 1, 4, 4, 8};
  EXPECT_EQ(k::conv3x3_mma_bias_relu<__half>(misaligned, layer.view(), out.get(), nullptr), cudaErrorInvalidValue);
  const k::ConvUpConcatT<__half> too_big_low{x.device.get(), 4, 4, 4, x.device.get(), 3, 2, 4};
  const Layer<__half> layer8(8, 8, 3);
  EXPECT_EQ(k::conv3x3_mma_bias_relu<__half>(too_big_low, layer8.view(), out.get(), nullptr), cudaErrorInvalidValue);
  const k::ConvPlainT<__half> empty{x.device.get(), 0, 4, 8};
  EXPECT_EQ(k::conv3x3_mma_bias_relu<__half>(empty, layer.view(), out.get(), nullptr), cudaSuccess);
}

}  // namespace
}  // namespace gp::test
