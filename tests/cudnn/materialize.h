// The fused gathers of the engine's kernels written out as tensors (max-pool, upsample +
// pad + concat, the colorizer's 35-channel input), so that a plain convolution (cuDNN's,
// or the backend's own on a plain input) can run a fused step unfused: the check and the
// benchmark of the fused kernels against another path (materialized_backend.h). Test and
// benchmark code: never linked into the library.
//
// Each value is formed in float from the stored inputs and rounded once, exactly as the
// fused gathers stage it (same float formulas), so a plain conv on the result sees the
// fused kernel's input bit for bit. The kernels are built for both targets; the dispatch
// by backend exists in a build with nvcc. Plain C++: no CUDA header is needed to use it.
// Every pointer is a device pointer of the backend in use; tensors are NHWC, batch 1.
#pragma once

#include <cstddef>

#include "src/backend/backend.h"

namespace gp {

enum class Activation { Identity, Relu, Tanh };

// ---- materialised gathers (both backends; throw gp::Error on a launch failure) --------
// Activations are of the storage type of `p` (float, or 16 bits for Fp16 / Bf16) behind
// void pointers; each value is formed in float and rounded once, as the fused gathers
// stage it, so a plain conv on the result sees the fused kernel's input bit for bit.

// out [h_in/2][w_in/2][c] = the 2x2 max-pool (floor) of x [h_in][w_in][c].
void materialize_maxpool(Backend& backend, Precision p, const void* x, int h_in, int w_in, int c, void* out,
                         Stream stream = nullptr);
// out [h][w][c_skip + c_low] = [skip, pad(bilinear x2, align_corners=True (low))] as
// kernels/conv.cuh's ConvUpConcat; needs 2 h_low <= h, 2 w_low <= w.
void materialize_up_concat(Backend& backend, Precision p, const void* skip, int h, int w, int c_skip, const void* low,
                           int h_low, int w_low, int c_low, void* out, Stream stream = nullptr);
// out [h][w][35] = the colorizer's first-layer input (kernels/conv.cuh's ConvColorizer).
void materialize_colorizer(Backend& backend, Precision p, const ColorizerInput& in, void* out, Stream stream = nullptr);
// y [pixels][c] = act(y + bias) in place (bias [c], of y's type, may be null: no bias).
void bias_activation(Backend& backend, Precision p, void* y, size_t pixels, int c, const void* bias, Activation act,
                     Stream stream = nullptr);
// out [count] = x [count] rounded to the storage type of p.
void materialize_convert(Backend& backend, Precision p, const float* x, size_t count, void* out,
                         Stream stream = nullptr);

// fp32 shorthands.
inline void materialize_maxpool(Backend& b, const float* x, int h_in, int w_in, int c, float* out, Stream s = nullptr) {
  materialize_maxpool(b, Precision::Fp32, x, h_in, w_in, c, out, s);
}
inline void materialize_up_concat(Backend& b, const float* skip, int h, int w, int c_skip, const float* low, int h_low,
                                  int w_low, int c_low, float* out, Stream s = nullptr) {
  materialize_up_concat(b, Precision::Fp32, skip, h, w, c_skip, low, h_low, w_low, c_low, out, s);
}
inline void materialize_colorizer(Backend& b, const ColorizerInput& in, float* out, Stream s = nullptr) {
  materialize_colorizer(b, Precision::Fp32, in, out, s);
}
inline void bias_activation(Backend& b, float* y, size_t pixels, int c, const float* bias, Activation act,
                            Stream s = nullptr) {
  bias_activation(b, Precision::Fp32, y, pixels, c, bias, act, s);
}

}  // namespace gp
