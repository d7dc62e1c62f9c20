// What the gpusim simulator costs, and what a realistic kernel reaches on it.
//
//   build/bench/sim_bench [--benchmark_filter=...]   (GPUSIM_WORKERS=n sets the pool)
//
// * BM_SyncLoop/op/threads/blocks: blocks of `threads` threads each calling
//   __syncwarp (op 0) or __syncthreads (op 1) kSyncIters times.
//     ns_per_switch  = wall time / (threads * calls * blocks): the cost of one CUDA
//                      thread suspending at the rendezvous and another one resuming
//                      (one context switch plus the rendezvous bookkeeping);
//     ns_per_barrier = wall time / (calls * blocks): one __syncthreads of a whole block
//                      (op 1), or one __syncwarp of all its warps (op 0).
//     cpu_ns_per_*   = the same with the CPU time of the whole process instead of wall
//                      time: what the simulator costs regardless of what else runs on
//                      the machine.
//   With blocks > 1 the blocks run on all workers, so these are throughputs of the pool;
//   with one block they are the latency of one worker.
// * BM_Conv3x3<BK>: a shared-memory-tiled fp32 3x3 convolution written as an implicit
//   GEMM (M = output pixels, N = output channels, K = 9 * input channels): 128 x 128 x
//   64 NHWC input, 64 output channels, zero padding 1; 64 x 64 output tiles, 256 threads
//   each computing a 4 x 4 micro-tile, K in chunks of BK (32 is the configuration of
//   record; 16 and 64 show what barrier density costs) with two __syncthreads per chunk.
//   Its output is checked once against a plain CPU convolution in double before any
//   timing; a mismatch aborts the benchmark with an error. Items are FLOP
//   (2 * H * W * Cin * Cout * 9 per launch); GFLOP/s is per wall second,
//   GFLOP/s_per_cpu_s per CPU second of the process.
// * BM_TileGemm/batch: the tensor-core path: `batch` independent 64 x 64 x 64 fp16 GEMM
//   tiles (one block of 128 threads each, tests/sim/tile_gemm.cuh): cp.async with two
//   commit groups, ldmatrix x4 (.trans for B), mma.sync m16n8k16 with fp32 accumulators;
//   per tile 1024 cp.async, 64 ldmatrix and 128 mma.sync warp rendezvous, 4 barriers.
//   Checked once against a double CPU GEMM before timing; counters as for BM_Conv3x3.
#include <benchmark/benchmark.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tests/sim/tile_gemm.cuh"

