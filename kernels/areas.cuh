// Closed areas of a sketch: the line art thresholded into line / non-line pixels and
// every 4-connected set of non-line pixels labelled as one area, all on the device
// (union-find over pixel indices, no host round trip). Then per-area statistics, each
// area's majority segmentation region, the working-size labels with chosen areas given
// their own channel (point hints) and a picture painting each area one colour (flats).
//
//   rgb     [H][W][3] uint8, the sketch at its original size.
//   labels  [H][W] int32: kLinePixel (-1) where grey = 0.299 R + 0.587 G + 0.114 B is
//           below `threshold`, else the area id 0..n-1. Ids are numbered in raster
//           order of each area's first pixel (row-major), so every run, every block
//           schedule and the CPU reference (areas_ref.h) agree exactly.
//
// Nearest sampling between the original size W x H and the working size w x h is
// gp::nearest_index (areas_ref.h), in both directions.
#pragma once
#include "kernels/area_rules.h"
#include "kernels/common.cuh"

namespace GP_KERNEL_NS {

// Device scratch label_areas needs for a W x H sketch.
size_t label_areas_scratch_bytes(int width, int height);

// labels and *num_areas (one device int32) of the sketch. scratch: at least
// label_areas_scratch_bytes(width, height) bytes of device memory, no preparation.
// cudaErrorInvalidValue for a negative size, threshold outside 0..256 or 2^31 pixels.
cudaError_t label_areas(const uint8_t* rgb, int width, int height, int threshold, int32_t* labels, int32_t* num_areas,
                        void* scratch, cudaStream_t stream);

// stats[0..num_areas): pixel count, inclusive bounding box and, when rgb is not null,
// exact integer sums of rgb [H][W][3] over each area (gp::AreaStats).
cudaError_t area_stats(const int32_t* labels, const uint8_t* rgb, int width, int height, int num_areas,
                       gp::AreaStats* stats, cudaStream_t stream);

// majority[a] = the segmentation id most frequent over area a's pixels, each original
// pixel (X, Y) voting for seg[nearest_index(Y, H, h)][nearest_index(X, W, w)]; ties go
// to the lowest id; an area with no votes (impossible: every area has a pixel) gets 0.
// votes: num_areas * num_regions uint32 of device scratch, no preparation.
// seg ids >= num_regions vote for nothing. num_regions 1..64.
cudaError_t area_majority(const int32_t* labels, int W, int H, const uint8_t* seg, int w, int h, int num_regions,
                          int num_areas, uint32_t* votes, uint8_t* majority, cudaStream_t stream);

// out [h][w]: channel[a] where the original pixel nearest to working pixel (x, y),
// (nearest_index(x, w, W), nearest_index(y, h, H)), is in area a and channel[a] >= 0;
// else base[y][x]. Line pixels keep base. out may not alias base.
cudaError_t override_labels(const uint8_t* base, int w, int h, const int32_t* labels, int W, int H,
                            const int8_t* channel, uint8_t* out, cudaStream_t stream);

// rgba [H][W][4]: colours[3 * a .. 3 * a + 2] with alpha 255 for a pixel of area a;
// 0, 0, 0, 0 for a line pixel.
cudaError_t paint_areas(const int32_t* labels, int width, int height, const uint8_t* colours, uint8_t* rgba,
                        cudaStream_t stream);

}  // namespace GP_KERNEL_NS
