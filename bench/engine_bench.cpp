// The engine end to end: one U-Net run (UNetWorkspace::segment or ::colorize, every
// conv with its fused gather and head) on a synthetic sketch with random weights, on
// every backend this build and machine have:
//
//   build/bench/engine_bench [--benchmark_filter=...] [--benchmark_repetitions=n]
//
//   BM_Segment/<path>/size:<n>/width:<w>    segmentation U-Net (1 -> 30) + the fused argmax head
//   BM_Colorize/<path>/size:<n>/width:<w>   colorization U-Net (35-channel fused input -> 3, tanh):
//                                            the interactive step
//   path: sim         the gpusim simulator (always; one iteration per repetition:
//                     width 64 is ~80 GFLOP per U-Net, tens of seconds on the simulator)
//         sim_fp16, sim_bf16   the same in 16-bit (tensor-core 3x3 convs)
//         cuda        the fused kernels on the GPU (when there is one)
//         cuda_fp16, cuda_bf16 the 16-bit path on the GPU (sm_80 and later)
//         cudnn       the plan unfused on cuDNN, strict fp32 (GP_CUDNN builds, GPU only):
//                     the gathers written out, every conv a cuDNN call
//         cudnn_tf32  the same with TF32 tensor cores allowed
//         cudnn_fp16, cudnn_bf16   the same in 16-bit (cuDNN's 16-bit convs, fp32
//                     accumulation; the 1x1 heads on the engine's 16-bit head kernels)
//         <GPU path>_graph     the same run captured once as a CUDA graph and replayed
//   size: 256 (and 512 on a GPU), the working size n x n; width: 16 and 64 (64 is the
//   published model).
// Quick run: --benchmark_filter=width:16 (and e.g. --benchmark_filter='sim/size:256/width:16').
//
// Time: wall clock per run, as "manual time": std::chrono around the run and a
// synchronize on the simulator; CUDA events around the run on its stream on a GPU
// (after one untimed warm-up run, which is also when cuDNN picks its algorithms).
// Counters: ms (per run), GFLOP (per run, from the plan, src/plan/unet_plan.h:
// 2 * H * W * cin * cout * k * k summed over its convs; the padding a kernel multiplies
// is not counted), GFLOP/s = GFLOP / (ms / 1000); on a GPU the data sheet knows, also
// peak = the fraction of its dense peak for the path's arithmetic (fp32 CUDA cores,
// TF32 or fp16/bf16 tensor cores); on the simulator cpu_GFLOP/s: the same per CPU second
// of the whole process (all simulator workers), which depends less on the load of a
// shared machine.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "src/backend/select.h"
#include "src/engine/device_array.h"
#include "src/engine/unet.h"
#include "src/plan/unet_plan.h"
#include "src/weights/model_weights.h"
#if defined(GP_HAVE_CUDNN)
#include "tests/cudnn/cudnn_conv.h"
#include "tests/cudnn/materialized_backend.h"
#endif
#if defined(GP_BENCH_CUDA)
#include <cuda_runtime.h>
#endif

