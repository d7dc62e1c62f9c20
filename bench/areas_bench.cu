// The closed-area kernels (kernels/areas.cuh) on the simulator, beside their CPU
// reference (kernels/areas_ref.h), on a drawing of strokes and circles:
//
//   build/bench/areas_bench [--benchmark_filter=...]   (GPUSIM_WORKERS=n sets the pool)
//
//   BM_LabelAreas/S           label_areas of an S x S drawing (six launches), Mpixel/s
//   BM_LabelAreasReference/S  the reference's breadth-first flood fill, one CPU thread
//   BM_AreaStats/S            area_stats with colour sums over the labels
// The kernels are checked against the reference by tests/kernels/areas_test.cu, not here.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/areas.cuh"
#include "kernels/areas_ref.h"

namespace {

namespace k = ::GP_KERNEL_NS;

// An S x S sketch: dark strokes and circles (radius 4..S/6) on white, reproducible.
std::vector<uint8_t> drawing(int size) {
  std::vector<uint8_t> rgb(size_t(size) * size * 3, 255);
  std::mt19937_64 rng{uint64_t(size)};
  const auto ink = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    uint8_t* p = &rgb[3 * (size_t(y) * size + x)];
    p[0] = p[1] = p[2] = 20;
  };
  const int strokes = std::max(8, size / 8);
  for (int i = 0; i < strokes; ++i) {
    const int x = int(rng() % size), y = int(rng() % size);
    if (i % 3 == 0) {
      const int r = 4 + int(rng() % std::max(1, size / 6));
      for (int a = 0; a < 8 * r; ++a)
        ink(x + int(std::lround(r * std::cos(a * 0.25 / r * 3.14159265))),
            y + int(std::lround(r * std::sin(a * 0.25 / r * 3.14159265))));
    } else {
      const int x1 = int(rng() % size), y1 = int(rng() % size), n = std::max(std::abs(x1 - x), std::abs(y1 - y));
      for (int t = 0; t <= n; ++t) ink(x + (x1 - x) * t / std::max(n, 1), y + (y1 - y) * t / std::max(n, 1));
    }
  }
  return rgb;
}

template <class T> T* device_copy(const std::vector<T>& host) {
  T* p = nullptr;
  cudaMalloc(&p, host.size() * sizeof(T));
  cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  return p;
}

void set_pixel_rate(benchmark::State& state, int size) {
  state.counters["Mpixel/s"] =
      benchmark::Counter(double(size) * size * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_LabelAreas(benchmark::State& state) {
  const int size = int(state.range(0));
  const std::vector<uint8_t> rgb = drawing(size);
  uint8_t* d_rgb = device_copy(rgb);
  int32_t *labels = nullptr, *count = nullptr;
  void* scratch = nullptr;
  cudaMalloc(&labels, size_t(size) * size * sizeof(int32_t));
  cudaMalloc(&count, sizeof(int32_t));
  cudaMalloc(&scratch, k::label_areas_scratch_bytes(size, size));
  for (auto _ : state) {
    if (k::label_areas(d_rgb, size, size, gp::kDefaultLineThreshold, labels, count, scratch, nullptr) != cudaSuccess)
      state.SkipWithError("label_areas failed");
    cudaDeviceSynchronize();
  }
  int32_t areas = 0;
  cudaMemcpy(&areas, count, sizeof(areas), cudaMemcpyDeviceToHost);
  state.counters["areas"] = areas;
  set_pixel_rate(state, size);
  cudaFree(scratch);
  cudaFree(count);
  cudaFree(labels);
  cudaFree(d_rgb);
}

void BM_LabelAreasReference(benchmark::State& state) {
  const int size = int(state.range(0));
  const std::vector<uint8_t> rgb = drawing(size);
  std::vector<int32_t> labels(size_t(size) * size);
  int32_t areas = 0;
  for (auto _ : state) {
    areas = gp::ref::label_areas(rgb.data(), size, size, gp::kDefaultLineThreshold, labels.data());
    benchmark::DoNotOptimize(labels.data());
  }
  state.counters["areas"] = areas;
  set_pixel_rate(state, size);
}

void BM_AreaStats(benchmark::State& state) {
  const int size = int(state.range(0));
  const std::vector<uint8_t> rgb = drawing(size);
  std::vector<int32_t> labels(size_t(size) * size);
  const int32_t areas = gp::ref::label_areas(rgb.data(), size, size, gp::kDefaultLineThreshold, labels.data());
  uint8_t* d_rgb = device_copy(rgb);
  int32_t* d_labels = device_copy(labels);
  gp::AreaStats* stats = nullptr;
  cudaMalloc(&stats, size_t(std::max(areas, 1)) * sizeof(gp::AreaStats));
  for (auto _ : state) {
    if (k::area_stats(d_labels, d_rgb, size, size, areas, stats, nullptr) != cudaSuccess)
      state.SkipWithError("area_stats failed");
    cudaDeviceSynchronize();
  }
  state.counters["areas"] = areas;
  set_pixel_rate(state, size);
  cudaFree(stats);
  cudaFree(d_labels);
  cudaFree(d_rgb);
}

}  // namespace

BENCHMARK(BM_LabelAreas)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LabelAreasReference)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AreaStats)->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
