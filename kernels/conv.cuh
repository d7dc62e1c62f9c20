// Convolutions of the U-Nets: 3x3 (pad 1) and 1x1, stride 1, as an implicit GEMM on
// NHWC fp32 activations (batch 1: every tensor is [H][W][C]), with the input gather
// and the epilogue fused into one kernel.
//
// GEMM view: M = H * W output pixels, N = cout, K = k * k * cin, where row k of the
// weight matrix is tap * cin + ci and tap = ky * k + kx (tap-major, then channel).
//
// Gathers: the kernel's A-tile load builds its input on the fly, so no pooled,
// upsampled, concatenated or hint tensor is ever written to memory.
//   ConvPlain      x [H][W][C].
//   ConvMaxPool    x [Hin][Win][C]; the conv runs at H = Hin / 2, W = Win / 2 (floor)
//                  on the 2x2 max (the Down blocks).
//   ConvUpConcat   skip [H][W][Cs], low [h][w][Cl]; the conv input is the channel
//                  concatenation [skip, up] with up = bilinear x2 of low
//                  (align_corners=True), zero-padded to H x W with top = (H - 2h) / 2,
//                  left = (W - 2w) / 2 and the rest bottom / right (the Up blocks).
//                  Needs H >= 2h, W >= 2w.
//   ConvColorizer  the colorizer's first layer, 35 channels per pixel:
//                  [X, C (3), M - center, onehot(label) - center (30)] with
//                  C = active[l] ? colors[l] : 0 and M = active[l] ? 1 : 0; a label >= 30
//                  is no region (C = 0, M = 0, all-zero one-hot).
// Epilogues (each launcher exists for every gather):
//   conv3x3_bias_relu  out [H][W][cout] = relu(conv + bias)         (every 3x3 layer)
//   conv1x1_bias_tanh  out [H][W][cout] = tanh(conv + bias)         (colorizer outc)
//   conv1x1_argmax     labels [H][W] uint8 = argmax_c(conv + bias), ties to the lowest
//                      channel (segmentator outc + argmax); cout <= kConvArgmaxMaxChannels;
//                      also writes the logits [H][W][cout] when `logits` is not null.
//
// Weights: the loader's BN-folded PyTorch layout [cout][cin][k][k] + bias [cout] is
// re-laid out once at load by conv_pack_weights; the packed layout (and its padding)
// is this file's business only. Upload the packed floats and the bias as they are and
// describe them with ConvWeights.
//
// Every pointer in the input structs, ConvWeights and the outputs is a device pointer.
// Launchers return cudaErrorInvalidValue (and launch nothing) when shapes disagree:
// weights.ksize is not the launcher's, weights.cin is not the gather's channel count,
// a size is negative, or the Up sizes do not fit; cudaSuccess without a launch for an
// empty output; otherwise the launch's own result.
//
// CPU reference: kernels/conv_ref.h (gp::ref), in double.
#pragma once
#include "kernels/common.cuh"
#include "kernels/model_shape.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace GP_KERNEL_NS {

// Tile of the fp32 kernel: a block computes kConvTileM consecutive pixels (row-major,
// a row segment that may wrap) x kConvTileN output channels with kConvThreads
// threads, each owning a 4 pixel x 8 channel register micro-tile; K goes through
// shared memory in chunks of kConvTileK.
constexpr int kConvTileM = 64;
constexpr int kConvTileN = 64;
constexpr int kConvTileK = 64;
constexpr int kConvThreads = 128;
constexpr int kConvArgmaxMaxChannels = kConvTileN;  // the argmax head sees a pixel's logits in one block

// ---- inputs (gathers) ----------------------------------------------------------------

struct ConvPlain {
  const float* x;  // [h][w][c]
  int h, w, c;
};

struct ConvMaxPool {
  const float* x;  // [h_in][w_in][c]; the conv runs at h_in / 2 x w_in / 2
  int h_in, w_in, c;
};

struct ConvUpConcat {
  const float* skip;  // [h][w][c_skip]
  int h, w, c_skip;
  const float* low;  // [h_low][w_low][c_low]; 2 h_low <= h, 2 w_low <= w
  int h_low, w_low, c_low;
};

struct ConvColorizer {
  const float* sketch;    // [h][w], in [-1, 1]
  const uint8_t* labels;  // [h][w], region id 0..29
  const float* colors;    // [30][3] hint colour of each region
  const uint8_t* active;  // [30] nonzero: the region has a hint
  int h, w;
  float center;  // subtracted from M and the one-hot (0 in the published setting)
};

// ---- weights -------------------------------------------------------------------------

