// cuDNN as a second convolution path, to check and time the fused kernels against
// (tests/engine/cudnn_test.cpp, bench/engine_bench.cpp). GPU only, and only in a build
// configured with -DGP_CUDNN=ON (which needs nvcc; GP_HAVE_CUDNN is then defined for
// everything that links gp_cudnn, which the library itself does not). The engine itself never uses it. fp32, fp16 and bf16.
//
// cuDNN convolves plain tensors only, so every fused gather of kernels/conv.cuh
// (max-pool, upsample + pad + concat, the colorizer's 35-channel input) is first
// materialised into a tensor by the small kernels below, exactly as the fused kernels
// compute it (same float formulas). Those kernels are built for both targets, so the
// materialising plan is checked on the simulator too (MaterializedUNet with
// PlainConvs::Backend), where cuDNN itself does not exist.
//
// Plain C++: no CUDA or cuDNN header is needed to use it. Every pointer is a device
// pointer of the backend in use; every tensor is NHWC fp32 with batch 1, [H][W][C].
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/backend/backend.h"
#include "src/engine/device_array.h"
#include "src/engine/unet.h"
#include "src/plan/unet_plan.h"
#include "src/weights/model_weights.h"

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

// ---- cuDNN -----------------------------------------------------------------------------

// One cuDNN handle and the plans of the convolutions it has run: for each shape
// (h, w, cin, cout, ksize, activation) the descriptors and the algorithm, chosen once
// with cudnnFindConvolutionForwardAlgorithm (timed by cuDNN on first use), and one
// workspace grown to the largest need. Math: strict fp32 FMA (CUDNN_FMA_MATH) unless
// allow_tf32, which lets cuDNN use TF32 tensor cores (Ampere and later; about 10 bits of
// mantissa, so not for comparisons at fp32 tolerances).
// Not thread-safe: one CudnnConv per host thread.
class CudnnConv {
 public:
  // Throws gp::Error when `backend` is not a CUDA backend, or cuDNN cannot start.
  explicit CudnnConv(Backend& backend, bool allow_tf32 = false);
  ~CudnnConv();
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;

  bool allow_tf32() const;

  // cuDNN's NHWC filter layout [cout][ky][kx][cin] from PyTorch's [cout][cin][ky][kx] (host).
  static std::vector<float> filter_from_torch(const float* torch_weight, int cout, int cin, int ksize);

  // y [h][w][cout] = act(conv(x) + bias): x [h][w][cin], stride 1, zero padding ksize / 2
  // (ksize 1 or 3), filter from filter_from_torch, bias [cout]. ReLU runs as one
  // cudnnConvolutionBiasActivationForward; identity and tanh (and ReLU where cuDNN
  // refuses the fused call) as cudnnConvolutionForward followed by bias_activation.
  // Queued on `stream`; throws gp::Error naming the cuDNN status on failure.
  void forward(const float* x, int h, int w, int cin, const float* filter, const float* bias, int cout, int ksize,
               Activation act, float* y, Stream stream = nullptr) {
    forward(Precision::Fp32, x, h, w, cin, filter, bias, cout, ksize, act, y, stream);
  }
  // The same with x, filter, bias and y of the storage type of `precision` (Fp16 or Bf16:
  // fp32 accumulation, tensor-core math as cuDNN times it best; Bf16 needs sm_80+).
  void forward(Precision precision, const void* x, int h, int w, int cin, const void* filter, const void* bias,
               int cout, int ksize, Activation act, void* y, Stream stream = nullptr);
  // v [n] rounded to 16 bits (Fp16 or Bf16), nearest even: filters (after
  // filter_from_torch) and biases of the 16-bit forward().
  static std::vector<uint16_t> to16(const float* v, size_t n, Precision p);

  // One line per plan made so far, e.g.
  //   "fp32 3x3 64x64 128->128 relu: IMPLICIT_PRECOMP_GEMM fma, workspace 0 B, 0.081 ms, fused bias+relu"
  std::vector<std::string> plans() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- the U-Net, unfused ------------------------------------------------------------------

// The U-Net of src/engine/unet.h with every gather materialised into a tensor and every
// convolution a plain one, run either by cuDNN (PlainConvs::Cudnn: GPU only, needs the
// CudnnConv) or by the backend's own plain-input kernels (PlainConvs::Backend: any
// backend; checks the materialising plan against the fused engine on the simulator).
// Heads: segmentation = 1x1 conv, then argmax over the channels (Backend::argmax_channels
// for cuDNN); colorization = 1x1 conv + tanh. Buffers are allocated once for h x w.
class MaterializedUNet {
 public:
  enum class PlainConvs { Cudnn, Backend };
  // `weights` must hold a U-Net of `width` (as validated by load_model_weights);
  // `cudnn` (needed for PlainConvs::Cudnn) must outlive this object. Fp16 / Bf16:
  // activations and 3x3 weights in 16 bits, gathers materialised in 16 bits, the 3x3
  // convs by cuDNN's 16-bit convolutions (bias in 16 bits too) or the backend's
  // tensor-core kernels on the plain input, the 1x1 heads by the backend's 16-bit head
  // kernels (fp32 weights) in both modes.
  MaterializedUNet(Backend& backend, const UNetWeights& weights, int width, int h, int w, PlainConvs convs,
                   CudnnConv* cudnn = nullptr, Precision precision = Precision::Fp32);
  ~MaterializedUNet();
  MaterializedUNet(const MaterializedUNet&) = delete;
  MaterializedUNet& operator=(const MaterializedUNet&) = delete;

  // As UNetWorkspace::segment / colorize.
  void segment(const float* x, uint8_t* labels, float* logits, Stream stream = nullptr);
  void colorize(const ColorizerInput& input, float* out, Stream stream = nullptr);

 private:
  struct Conv;  // one layer's weights in the layout of the chosen path
  // One run of `plan` (src/plan/unet_plan.h, the topology the fused engine runs).
  void run(const UNetPlan& plan, const float* x, const ColorizerInput* colorizer, uint8_t* labels, float* logits,
           float* out, Stream stream);
  // Activations of the precision's storage type (the arrays hold that many bytes).
  void* buffer(Buffer b) const { return buffers_[int(b)].get(); }

  Backend& backend_;
  PlainConvs convs_;
  CudnnConv* cudnn_;
  Precision precision_;
  UNetPlan plan_[2];          // by UNetKind
  std::vector<Conv> layers_;  // one per step of the weights' plan, in its order
  std::array<DeviceArray<float>, kBufferCount> buffers_;
  DeviceArray<float> gathered_, logits_;
  SplitKScratch split_k_;  // the 16-bit Backend path's (src/engine/unet.h)
};

}  // namespace gp
