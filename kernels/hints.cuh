// Hint scatter: the colorizer's hint inputs from a label map and the hinted regions'
// colours (MODEL.md, function h; interactively the colours are the user's picks).
//
//   labels [H*W] uint8 region id; ids >= num_regions get no hint.
//   table  [num_regions][3] float colour of each region, RGB in [-1, 1].
//   active [num_regions] uint8, nonzero: the region has a hint.
//   C      [H*W][3] float = active[l] ? table[l] : 0   (pixel-interleaved, HWC)
//   M      [H*W] float    = active[l] ? 1 : 0
//
// Used for visualisation and to check the convolution's fused gather of the
// colorizer input, which computes the same values without materialising C and M.
#pragma once
#include "kernels/common.cuh"
#include "kernels/model_shape.h"

namespace GP_KERNEL_NS {

// colour and mask as above, for 1 <= num_regions <= 64 (else cudaErrorInvalidValue).
// table and active are device pointers.
cudaError_t hint_scatter(const uint8_t* labels, size_t pixels, int num_regions, const float* table,
                         const uint8_t* active, float* colour, float* mask, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
