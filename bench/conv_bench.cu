// The conv family (kernels/conv.cuh) on the simulator: GFLOP/s of each gather mode.
//
//   build/bench/conv_bench [--benchmark_filter=...]   (GPUSIM_WORKERS=n sets the pool)
//
// GFLOP/s counts the useful work, 2 * H * W * Cin * Cout * k * k per launch (the
// padding of K and N that the kernel also multiplies is not counted), per wall second;
// GFLOP/s_per_cpu_s per CPU second of the whole process (all simulator workers). Inputs and
// weights are random; the kernels are checked against the reference by
// tests/kernels/conv_test.cu, not here.
//   BM_Conv3x3Plain/H/W/Cin/Cout   ConvPlain input [H][W][Cin]
//   BM_Conv3x3MaxPool/H/W/C        ConvMaxPool input [2H][2W][C], conv at H x W, C -> C
//   BM_Conv3x3UpConcat/H/W/C       skip [H][W][C/2] + low [H/2][W/2][C/2], C -> C
//   BM_Conv3x3Colorizer/H/W/Cout   the 35-channel colorizer input -> Cout
//   BM_Conv1x1Tanh/H/W/Cin/Cout, BM_Conv1x1Argmax/H/W/Cin/Cout   the output heads
//   BM_Conv3x3MmaPlain{Fp16,Bf16}/H/W/Cin/Cout   the tensor-core conv (kernels/conv_mma.cuh)
//                         on the same ConvPlain input in 16-bit, to compare with BM_Conv3x3Plain
//   BM_UNetPair/S/width   every conv of both U-Nets (segmentator 1 -> 30 with the argmax
//                         head, then colorizer 35 -> 3 with tanh) at S x S, in model
//                         order with the fused gathers: the conv part of one full
//                         inference (the pooling, upsampling, concatenation and hint
//                         maps are inside the gathers; nothing else runs)
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/random_data.h"
#include "kernels/conv.cuh"
#include "kernels/conv_mma.cuh"

namespace {

namespace k = ::GP_KERNEL_NS;

using gp::test::random_floats;

template <class T> T* to_device(const std::vector<T>& host) {
  T* p = nullptr;
  if (cudaMalloc(&p, host.size() * sizeof(T)) != cudaSuccess) return nullptr;
  cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  return p;
}
template <class T> T* device_zeros(size_t n) {
  T* p = nullptr;
  if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) return nullptr;
  cudaMemset(p, 0, n * sizeof(T));
  return p;
}

// Device buffers of one benchmark, freed at the end.
struct Buffers {
  std::vector<void*> owned;
  template <class T> T* keep(T* p) {
    owned.push_back(p);
    return p;
  }
  ~Buffers() {
    for (void* p : owned) cudaFree(p);
  }
};

k::ConvWeights make_weights(Buffers& b, int cout, int cin, int ksize) {
  const float bound = 1.0f / std::sqrt(float(cin * ksize * ksize));
  const auto w = random_floats(size_t(cout) * cin * ksize * ksize, 1, -bound, bound);
  return {b.keep(to_device(k::conv_pack_weights(w.data(), cout, cin, ksize))), b.keep(to_device(random_floats(cout, 2))),
          cout, cin, ksize};
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Times `launch` and reports GFLOP/s for `flop` per launch.
template <class Launch> void run(benchmark::State& state, double flop, Launch launch) {
  if (launch() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {  // warm-up, and a launch check
    state.SkipWithError("launch failed");
    return;
  }
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    launch();
    cudaDeviceSynchronize();
  }
  const double cpu = process_cpu_seconds() - cpu0;
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  // The same per CPU second of the whole process (all workers): what the simulator
  // costs independently of how busy the shared machine is.
  state.counters["GFLOP/s_per_cpu_s"] = flop * 1e-9 * double(state.iterations()) / cpu;
}

double conv_flop(int h, int w, int cin, int cout, int ksize) { return 2.0 * h * w * cin * cout * ksize * ksize; }

void BM_Conv3x3Plain(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cin = int(state.range(2)), cout = int(state.range(3));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(h) * w * cin, 3)));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * cout));
  const auto wt = make_weights(b, cout, cin, 3);
  run(state, conv_flop(h, w, cin, cout, 3),
      [&] { return k::conv3x3_bias_relu(k::ConvPlain{x, h, w, cin}, wt, out, nullptr); });
}

void BM_Conv3x3MaxPool(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), c = int(state.range(2));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(4) * h * w * c, 3)));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * c));
  const auto wt = make_weights(b, c, c, 3);
  run(state, conv_flop(h, w, c, c, 3),
      [&] { return k::conv3x3_bias_relu(k::ConvMaxPool{x, 2 * h, 2 * w, c}, wt, out, nullptr); });
}

void BM_Conv3x3UpConcat(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), c = int(state.range(2));
  Buffers b;
  float* skip = b.keep(to_device(random_floats(size_t(h) * w * (c / 2), 3)));
  float* low = b.keep(to_device(random_floats(size_t(h / 2) * (w / 2) * (c / 2), 4)));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * c));
  const auto wt = make_weights(b, c, c, 3);
  run(state, conv_flop(h, w, c, c, 3), [&] {
    return k::conv3x3_bias_relu(k::ConvUpConcat{skip, h, w, c / 2, low, h / 2, w / 2, c / 2}, wt, out, nullptr);
  });
}

