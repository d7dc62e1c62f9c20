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
//   BM_UNetPair/S/width   every conv of both U-Nets (the steps of src/plan/unet_plan.h) (segmentator 1 -> 30 with the
//   argmax
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
#include "src/plan/unet_plan.h"

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
  return {b.keep(to_device(k::conv_pack_weights(w.data(), cout, cin, ksize))),
          b.keep(to_device(random_floats(cout, 2))), cout, cin, ksize};
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
  run(state, conv_flop(h, w, cin, cout, 3), [&] {
    return k::conv3x3_bias_relu(k::ConvPlain{x, h, w, cin}, wt, out, nullptr);
  });
}

void BM_Conv3x3MaxPool(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), c = int(state.range(2));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(4) * h * w * c, 3)));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * c));
  const auto wt = make_weights(b, c, c, 3);
  run(state, conv_flop(h, w, c, c, 3), [&] {
    return k::conv3x3_bias_relu(k::ConvMaxPool{x, 2 * h, 2 * w, c}, wt, out, nullptr);
  });
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
  const auto wt = make_weights(b, cout, gp::kColorizerChannels, 3);
  run(state, conv_flop(h, w, gp::kColorizerChannels, cout, 3), [&] {
    return k::conv3x3_bias_relu(k::ConvColorizer{sketch, dlabels, colors, dactive, h, w, 0.0f}, wt, out, nullptr);
  });
}

void BM_Conv1x1Tanh(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cin = int(state.range(2)), cout = int(state.range(3));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(h) * w * cin, 3)));
  float* out = b.keep(device_zeros<float>(size_t(h) * w * cout));
  const auto wt = make_weights(b, cout, cin, 1);
  run(state, conv_flop(h, w, cin, cout, 1), [&] {
    return k::conv1x1_bias_tanh(k::ConvPlain{x, h, w, cin}, wt, out, nullptr);
  });
}

void BM_Conv1x1Argmax(benchmark::State& state) {
  const int h = int(state.range(0)), w = int(state.range(1)), cin = int(state.range(2)), cout = int(state.range(3));
  Buffers b;
  float* x = b.keep(to_device(random_floats(size_t(h) * w * cin, 3)));
  uint8_t* labels = b.keep(device_zeros<uint8_t>(size_t(h) * w));
  const auto wt = make_weights(b, cout, cin, 1);
  run(state, conv_flop(h, w, cin, cout, 1), [&] {
    return k::conv1x1_argmax(k::ConvPlain{x, h, w, cin}, wt, labels, nullptr, nullptr);
  });
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
  run(state, conv_flop(h, w, cin, cout, 3), [&] {
    return k::conv3x3_mma_bias_relu<T>(k::ConvPlainT<T>{dx, h, w, cin}, wt, out, nullptr);
  });
}
void BM_Conv3x3MmaPlainFp16(benchmark::State& state) { conv3x3_mma_plain<__half>(state); }
void BM_Conv3x3MmaPlainBf16(benchmark::State& state) { conv3x3_mma_plain<__nv_bfloat16>(state); }

// Both U-Nets as the engine runs them: the steps of src/plan/unet_plan.h, with random
// weights of each step's shape, launched straight on the kernels (no engine around them).
struct PlannedUNet {
  gp::UNetPlan plan;
  std::vector<k::ConvWeights> layers;  // by ConvStep::layer
};

PlannedUNet make_unet(Buffers& b, gp::UNetKind kind, int s, int w) {
  PlannedUNet net{gp::plan_unet(kind, w, s, s), std::vector<k::ConvWeights>(gp::kUNetLayers)};
  for (const gp::ConvStep& st : net.plan.steps) net.layers[st.layer] = make_weights(b, st.cout, st.cin, st.ksize);
  return net;
}

// The network's input and output, and the workspace buffers (by gp::Buffer).
struct UNetIo {
  const float* sketch;
  k::ConvColorizer colorizer;
  uint8_t* labels;
  float* out;
  float* buffers[gp::kBufferCount];
};

