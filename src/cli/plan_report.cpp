#include "src/cli/plan_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "src/common/error.h"
#include "src/engine/unet_plan.h"

namespace gp::cli {
namespace {

// Dense peak rates from the vendors' data sheets (no sparsity), SXM parts.
struct GpuSpec {
  const char* key;
  const char* name;
  int sms;
  double fp32_tflops;    // CUDA cores
  double fp16_tflops;    // tensor cores, fp16/bf16 in, fp32 accumulate
  double bandwidth_tbs;  // HBM
};
constexpr GpuSpec kGpus[] = {
    {"h200", "NVIDIA H200 SXM", 132, 67.0, 989.0, 4.8},
    {"h100", "NVIDIA H100 SXM", 132, 67.0, 989.0, 3.35},
    {"a100", "NVIDIA A100 SXM 80GB", 108, 19.5, 312.0, 2.04},
};

// The block tile of the fp32 kernels (and of the 1x1 heads): 64 pixels x 64 channels.
constexpr int kTileM = 64, kTileN = 64;

const char* gather_name(Gather g) {
  switch (g) {
    case Gather::Plain: return "plain";
    case Gather::MaxPool: return "maxpool";
    case Gather::UpConcat: return "upconcat";
    case Gather::Colorizer: return "colorizer";
  }
  return "?";
}

std::string kernel_name(const ConvStep& s, bool fp16) {
  if (s.epilogue == Epilogue::Argmax) return fp16 ? "conv1x1_argmax (16-bit in, fp32)" : "conv1x1_argmax (fp32)";
  if (s.epilogue == Epilogue::BiasTanh) return fp16 ? "conv1x1_bias_tanh (16-bit in, fp32)" : "conv1x1_bias_tanh (fp32)";
  return fp16 ? "conv3x3_mma_bias_relu (f16 mma)" : "conv3x3_bias_relu (fp32)";
}

struct Totals {
  double flops = 0, bytes = 0, seconds = 0;
  int launches = 0;
};

Totals print_unet(const UNetPlan& plan, const GpuSpec& gpu, bool fp16) {
  std::printf("\n%s, width %d, %d x %d:\n", plan.kind == UNetKind::Segmentator ? "segmentator" : "colorizer", plan.width,
              plan.w, plan.h);
  std::printf("%-12s %-36s %-9s %-15s %-9s %-11s %6s %9s %9s %7s %9s %s\n", "layer", "kernel", "gather", "out HxWxC",
              "tile", "grid", "fill", "GFLOP", "MB", "FLOP/B", "est. us", "bound");
  Totals t;
  for (const ConvStep& s : plan.steps) {
    const bool head = s.ksize == 1;
    const bool tensor = fp16 && !head;
    // The heads read 16-bit activations in the fp16 plan but compute in fp32.
    const int element = fp16 ? 2 : 4;
    const ConvMmaTileShape shape = tensor ? conv_mma_tile_shape(s.mma_tile) : ConvMmaTileShape{kTileM, kTileN};
    const unsigned gx = unsigned((size_t(s.out.h) * s.out.w + shape.m - 1) / shape.m);
    const unsigned gy = unsigned((s.cout + shape.n - 1) / shape.n);
    const double blocks = double(gx) * gy;
    const double fill = std::min(1.0, blocks / gpu.sms);
    const double peak = (tensor ? gpu.fp16_tflops : gpu.fp32_tflops) * 1e12 * fill;
    const double flops = s.flops(), bytes = s.bytes(element);
    // A tensor-core tile multiplies its padding too (cout below the tile's width, the last
    // partial row of blocks).
    const double padded = tensor ? blocks * shape.m * shape.n / (double(s.out.h) * s.out.w * s.cout) : 1.0;
    const double t_compute = flops * padded / peak, t_memory = bytes / (gpu.bandwidth_tbs * 1e12);
    const double seconds = std::max(t_compute, t_memory);
    char out[32], tile[16], grid[24];
    std::snprintf(out, sizeof out, "%dx%dx%d", s.out.h, s.out.w, s.out.c);
    if (tensor)
      std::snprintf(tile, sizeof tile, "%dx%dx32", shape.m, shape.n);
    else
      std::snprintf(tile, sizeof tile, "%dx%d", shape.m, shape.n);
    std::snprintf(grid, sizeof grid, "%ux%u", gx, gy);
    std::printf("%-12s %-36s %-9s %-15s %-9s %-11s %5.0f%% %9.3f %9.2f %7.1f %9.2f %s\n", s.name.c_str(),
                kernel_name(s, fp16).c_str(), gather_name(s.gather), out, tile, grid, 100 * fill, flops * 1e-9,
                bytes * 1e-6, flops / bytes, seconds * 1e6, t_compute >= t_memory ? "compute" : "memory");
    t.flops += flops;
    t.bytes += bytes;
    t.seconds += seconds;
    ++t.launches;
  }
  std::printf("%-12s %-36s %-9s %-15s %-9s %-11s %6s %9.3f %9.2f %7.1f %9.2f\n", "total", "", "", "", "", "", "",
              t.flops * 1e-9, t.bytes * 1e-6, t.flops / t.bytes, t.seconds * 1e6);
  return t;
}

}  // namespace

void print_plan_report(const PlanOptions& o) {
  const GpuSpec* gpu = nullptr;
  for (const GpuSpec& g : kGpus)
    if (o.gpu == g.key) gpu = &g;
  if (!gpu) throw Error("--gpu " + o.gpu + ": not a known GPU (h200, h100, a100)");
  if (o.precision != "fp32" && o.precision != "fp16" && o.precision != "bf16")
    throw Error("--precision " + o.precision + ": expected fp32, fp16 or bf16");
  const bool fp16 = o.precision != "fp32";
  std::printf("plan of one inference, %s, on %s (%d SMs, %.1f TFLOP/s fp32, %.0f TFLOP/s fp16/bf16 tensor, %.2f TB/s)\n",
              o.precision.c_str(), gpu->name, gpu->sms, gpu->fp32_tflops, gpu->fp16_tflops, gpu->bandwidth_tbs);
  std::printf("est. us = max(FLOP / (peak x fill), bytes / bandwidth): a roofline bound per launch, not a measurement;\n"
              "fill = blocks / SMs (capped at 100%%); a tensor-core tile's padding counts as work;\n"
              "bytes = sources once + weights + output.\n");
  const Totals seg = print_unet(plan_unet(UNetKind::Segmentator, o.width, o.h, o.w), *gpu, fp16);
  const Totals col = print_unet(plan_unet(UNetKind::Colorizer, o.width, o.h, o.w), *gpu, fp16);
  std::printf("\nsegmentation: %d conv launches, %.2f GFLOP, est. %.1f us\n", seg.launches, seg.flops * 1e-9, seg.seconds * 1e6);
  std::printf("colorize step: %d conv launches, %.2f GFLOP, est. %.1f us\n", col.launches, col.flops * 1e-9, col.seconds * 1e6);
}

}  // namespace gp::cli
