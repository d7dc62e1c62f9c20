// cuDNN as a second convolution path, to check and time the fused kernels against
// (tests/engine/cudnn_test.cpp, bench/engine_bench.cpp). GPU only, and only in a build
// configured with -DGP_CUDNN=ON (which needs nvcc; GP_HAVE_CUDNN is then defined for
// everything that links gp_test_cudnn). Test and benchmark code: never linked into the
// library. fp32, fp16 and bf16. Plain C++: no CUDA or cuDNN header is needed to use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guidingpainter/precision.hpp"
#include "src/backend/backend.h"
#include "tests/cudnn/materialize.h"

namespace gp {

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

}  // namespace gp
