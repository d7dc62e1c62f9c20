// cuDNN as a second convolution path (see cudnn_conv.h). Compiled twice, like every
// kernel source: the materialising kernels for both targets (GP_KERNEL_NS gp_cuda and
// gp_sim, behind plain-C++ wrappers in GP_KERNEL_NS::gathers), and, in the nvcc
// build only, the cuDNN wrapper and the unfused U-Net.
//
// cuDNN API: the cuDNN 9 "legacy" convolution functions of cudnn_cnn.h
// (cudnnFindConvolutionForwardAlgorithm, cudnnConvolutionForward,
// cudnnConvolutionBiasActivationForward), deprecated in v9 but shipped; the deprecation
// attributes only warn under CUDNN_WARN_DEPRECATED, which this build does not define.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "kernels/common.cuh"
#include "kernels/gathers.cuh"
#include "kernels/conv_ref.h"
#include "src/backend/cudnn_conv.h"
#include "src/common/error.h"

// ---- materialising kernels (both targets) -------------------------------------------------

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kBlock = 256;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw gp::Error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
  }
}
cudaStream_t cuda(gp::Stream s) { return static_cast<cudaStream_t>(s); }
// The element index and count fit 32 bits (with room for the last block's overshoot).
bool narrow(size_t count) { return count <= size_t(UINT32_MAX) - kBlock; }

// As kernels/conv.cu (not fmaxf: the same result for every non-NaN input).
using gather::from_float;
using gather::max2;
using gather::to_float;

// One thread per output element; Index is uint32_t when the element count allows (cheaper
// division on a GPU), size_t otherwise. T is the activation storage (float, __half,
// __nv_bfloat16): each value is formed in float from the stored inputs and rounded once
// on the store, exactly as the fused gathers stage it (kernels/conv.cu, kernels/conv_mma.cu).

// Max-pool 2x2 of [h_in][w_in][c] into [h][w][c].
template <class T, class Index>
__global__ void maxpool2_kernel(const T* __restrict__ x, int w_in, int c, int w, Index count, T* __restrict__ out) {
  const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int ch = int(i % Index(c));
  const Index p = i / Index(c);
  const int xx = int(p % Index(w)), y = int(p / Index(w));
  const T* q = x + (size_t(2 * y) * w_in + 2 * xx) * c + ch;
  const size_t row = size_t(w_in) * c;
  out[i] = from_float<T>(max2(max2(to_float(q[0]), to_float(q[c])), max2(to_float(q[row]), to_float(q[row + c]))));
}

// The UpConcatGather of kernels/conv.cu, written out: the same float formulas.
template <class T> struct UpConcatParams {
  const T* skip;
  const T* low;
  int w, cs, cl, hl, wl, top, left;
  float scale_y, scale_x;
};

template <class T, class Index>
__global__ void up_concat_kernel(UpConcatParams<T> g, Index count, T* __restrict__ out) {
  const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int c = g.cs + g.cl;
  const int ch = int(i % Index(c));
  const Index p = i / Index(c);
  const int xx = int(p % Index(g.w)), y = int(p / Index(g.w));
  float v = 0.0f;
  if (ch < g.cs) {
    v = to_float(g.skip[p * g.cs + ch]);
  } else {
    const int uy = y - g.top, ux = xx - g.left;
    if (unsigned(uy) < unsigned(2 * g.hl) && unsigned(ux) < unsigned(2 * g.wl)) {
      const gather::BilinearTaps t = gather::bilinear_taps(uy, ux, g.scale_y, g.scale_x, g.hl, g.wl);
      const T* l = g.low + (ch - g.cs);
      v = gather::lerp2(t.ay, t.ax, to_float(l[(size_t(t.y0) * g.wl + t.x0) * g.cl]),
                        to_float(l[(size_t(t.y0) * g.wl + t.x1) * g.cl]), to_float(l[(size_t(t.y1) * g.wl + t.x0) * g.cl]),
                        to_float(l[(size_t(t.y1) * g.wl + t.x1) * g.cl]));
    }
  }
  out[i] = from_float<T>(v);
}