// Packed layout: a row-major [k_rows][n_cols] matrix, row tap * cin + ci, column cout,
// with k_rows = k*k*cin rounded up to kConvTileK and n_cols = cout rounded up to
// kConvTileN, the padding zero (so the kernel's weight loads need no bounds checks).
inline size_t conv_packed_rows(int cin, int ksize) {
  const size_t k = size_t(ksize) * ksize * cin;
  return (k + kConvTileK - 1) / kConvTileK * kConvTileK;
}
inline size_t conv_packed_cols(int cout) { return (size_t(cout) + kConvTileN - 1) / kConvTileN * kConvTileN; }
// Floats of the packed weights of one conv.
inline size_t conv_packed_weight_count(int cout, int cin, int ksize) {
  return conv_packed_rows(cin, ksize) * conv_packed_cols(cout);
}

// torch_weight [cout][cin][ksize][ksize] (host) -> packed (host, conv_packed_weight_count floats).
inline void conv_pack_weights(const float* torch_weight, int cout, int cin, int ksize, float* packed) {
  const size_t rows = conv_packed_rows(cin, ksize), cols = conv_packed_cols(cout);
  for (size_t i = 0; i < rows * cols; ++i) packed[i] = 0.0f;
  for (int co = 0; co < cout; ++co)
    for (int ci = 0; ci < cin; ++ci)
      for (int tap = 0; tap < ksize * ksize; ++tap)
        packed[(size_t(tap) * cin + ci) * cols + co] = torch_weight[(size_t(co) * cin + ci) * ksize * ksize + tap];
}
inline std::vector<float> conv_pack_weights(const float* torch_weight, int cout, int cin, int ksize) {
  std::vector<float> packed(conv_packed_weight_count(cout, cin, ksize));
  conv_pack_weights(torch_weight, cout, cin, ksize, packed.data());
  return packed;
}

// One conv's weights on the device.
struct ConvWeights {
  const float* packed;  // conv_packed_weight_count(cout, cin, ksize) floats from conv_pack_weights
  const float* bias;    // [cout]
  int cout, cin, ksize;
};

// ---- launchers -----------------------------------------------------------------------

// out [H][W][cout] = relu(conv3x3(input) + bias); H x W is the gather's output size.
cudaError_t conv3x3_bias_relu(const ConvPlain& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv3x3_bias_relu(const ConvMaxPool& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv3x3_bias_relu(const ConvUpConcat& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv3x3_bias_relu(const ConvColorizer& in, const ConvWeights& weights, float* out, cudaStream_t stream);

// out [H][W][cout] = tanh(conv1x1(input) + bias).
cudaError_t conv1x1_bias_tanh(const ConvPlain& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv1x1_bias_tanh(const ConvMaxPool& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv1x1_bias_tanh(const ConvUpConcat& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv1x1_bias_tanh(const ConvColorizer& in, const ConvWeights& weights, float* out, cudaStream_t stream);

// labels [H][W] = argmax over c of (conv1x1(input) + bias)[c], ties to the lowest c;
// 1 <= cout <= kConvArgmaxMaxChannels. logits [H][W][cout] is written unless null.
cudaError_t conv1x1_argmax(const ConvPlain& in, const ConvWeights& weights, uint8_t* labels, float* logits,
                           cudaStream_t stream);
cudaError_t conv1x1_argmax(const ConvMaxPool& in, const ConvWeights& weights, uint8_t* labels, float* logits,
                           cudaStream_t stream);
cudaError_t conv1x1_argmax(const ConvUpConcat& in, const ConvWeights& weights, uint8_t* labels, float* logits,
                           cudaStream_t stream);
cudaError_t conv1x1_argmax(const ConvColorizer& in, const ConvWeights& weights, uint8_t* labels, float* logits,
                           cudaStream_t stream);

// The output heads on 16-bit activations (the fp16 / bf16 engine path, whose 3x3 convs are
// kernels/conv_mma.cuh): the input is widened to fp32 as it is gathered; weights (packed
// by conv_pack_weights), arithmetic and outputs stay fp32, as above.
struct ConvPlainF16 {
  const __half* x;  // [h][w][c]
  int h, w, c;
};
struct ConvPlainBF16 {
  const __nv_bfloat16* x;  // [h][w][c]
  int h, w, c;
};
cudaError_t conv1x1_bias_tanh(const ConvPlainF16& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv1x1_bias_tanh(const ConvPlainBF16& in, const ConvWeights& weights, float* out, cudaStream_t stream);
cudaError_t conv1x1_argmax(const ConvPlainF16& in, const ConvWeights& weights, uint8_t* labels, float* logits,
                           cudaStream_t stream);
cudaError_t conv1x1_argmax(const ConvPlainBF16& in, const ConvWeights& weights, uint8_t* labels, float* logits,
                           cudaStream_t stream);

}  // namespace GP_KERNEL_NS