namespace {

using namespace gp;

constexpr int kTrainSize = 256;  // the synthetic model's training size
constexpr int kRegions = ModelConfig::kNumRegions;
constexpr int kColorizerChannels = 1 + 3 + 1 + kRegions;

// ---- synthetic model and inputs ----------------------------------------------------------

std::vector<float> uniform(size_t n, std::mt19937& rng, float a) {
  std::uniform_real_distribution<float> d(-a, a);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// He-uniform weights (activations stay of order 1 through the ReLUs: no denormals or
// overflow to distort the simulator's timing), small biases.
ConvLayer random_conv(const std::string& name, int cin, int cout, int ksize, bool relu, std::mt19937& rng) {
  ConvLayer l;
  l.name = name;
  l.cin = cin;
  l.cout = cout;
  l.ksize = ksize;
  const float fan_in = float(cin * ksize * ksize);
  l.weight = uniform(size_t(cout) * cin * ksize * ksize, rng, std::sqrt((relu ? 6.0f : 3.0f) / fan_in));
  l.bias = uniform(size_t(cout), rng, 0.05f);
  return l;
}

UNetWeights random_unet(const char* net, int in_channels, int classes, int width, std::mt19937& rng) {
  UNetWeights u;
  for (const UNetBlock& b : unet_blocks(in_channels, width)) {
    const std::string prefix = std::string(net) + "." + b.name;
    u.block(b.name).conv1 = random_conv(prefix + ".conv1", b.in, b.mid, 3, true, rng);
    u.block(b.name).conv2 = random_conv(prefix + ".conv2", b.mid, b.out, 3, true, rng);
  }
  u.outc = random_conv(std::string(net) + ".outc", width, classes, 1, false, rng);
  return u;
}

const ModelWeights& synthetic_model(int width) {
  static std::map<int, ModelWeights> cache;
  auto it = cache.find(width);
  if (it != cache.end()) return it->second;
  std::mt19937 rng(1234u + unsigned(width));
  ModelWeights m;
  m.config.width = width;
  m.config.num_regions = kRegions;
  m.config.seg_in_channels = 1;
  m.config.col_in_channels = kColorizerChannels;
  m.config.train_size = kTrainSize;
  m.config.center = 0.0f;
  m.segmentator = random_unet("segmentator", 1, kRegions, width, rng);
  m.colorizer = random_unet("colorizer", kColorizerChannels, 3, width, rng);
  return cache.emplace(width, std::move(m)).first->second;
}

// A line drawing in [-1, 1] at size x size: white paper, dark circles and strokes.
std::vector<float> synthetic_sketch(int size) {
  std::vector<float> x(size_t(size) * size, 1.0f);
  const float k = float(size) / 256.0f;
  const struct {
    float cx, cy, r;
  } circles[] = {{128, 128, 90}, {90, 100, 20}, {166, 100, 20}, {128, 170, 35}, {60, 210, 30}};
  for (int y = 0; y < size; ++y)
    for (int xx = 0; xx < size; ++xx) {
      float v = 1.0f;
      for (const auto& c : circles) {
        const float d = std::fabs(std::hypot(float(xx) - k * c.cx, float(y) - k * c.cy) - k * c.r);
        if (d < 1.5f * k) v = -1.0f;
      }
      if (std::abs(y - xx) < 1 || std::abs(float(y + xx) - 300.0f * k) < 1) v = -1.0f;
      x[size_t(y) * size + xx] = v;
    }
  return x;
}

// 30 rectangular regions (6 rows x 5 columns), the first 10 hinted.
std::vector<uint8_t> synthetic_labels(int size) {
  std::vector<uint8_t> l(size_t(size) * size);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) l[size_t(y) * size + x] = uint8_t((y * 6 / size) * 5 + x * 5 / size);
  return l;
}

// Dense peak rates (data sheets, SXM parts) of the GPUs named here, TFLOP/s.
struct Peak {
  double fp32, tf32, fp16;
};
bool known_peak(const std::string& name, Peak* p) {
  if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos) {
    *p = {67.0, 494.7, 989.4};
    return true;
  }
  if (name.find("A100") != std::string::npos) {
    *p = {19.5, 156.0, 312.0};
    return true;
  }
  return false;
}

// ---- the benchmark ---------------------------------------------------------------------------

