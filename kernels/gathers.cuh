// The formulas of the fused gathers, written once for every kernel that forms a conv
// input on the fly (kernels/conv.cu in fp32, kernels/conv_mma.cu in 16-bit) and for the
// kernels that write the same inputs out (tests/cudnn/materialize.cu). The CPU reference,
// kernels/conv_ref.h, keeps its own independent statement of them, so a mistake here
// cannot hide in both.
#pragma once
#include "kernels/common.cuh"
#include "kernels/model_shape.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace GP_KERNEL_NS {
namespace gather {

// Activation storage: fp32, or 16-bit rounded to nearest even from the float a gather
// computes (the 16-bit path stores what it stages, so every writer rounds the same way).
template <class T> __device__ __forceinline__ float to_float(T v);
template <> __device__ __forceinline__ float to_float<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_float<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <class T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Not fmaxf: g++ calls libm's out of line for it (NaN rules), 10% of a pooled conv on
// the simulator. (Differs from fmaxf only for NaN inputs.)
__device__ __forceinline__ float max2(float a, float b) { return a > b ? a : b; }
__device__ __forceinline__ float max4(float a, float b, float c, float d) { return max2(max2(a, b), max2(c, d)); }

// The source step of a x2 bilinear upsample with align_corners=True from n pixels:
// (n - 1) / (2n - 1), 0 for n = 1; computed on the host, the same float everywhere.
inline float up_step(int n) { return n <= 1 ? 0.0f : float(double(n - 1) / double(2 * n - 1)); }

// The 4 source pixels and weights of upsampled pixel (uy, ux), 0 <= uy < 2 hl, 0 <= ux < 2 wl.
struct BilinearTaps {
  int y0, x0, y1, x1;
  float ay, ax;
};
__device__ __forceinline__ BilinearTaps bilinear_taps(int uy, int ux, float step_y, float step_x, int hl, int wl) {
  const float fy = float(uy) * step_y, fx = float(ux) * step_x;
  const int y0 = int(fy), x0 = int(fx);  // fy, fx >= 0: truncation is floor
  return {y0, x0, min(y0 + 1, hl - 1), min(x0 + 1, wl - 1), fy - float(y0), fx - float(x0)};
}
__device__ __forceinline__ float lerp2(float ay, float ax, float v00, float v01, float v10, float v11) {
  return (1.0f - ay) * ((1.0f - ax) * v00 + ax * v01) + ay * ((1.0f - ax) * v10 + ax * v11);
}

// Channel ch of the colorizer's 35-channel input at a pixel with sketch value x and
// region id label: [x, hint colour (3), hint mask - center, one-hot(label) - center (30)].
__device__ __forceinline__ float colorizer_channel(float x, int label, const float* colors, const uint8_t* active,
                                                   float center, int ch) {
  if (ch == 0) return x;
  const bool region = label < gp::kNumRegions;
  const bool hinted = region && active[label] != 0;
  if (ch < 4) return hinted ? colors[3 * label + ch - 1] : 0.0f;
  if (ch == 4) return (hinted ? 1.0f : 0.0f) - center;
  return (region && label == ch - 5 ? 1.0f : 0.0f) - center;
}

}  // namespace gather
}  // namespace GP_KERNEL_NS
