// One plan step (src/plan/unet_plan.h) on the kernel families: the choice of gather,
// epilogue and precision that Backend::pack_step and Backend::run_step make, written once
// and compiled for both targets (namespaces gp_cuda / gp_sim).
#pragma once

#include <cstdint>
#include <vector>

#include "src/backend/backend.h"

namespace GP_KERNEL_NS {

// Backend::pack_step: the step's weights packed for the kernel that run_conv_step launches.
std::vector<uint8_t> pack_conv_step(const gp::ConvStep& step, const float* weight, const float* bias, gp::Precision p);

// Backend::run_step: queues the step's launches on `stream`; on a failure returns its
// error and sets *what to the launch that failed.
cudaError_t run_conv_step(const gp::ConvStep& step, gp::Precision p, const void* packed, const gp::StepTensors& tensors,
                          const gp::StepScratch& scratch, cudaStream_t stream, const char** what);

}  // namespace GP_KERNEL_NS