void BM_Conv3x3Colorizer(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cout = int(state.range(2));
  Buffers b;
  std::vector<uint8_t> labels(size_t(h) * w), active(30);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = uint8_t((i * 7 + i / w) % 30);
  for (int r = 0; r < 30; ++r) active[r] = r % 3 == 0;
  float* sketch = b.keep(to_device(random_floats(size_t(h) * w, 3)));
  uint8_t* dlabels = b.keep(to_device(labels));
  float* colors = b.keep(to_device(random_floats(90, 4)));
  uint8_t* dactive = b.keep(to_device(active));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * cout));
  const auto wt = make_weights(b, cout, k::kConvColorizerChannels, 3);
  run(state, conv_flop(h, w, k::kConvColorizerChannels, cout, 3), [&] {
    return k::conv3x3_bias_relu(k::ConvColorizer{sketch, dlabels, colors, dactive, h, w, 0.0f}, wt, out, nullptr);
  });
}

void BM_Conv1x1Tanh(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cin = int(state.range(2)), cout = int(state.range(3));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(h) * w * cin, 3)));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * cout));
  const auto wt = make_weights(b, cout, cin, 1);
  run(state, conv_flop(h, w, cin, cout, 1),
      [&] { return k::conv1x1_bias_tanh(k::ConvPlain{x, h, w, cin}, wt, out, nullptr); });
}

void BM_Conv1x1Argmax(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cin = int(state.range(2)), cout = int(state.range(3));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(h) * w * cin, 3)));
  uint8_t* labels = b.keep(device_zeros<uint8_t>(size_t(h) * w));
  const auto wt = make_weights(b, cout, cin, 1);
  run(state, conv_flop(h, w, cin, cout, 1),
      [&] { return k::conv1x1_argmax(k::ConvPlain{x, h, w, cin}, wt, labels, nullptr, nullptr); });
}

