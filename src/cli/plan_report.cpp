#include "src/cli/plan_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "src/common/error.h"
#include "src/plan/unet_plan.h"

namespace gp::cli {
namespace {

// Dense peak rates from the vendors' data sheets (no sparsity), SXM parts, and the boost
// clock the SM runs at under load.
struct GpuSpec {
  const char* key;
  const char* name;
  int sms;
  double fp32_tflops;    // CUDA cores
  double fp16_tflops;    // tensor cores, fp16/bf16 in, fp32 accumulate
  double bandwidth_tbs;  // HBM
  double clock_ghz;
  int smem_per_sm_kb;  // shared memory a block may use, per SM
};
constexpr GpuSpec kGpus[] = {
    {"h200", "NVIDIA H200 SXM", 132, 67.0, 989.0, 4.8, 1.98, 227},
    {"h100", "NVIDIA H100 SXM", 132, 67.0, 989.0, 3.35, 1.98, 227},
    {"a100", "NVIDIA A100 SXM 80GB", 108, 19.5, 312.0, 2.04, 1.41, 163},
};

// The model's calibration constants, in one place. None is measured yet: each is a
// stated assumption, to be refitted from the first GPU measurement (gpu-carry/run.sh's
// engine_bench and ncu numbers against the per-layer estimates below).
struct Calibration {
  // mma.sync m16n8k16 reaches this fraction of the data sheet's dense tensor peak (the
  // peak is quoted for Hopper's wgmma; the legacy warp-level MMA runs at roughly 2/3).
  double mma_sync_fraction = 0.65;
  // Executed over static instructions in a K step: the vector gathers take one of two
  // paths a step (copy or compute), the static count holds both.
  double executed_fraction = 0.8;
  // One warp's K step when nothing hides it: wait for the stage, the block barrier, the
  // ldmatrix loads and the dependent MMAs behind them.
  double k_step_latency_cycles = 160;
  // A kernel node of a replayed CUDA graph, launch to launch.
  double node_us = 1.5;
  // Split K: the last block of a tile reads the other splits' partials (from L2) before
  // its epilogue, a dependent round trip after its own K loop.
  double split_epilogue_cycles = 600;
  // Of the HBM peak, what a streaming kernel gets.
  double memory_fraction = 0.8;
};
constexpr Calibration kCalibration{};

// The block tile of the fp32 kernels (and of the 1x1 heads): 64 pixels x 64 channels.
constexpr int kTileM = 64, kTileN = 64;
constexpr int kThreads = 128, kStages = 3, kChunkK = 32;

// The SASS counts of one tensor-core kernel (bench/sass_baseline.json, sm_90).
struct KernelCounts {
  int registers = 0;
  double instructions_per_mma = 0;
};

const std::map<std::string, KernelCounts>& sass_counts() {
  static const std::map<std::string, KernelCounts> counts = [] {
    std::map<std::string, KernelCounts> m;
    const nlohmann::json j = nlohmann::json::parse(
#include "sass_counts.inc"
    );
    for (const auto& [key, k] : j.at("kernels").items())
      if (k.contains("instructions_per_mma"))
        m[k.at("label").get<std::string>()] = {k.at("registers").get<int>(),
                                               k.at("instructions_per_mma").get<double>()};
    return m;
  }();
  return counts;
}

const char* gather_name(Gather g) {
  switch (g) {
    case Gather::Plain: return "plain";
    case Gather::MaxPool: return "maxpool";
    case Gather::UpConcat: return "upconcat";
    case Gather::Colorizer: return "colorizer";
  }
  return "?";
}

// The label tools/sass_report.py gives the kernel a tensor-core step runs.
std::string kernel_label(const ConvStep& s, bool bf16) {
  // The colorizer's input is written out padded to mma_cin channels and read by a plain
  // vector conv (the backend's conv3x3_relu_colorizer16).
  const bool first = s.gather == Gather::Plain && s.in.buffer == Buffer::Input;  // the segmentator's fp32 sketch
  const bool vector = mma_vector_gather(s);
  // A vector up-concat step runs as the upsample written out and a conv gathering by copies
  // (the backend's conv3x3_relu_up16).
  const char* gather = first                          ? "FloatPlain"
                       : s.gather == Gather::MaxPool  ? "MaxPool"
                       : s.gather == Gather::UpConcat ? (vector ? "Concat" : "UpConcat")
                                                      : "Plain";
  const ConvMmaTileShape t = conv_mma_tile_shape(s.mma.tile);
  return std::string(gather) + (bf16 ? "<bf16> " : "<half> ") + std::to_string(t.m) + "x" + std::to_string(t.n) +
         (vector ? " vector" : " per element") + (s.mma.splits > 1 ? " split-K" : "");
}

std::string kernel_name(const ConvStep& s, bool fp16) {
  if (s.epilogue == Epilogue::Argmax) return fp16 ? "conv1x1_argmax (16-bit in)" : "conv1x1_argmax (fp32)";
  if (s.epilogue == Epilogue::BiasTanh) return fp16 ? "conv1x1_bias_tanh (16-bit in)" : "conv1x1_bias_tanh (fp32)";
  return fp16 ? "conv3x3_mma_bias_relu" : "conv3x3_bias_relu (fp32)";
}

// One launch's estimate: the roofline bound and, for a tensor-core kernel, the bounds of
// its K loop's instruction issue, its tensor-core work and one warp's latency per K step,
// over the waves that its occupancy gives.
struct Estimate {
  double roofline = 0, issue = 0, tensor = 0, latency = 0, seconds = 0;
  int blocks_per_sm = 0;
  double waves = 0;
  const char* bound = "";
};

Estimate estimate(const ConvStep& s, const GpuSpec& gpu, bool fp16, bool bf16, double* flops_out, double* bytes_out) {
  const Calibration& c = kCalibration;
  const bool head = s.ksize == 1;
  const bool tensor = fp16 && !head;
  const int element = fp16 ? 2 : 4;  // the heads read 16-bit activations in the 16-bit plan but compute in fp32
  const ConvMmaTileShape shape = tensor ? conv_mma_tile_shape(s.mma.tile) : ConvMmaTileShape{kTileM, kTileN};
  const double tiles = std::ceil(double(s.out.h) * s.out.w / shape.m) * std::ceil(double(s.cout) / shape.n);
  const int splits = tensor ? s.mma.splits : 1;
  const double blocks = tiles * splits;
  const double flops = s.flops();
  double bytes = s.bytes(element);
  // Split K: every split block stores its tile's fp32 partials, the last reads the others'.
  if (splits > 1) bytes += (2.0 * splits - 1) * tiles * shape.m * shape.n * 4;
  // The 16-bit up-concat writes its upsampled input out first (another launch, memory-bound)
  // and its conv reads that instead of the low-resolution tensor.
  const std::string label = tensor ? kernel_label(s, bf16) : std::string();
  const bool written_up = tensor && s.gather == Gather::UpConcat && label.rfind("Concat", 0) == 0;
  double before = 0;
  if (written_up) {
    const double low = double(s.low.elements()) * element, up = double(s.out.h) * s.out.w * s.low.c * element;
    before = (low + up) / (gpu.bandwidth_tbs * 1e12 * c.memory_fraction) + c.node_us * 1e-6;
    bytes += up - low;
  }
  // The 16-bit colorizer's input is written out first (sketch fp32 and labels in, mma_cin
  // 16-bit channels out) and its conv reads that instead.
  if (tensor && s.gather == Gather::Colorizer) {
    const double pixels = double(s.out.h) * s.out.w, sources = pixels * 5, written = pixels * s.mma_cin * element;
    before = (sources + written) / (gpu.bandwidth_tbs * 1e12 * c.memory_fraction) + c.node_us * 1e-6;
    bytes += written - sources;
  }
  *flops_out = flops;
  *bytes_out = bytes;
  Estimate e;
  const double t_memory = bytes / (gpu.bandwidth_tbs * 1e12 * c.memory_fraction);
  // A tensor-core tile multiplies its padding too (cout below the tile's width, a last
  // partial row); the fp32 kernels' threads skip theirs.
  const double padded = tensor ? tiles * shape.m * shape.n / (double(s.out.h) * s.out.w * s.cout) : 1.0;
  const double fill = std::min(1.0, blocks / gpu.sms);
  const double peak = (tensor ? gpu.fp16_tflops * c.mma_sync_fraction : gpu.fp32_tflops) * 1e12 * fill;
  e.roofline = std::max(t_memory, flops * padded / peak);
  e.seconds = e.roofline;
  e.bound = t_memory >= flops * padded / peak ? "memory" : "compute";
  if (tensor) {
    const auto it = sass_counts().find(label);
    if (it != sass_counts().end()) {
      const KernelCounts& k = it->second;
      // Occupancy: registers (allocated in 8s, 64K a SM), shared memory, 16 blocks of 4 warps.
      const int regs = (std::max(k.registers, 1) + 7) / 8 * 8;
      const int smem = kStages * (shape.m + shape.n) * kChunkK * 2;
      e.blocks_per_sm = std::max(1, std::min({65536 / (regs * kThreads), gpu.smem_per_sm_kb * 1024 / smem, 16}));
      const double per_sm = std::ceil(blocks / gpu.sms);                  // blocks the busiest SM runs
      const double resident = std::min<double>(e.blocks_per_sm, per_sm);  // at once
      e.waves = std::ceil(per_sm / e.blocks_per_sm);
      // Each block has one warp on each of the SM's 4 schedulers; per K step a warp issues
      // (instructions per MMA x its MMAs) and its sub-partition's tensor core runs its MMAs.
      const double k_steps = std::ceil(double(conv_mma_k_chunks(s.mma_cin)) / splits);  // per block
      const double mma_per_step = double(shape.m) * shape.n * kChunkK / (16.0 * 8 * 16) / 4;
      const double mma_cycles =
          4096.0 * gpu.sms * 4 * gpu.clock_ghz * 1e9 / (gpu.fp16_tflops * 1e12 * c.mma_sync_fraction);
      const double hz = gpu.clock_ghz * 1e9;
      e.issue = e.waves * resident * k_steps * mma_per_step * k.instructions_per_mma * c.executed_fraction / hz;
      e.tensor = e.waves * resident * k_steps * mma_per_step * mma_cycles / hz;
      e.latency = e.waves * (k_steps * c.k_step_latency_cycles + (splits > 1 ? c.split_epilogue_cycles : 0)) / hz;
      const double core = std::max({e.issue, e.tensor, e.latency});
      if (core > e.seconds) {
        e.seconds = core;
        e.bound = core == e.issue ? "issue" : core == e.tensor ? "tensor" : "latency";
      }
    }
  }
  e.seconds += c.node_us * 1e-6 + before;
  e.roofline += before;
  return e;
}

struct Totals {
  double flops = 0, bytes = 0, seconds = 0, roofline = 0;
  int launches = 0;
};

Totals print_unet(const UNetPlan& plan, const GpuSpec& gpu, bool fp16, bool bf16) {
  std::printf("\n%s, width %d, %d x %d:\n", plan.kind == UNetKind::Segmentator ? "segmentator" : "colorizer",
              plan.width, plan.w, plan.h);
  std::printf("%-12s %-30s %-9s %-13s %-8s %-9s %7s %8s %5s %5s %8s %8s %8s %8s %8s %s\n", "layer", "kernel", "gather",
              "out HxWxC", "tile", "grid", "GFLOP", "MB", "blk/SM", "waves", "roof us", "issue us", "tensor", "latency",
              "est. us", "bound");
  Totals t;
  int splits = 1;
  for (const ConvStep& s : plan.steps) {
    double flops = 0, bytes = 0;
    const Estimate e = estimate(s, gpu, fp16, bf16, &flops, &bytes);
    const bool tensor = fp16 && s.ksize == 3;
    const ConvMmaTileShape shape = tensor ? conv_mma_tile_shape(s.mma.tile) : ConvMmaTileShape{kTileM, kTileN};
    const unsigned gx = unsigned((size_t(s.out.h) * s.out.w + shape.m - 1) / shape.m);
    const unsigned gy = unsigned((s.cout + shape.n - 1) / shape.n);
    splits = std::max(splits, tensor ? s.mma.splits : 1);
    char out[48], tile[32], grid[32], occupancy[16] = "-", waves[32] = "-", issue[32] = "-", tensor_us[32] = "-",
                                      latency[32] = "-";
    std::snprintf(out, sizeof out, "%dx%dx%d", s.out.h, s.out.w, s.out.c);
    std::snprintf(tile, sizeof tile, "%dx%d", shape.m, shape.n);
    if (tensor && s.mma.splits > 1) std::snprintf(grid, sizeof grid, "%ux%ux%d", gx, gy, s.mma.splits);
    else std::snprintf(grid, sizeof grid, "%ux%u", gx, gy);
    if (e.blocks_per_sm > 0) {
      std::snprintf(occupancy, sizeof occupancy, "%d", e.blocks_per_sm);
      std::snprintf(waves, sizeof waves, "%.0f", e.waves);
      std::snprintf(issue, sizeof issue, "%.2f", e.issue * 1e6);
      std::snprintf(tensor_us, sizeof tensor_us, "%.2f", e.tensor * 1e6);
      std::snprintf(latency, sizeof latency, "%.2f", e.latency * 1e6);
    }
    std::printf("%-12s %-30s %-9s %-13s %-8s %-9s %7.3f %8.2f %5s %5s %8.2f %8s %8s %8s %8.2f %s\n", s.name.c_str(),
                kernel_name(s, fp16).c_str(), gather_name(s.gather), out, tile, grid, flops * 1e-9, bytes * 1e-6,
                occupancy, waves, e.roofline * 1e6, issue, tensor_us, latency, e.seconds * 1e6, e.bound);
    t.flops += flops;
    t.bytes += bytes;
    t.seconds += e.seconds;
    t.roofline += e.roofline;
    ++t.launches;
  }
  if (splits > 1) {  // the split-K tile counters are cleared once a run: a memset node
    const double node = kCalibration.node_us * 1e-6;
    std::printf("%-12s %-30s %-9s %-13s %-8s %-9s %7.3f %8.2f %5s %5s %8.2f %8s %8s %8s %8.2f %s\n", "split.clear",
                "memset (split-K counters)", "-", "-", "-", "-", 0.0, 0.0, "-", "-", 0.0, "-", "-", "-", node * 1e6,
                "node");
    t.seconds += node;
  }
  std::printf("%-12s %-30s %-9s %-13s %-8s %-9s %7.3f %8.2f %5s %5s %8.2f %8s %8s %8s %8.2f\n", "total", "", "", "", "",
              "", t.flops * 1e-9, t.bytes * 1e-6, "", "", t.roofline * 1e6, "", "", "", t.seconds * 1e6);
  return t;
}

}  // namespace

void print_plan_report(const PlanOptions& o) {
  const GpuSpec* gpu = nullptr;
  for (const GpuSpec& g : kGpus)
    if (o.gpu == g.key) gpu = &g;
  if (!gpu) throw Error(ErrorKind::Argument, "--gpu " + o.gpu + ": not a known GPU (h200, h100, a100)");
  if (o.precision != "fp32" && o.precision != "fp16" && o.precision != "bf16")
    throw Error(ErrorKind::Argument, "--precision " + o.precision + ": expected fp32, fp16 or bf16");
  const bool fp16 = o.precision != "fp32", bf16 = o.precision == "bf16";
  const Calibration& c = kCalibration;
  std::printf(
      "plan of one inference, %s, on %s (%d SMs at %.2f GHz, %.1f TFLOP/s fp32, %.0f TFLOP/s fp16/bf16 tensor, "
      "%.2f TB/s)\n",
      o.precision.c_str(), gpu->name, gpu->sms, gpu->clock_ghz, gpu->fp32_tflops, gpu->fp16_tflops, gpu->bandwidth_tbs);
  std::printf(
      "A model, not a measurement. Per launch: roof = max(FLOP x tile padding / (tensor peak x %.2f x fill), bytes /\n"
      "(bandwidth x %.2f)); for a tensor-core 3x3 conv also, over the waves its occupancy gives (blk/SM from its\n"
      "sm_90 registers and shared memory), issue = its K loop's SASS instructions per MMA (bench/sass_baseline.json)\n"
      "x %.2f executed x its MMAs / 4 schedulers, tensor = its MMAs at that peak, latency = %.0f cycles a K step\n"
      "for one warp (grid AxBxS: K split over S blocks, each with 1/S of the K steps, the last of a tile reading\n"
      "the others' fp32 partials: their bytes, and %.0f cycles more); est. = the largest + %.1f us a graph node\n"
      "(the upsample of an up-concat and the colorizer's input, written out first, are a node more and their\n"
      "bytes). The constants are assumptions in one place (src/cli/plan_report.cpp, Calibration), to be refitted\n"
      "from the first GPU measurement.\n",
      c.mma_sync_fraction, c.memory_fraction, c.executed_fraction, c.k_step_latency_cycles, c.split_epilogue_cycles,
      c.node_us);
  const Totals seg = print_unet(plan_unet(UNetKind::Segmentator, o.width, o.h, o.w), *gpu, fp16, bf16);
  const Totals col = print_unet(plan_unet(UNetKind::Colorizer, o.width, o.h, o.w), *gpu, fp16, bf16);
  // A colorize step's graph also uploads the hint table, composes the picture and
  // downloads it: three nodes more.
  const double step = col.seconds + 3 * c.node_us * 1e-6;
  std::printf("\nsegmentation: %d conv launches, %.2f GFLOP, roofline %.1f us, est. %.1f us\n", seg.launches,
              seg.flops * 1e-9, seg.roofline * 1e6, seg.seconds * 1e6);
  std::printf(
      "colorize step: %d conv launches, %.2f GFLOP, roofline %.1f us, est. %.1f us (with the hint upload, the "
      "picture's composition and its download)\n",
      col.launches, col.flops * 1e-9, col.roofline * 1e6, step * 1e6);
}

}  // namespace gp::cli
