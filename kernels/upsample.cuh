// The decoder's upsampled input written out once: out [h][w][c] = the x2 bilinear
// upsample (align_corners=True) of low [hl][wl][c], zero-padded to h x w (half the padding
// on top and left, as kernels/conv.cuh's up-concat gather), in fp16 or bf16.
//
// Why not only fused: the tensor-core conv's fused up-concat gather recomputes this blend
// for each of the 9 taps and each block of output channels, and the SASS shows it costs far
// more issue slots than the tensor cores' work (bench/RESULTS.md); written once here, the
// conv after it gathers by copies (conv_mma.cuh's ConvConcatT).
//
// Numerics: the fused gather's formula (kernels/gathers.cuh, in fp32, rounded once to T),
// so a conv over this tensor sees the same bits as the fused gather gives it (as long as
// the compiler contracts lerp2 into FMAs alike in both kernels: tests/kernels/conv_mma_test
// compares the two convs' outputs bit for bit).
// Requirements: device pointers, 16-byte aligned, c a multiple of 8, 2 hl <= h, 2 wl <= w.
// CPU reference: gp::ref::upsample2_pad_concat (kernels/conv_ref.h) with no skip channels.
#pragma once
#include "kernels/common.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace GP_KERNEL_NS {

template <class T>
cudaError_t upsample2x_pad(const T* low, int hl, int wl, int c, T* out, int h, int w, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
