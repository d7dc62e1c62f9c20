// cuDNN as a second convolution path (see cudnn_conv.h). nvcc only.
//
// cuDNN API: the cuDNN 9 "legacy" convolution functions of cudnn_cnn.h
// (cudnnFindConvolutionForwardAlgorithm, cudnnConvolutionForward,
// cudnnConvolutionBiasActivationForward), deprecated in v9 but shipped; the deprecation
// attributes only warn under CUDNN_WARN_DEPRECATED, which this build does not define.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "src/common/error.h"
#include "tests/cudnn/cudnn_conv.h"
#include "tests/cudnn/materialize.h"

namespace gp {

namespace {

void check_cudnn(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw Error(ErrorKind::Device, std::string("cuDNN ") + what + ": " + cudnnGetErrorString(s) + " (status " +
                                       std::to_string(int(s)) + ")");
}

// Owns one cuDNN descriptor.
template <class T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)> class Descriptor {
 public:
  Descriptor() { check_cudnn(Create(&d_), "create descriptor"); }
  ~Descriptor() {
    if (d_) Destroy(d_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  operator T() const { return d_; }

 private:
  T d_ = nullptr;
};
using TensorDesc = Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using ActivationDesc =
    Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;

const char* algo_name(cudnnConvolutionFwdAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
    default: return "?";
  }
}
const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "default";
    case CUDNN_TENSOR_OP_MATH: return "tensor-op";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor-op+conversion";
    case CUDNN_FMA_MATH: return "fma";
    default: return "?";
  }
}
const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Identity: return "identity";
    case Activation::Relu: return "relu";
    case Activation::Tanh: return "tanh";
  }
  return "?";
}

}  // namespace

struct CudnnConv::Impl {
  // One shape's descriptors and algorithm.
  struct Plan {
    TensorDesc x, y, bias;
    FilterDesc filter;
    ConvDesc conv;
    ActivationDesc relu;
    cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    size_t workspace = 0;
    Activation act = Activation::Identity;
    Precision precision = Precision::Fp32;
    bool fused = false;  // ReLU through cudnnConvolutionBiasActivationForward
    bool used = false;   // run at least once
    std::string text;
  };
  using Key = std::tuple<int, int, int, int, int, int, int>;  // h, w, cin, cout, ksize, activation, precision

  Backend* backend = nullptr;
  cudnnHandle_t handle = nullptr;
  bool tf32 = false;
  std::map<Key, std::unique_ptr<Plan>> plans;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;

  ~Impl() {
    if (workspace) cudaFree(workspace);
    if (handle) cudnnDestroy(handle);
  }

  Plan& plan(Precision precision, int h, int w, int cin, int cout, int ksize, Activation act) {
    const Key key{h, w, cin, cout, ksize, int(act), int(precision)};
    if (auto it = plans.find(key); it != plans.end()) return *it->second;
    auto p = std::make_unique<Plan>();
    // 16-bit: x, filter, bias and y of that type, fp32 accumulation (cuDNN's
    // "pseudo-half" configuration), tensor cores allowed.
    const bool wide = precision == Precision::Fp32;
    const cudnnDataType_t type = wide                           ? CUDNN_DATA_FLOAT
                                 : precision == Precision::Fp16 ? CUDNN_DATA_HALF
                                                                : CUDNN_DATA_BFLOAT16;
    check_cudnn(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NHWC, type, 1, cin, h, w), "input descriptor");
    check_cudnn(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NHWC, type, 1, cout, h, w), "output descriptor");
    check_cudnn(cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, type, 1, cout, 1, 1), "bias descriptor");
    check_cudnn(cudnnSetFilter4dDescriptor(p->filter, type, CUDNN_TENSOR_NHWC, cout, cin, ksize, ksize),
                "filter descriptor");
    const int pad = ksize / 2;
    check_cudnn(
        cudnnSetConvolution2dDescriptor(p->conv, pad, pad, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "convolution descriptor");
    const bool tensor_ops = tf32 || !wide;
    check_cudnn(cudnnSetConvolutionMathType(p->conv, !wide  ? CUDNN_TENSOR_OP_MATH
                                                     : tf32 ? CUDNN_DEFAULT_MATH
                                                            : CUDNN_FMA_MATH),
                "math type");
    check_cudnn(cudnnSetActivationDescriptor(p->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
                "activation descriptor");

    // Timed by cuDNN on its own buffers; results sorted fastest first.
    int max_count = 0;
    check_cudnn(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count), "algorithm count");
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(max_count, 1)));
    int returned = 0;
    check_cudnn(cudnnFindConvolutionForwardAlgorithm(handle, p->x, p->filter, p->conv, p->y, int(perf.size()),
                                                     &returned, perf.data()),
                "cudnnFindConvolutionForwardAlgorithm");
    const cudnnConvolutionFwdAlgoPerf_t* best = nullptr;
    for (int i = 0; i < returned && !best; ++i) {
      const auto& r = perf[size_t(i)];
      const bool tensor_cores =
          r.mathType == CUDNN_TENSOR_OP_MATH || r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
      if (r.status == CUDNN_STATUS_SUCCESS && (tensor_ops || !tensor_cores)) best = &r;
    }
    if (!best)
      throw Error(ErrorKind::Device, "cuDNN: no forward algorithm for a " + std::to_string(ksize) + "x" +
                                         std::to_string(ksize) + " conv " + std::to_string(cin) + "->" +
                                         std::to_string(cout) + " at " + std::to_string(w) + "x" + std::to_string(h) +
                                         " in " + precision_name(precision) +
                                         (tensor_ops ? "" : " with fp32 FMA math"));
    p->algo = best->algo;
    // Strict fp32: keep CUDNN_FMA_MATH on the descriptor (CUDNN_DEFAULT_MATH would permit
    // TF32 on Ampere and later); otherwise the math type cuDNN timed.
    if (tensor_ops) check_cudnn(cudnnSetConvolutionMathType(p->conv, best->mathType), "math type");
    size_t need = 0;
    check_cudnn(cudnnGetConvolutionForwardWorkspaceSize(handle, p->x, p->filter, p->conv, p->y, p->algo, &need),
                "workspace size");
    p->workspace = std::max(need, best->memory);
    p->act = act;
    p->fused = act == Activation::Relu;
    p->precision = precision;
    p->text = std::string(precision_name(precision)) + " " + std::to_string(ksize) + "x" + std::to_string(ksize) + " " +
              std::to_string(w) + "x" + std::to_string(h) + " " + std::to_string(cin) + "->" + std::to_string(cout) +
              " " + activation_name(act) + ": " + algo_name(p->algo) + " " + math_name(best->mathType) +
              ", workspace " + std::to_string(p->workspace) + " B, " + std::to_string(best->time) + " ms";
    if (p->workspace > workspace_bytes) {
      if (workspace) check(cudaFree(workspace), "cuDNN workspace");  // waits for the device
      workspace = nullptr;
      workspace_bytes = 0;
      check(cudaMalloc(&workspace, p->workspace), "cuDNN workspace");
      workspace_bytes = p->workspace;
    }
    return *plans.emplace(key, std::move(p)).first->second;
  }

  static void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw Error(ErrorKind::Device,
                  std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    }
  }
};