template <class T> void conv3x3_mma_plain(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cin = int(state.range(2)), cout = int(state.range(3));
  Buffers b;
  std::vector<T> x(size_t(h) * w * cin);
  const auto xf = random_floats(x.size(), 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = T(xf[i]);
  const float bound = 1.0f / std::sqrt(float(9 * cin));
  const auto wf = random_floats(size_t(cout) * cin * 9, 1, -bound, bound);
  const k::ConvMmaWeights<T> wt{b.keep(to_device(k::conv_mma_pack_weights<T>(wf.data(), cout, cin))),
                                b.keep(to_device(random_floats(cout, 2))), cout, cin};
  T* dx = b.keep(to_device(x));
  T* out = b.keep(device_zeros<T>(size_t(h) * w * cout));
  run(state, conv_flop(h, w, cin, cout, 3),
      [&] { return k::conv3x3_mma_bias_relu<T>(k::ConvPlainT<T>{dx, h, w, cin}, wt, out, nullptr); });
}
void BM_Conv3x3MmaPlainFp16(benchmark::State& state) { conv3x3_mma_plain<__half>(state); }
void BM_Conv3x3MmaPlainBf16(benchmark::State& state) { conv3x3_mma_plain<__nv_bfloat16>(state); }

// One U-Net (MODEL.md): inc, down1..4 (maxpool gather), up1..4 (upconcat gather), outc.
// `first` runs inc's first conv from the network input; `head` runs outc on up4's output.
struct UNet {
  int width;
  std::vector<k::ConvWeights> convs;  // 18 3x3 convs in order, then outc
};

UNet make_unet(Buffers& b, int in_channels, int out_channels, int w) {
  UNet net{w, {}};
  const int plan[9][3] = {{in_channels, w, w},  {w, 2 * w, 2 * w},         {2 * w, 4 * w, 4 * w},
                          {4 * w, 8 * w, 8 * w}, {8 * w, 8 * w, 8 * w},       {16 * w, 8 * w, 4 * w},
                          {8 * w, 4 * w, 2 * w}, {4 * w, 2 * w, w},           {2 * w, w, w}};
  for (const auto& blk : plan) {
    net.convs.push_back(make_weights(b, blk[1], blk[0], 3));
    net.convs.push_back(make_weights(b, blk[2], blk[1], 3));
  }
  net.convs.push_back(make_weights(b, out_channels, w, 1));
  return net;
}

double unet_flop(const UNet& net, int s) {
  double flop = 0;
  for (size_t i = 0; i < net.convs.size(); ++i) {
    const int level = i < 10 ? int(i / 2) : 8 - int(i / 2);  // inc/down1..4 then up1..4 back up
    const int side = i + 1 == net.convs.size() ? s : s >> level;
    flop += conv_flop(side, side, net.convs[i].cin, net.convs[i].cout, net.convs[i].ksize);
  }
  return flop;
}

// Runs the U-Net body; `first` launches inc.conv1 into t.mid. Returns up4's output.
template <class First>
cudaError_t run_unet(const UNet& net, int s, First first, float* mid, float* const (&skips)[5], float* const (&ups)[4]) {
  const int w = net.width;
  if (cudaError_t e = first(net.convs[0], mid)) return e;
  if (cudaError_t e = k::conv3x3_bias_relu(k::ConvPlain{mid, s, s, w}, net.convs[1], skips[0], nullptr)) return e;
  int c = w;
  for (int d = 1; d <= 4; ++d) {  // down d: skips[d-1] (side s >> (d-1)) -> skips[d]
    const int side_in = s >> (d - 1), side = s >> d;
    const auto& c1 = net.convs[2 * d];
    const auto& c2 = net.convs[2 * d + 1];
    if (cudaError_t e = k::conv3x3_bias_relu(k::ConvMaxPool{skips[d - 1], side_in, side_in, c}, c1, mid, nullptr))
      return e;
    if (cudaError_t e = k::conv3x3_bias_relu(k::ConvPlain{mid, side, side, c1.cout}, c2, skips[d], nullptr)) return e;
    c = c2.cout;
  }
  const float* low = skips[4];
  for (int u = 1; u <= 4; ++u) {  // up u: skip skips[4-u] (side s >> (4-u)), low of side s >> (5-u)
    const int side = s >> (4 - u);
    const auto& c1 = net.convs[8 + 2 * u];
    const auto& c2 = net.convs[9 + 2 * u];
    const int c_skip = c1.cin - c;
    if (cudaError_t e = k::conv3x3_bias_relu(
            k::ConvUpConcat{skips[4 - u], side, side, c_skip, low, side / 2, side / 2, c}, c1, mid, nullptr))
      return e;
    if (cudaError_t e = k::conv3x3_bias_relu(k::ConvPlain{mid, side, side, c1.cout}, c2, ups[u - 1], nullptr)) return e;
    low = ups[u - 1];
    c = c2.cout;
  }
  return cudaSuccess;
}

void BM_UNetPair(benchmark::State& state) {
  const int s = int(state.range(0)), w = int(state.range(1));
  Buffers b;
  const UNet seg = make_unet(b, 1, 30, w), col = make_unet(b, k::kConvColorizerChannels, 3, w);
  const size_t pixels = size_t(s) * s;
  // Activations: the largest DoubleConv middle is w channels at s x s (inc, up4);
  // skips[d] = inc, down1..4 (w, 2w, 4w, 8w, 8w at s >> d); ups[u] = up1..4 (4w, 2w, w, w).
  float* mid = b.keep(device_zeros<float>(pixels * w));
  float* skips[5];
  float* ups[4];
  for (int d = 0; d <= 4; ++d) skips[d] = b.keep(device_zeros<float>((pixels >> (2 * d)) * std::min(1 << d, 8) * w));
  for (int u = 0; u < 4; ++u) ups[u] = b.keep(device_zeros<float>((pixels >> (2 * (3 - u))) * std::max(4 >> u, 1) * w));
  float* sketch = b.keep(to_device(random_floats(pixels, 3)));
  uint8_t* labels = b.keep(device_zeros<uint8_t>(pixels));
  float* colors = b.keep(to_device(random_floats(90, 4)));
  std::vector<uint8_t> active(30, 0);
  for (int r = 0; r < 5; ++r) active[r] = 1;
  uint8_t* dactive = b.keep(to_device(active));
  float* out = b.keep(device_zeros<float>(pixels * 3));
  run(state, unet_flop(seg, s) + unet_flop(col, s), [&]() -> cudaError_t {
    auto seg_in = [&](const k::ConvWeights& wt, float* dst) {
      return k::conv3x3_bias_relu(k::ConvPlain{sketch, s, s, 1}, wt, dst, nullptr);
    };
    if (cudaError_t e = run_unet(seg, s, seg_in, mid, skips, ups)) return e;
    if (cudaError_t e = k::conv1x1_argmax(k::ConvPlain{ups[3], s, s, w}, seg.convs.back(), labels, nullptr, nullptr))
      return e;
    auto col_in = [&](const k::ConvWeights& wt, float* dst) {
      return k::conv3x3_bias_relu(k::ConvColorizer{sketch, labels, colors, dactive, s, s, 0.0f}, wt, dst, nullptr);
    };
    if (cudaError_t e = run_unet(col, s, col_in, mid, skips, ups)) return e;
    return k::conv1x1_bias_tanh(k::ConvPlain{ups[3], s, s, w}, col.convs.back(), out, nullptr);
  });
}

BENCHMARK(BM_Conv3x3Plain)->Args({64, 64, 64, 64})->Args({128, 128, 64, 64})->Args({16, 16, 512, 512})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3MmaPlainFp16)->Args({64, 64, 64, 64})->Args({16, 16, 512, 512})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3MmaPlainBf16)->Args({64, 64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3MaxPool)->Args({64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3UpConcat)->Args({64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3Colorizer)->Args({64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv1x1Tanh)->Args({128, 128, 64, 3})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv1x1Argmax)->Args({128, 128, 64, 30})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UNetPair)->Args({128, 64})->Args({256, 64})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