// The ColorizerGather of kernels/conv.cu: [X, C (3), M - center, onehot(l) - center (30)].
template <class T, class Index>
__global__ void colorizer_kernel(const float* __restrict__ sketch, const uint8_t* __restrict__ labels,
                                 const float* __restrict__ colors, const uint8_t* __restrict__ active, float center,
                                 Index count, T* __restrict__ out) {
  constexpr int C = gp::ref::kColorizerChannels;
  const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int ch = int(i % Index(C));
  const Index p = i / Index(C);
  out[i] = from_float<T>(gather::colorizer_channel(sketch[p], labels[p], colors, active, center, ch));
}

template <class T, class Index>
__global__ void bias_activation_kernel(T* __restrict__ y, int c, const T* __restrict__ bias, int act, Index count) {
  const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  float v = to_float(y[i]);
  if (bias) v += to_float(bias[i % Index(c)]);
  if (act == int(gp::Activation::Relu)) v = v > 0.0f ? v : 0.0f;
  if (act == int(gp::Activation::Tanh)) v = tanhf(v);
  y[i] = from_float<T>(v);
}

template <class T, class Index>
__global__ void convert_kernel(const float* __restrict__ x, Index count, T* __restrict__ out) {
  const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = from_float<T>(x[i]);
}

template <class T> struct Type {
  using type = T;
};
// f(Type<T>{}) with T the storage of precision p.
template <class F> cudaError_t by_storage(gp::Precision p, F f) {
  switch (p) {
    case gp::Precision::Fp32: return f(Type<float>{});
    case gp::Precision::Fp16: return f(Type<__half>{});
    case gp::Precision::Bf16: return f(Type<__nv_bfloat16>{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

// Plain-C++ entry points of this target's kernels (no CUDA type in the signatures, so
// the nvcc translation unit can declare the simulator's, below). Activations are of the
// storage type of `p` behind void pointers.
namespace gathers {

void maxpool(gp::Precision p, const void* x, int h_in, int w_in, int c, void* out, gp::Stream stream) {
  if (h_in < 0 || w_in < 0 || c < 1) throw gp::Error("materialize_maxpool: bad sizes");
  const int h = h_in / 2, w = w_in / 2;
  const size_t count = size_t(h) * w * c;
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     const T* xt = static_cast<const T*>(x);
                     T* o = static_cast<T*>(out);
                     return narrow(count) ? launch_1d(maxpool2_kernel<T, uint32_t>, count, kBlock, cuda(stream), xt, w_in,
                                                      c, w, uint32_t(count), o)
                                          : launch_1d(maxpool2_kernel<T, size_t>, count, kBlock, cuda(stream), xt, w_in, c,
                                                      w, count, o);
                   }),
        "materialize_maxpool");
}

void up_concat(gp::Precision p, const void* skip, int h, int w, int c_skip, const void* low, int h_low, int w_low,
               int c_low, void* out, gp::Stream stream) {
  if (h < 0 || w < 0 || c_skip < 1 || c_low < 1 || h_low < 1 || w_low < 1 || 2 * h_low > h || 2 * w_low > w)
    throw gp::Error("materialize_up_concat: bad sizes");
  const size_t count = size_t(h) * w * (c_skip + c_low);
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     UpConcatParams<T> g{};
                     g.skip = static_cast<const T*>(skip);
                     g.low = static_cast<const T*>(low);
                     g.w = w;
                     g.cs = c_skip;
                     g.cl = c_low;
                     g.hl = h_low;
                     g.wl = w_low;
                     g.top = (h - 2 * h_low) / 2;
                     g.left = (w - 2 * w_low) / 2;
                     // As kernels/conv.cu (and PyTorch): the scale once in float, the source scale * dst.
                     g.scale_y = gather::up_step(h_low);
                     g.scale_x = gather::up_step(w_low);
                     T* o = static_cast<T*>(out);
                     return narrow(count) ? launch_1d(up_concat_kernel<T, uint32_t>, count, kBlock, cuda(stream), g,
                                                      uint32_t(count), o)
                                          : launch_1d(up_concat_kernel<T, size_t>, count, kBlock, cuda(stream), g, count, o);
                   }),
        "materialize_up_concat");
}