CudnnConv::CudnnConv(Backend& backend, bool allow_tf32) : impl_(std::make_unique<Impl>()) {
  if (backend.kind() != DeviceKind::Cuda)
    throw Error(ErrorKind::Device, "cuDNN needs a CUDA backend, not " + backend.name());
  impl_->backend = &backend;
  impl_->tf32 = allow_tf32;
  check_cudnn(cudnnCreate(&impl_->handle), "cudnnCreate");
}

CudnnConv::~CudnnConv() = default;

bool CudnnConv::allow_tf32() const { return impl_->tf32; }

std::vector<float> CudnnConv::filter_from_torch(const float* torch_weight, int cout, int cin, int ksize) {
  const int taps = ksize * ksize;
  std::vector<float> f(size_t(cout) * cin * taps);
  for (int co = 0; co < cout; ++co)
    for (int ci = 0; ci < cin; ++ci)
      for (int t = 0; t < taps; ++t)
        f[(size_t(co) * taps + t) * cin + ci] = torch_weight[(size_t(co) * cin + ci) * taps + t];
  return f;
}

void CudnnConv::forward(Precision precision, const void* x, int h, int w, int cin, const void* filter, const void* bias,
                        int cout, int ksize, Activation act, void* y, Stream stream) {
  if (h < 0 || w < 0 || cin < 1 || cout < 1 || (ksize != 1 && ksize != 3))
    throw Error(ErrorKind::Argument, "CudnnConv::forward: bad shape (h " + std::to_string(h) + ", w " +
                                         std::to_string(w) + ", cin " + std::to_string(cin) + ", cout " +
                                         std::to_string(cout) + ", ksize " + std::to_string(ksize) + ")");
  if (h == 0 || w == 0) return;
  cudnnHandle_t handle = impl_->handle;
  check_cudnn(cudnnSetStream(handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  Impl::Plan& p = impl_->plan(precision, h, w, cin, cout, ksize, act);
  const float one = 1.0f, zero = 0.0f;
  if (p.fused) {
    // z = y with alpha2 = 0: no residual input.
    const cudnnStatus_t s =
        cudnnConvolutionBiasActivationForward(handle, &one, p.x, x, p.filter, filter, p.conv, p.algo, impl_->workspace,
                                              impl_->workspace_bytes, &zero, p.y, y, p.bias, bias, p.relu, p.y, y);
    if (s == CUDNN_STATUS_SUCCESS) {
      p.used = true;
      return;
    }
    // cuDNN may refuse the fused call for an algorithm or layout it does not fuse:
    // then (first use only) the plan falls back to conv + our bias/ReLU kernel.
    if (p.used) check_cudnn(s, "cudnnConvolutionBiasActivationForward");
    p.fused = false;
    p.text += std::string(" [fused call refused: ") + cudnnGetErrorString(s) + "]";
  }
  check_cudnn(cudnnConvolutionForward(handle, &one, p.x, x, p.filter, filter, p.conv, p.algo, impl_->workspace,
                                      impl_->workspace_bytes, &zero, p.y, y),
              "cudnnConvolutionForward");
  p.used = true;
  bias_activation(*impl_->backend, precision, y, size_t(h) * w, cout, bias, act, stream);
}

std::vector<uint16_t> CudnnConv::to16(const float* v, size_t n, Precision p) {
  if (p == Precision::Fp32) throw Error(ErrorKind::Argument, "CudnnConv::to16: needs a 16-bit precision");
  std::vector<uint16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (p == Precision::Fp16) {
      const __half h = __float2half_rn(v[i]);
      std::memcpy(&out[i], &h, 2);
    } else {
      const __nv_bfloat16 b = __float2bfloat16_rn(v[i]);
      std::memcpy(&out[i], &b, 2);
    }
  }
  return out;
}

std::vector<std::string> CudnnConv::plans() const {
  std::vector<std::string> out;
  for (const auto& [key, p] : impl_->plans)
    out.push_back(p->text +
                  (p->fused ? ", fused bias+relu" : std::string(", separate bias+") + activation_name(p->act)));
  return out;
}

}  // namespace gp