enum class Net { Segment, Colorize };
enum class Path { Fused, FusedF16, FusedBf16, Cudnn, CudnnTf32, CudnnF16, CudnnBf16 };
Precision precision_of(Path p) {
  return p == Path::FusedF16 || p == Path::CudnnF16     ? Precision::Fp16
         : p == Path::FusedBf16 || p == Path::CudnnBf16 ? Precision::Bf16
                                                        : Precision::Fp32;
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

void BM_Engine(benchmark::State& state, Backend* backend, Net which, Path path, int width, int size, bool graph) {
  const ModelWeights& model = synthetic_model(width);
  const UNetWeights& weights = which == Net::Segment ? model.segmentator : model.colorizer;
  const size_t pixels = size_t(size) * size;
  const bool gpu = backend->kind() == DeviceKind::Cuda;

  std::vector<float> colors(size_t(kRegions) * 3);
  for (size_t i = 0; i < colors.size(); ++i) colors[i] = float(int(i * 37 % 19)) / 9.0f - 1.0f;
  std::vector<uint8_t> active(kRegions, 0);
  for (int r = 0; r < 10; ++r) active[size_t(r)] = 1;
  DeviceArray<float> x(*backend, synthetic_sketch(size), "sketch"), dcolors(*backend, colors, "colors");
  DeviceArray<uint8_t> labels(*backend, synthetic_labels(size), "labels"), dactive(*backend, active, "active");
  DeviceArray<uint8_t> out_labels(*backend, pixels, "labels out");
  DeviceArray<float> out_rgb(*backend, pixels * 3, "rgb out");
  const ColorizerInput input{x.get(), labels.get(), dcolors.get(), dactive.get(), size, size, model.config.center};

  // GPU runs go on a stream of their own, timed with events on it.
  struct StreamGuard {
    Backend* b;
    Stream s;
    ~StreamGuard() {
      if (s) b->destroy_stream(s);
    }
  } stream{backend, gpu ? backend->create_stream() : nullptr};

  // The fused paths run the plan on the backend; the cuDNN ones on the same plan with
  // every step unfused (tests/cudnn/materialized_backend.h).
  Backend* runner = backend;
#if defined(GP_HAVE_CUDNN)
  std::unique_ptr<CudnnConv> cudnn;
  std::unique_ptr<MaterializedBackend> unfused;
#endif
  if (path != Path::Fused && path != Path::FusedF16 && path != Path::FusedBf16) {
#if defined(GP_HAVE_CUDNN)
    cudnn = std::make_unique<CudnnConv>(*backend, path == Path::CudnnTf32);
    unfused = std::make_unique<MaterializedBackend>(*backend, MaterializedBackend::Convs::Cudnn, cudnn.get(),
                                                    plan_unet(UNetKind::Segmentator, width, size, size),
                                                    plan_unet(UNetKind::Colorizer, width, size, size));
    runner = unfused.get();
#else
    state.SkipWithError("built without GP_CUDNN");
    return;
#endif
  }
  const UploadedUNet net = upload_unet(
      *runner, weights, which == Net::Segment ? UNetKind::Segmentator : UNetKind::Colorizer, width, precision_of(path));
  UNetWorkspace workspace(*runner, width, size, size, precision_of(path));
  std::function<void()> run;
  if (which == Net::Segment)
    run = [&] { workspace.segment(*runner, net, x.get(), out_labels.get(), nullptr, stream.s); };
  else run = [&] { workspace.colorize(*runner, net, input, out_rgb.get(), stream.s); };

  DeviceGraph captured;
  double total_s = 0, total_cpu_s = 0;
  int64_t runs = 0;
  if (gpu) {
#if defined(GP_BENCH_CUDA)
    run();  // warm-up (cuDNN times and picks its algorithms here)
    backend->synchronize("warm-up", stream.s);
    if (graph) {
      backend->begin_capture(stream.s);
      try {
        run();
      } catch (...) {
        backend->abort_capture(stream.s);
        throw;
      }
      captured = DeviceGraph(*backend, backend->end_capture(stream.s));
      run = [&] { backend->launch_graph(captured.get(), stream.s); };
      run();
      backend->synchronize("graph warm-up", stream.s);
    }
    cudaEvent_t start = nullptr, stop = nullptr;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    const auto cs = static_cast<cudaStream_t>(stream.s);
    for (auto _ : state) {
      cudaEventRecord(start, cs);
      run();
      cudaEventRecord(stop, cs);
      cudaEventSynchronize(stop);
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      state.SetIterationTime(ms * 1e-3);
      total_s += ms * 1e-3;
      ++runs;
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    backend->synchronize("benchmark", stream.s);
#endif
  } else {
    for (auto _ : state) {
      const double cpu0 = process_cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      run();
      backend->synchronize("benchmark", stream.s);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      state.SetIterationTime(s);
      total_s += s;
      total_cpu_s += process_cpu_seconds() - cpu0;
      ++runs;
    }
  }
  if (runs == 0) return;
  const double gflop =
      plan_unet(which == Net::Segment ? UNetKind::Segmentator : UNetKind::Colorizer, width, size, size).flops() * 1e-9;
  const double rate = gflop * double(runs) / total_s;
  state.counters["GFLOP"] = gflop;
  state.counters["ms"] = 1e3 * total_s / double(runs);
  state.counters["GFLOP/s"] = rate;
  Peak peak{};
  if (gpu && known_peak(backend->name(), &peak)) {
    const double tflops = path == Path::CudnnTf32                 ? peak.tf32
                          : precision_of(path) != Precision::Fp32 ? peak.fp16
                                                                  : peak.fp32;
    state.counters["peak"] = rate * 1e-3 / tflops;
  }
  if (!gpu) state.counters["cpu_GFLOP/s"] = gflop * double(runs) / total_cpu_s;
  state.SetLabel(backend->name());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // Backends live for the whole run (paths share them).
  std::vector<std::unique_ptr<Backend>> backends;
  struct Entry {
    const char* name;
    Backend* backend;
    Path path;
  };
  std::vector<Entry> paths;
  backends.push_back(open_backend(Device::Simulator));
  paths.push_back({"sim", backends.back().get(), Path::Fused});
  paths.push_back({"sim_fp16", backends.back().get(), Path::FusedF16});
  paths.push_back({"sim_bf16", backends.back().get(), Path::FusedBf16});
  if (gp_cuda_backend::device_count() > 0) {
    backends.push_back(open_backend(Device::Cuda));
    paths.push_back({"cuda", backends.back().get(), Path::Fused});
    if (backends.back()->compute_capability() >= 80) {
      paths.push_back({"cuda_fp16", backends.back().get(), Path::FusedF16});
      paths.push_back({"cuda_bf16", backends.back().get(), Path::FusedBf16});
    }
#if defined(GP_HAVE_CUDNN)
    paths.push_back({"cudnn", backends.back().get(), Path::Cudnn});
    paths.push_back({"cudnn_tf32", backends.back().get(), Path::CudnnTf32});
    paths.push_back({"cudnn_fp16", backends.back().get(), Path::CudnnF16});
    if (backends.back()->compute_capability() >= 80)
      paths.push_back({"cudnn_bf16", backends.back().get(), Path::CudnnBf16});
#endif
  } else {
    std::fprintf(stderr, "engine_bench: no CUDA GPU, simulator only\n");
  }

  for (const Net net : {Net::Segment, Net::Colorize})
    for (const Entry& e : paths) {
      const bool sim = e.backend->kind() == DeviceKind::Simulator;
      for (const bool graph : {false, true}) {
        if (graph && sim) continue;  // a replay costs the simulator what the launches do
        for (const int size : {256, 512}) {
          if (size == 512 && sim) continue;
          for (const int width : {16, 64}) {
            const std::string name = std::string(net == Net::Segment ? "BM_Segment/" : "BM_Colorize/") + e.name +
                                     (graph ? "_graph" : "") + "/size:" + std::to_string(size) +
                                     "/width:" + std::to_string(width);
            auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_Engine, e.backend, net, e.path, width, size, graph);
            b->UseManualTime()->Unit(benchmark::kMillisecond);
            if (sim) b->Iterations(1);
          }
        }
      }
    }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