void colorizer(gp::Precision p, const float* sketch, const uint8_t* labels, const float* colors, const uint8_t* active,
               int h, int w, float center, void* out, gp::Stream stream) {
  if (h < 0 || w < 0) throw gp::Error("materialize_colorizer: bad sizes");
  const size_t count = size_t(h) * w * gp::ref::kColorizerChannels;
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     T* o = static_cast<T*>(out);
                     return narrow(count) ? launch_1d(colorizer_kernel<T, uint32_t>, count, kBlock, cuda(stream), sketch,
                                                      labels, colors, active, center, uint32_t(count), o)
                                          : launch_1d(colorizer_kernel<T, size_t>, count, kBlock, cuda(stream), sketch,
                                                      labels, colors, active, center, count, o);
                   }),
        "materialize_colorizer");
}

void bias_activation(gp::Precision p, void* y, size_t pixels, int c, const void* bias, int act, gp::Stream stream) {
  if (c < 1) throw gp::Error("bias_activation: bad channel count");
  const size_t count = pixels * size_t(c);
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     T* yt = static_cast<T*>(y);
                     const T* b = static_cast<const T*>(bias);
                     return narrow(count) ? launch_1d(bias_activation_kernel<T, uint32_t>, count, kBlock, cuda(stream), yt,
                                                      c, b, act, uint32_t(count))
                                          : launch_1d(bias_activation_kernel<T, size_t>, count, kBlock, cuda(stream), yt, c,
                                                      b, act, count);
                   }),
        "bias_activation");
}

void convert(gp::Precision p, const float* x, size_t count, void* out, gp::Stream stream) {
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     T* o = static_cast<T*>(out);
                     return narrow(count)
                                ? launch_1d(convert_kernel<T, uint32_t>, count, kBlock, cuda(stream), x, uint32_t(count), o)
                                : launch_1d(convert_kernel<T, size_t>, count, kBlock, cuda(stream), x, count, o);
                   }),
        "materialize_convert");
}

}  // namespace gathers
}  // namespace GP_KERNEL_NS

#if !defined(__CUDACC_SIM__)
// ---- nvcc only: dispatch, cuDNN, the unfused U-Net ------------------------------------------

#include <cudnn.h>

// The simulator's instance of the wrappers above (built from this file into gp_cudnn_sim).
namespace gp_sim::gathers {
void maxpool(gp::Precision p, const void* x, int h_in, int w_in, int c, void* out, gp::Stream stream);
void up_concat(gp::Precision p, const void* skip, int h, int w, int c_skip, const void* low, int h_low, int w_low,
               int c_low, void* out, gp::Stream stream);
void colorizer(gp::Precision p, const float* sketch, const uint8_t* labels, const float* colors, const uint8_t* active,
               int h, int w, float center, void* out, gp::Stream stream);
void bias_activation(gp::Precision p, void* y, size_t pixels, int c, const void* bias, int act, gp::Stream stream);
void convert(gp::Precision p, const float* x, size_t count, void* out, gp::Stream stream);
}  // namespace gp_sim::gathers