cudaError_t run_unet(const PlannedUNet& net, const UNetIo& io) {
  for (const gp::ConvStep& st : net.plan.steps) {
    const k::ConvWeights& wt = net.layers[st.layer];
    const float* in = st.in.buffer == gp::Buffer::Input ? io.sketch : io.buffers[int(st.in.buffer)];
    float* out = io.buffers[int(st.out.buffer)];
    const k::ConvPlain plain{in, st.in.h, st.in.w, st.in.c};
    cudaError_t e = cudaSuccess;
    if (st.epilogue == gp::Epilogue::Argmax) {
      e = k::conv1x1_argmax(plain, wt, io.labels, nullptr, nullptr);
    } else if (st.epilogue == gp::Epilogue::BiasTanh) {
      e = k::conv1x1_bias_tanh(plain, wt, io.out, nullptr);
    } else if (st.gather == gp::Gather::Plain) {
      e = k::conv3x3_bias_relu(plain, wt, out, nullptr);
    } else if (st.gather == gp::Gather::MaxPool) {
      e = k::conv3x3_bias_relu(k::ConvMaxPool{in, st.in.h, st.in.w, st.in.c}, wt, out, nullptr);
    } else if (st.gather == gp::Gather::UpConcat) {
      e = k::conv3x3_bias_relu(
          k::ConvUpConcat{in, st.in.h, st.in.w, st.in.c, io.buffers[int(st.low.buffer)], st.low.h, st.low.w, st.low.c},
          wt, out, nullptr);
    } else {
      e = k::conv3x3_bias_relu(io.colorizer, wt, out, nullptr);
    }
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

void BM_UNetPair(benchmark::State& state) {
  const int s = int(state.range(0)), w = int(state.range(1));
  Buffers b;
  const PlannedUNet seg = make_unet(b, gp::UNetKind::Segmentator, s, w),
                    col = make_unet(b, gp::UNetKind::Colorizer, s, w);
  const size_t pixels = size_t(s) * s;
  UNetIo io{};
  for (int i = 0; i < gp::kBufferCount; ++i) {
    const size_t n = std::max(seg.plan.buffer_elements(gp::Buffer(i)), col.plan.buffer_elements(gp::Buffer(i)));
    io.buffers[i] = n ? b.keep(device_zeros<float>(n)) : nullptr;
  }
  float* sketch = b.keep(to_device(random_floats(pixels, 3)));
  io.sketch = sketch;
  io.labels = b.keep(device_zeros<uint8_t>(pixels));
  float* colors = b.keep(to_device(random_floats(90, 4)));
  std::vector<uint8_t> active(30, 0);
  for (int r = 0; r < 5; ++r) active[r] = 1;
  io.colorizer = k::ConvColorizer{sketch, io.labels, colors, b.keep(to_device(active)), s, s, 0.0f};
  io.out = b.keep(device_zeros<float>(pixels * 3));
  run(state, seg.plan.flops() + col.plan.flops(), [&]() -> cudaError_t {
    if (cudaError_t e = run_unet(seg, io)) return e;
    return run_unet(col, io);
  });
}

BENCHMARK(BM_Conv3x3Plain)
    ->Args({64, 64, 64, 64})
    ->Args({128, 128, 64, 64})
    ->Args({16, 16, 512, 512})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Conv3x3MmaPlainFp16)
    ->Args({64, 64, 64, 64})
    ->Args({16, 16, 512, 512})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Conv3x3MmaPlainBf16)->Args({64, 64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3MaxPool)->Args({64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3UpConcat)->Args({64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3Colorizer)->Args({64, 64, 64})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv1x1Tanh)->Args({128, 128, 64, 3})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv1x1Argmax)->Args({128, 128, 64, 30})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UNetPair)->Args({128, 64})->Args({256, 64})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
