#include "kernels/image.cuh"

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kImageBlock = 256;

// The weights are the float nearest to the reference's double products; the sum
// is taken in float, within 1 ulp of the reference.
__global__ void rgb8_to_grey_kernel(const uint8_t* __restrict__ rgb, size_t pixels, float* __restrict__ x) {
  const size_t p = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= pixels) return;
  const uint8_t* px = rgb + 3 * p;
  const float g = (0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]) * (2.0f / 255.0f);
  x[p] = g - 1.0f;
}

__global__ void rgb8_to_float_kernel(const uint8_t* __restrict__ rgb, size_t count, float* __restrict__ y) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) y[i] = float(rgb[i]) * (2.0f / 255.0f) - 1.0f;
}

__global__ void float_to_rgb8_kernel(const float* __restrict__ y, size_t count, uint8_t* __restrict__ rgb) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  // fmaxf/fminf map NaN to 0, like the reference.
  const float c = fminf(fmaxf((y[i] + 1.0f) * 0.5f, 0.0f), 1.0f);
  rgb[i] = uint8_t(255.0f * c);
}

}  // namespace

cudaError_t rgb8_to_grey(const uint8_t* rgb, size_t pixels, float* x, cudaStream_t stream) {
  return launch_1d(rgb8_to_grey_kernel, pixels, kImageBlock, stream, rgb, pixels, x);
}
cudaError_t rgb8_to_float(const uint8_t* rgb, size_t pixels, float* y, cudaStream_t stream) {
  return launch_1d(rgb8_to_float_kernel, 3 * pixels, kImageBlock, stream, rgb, 3 * pixels, y);
}
cudaError_t float_to_rgb8(const float* y, size_t pixels, uint8_t* rgb, cudaStream_t stream) {
  return launch_1d(float_to_rgb8_kernel, 3 * pixels, kImageBlock, stream, y, 3 * pixels, rgb);
}

}  // namespace GP_KERNEL_NS