namespace {

constexpr int kSyncIters = 2000;

__global__ void sync_loop(int op, int iters, int* sink) {
  int acc = int(threadIdx.x);
  if (op == 0) {
    for (int i = 0; i < iters; ++i) {
      __syncwarp();
      acc += i;
    }
  } else {
    for (int i = 0; i < iters; ++i) {
      __syncthreads();
      acc += i;
    }
  }
  if (acc == -1) *sink = acc;  // never true: keeps the loop
}

// ---- the convolution ----------------------------------------------------------------
constexpr int kBM = 64;  // output pixels per block tile
constexpr int kBN = 64;  // output channels per block tile
constexpr int kThreads = 256;

// in: [H][W][Cin], wgt: [3][3][Cin][Cout] (= K x N row-major), out: [H][W][Cout].
// kBK (K per chunk) input channels of one filter tap at a time: 16, 32 or 64.
// Requires Cin % kBK == 0, Cout % 64 == 0; H * W need not be a multiple of 64.
template <int kBK> __global__ void __launch_bounds__(kThreads)
    conv3x3_igemm(const float* __restrict__ in, const float* __restrict__ wgt, float* __restrict__ out, int H, int W,
                  int Cin, int Cout) {
  __shared__ __align__(16) float As[kBK][kBM];  // As[k][m]: im2col slice, K-major
  __shared__ __align__(16) float Bs[kBK][kBN];  // Bs[k][n]
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;  // micro-tile: pixels ty*4.., channels tx*4..
  const int m0 = blockIdx.x * kBM, n0 = blockIdx.y * kBN;
  const int HW = H * W;
  // Loaders: A is 64 pixels x kBK channels, B kBK x 64; kBK / 16 float4 each per thread.
  constexpr int kLoads = kBK / 16;
  constexpr int kVecPerPixel = kBK / 4;  // float4 per pixel of the A slice
  const int a_m = tid / kVecPerPixel, a_c = (tid % kVecPerPixel) * 4;
  const int b_k = tid / 16, b_n = (tid % 16) * 4;
  float acc[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;

  const int chunks_per_tap = Cin / kBK;
  const int chunks = 9 * chunks_per_tap;
  for (int kc = 0; kc < chunks; ++kc) {
    const int tap = kc / chunks_per_tap, c0 = (kc % chunks_per_tap) * kBK;
    const int dy = tap / 3 - 1, dx = tap % 3 - 1;
    for (int r = 0; r < kLoads; ++r) {
      const int m = a_m + r * (kThreads / kVecPerPixel);
      const int p = m0 + m;
      const int y = p / W + dy, x = p % W + dx;
      float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (p < HW && y >= 0 && y < H && x >= 0 && x < W)
        v = *reinterpret_cast<const float4*>(in + (size_t(y) * W + x) * Cin + c0 + a_c);
      As[a_c + 0][m] = v.x;
      As[a_c + 1][m] = v.y;
      As[a_c + 2][m] = v.z;
      As[a_c + 3][m] = v.w;
    }
    for (int r = 0; r < kLoads; ++r) {
      const int k = b_k + r * 16;
      *reinterpret_cast<float4*>(&Bs[k][b_n]) =
          *reinterpret_cast<const float4*>(wgt + size_t(kc * kBK + k) * Cout + n0 + b_n);
    }
    __syncthreads();
    for (int k = 0; k < kBK; ++k) {
      float a[4], b[4];
      for (int i = 0; i < 4; ++i) a[i] = As[k][ty * 4 + i];
      for (int j = 0; j < 4; ++j) b[j] = Bs[k][tx * 4 + j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; ++i) {
    const int p = m0 + ty * 4 + i;
    if (p < HW)
      *reinterpret_cast<float4*>(out + size_t(p) * Cout + n0 + tx * 4) =
          make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
  }
}

void conv3x3_reference(const std::vector<float>& in, const std::vector<float>& wgt, std::vector<double>& out, int H,
                       int W, int Cin, int Cout) {
  out.assign(size_t(H) * W * Cout, 0.0);
  std::vector<double> w(wgt.begin(), wgt.end());
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      double* o = &out[(size_t(y) * W + x) * Cout];
      for (int tap = 0; tap < 9; ++tap) {
        const int yy = y + tap / 3 - 1, xx = x + tap % 3 - 1;
        if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
        const float* src = &in[(size_t(yy) * W + xx) * Cin];
        for (int c = 0; c < Cin; ++c) {
          const double v = src[c];
          const double* wr = &w[(size_t(tap) * Cin + c) * Cout];
          for (int n = 0; n < Cout; ++n) o[n] += v * wr[n];
        }
      }
    }
}

std::string cuda_text(cudaError_t e, const char* what) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + last_error_message() + ")";
}

#define BENCH_CUDA(state, call)                              \
  do {                                                       \
    const cudaError_t err_ = (call);                         \
    if (err_ != cudaSuccess) {                               \
      (state).SkipWithError(cuda_text(err_, #call).c_str()); \
      return;                                                \
    }                                                        \
  } while (0)

// Wall time and CPU time of the whole process (all workers), in ns. The machine is
// shared, so wall time includes time other processes took; CPU time does not.
struct Clocks {
  double wall = 0, cpu = 0;
  static double process_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
  }
  std::chrono::steady_clock::time_point t0;
  double c0 = 0;
  void start() {
    c0 = process_cpu_ns();
    t0 = std::chrono::steady_clock::now();
  }
  void stop() {
    wall += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    cpu += process_cpu_ns() - c0;
  }
};

void BM_SyncLoop(benchmark::State& state) {
  const int op = int(state.range(0));
  const unsigned threads = unsigned(state.range(1));
  const unsigned blocks = unsigned(state.range(2));
  int* sink = nullptr;
  BENCH_CUDA(state, cudaMalloc(&sink, sizeof(int)));
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(blocks);
  cfg.blockDim = dim3(threads);
  Clocks clk;
  for (auto _ : state) {
    clk.start();
    BENCH_CUDA(state, cudaLaunchKernelEx(&cfg, sync_loop, op, kSyncIters, sink));
    BENCH_CUDA(state, cudaDeviceSynchronize());
    clk.stop();
  }
  cudaFree(sink);
  const double calls = double(state.iterations()) * kSyncIters * blocks;
  state.counters["ns_per_switch"] = clk.wall / (calls * threads);
  state.counters["ns_per_barrier"] = clk.wall / calls;
  state.counters["cpu_ns_per_switch"] = clk.cpu / (calls * threads);
  state.counters["cpu_ns_per_barrier"] = clk.cpu / calls;
  state.counters["workers"] = worker_count();
  state.SetLabel(op == 0 ? "__syncwarp" : "__syncthreads");
}
BENCHMARK(BM_SyncLoop)
    ->ArgNames({"op", "threads", "blocks"})
    ->Args({0, 32, 1})
    ->Args({0, 256, 1})
    ->Args({0, 1024, 1})
    ->Args({1, 256, 1})
    ->Args({1, 1024, 1})
    ->Args({1, 256, 8})
    ->Args({1, 1024, 8})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

template <int kBK> void BM_Conv3x3(benchmark::State& state) {
  const int H = 128, W = 128, Cin = 64, Cout = 64;
  const size_t in_n = size_t(H) * W * Cin, w_n = size_t(9) * Cin * Cout, out_n = size_t(H) * W * Cout;
  std::vector<float> h_in(in_n), h_w(w_n), h_out(out_n);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (auto& v : h_in) v = uni(rng);
  for (auto& v : h_w) v = uni(rng);
  float *d_in = nullptr, *d_w = nullptr, *d_out = nullptr;
  BENCH_CUDA(state, cudaMalloc(&d_in, in_n * sizeof(float)));
  BENCH_CUDA(state, cudaMalloc(&d_w, w_n * sizeof(float)));
  BENCH_CUDA(state, cudaMalloc(&d_out, out_n * sizeof(float)));
  BENCH_CUDA(state, cudaMemcpy(d_in, h_in.data(), in_n * sizeof(float), cudaMemcpyHostToDevice));
  BENCH_CUDA(state, cudaMemcpy(d_w, h_w.data(), w_n * sizeof(float), cudaMemcpyHostToDevice));
  BENCH_CUDA(state, cudaMemset(d_out, 0xff, out_n * sizeof(float)));  // NaN: unwritten outputs fail
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3((H * W + kBM - 1) / kBM, Cout / kBN);
  cfg.blockDim = dim3(kThreads);
  auto launch = [&] {
    return cudaLaunchKernelEx(&cfg, conv3x3_igemm<kBK>, static_cast<const float*>(d_in), static_cast<const float*>(d_w),
                              d_out, H, W, Cin, Cout);
  };

  // Checked once per chunk size, before any timing.
  static bool verified = false;
  if (!verified) {
    BENCH_CUDA(state, launch());
    BENCH_CUDA(state, cudaDeviceSynchronize());
    BENCH_CUDA(state, cudaMemcpy(h_out.data(), d_out, out_n * sizeof(float), cudaMemcpyDeviceToHost));
    std::vector<double> ref;
    conv3x3_reference(h_in, h_w, ref, H, W, Cin, Cout);
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < out_n; ++i) {
      const double d = std::fabs(double(h_out[i]) - ref[i]);
      if (!(d <= 1e-3 + 1e-4 * std::fabs(ref[i])) && bad++ == 0) first = i;
      if (d > worst || d != d) worst = d;
    }
    if (bad) {
      char msg[256];
      std::snprintf(msg, sizeof msg,
                    "conv3x3_igemm<%d> is wrong: %zu of %zu outputs differ from the CPU reference; first at "
                    "index %zu: %g vs %g",
                    kBK, bad, out_n, first, double(h_out[first]), ref[first]);
      state.SkipWithError(msg);
      return;
    }
    std::fprintf(stderr, "sim_bench: conv3x3_igemm<%d> matches the CPU reference (max abs error %.3g)\n", kBK, worst);
    verified = true;
  }

  Clocks clk;
  for (auto _ : state) {
    clk.start();
    BENCH_CUDA(state, launch());
    BENCH_CUDA(state, cudaDeviceSynchronize());
    clk.stop();
  }
  cudaFree(d_in);
  cudaFree(d_w);
  cudaFree(d_out);
  const double flop = 2.0 * H * W * Cin * Cout * 9;
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(flop));
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s_per_cpu_s"] = flop * double(state.iterations()) / clk.cpu;  // FLOP per CPU ns = GFLOP/s
  state.counters["barriers_per_block"] = 2.0 * 9 * Cin / kBK;
  state.counters["workers"] = worker_count();
}
// K chunk 32 is the configuration of record; 16 and 64 show what barrier density costs.
BENCHMARK_TEMPLATE(BM_Conv3x3, 32)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Conv3x3, 16)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Conv3x3, 64)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_TileGemm(benchmark::State& state) {
  const int M = 64, N = 64, K = 64, batch = int(state.range(0));
  std::vector<__half> h_a(size_t(batch) * M * K), h_b(size_t(batch) * K * N);
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (auto& v : h_a) v = __float2half_rn(uni(rng));
  for (auto& v : h_b) v = __float2half_rn(uni(rng));
  __half *d_a = nullptr, *d_b = nullptr;
  float* d_c = nullptr;
  const size_t c_n = size_t(batch) * M * N;
  BENCH_CUDA(state, cudaMalloc(&d_a, h_a.size() * sizeof(__half)));
  BENCH_CUDA(state, cudaMalloc(&d_b, h_b.size() * sizeof(__half)));
  BENCH_CUDA(state, cudaMalloc(&d_c, c_n * sizeof(float)));
  BENCH_CUDA(state, cudaMemcpy(d_a, h_a.data(), h_a.size() * sizeof(__half), cudaMemcpyHostToDevice));
  BENCH_CUDA(state, cudaMemcpy(d_b, h_b.data(), h_b.size() * sizeof(__half), cudaMemcpyHostToDevice));
  BENCH_CUDA(state, cudaMemset(d_c, 0xff, c_n * sizeof(float)));
  auto launch = [&] { return tile_gemm::launch<__half>(d_a, d_b, d_c, M, N, K, batch); };

  BENCH_CUDA(state, launch());
  BENCH_CUDA(state, cudaDeviceSynchronize());
  std::vector<float> h_c(c_n);
  BENCH_CUDA(state, cudaMemcpy(h_c.data(), d_c, c_n * sizeof(float), cudaMemcpyDeviceToHost));
  for (int z = 0; z < batch; ++z)
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        double ref = 0, mag = 0;
        for (int k = 0; k < K; ++k) {
          const double p = double(__half2float(h_a[(size_t(z) * M + m) * K + k])) *
                           double(__half2float(h_b[(size_t(z) * K + k) * N + n]));
          ref += p;
          mag += std::fabs(p);
        }
        const double got = h_c[(size_t(z) * M + m) * N + n];
        if (!(std::fabs(got - ref) <= (K + 1) * std::ldexp(mag, -23))) {
          char msg[160];
          std::snprintf(msg, sizeof msg, "tile GEMM is wrong at tile %d, C[%d][%d] = %g, expected %g", z, m, n, got,
                        ref);
          state.SkipWithError(msg);
          return;
        }
      }

  Clocks clk;
  for (auto _ : state) {
    clk.start();
    BENCH_CUDA(state, launch());
    BENCH_CUDA(state, cudaDeviceSynchronize());
    clk.stop();
  }
  cudaFree(d_a);
  cudaFree(d_b);
  cudaFree(d_c);
  const double flop = 2.0 * M * N * K * batch;
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(flop));
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s_per_cpu_s"] = flop * double(state.iterations()) / clk.cpu;
  state.counters["us_per_tile"] = clk.wall * 1e-3 / (double(state.iterations()) * batch);
  state.counters["workers"] = worker_count();
}
BENCHMARK(BM_TileGemm)->ArgName("batch")->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("gpusim_workers", std::to_string(worker_count()));
  benchmark::AddCustomContext("gpusim_schedule", schedule() == Schedule::Random ? "random" : "deterministic");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
