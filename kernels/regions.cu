#include "kernels/regions.cuh"
#include "kernels/label_runs.cuh"

namespace GP_KERNEL_NS {
namespace {

using gp::RegionStats;

__global__ void region_stats_init_kernel(int num_regions, RegionStats* __restrict__ stats) {
  const int r = int(threadIdx.x);
  if (r >= num_regions) return;
  stats[r].count = 0;
  stats[r].x0 = RegionStats::kEmptyMin;
  stats[r].y0 = RegionStats::kEmptyMin;
  stats[r].x1 = 0;
  stats[r].y1 = 0;
  stats[r].pad_ = 0;
  stats[r].sum[0] = stats[r].sum[1] = stats[r].sum[2] = 0;
}

// The block's histogram in dynamic shared memory, num_regions entries per array.
struct BlockHistogram {
  unsigned long long* sum;  // [3][num_regions]
  unsigned* count;
  unsigned* x0;
  unsigned* y0;
  unsigned* x1;
  unsigned* y1;
};

__device__ __forceinline__ BlockHistogram block_histogram(int num_regions) {
  BlockHistogram h;
  h.sum = reinterpret_cast<unsigned long long*>(dynamic_smem);
  h.count = reinterpret_cast<unsigned*>(h.sum + 3 * num_regions);
  h.x0 = h.count + num_regions;
  h.y0 = h.x0 + num_regions;
  h.x1 = h.y0 + num_regions;
  h.y1 = h.x1 + num_regions;
  return h;
}

size_t block_histogram_bytes(int num_regions) {
  return size_t(num_regions) * (3 * sizeof(unsigned long long) + 5 * sizeof(unsigned));
}

using Run = LabelRun<unsigned>;  // a run of equal labels on one row (label_runs.cuh)

template <bool kWithColour>
__device__ __forceinline__ void flush_run(const BlockHistogram& h, const Run& run, unsigned y, int num_regions) {
  if (run.label >= unsigned(num_regions)) return;  // belongs to no region
  const unsigned l = run.label;
  atomicAdd(&h.count[l], run.n);
  atomicMin(&h.x0[l], run.x0);
  atomicMax(&h.x1[l], run.x0 + run.n - 1);
  atomicMin(&h.y0[l], y);
  atomicMax(&h.y1[l], y);
  if constexpr (kWithColour)
    for (int c = 0; c < 3; ++c) atomicAdd(&h.sum[c * num_regions + l], (unsigned long long)run.sum[c]);
}

// Each thread scans segments of kRegionSegment pixels of one row (grid-stride over
// all segments), accumulating runs of equal labels in registers and flushing each run
// into the block's shared histogram. Then the block adds its non-empty regions to the
// global statistics with integer atomics.
template <bool kWithColour> __global__ void __launch_bounds__(kRegionBlock)
    region_stats_kernel(const uint8_t* __restrict__ labels, const uint8_t* __restrict__ rgb, unsigned width,
                        unsigned segments_per_row, size_t segments, int num_regions, RegionStats* __restrict__ stats) {
  const BlockHistogram h = block_histogram(num_regions);
  for (int r = int(threadIdx.x); r < num_regions; r += int(blockDim.x)) {
    h.sum[r] = h.sum[num_regions + r] = h.sum[2 * num_regions + r] = 0;
    h.count[r] = 0;
    h.x0[r] = h.y0[r] = RegionStats::kEmptyMin;
    h.x1[r] = h.y1[r] = 0;
  }
  __syncthreads();

  for (size_t s = size_t(blockIdx.x) * blockDim.x + threadIdx.x; s < segments; s += size_t(gridDim.x) * blockDim.x) {
    const unsigned y = unsigned(s / segments_per_row);
    const unsigned begin = unsigned(s % segments_per_row) * kRegionSegment;
    const unsigned end = begin + kRegionSegment < width ? begin + kRegionSegment : width;
    for_each_label_run<kWithColour, unsigned>(labels, rgb, size_t(y) * width, begin, end,
                                              [&](const Run& run) { flush_run<kWithColour>(h, run, y, num_regions); });
  }
  __syncthreads();

  for (int r = int(threadIdx.x); r < num_regions; r += int(blockDim.x)) {
    if (h.count[r] == 0) continue;
    RegionStats& g = stats[r];
    atomicAdd(&g.count, h.count[r]);
    atomicMin(&g.x0, h.x0[r]);
    atomicMin(&g.y0, h.y0[r]);
    atomicMax(&g.x1, h.x1[r]);
    atomicMax(&g.y1, h.y1[r]);
    if constexpr (kWithColour)
      for (int c = 0; c < 3; ++c) atomicAdd(&g.sum[c], h.sum[c * num_regions + r]);
  }
}

}  // namespace

cudaError_t region_stats(const uint8_t* labels, const uint8_t* rgb, int width, int height, int num_regions,
                         gp::RegionStats* stats, cudaStream_t stream, unsigned max_blocks) {
  if (num_regions < 1 || num_regions > gp::kMaxRegions || width < 0 || height < 0 || max_blocks == 0)
    return cudaErrorInvalidValue;
  const size_t pixels = size_t(width) * size_t(height);
  if (pixels > size_t(UINT32_MAX)) return cudaErrorInvalidValue;

  cudaLaunchConfig_t config{};
  config.gridDim = dim3(1);
  config.blockDim = dim3(gp::kMaxRegions);
  config.stream = stream;
  if (cudaError_t e = cudaLaunchKernelEx(&config, region_stats_init_kernel, num_regions, stats)) return e;
  if (pixels == 0) return cudaSuccess;

  const unsigned segments_per_row = ceil_div(size_t(width), kRegionSegment);
  const size_t segments = size_t(segments_per_row) * size_t(height);
  const unsigned blocks = ceil_div(segments, kRegionBlock);
  config.gridDim = dim3(blocks < max_blocks ? blocks : max_blocks);
  config.blockDim = dim3(kRegionBlock);
  config.dynamicSmemBytes = block_histogram_bytes(num_regions);
  if (rgb)
    return cudaLaunchKernelEx(&config, region_stats_kernel<true>, labels, rgb, unsigned(width), segments_per_row,
                              segments, num_regions, stats);
  return cudaLaunchKernelEx(&config, region_stats_kernel<false>, labels, rgb, unsigned(width), segments_per_row,
                            segments, num_regions, stats);
}

}  // namespace GP_KERNEL_NS
