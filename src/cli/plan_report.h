// `guidingpainter plan`: the static per-layer plan of both U-Nets at a working size
// (src/plan/unet_plan.h), with each layer's kernel, tile, grid, FLOPs, bytes and a
// roofline estimate for a named GPU.
#pragma once

#include <string>

namespace gp::cli {

struct PlanOptions {
  int width = 64;
  int h = 256, w = 256;
  std::string gpu = "h200";        // h200, h100, a100
  std::string precision = "fp32";  // fp32 or fp16 (the tensor-core 3x3 kernels)
};

// Prints the report on stdout; throws gp::Error for an unknown GPU or precision.
void print_plan_report(const PlanOptions& options);

}  // namespace gp::cli
