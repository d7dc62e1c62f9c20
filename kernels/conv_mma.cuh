// 3x3 convolutions (pad 1, stride 1) on tensor cores: fp16 or bf16 activations and
// weights, fp32 accumulation (mma.sync m16n8k16), bias + ReLU, output in the same 16-bit
// type. The same implicit GEMM and the same fused gathers as kernels/conv.cuh (see there
// for what each gather computes), on NHWC tensors of T = __half or __nv_bfloat16, and one
// more: ConvConcatT, [skip, up] with the upsample already written (kernels/upsample.cuh).
//
// GEMM view: M = H * W output pixels, N = cout, K = 9 * cin with row k = tap * cin + ci.
//
// Numerics: products of two 16-bit values are exact in fp32 and are summed in fp32; a
// gather that computes its value (the bilinear upsample, the colorizer's channels from
// fp32 sources) rounds it once to T; the result is rounded once to T after bias + ReLU.
//
// Weights: conv_mma_pack_weights turns the loader's BN-folded [cout][cin][3][3] floats into
// T [n_cols][k_rows] (each output channel's K contiguous: the mma's column-major B), with
// k_rows = 9 * cin rounded up to kConvMmaTileK and n_cols = cout rounded up to
// kConvMmaTileN, the padding zero (every tile reads inside it).
//
// Requirements: every pointer is a device pointer; activations and packed weights
// 16-byte aligned (cudaMalloc gives 256). Launchers return cudaErrorInvalidValue (and
// launch nothing) when shapes disagree, cudaSuccess without a launch for an empty output.
//
// CPU reference: kernels/conv_ref.h on the inputs and weights as rounded to T.
// Needs sm_80 (mma.sync m16n8k16 with bf16, cp.async); built only for the GPU
// architectures that have it and for the simulator.
#pragma once
#include "kernels/common.cuh"
#include "kernels/conv_mma_tile.h"
#include "kernels/model_shape.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace GP_KERNEL_NS {

// K runs in chunks of kConvMmaTileK through a kConvMmaStages-deep cp.async pipeline;
// every block has 4 warps. kConvMmaTileN is the padding unit of the packed weights (the
// widest block tile in N), not the tile of every launch.
constexpr int kConvMmaTileN = 64;
constexpr int kConvMmaTileK = 32;
constexpr int kConvMmaStages = 3;
constexpr int kConvMmaThreads = 128;
static_assert(kConvMmaTileK == 32, "conv_mma_k_chunks (conv_mma_tile.h) counts chunks of 32");

// The block tiles and the rule choosing one per layer (kernels/conv_mma_tile.h).
using gp::conv_mma_choose_schedule;
using gp::conv_mma_choose_tile;
using gp::conv_mma_tile_name;
using gp::conv_mma_tile_shape;
using gp::ConvMmaLaunch;
using gp::ConvMmaSchedule;
using gp::ConvMmaTile;
using gp::kConvMmaMaxSplits;

template <class T> struct ConvPlainT {
  const T* x;  // [h][w][c]
  int h, w, c;
};
template <class T> struct ConvMaxPoolT {
  const T* x;  // [h_in][w_in][c]; the conv runs at h_in / 2 x w_in / 2
  int h_in, w_in, c;
};
template <class T> struct ConvUpConcatT {
  const T* skip;  // [h][w][c_skip]
  int h, w, c_skip;
  const T* low;  // [h_low][w_low][c_low]; 2 h_low <= h, 2 w_low <= w
  int h_low, w_low, c_low;
};
// [skip, up] of the same size, concatenated (the decoder's input with its upsampled half
// written out by kernels/upsample.cuh); both channel counts multiples of 8.
template <class T> struct ConvConcatT {
  const T* skip;  // [h][w][c_skip]
  const T* up;    // [h][w][c_up]
  int h, w, c_skip, c_up;
};

// A plain fp32 input (the segmentator's grey sketch), rounded to T as it is gathered.
struct ConvPlainFloatMma {
  const float* x;  // [h][w][c]
  int h, w, c;
};
// The colorizer's first layer reads fp32 sources (as kernels/conv.cuh's ConvColorizer).
struct ConvColorizerMma {
  const float* sketch;    // [h][w], in [-1, 1]
  const uint8_t* labels;  // [h][w]
  const float* colors;    // [30][3]
  const uint8_t* active;  // [30]
  int h, w;
  float center;
};

inline size_t conv_mma_packed_rows(int cin) { return size_t(gp::conv_mma_k_chunks(cin)) * kConvMmaTileK; }
inline size_t conv_mma_packed_cols(int cout) {
  return (size_t(cout) + kConvMmaTileN - 1) / kConvMmaTileN * kConvMmaTileN;
}
inline size_t conv_mma_packed_count(int cout, int cin) {
  return conv_mma_packed_rows(cin) * conv_mma_packed_cols(cout);
}

// torch_weight [cout][cin][3][3] (host) -> packed [n_cols][k_rows] (host), rounded to T.
template <class T> std::vector<T> conv_mma_pack_weights(const float* torch_weight, int cout, int cin);

template <class T> struct ConvMmaWeights {
  const T* packed;    // conv_mma_packed_count(cout, cin) elements from conv_mma_pack_weights
  const float* bias;  // [cout]
  int cout, cin;
};

// out [H][W][cout] = relu(conv3x3(input) + bias) in T; H x W is the gather's output size.
// `launch` forces a block tile (the tests run every one; the result does not depend on
// it) and may split K over several blocks (splits <= kConvMmaMaxSplits and <= the K
// chunks, with the scratch conv_mma_tile.h describes; only for vector inputs, every
// channel count a multiple of 8, and not the fused up-concat). A split sum adds the
// splits' fp32 partial sums in split order: deterministic, but not the unsplit sum's bits.
template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvPlainT<T>& in, const ConvMmaWeights<T>& weights, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch launch = {});
template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvMaxPoolT<T>& in, const ConvMmaWeights<T>& weights,
                                                     T* out, cudaStream_t stream, ConvMmaLaunch launch = {});
template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvUpConcatT<T>& in, const ConvMmaWeights<T>& weights,
                                                     T* out, cudaStream_t stream, ConvMmaLaunch launch = {});
template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvConcatT<T>& in, const ConvMmaWeights<T>& weights, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch launch = {});
template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvPlainFloatMma& in, const ConvMmaWeights<T>& weights,
                                                     T* out, cudaStream_t stream, ConvMmaLaunch launch = {});
template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvColorizerMma& in, const ConvMmaWeights<T>& weights,
                                                     T* out, cudaStream_t stream, ConvMmaLaunch launch = {});

}  // namespace GP_KERNEL_NS
