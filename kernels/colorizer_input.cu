// The colorizer's input written out (see colorizer_input.cuh): one thread per pixel and 8
// channels, a 16-byte store each.
#include "kernels/colorizer_input.cuh"
#include "kernels/gathers.cuh"

namespace GP_KERNEL_NS {
namespace {

constexpr int kGroups = kColorizerInputChannels16 / 8;

template <class T> struct alignas(16) Chunk { T v[8]; };

template <class T> __global__ void colorizer_input_kernel(ConvColorizerMma in, T* out, size_t count) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const size_t pixel = i / kGroups;
  const int ch0 = int(i % kGroups) * 8;
  const float x = in.sketch[pixel];
  const int label = in.labels[pixel];
  Chunk<T> o;
  for (int j = 0; j < 8; ++j) {
    const int ch = ch0 + j;
    o.v[j] = gather::from_float<T>(
        ch < gp::kColorizerChannels ? gather::colorizer_channel(x, label, in.colors, in.active, in.center, ch) : 0.0f);
  }
  *reinterpret_cast<Chunk<T>*>(out + pixel * kColorizerInputChannels16 + ch0) = o;
}

}  // namespace

template <class T> cudaError_t colorizer_input16(const ConvColorizerMma& in, T* out, cudaStream_t stream) {
  if (in.h < 0 || in.w < 0) return cudaErrorInvalidValue;
  const size_t count = size_t(in.h) * in.w * kGroups;
  if (count == 0) return cudaSuccess;
  if (!in.sketch || !in.labels || !in.colors || !in.active || !out || reinterpret_cast<uintptr_t>(out) % 16 != 0)
    return cudaErrorInvalidValue;
  return launch_1d(colorizer_input_kernel<T>, count, 256, stream, in, out, count);
}

template cudaError_t colorizer_input16<__half>(const ConvColorizerMma&, __half*, cudaStream_t);
template cudaError_t colorizer_input16<__nv_bfloat16>(const ConvColorizerMma&, __nv_bfloat16*, cudaStream_t);

}  // namespace GP_KERNEL_NS
