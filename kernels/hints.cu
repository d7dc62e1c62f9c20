#include "kernels/hints.cuh"

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kHintBlock = 256;

// The block first folds `active` into a per-label table (inactive and out-of-range
// labels -> colour 0, mask 0), so the per-pixel work is a branch-free lookup.
__global__ void __launch_bounds__(kHintBlock)
    hint_scatter_kernel(const uint8_t* __restrict__ labels, size_t pixels, int num_regions,
                        const float* __restrict__ table, const uint8_t* __restrict__ active, float* __restrict__ colour,
                        float* __restrict__ mask) {
  // 256 entries: every uint8 label has one, so no bounds check per pixel.
  __shared__ float s_colour[256 * 3];
  __shared__ float s_mask[256];
  for (unsigned l = threadIdx.x; l < 256; l += blockDim.x) {
    const bool on = int(l) < num_regions && active[l] != 0;
    s_mask[l] = on ? 1.0f : 0.0f;
    for (int c = 0; c < 3; ++c) s_colour[3 * l + c] = on ? table[3 * l + c] : 0.0f;
  }
  __syncthreads();
  const size_t p = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= pixels) return;
  const unsigned l = labels[p];
  colour[3 * p + 0] = s_colour[3 * l + 0];
  colour[3 * p + 1] = s_colour[3 * l + 1];
  colour[3 * p + 2] = s_colour[3 * l + 2];
  mask[p] = s_mask[l];
}

}  // namespace

cudaError_t hint_scatter(const uint8_t* labels, size_t pixels, int num_regions, const float* table,
                         const uint8_t* active, float* colour, float* mask, cudaStream_t stream) {
  if (num_regions < 1 || num_regions > gp::kMaxRegions) return cudaErrorInvalidValue;
  return launch_1d(hint_scatter_kernel, pixels, kHintBlock, stream, labels, pixels, num_regions, table, active, colour,
                   mask);
}

}  // namespace GP_KERNEL_NS