namespace gp {

namespace {
bool on_simulator(const Backend& backend) { return backend.kind() == DeviceKind::Simulator; }
}  // namespace

void materialize_maxpool(Backend& backend, Precision p, const void* x, int h_in, int w_in, int c, void* out,
                         Stream stream) {
  if (on_simulator(backend))
    gp_sim::gathers::maxpool(p, x, h_in, w_in, c, out, stream);
  else
    gp_cuda::gathers::maxpool(p, x, h_in, w_in, c, out, stream);
}

void materialize_up_concat(Backend& backend, Precision p, const void* skip, int h, int w, int c_skip, const void* low,
                           int h_low, int w_low, int c_low, void* out, Stream stream) {
  if (on_simulator(backend))
    gp_sim::gathers::up_concat(p, skip, h, w, c_skip, low, h_low, w_low, c_low, out, stream);
  else
    gp_cuda::gathers::up_concat(p, skip, h, w, c_skip, low, h_low, w_low, c_low, out, stream);
}

void materialize_colorizer(Backend& backend, Precision p, const ColorizerInput& in, void* out, Stream stream) {
  if (on_simulator(backend))
    gp_sim::gathers::colorizer(p, in.sketch, in.labels, in.colors, in.active, in.h, in.w, in.center, out, stream);
  else
    gp_cuda::gathers::colorizer(p, in.sketch, in.labels, in.colors, in.active, in.h, in.w, in.center, out, stream);
}

void bias_activation(Backend& backend, Precision p, void* y, size_t pixels, int c, const void* bias, Activation act,
                     Stream stream) {
  if (on_simulator(backend))
    gp_sim::gathers::bias_activation(p, y, pixels, c, bias, int(act), stream);
  else
    gp_cuda::gathers::bias_activation(p, y, pixels, c, bias, int(act), stream);
}

void materialize_convert(Backend& backend, Precision p, const float* x, size_t count, void* out, Stream stream) {
  if (on_simulator(backend))
    gp_sim::gathers::convert(p, x, count, out, stream);
  else
    gp_cuda::gathers::convert(p, x, count, out, stream);
}

// ---- CudnnConv ---------------------------------------------------------------------------

namespace {

void check_cudnn(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw Error(std::string("cuDNN ") + what + ": " + cudnnGetErrorString(s) + " (status " + std::to_string(int(s)) +
                ")");
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
    const cudnnDataType_t type = wide                            ? CUDNN_DATA_FLOAT
                                 : precision == Precision::Fp16 ? CUDNN_DATA_HALF
                                                                : CUDNN_DATA_BFLOAT16;
    check_cudnn(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NHWC, type, 1, cin, h, w), "input descriptor");
    check_cudnn(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NHWC, type, 1, cout, h, w), "output descriptor");
    check_cudnn(cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, type, 1, cout, 1, 1), "bias descriptor");
    check_cudnn(cudnnSetFilter4dDescriptor(p->filter, type, CUDNN_TENSOR_NHWC, cout, cin, ksize, ksize),
                "filter descriptor");
    const int pad = ksize / 2;
    check_cudnn(cudnnSetConvolution2dDescriptor(p->conv, pad, pad, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                "convolution descriptor");
    const bool tensor_ops = tf32 || !wide;
    check_cudnn(cudnnSetConvolutionMathType(p->conv, !wide ? CUDNN_TENSOR_OP_MATH : tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH),
                "math type");
    check_cudnn(cudnnSetActivationDescriptor(p->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
                "activation descriptor");

    // Timed by cuDNN on its own buffers; results sorted fastest first.
    int max_count = 0;
    check_cudnn(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count), "algorithm count");
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(max_count, 1)));
    int returned = 0;
    check_cudnn(cudnnFindConvolutionForwardAlgorithm(handle, p->x, p->filter, p->conv, p->y, int(perf.size()), &returned,
                                                     perf.data()),
                "cudnnFindConvolutionForwardAlgorithm");
    const cudnnConvolutionFwdAlgoPerf_t* best = nullptr;
    for (int i = 0; i < returned && !best; ++i) {
      const auto& r = perf[size_t(i)];
      const bool tensor_cores = r.mathType == CUDNN_TENSOR_OP_MATH || r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
      if (r.status == CUDNN_STATUS_SUCCESS && (tensor_ops || !tensor_cores)) best = &r;
    }
    if (!best)
      throw Error("cuDNN: no forward algorithm for a " + std::to_string(ksize) + "x" + std::to_string(ksize) + " conv " +
                  std::to_string(cin) + "->" + std::to_string(cout) + " at " + std::to_string(w) + "x" +
                  std::to_string(h) + " in " + precision_name(precision) + (tensor_ops ? "" : " with fp32 FMA math"));
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
    p->text = std::string(precision_name(precision)) + " " + std::to_string(ksize) + "x" + std::to_string(ksize) + " " + std::to_string(w) + "x" + std::to_string(h) +
              " " + std::to_string(cin) + "->" + std::to_string(cout) + " " + activation_name(act) + ": " +
              algo_name(p->algo) + " " + math_name(best->mathType) + ", workspace " + std::to_string(p->workspace) +
              " B, " + std::to_string(best->time) + " ms";
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
      throw Error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    }
  }
};

