#include "kernels/argmax.cuh"

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kArgmaxBlock = 128;

// A block stages its pixels' logits in shared memory with coalesced loads, then each
// thread scans one pixel. Row stride channels | 1 (odd) avoids bank conflicts.
__global__ void __launch_bounds__(kArgmaxBlock) argmax_channels_kernel(const float* __restrict__ logits, size_t pixels,
                                                                       int channels, uint8_t* __restrict__ labels) {
  float* tile = reinterpret_cast<float*>(dynamic_smem);
  const int stride = channels | 1;
  const size_t first = size_t(blockIdx.x) * kArgmaxBlock;
  const unsigned count = unsigned(pixels - first < kArgmaxBlock ? pixels - first : kArgmaxBlock);
  const float* src = logits + first * channels;
  for (unsigned i = threadIdx.x; i < count * unsigned(channels); i += kArgmaxBlock)
    tile[(i / channels) * stride + i % channels] = src[i];
  __syncthreads();
  if (threadIdx.x >= count) return;
  const float* v = tile + threadIdx.x * stride;
  int best = 0;
  float best_value = v[0];
  for (int c = 1; c < channels; ++c)
    if (v[c] > best_value) {
      best_value = v[c];
      best = c;
    }
  labels[first + threadIdx.x] = uint8_t(best);
}

}  // namespace

cudaError_t argmax_channels(const float* logits, size_t pixels, int channels, uint8_t* labels, cudaStream_t stream) {
  if (channels < 1 || channels > kMaxArgmaxChannels) return cudaErrorInvalidValue;
  if (pixels == 0) return cudaSuccess;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(ceil_div(pixels, kArgmaxBlock));
  config.blockDim = dim3(kArgmaxBlock);
  config.dynamicSmemBytes = size_t(kArgmaxBlock) * (channels | 1) * sizeof(float);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, argmax_channels_kernel, logits, pixels, channels, labels);
}

}  // namespace GP_KERNEL_NS
