// Region statistics: for every region id of a label map, its pixel count, its
// bounding box and the exact integer sums of a reference image's R, G, B over it.
//
//   labels [H][W] uint8, region id 0..num_regions-1 (num_regions <= 64); pixels with a
//          label >= num_regions belong to no region and are counted nowhere.
//   rgb    [H][W][3] uint8 interleaved, optional (nullptr: the sums stay 0).
//   stats  [num_regions] RegionStats.
//
// Sums are integers accumulated with integer atomics, so every run, every block
// schedule and the CPU reference give identical results. The mean colours the hint
// generator needs (MODEL.md, function h) follow on the host from region_mean_colours.
#pragma once
#include "kernels/common.cuh"
#include "kernels/region_stats.h"

namespace GP_KERNEL_NS {

constexpr unsigned kRegionBlock = 256;
// Pixels of one row a thread scans (one "segment"); runs of equal labels inside it
// are accumulated in registers, so shared atomics are per run, not per pixel.
constexpr unsigned kRegionSegment = 16;
constexpr unsigned kMaxRegionBlocks = 512;

// stats[0..num_regions) = the statistics of labels (and rgb, if not nullptr) over a
// width x height image. Launches two kernels on `stream` (initialise, accumulate);
// stats needs no preparation. Returns cudaErrorInvalidValue for num_regions outside
// 1..64, a negative size, or 2^32 pixels or more (counts are 32-bit). max_blocks caps
// the grid (threads then loop over segments); tests lower it to exercise that loop.
cudaError_t region_stats(const uint8_t* labels, const uint8_t* rgb, int width, int height, int num_regions,
                         gp::RegionStats* stats, cudaStream_t stream, unsigned max_blocks = kMaxRegionBlocks);

}  // namespace GP_KERNEL_NS
