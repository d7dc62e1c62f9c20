// The colorizer's first-layer input written out once, for the tensor-core conv:
// out [h][w][40] in fp16 or bf16 = the 35 channels of kernels/gathers.cuh's
// colorizer_channel ([sketch, hint colour (3), hint mask - center, one-hot(label) - center
// (30)]), each rounded once to T, then 5 zero channels.
//
// Why: 35 channels are not a multiple of 8, so the conv's gather had to form its input
// element by element (61-115 SASS instructions per MMA on sm_90, the colorize step's
// costliest layer in the plan's model). Written out here, padded to 40, the first conv is a
// plain vector conv (cp.async copies) with weights packed for cin = 40, the extra
// channels' weights zero: the same products as the fused gather's plus exact zeros.
//
// Requirements: device pointers; out 16-byte aligned.
// CPU reference: gp::ref::colorizer_input (kernels/conv_ref.h), rounded to T.
#pragma once
#include "kernels/conv_mma.cuh"

namespace GP_KERNEL_NS {

constexpr int kColorizerInputChannels16 = gp::kConvMmaColorizerChannels;
static_assert(kColorizerInputChannels16 % 8 == 0 && kColorizerInputChannels16 - gp::kColorizerChannels < 8);

template <class T> cudaError_t colorizer_input16(const ConvColorizerMma& in, T* out, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
