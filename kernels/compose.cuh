// The colorization brought to the sketch's resolution on the device: the network's
// 8-bit colours at the working size w x h resampled to the sketch's W x H and, with
// keep_lines, multiplied by the sketch's grey (its lines stay black and crisp), as
// uint8 RGB. Only this output crosses PCIe.
//
// The same arithmetic, bit for bit, as the host path gp::compose_output
// (src/image/resize.cpp, its CPU reference): per axis area averaging when shrinking,
// bilinear (align_corners = False) when enlarging, a copy at the same size; the
// horizontal pass's value rounded to float, the vertical pass summed in double and
// rounded to float, then round(colour * grey / 255) with grey = 0.299 R + 0.587 G +
// 0.114 B in double. Every product and sum is an explicitly rounded IEEE operation
// (no fused multiply-add), so nvcc and the host compiler agree.
#pragma once
#include "kernels/common.cuh"

namespace GP_KERNEL_NS {

// colours [h][w][3], sketch [H][W][3], out [H][W][3]; every pointer a device pointer.
// cudaErrorInvalidValue (nothing launched) for a non-positive size or a null pointer.
cudaError_t compose_rgb8(const uint8_t* colours, int w, int h, const uint8_t* sketch, int W, int H, bool keep_lines,
                         uint8_t* out, cudaStream_t stream);

}  // namespace GP_KERNEL_NS