CudnnConv::CudnnConv(Backend& backend, bool allow_tf32) : impl_(std::make_unique<Impl>()) {
  if (backend.kind() != DeviceKind::Cuda) throw Error("cuDNN needs a CUDA backend, not " + backend.name());
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
    throw Error("CudnnConv::forward: bad shape (h " + std::to_string(h) + ", w " + std::to_string(w) + ", cin " +
                std::to_string(cin) + ", cout " + std::to_string(cout) + ", ksize " + std::to_string(ksize) + ")");
  if (h == 0 || w == 0) return;
  cudnnHandle_t handle = impl_->handle;
  check_cudnn(cudnnSetStream(handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  Impl::Plan& p = impl_->plan(precision, h, w, cin, cout, ksize, act);
  const float one = 1.0f, zero = 0.0f;
  if (p.fused) {
    // z = y with alpha2 = 0: no residual input.
    const cudnnStatus_t s = cudnnConvolutionBiasActivationForward(
        handle, &one, p.x, x, p.filter, filter, p.conv, p.algo, impl_->workspace, impl_->workspace_bytes, &zero, p.y, y,
        p.bias, bias, p.relu, p.y, y);
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
  gp_cuda::gathers::bias_activation(precision, y, size_t(h) * w, cout, bias, int(act), stream);
}

std::vector<uint16_t> CudnnConv::to16(const float* v, size_t n, Precision p) {
  if (p == Precision::Fp32) throw Error("CudnnConv::to16: needs a 16-bit precision");
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
    out.push_back(p->text + (p->fused ? ", fused bias+relu" : std::string(", separate bias+") + activation_name(p->act)));
  return out;
}

// ---- MaterializedUNet ------------------------------------------------------------------------

struct MaterializedUNet::Conv {
  // The Backend path, and the 16-bit path's 1x1 heads in both modes: Backend::pack_step's
  // bytes for the step (a plain conv packs as its gather's). cuDNN: its filter layout,
  // fp32 or 16-bit, and for 16 bits the bias rounded too.
  DeviceArray<uint8_t> packed;
  DeviceArray<float> bias;
  DeviceArray<float> filter;
  DeviceArray<uint16_t> filter16, bias16;
};

MaterializedUNet::MaterializedUNet(Backend& backend, const UNetWeights& weights, int width, int h, int w,
                                   PlainConvs convs, CudnnConv* cudnn, Precision precision)
    : backend_(backend),
      convs_(convs),
      cudnn_(cudnn),
      precision_(precision),
      plan_{plan_unet(UNetKind::Segmentator, width, h, w, weights.outc.cout), plan_unet(UNetKind::Colorizer, width, h, w)} {
  if (convs == PlainConvs::Cudnn && !cudnn) throw Error("MaterializedUNet: the cuDNN path needs a CudnnConv");
  const bool wide = precision == Precision::Fp32;
  // Which network the weights are (its first layer's input): the plan whose steps they run.
  const UNetPlan& own = weights.inc.conv1.cin == plan_[int(UNetKind::Colorizer)].steps.front().cin
                            ? plan_[int(UNetKind::Colorizer)]
                            : plan_[int(UNetKind::Segmentator)];
  for (const ConvStep& s : own.steps) {
    const ConvLayer& l = weights.conv(s.name);
    if (l.cin != s.cin || l.cout != s.cout || l.ksize != s.ksize)
      throw Error("MaterializedUNet: layer " + l.name + " has weights " + std::to_string(l.cout) + " x " +
                  std::to_string(l.cin) + " x " + std::to_string(l.ksize) + ", the network needs " +
                  std::to_string(s.cout) + " x " + std::to_string(s.cin) + " x " + std::to_string(s.ksize));
    Conv c;
    const char* name = l.name.c_str();
    c.bias = DeviceArray<float>(backend, l.bias, name);
    // The 16-bit path's heads run on the engine's own 1x1 kernels (fp32 weights, 16-bit
    // input) in both modes: they are under 1% of the FLOPs.
    if (convs == PlainConvs::Backend || (!wide && s.ksize == 1)) {
      c.packed = DeviceArray<uint8_t>(backend, backend.pack_step(s, l.weight.data(), precision), name);
    } else {
      const std::vector<float> filter = CudnnConv::filter_from_torch(l.weight.data(), l.cout, l.cin, l.ksize);
      if (wide) {
        c.filter = DeviceArray<float>(backend, filter, name);
      } else {
        c.filter16 = DeviceArray<uint16_t>(backend, CudnnConv::to16(filter.data(), filter.size(), precision), name);
        c.bias16 = DeviceArray<uint16_t>(backend, CudnnConv::to16(l.bias.data(), l.bias.size(), precision), name);
      }
    }
    layers_.push_back(std::move(c));
  }
  // Gathered inputs (and, for 16-bit cuDNN, the fp32 network input rounded to 16 bits).
  size_t gathered = 0;
  for (const UNetPlan& plan : plan_)
    for (const ConvStep& s : plan.steps)
      if (s.gather != Gather::Plain || (!wide && s.in.buffer == Buffer::Input))
        gathered = std::max(gathered, size_t(s.out.h) * s.out.w * (wide ? s.cin : s.mma_cin));
  const size_t element = wide ? sizeof(float) : sizeof(uint16_t);
  for (int b = 0; b < kBufferCount; ++b) {
    const size_t n = std::max(plan_[0].buffer_elements(Buffer(b)), plan_[1].buffer_elements(Buffer(b)));
    if (n) buffers_[b] = DeviceArray<float>(backend, (n * element + 3) / 4, "U-Net activations");
  }
  gathered_ = DeviceArray<float>(backend, (gathered * element + 3) / 4, "materialised gathers");
  if (convs == PlainConvs::Cudnn && wide)
    logits_ = DeviceArray<float>(backend, size_t(h) * w * weights.outc.cout, "logits");
  if (convs == PlainConvs::Backend) split_k_ = SplitKScratch(backend, plan_[0], plan_[1], precision);
}

MaterializedUNet::~MaterializedUNet() = default;

void MaterializedUNet::run(const UNetPlan& plan, const float* x, const ColorizerInput* colorizer, uint8_t* labels,
                           float* logits, float* out, Stream stream) {
  const Precision p = precision_;
  const bool wide = p == Precision::Fp32;
  const bool cudnn = convs_ == PlainConvs::Cudnn;
  if (layers_.size() != plan.steps.size()) throw Error("MaterializedUNet: weights of another network");
  split_k_.clear(backend_, stream);
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const ConvStep& s = plan.steps[i];
    const Conv& conv = layers_[i];
    const StepWeights weights{conv.packed.get(), conv.bias.get()};
    StepTensors t;
    t.out = s.epilogue == Epilogue::BiasTanh ? static_cast<void*>(out) : buffer(s.out.buffer);
    t.colorizer = colorizer;
    t.labels = labels;
    t.logits = logits;
    if (s.gather == Gather::Colorizer && !wide && !cudnn) {
      // The engine's own materialisation: the input written out padded to mma_cin
      // (kernels/colorizer_input.cuh), then the plain conv over it.
      backend_.run_step(s, p, weights, t, StepScratch{nullptr, gathered_.get(), split_k_.partials(), split_k_.counters()},
                        stream);
      continue;
    }
    // The step as a plain conv on its materialised input: `in` is the network input
    // (fp32) or a tensor of the precision's type (any buffer but Input says so).
    ConvStep plain = s;
    plain.gather = Gather::Plain;
    plain.in = TensorRef{s.in.buffer, s.out.h, s.out.w, s.cin};
    plain.low = TensorRef{};
    const bool from_input = s.in.buffer == Buffer::Input;
    t.in = from_input ? static_cast<const void*>(x) : buffer(s.in.buffer);
    void* gathered = gathered_.get();
    switch (s.gather) {
      case Gather::Plain:
        // cuDNN's 16-bit convolutions take 16-bit input only.
        if (from_input && !wide && cudnn) {
          materialize_convert(backend_, p, x, size_t(s.in.h) * s.in.w * s.in.c, gathered, stream);
          t.in = gathered;
          plain.in.buffer = Buffer::Mid;
        }
        break;
      case Gather::MaxPool: materialize_maxpool(backend_, p, t.in, s.in.h, s.in.w, s.in.c, gathered, stream); break;
      case Gather::UpConcat:
        materialize_up_concat(backend_, p, t.in, s.in.h, s.in.w, s.in.c, buffer(s.low.buffer), s.low.h, s.low.w, s.low.c,
                              gathered, stream);
        break;
      case Gather::Colorizer: materialize_colorizer(backend_, p, *colorizer, gathered, stream); break;
    }
    if (s.gather != Gather::Plain) {
      t.in = gathered;
      plain.in.buffer = Buffer::Mid;
    }
    const int h = s.out.h, w = s.out.w;
    if (!cudnn || (!wide && s.ksize == 1)) {
      backend_.run_step(plain, p, weights, t, StepScratch{nullptr, nullptr, split_k_.partials(), split_k_.counters()},
                        stream);
      continue;
    }
    const void* filter = wide ? static_cast<const void*>(conv.filter.get()) : conv.filter16.get();
    const void* bias = wide ? static_cast<const void*>(conv.bias.get()) : conv.bias16.get();
    switch (s.epilogue) {
      case Epilogue::BiasRelu:
        cudnn_->forward(p, t.in, h, w, s.cin, filter, bias, s.cout, 3, Activation::Relu, t.out, stream);
        break;
      case Epilogue::Argmax: {
        float* l = logits ? logits : logits_.get();
        cudnn_->forward(static_cast<const float*>(t.in), h, w, s.cin, conv.filter.get(), conv.bias.get(), s.cout, 1,
                        Activation::Identity, l, stream);
        backend_.argmax_channels(l, size_t(h) * w, s.cout, labels, stream);
        break;
      }
      case Epilogue::BiasTanh:
        cudnn_->forward(static_cast<const float*>(t.in), h, w, s.cin, conv.filter.get(), conv.bias.get(), s.cout, 1,
                        Activation::Tanh, out, stream);
        break;
    }
  }
}

void MaterializedUNet::segment(const float* x, uint8_t* labels, float* logits, Stream stream) {
  run(plan_[int(UNetKind::Segmentator)], x, nullptr, labels, logits, nullptr, stream);
}

void MaterializedUNet::colorize(const ColorizerInput& input, float* out, Stream stream) {
  const UNetPlan& plan = plan_[int(UNetKind::Colorizer)];
  if (input.h != plan.h || input.w != plan.w) throw Error("MaterializedUNet::colorize: input size differs from the workspace");
  run(plan, nullptr, &input, nullptr, nullptr, out, stream);
}

}  // namespace gp
#endif  // !__CUDACC_SIM__
