// The materialising kernels (see materialize.h). Compiled twice, like every kernel
// source: for both targets (GP_KERNEL_NS gp_cuda and gp_sim, behind plain-C++ wrappers
// in GP_KERNEL_NS::gathers) and, in the nvcc build only, the dispatch by backend.
#include <cstdint>
#include <string>

#include "kernels/common.cuh"
#include "kernels/conv_ref.h"
#include "kernels/gathers.cuh"
#include "src/common/error.h"
#include "tests/cudnn/materialize.h"

// ---- materialising kernels (both targets) -------------------------------------------------

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kBlock = 256;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw gp::Error(gp::ErrorKind::Device,
                    std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
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
                        to_float(l[(size_t(t.y0) * g.wl + t.x1) * g.cl]),
                        to_float(l[(size_t(t.y1) * g.wl + t.x0) * g.cl]),
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
  constexpr int C = gp::kColorizerChannels;
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

template <class T> struct Type { using type = T; };
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
  if (h_in < 0 || w_in < 0 || c < 1) throw gp::Error(gp::ErrorKind::Argument, "materialize_maxpool: bad sizes");
  const int h = h_in / 2, w = w_in / 2;
  const size_t count = size_t(h) * w * c;
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     const T* xt = static_cast<const T*>(x);
                     T* o = static_cast<T*>(out);
                     return narrow(count) ? launch_1d(maxpool2_kernel<T, uint32_t>, count, kBlock, cuda(stream), xt,
                                                      w_in, c, w, uint32_t(count), o)
                                          : launch_1d(maxpool2_kernel<T, size_t>, count, kBlock, cuda(stream), xt, w_in,
                                                      c, w, count, o);
                   }),
        "materialize_maxpool");
}

void up_concat(gp::Precision p, const void* skip, int h, int w, int c_skip, const void* low, int h_low, int w_low,
               int c_low, void* out, gp::Stream stream) {
  if (h < 0 || w < 0 || c_skip < 1 || c_low < 1 || h_low < 1 || w_low < 1 || 2 * h_low > h || 2 * w_low > w)
    throw gp::Error(gp::ErrorKind::Argument, "materialize_up_concat: bad sizes");
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
                     return narrow(count)
                                ? launch_1d(up_concat_kernel<T, uint32_t>, count, kBlock, cuda(stream), g,
                                            uint32_t(count), o)
                                : launch_1d(up_concat_kernel<T, size_t>, count, kBlock, cuda(stream), g, count, o);
                   }),
        "materialize_up_concat");
}

void colorizer(gp::Precision p, const float* sketch, const uint8_t* labels, const float* colors, const uint8_t* active,
               int h, int w, float center, void* out, gp::Stream stream) {
  if (h < 0 || w < 0) throw gp::Error(gp::ErrorKind::Argument, "materialize_colorizer: bad sizes");
  const size_t count = size_t(h) * w * gp::kColorizerChannels;
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     T* o = static_cast<T*>(out);
                     return narrow(count) ? launch_1d(colorizer_kernel<T, uint32_t>, count, kBlock, cuda(stream),
                                                      sketch, labels, colors, active, center, uint32_t(count), o)
                                          : launch_1d(colorizer_kernel<T, size_t>, count, kBlock, cuda(stream), sketch,
                                                      labels, colors, active, center, count, o);
                   }),
        "materialize_colorizer");
}

void bias_activation(gp::Precision p, void* y, size_t pixels, int c, const void* bias, int act, gp::Stream stream) {
  if (c < 1) throw gp::Error(gp::ErrorKind::Argument, "bias_activation: bad channel count");
  const size_t count = pixels * size_t(c);
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     T* yt = static_cast<T*>(y);
                     const T* b = static_cast<const T*>(bias);
                     return narrow(count) ? launch_1d(bias_activation_kernel<T, uint32_t>, count, kBlock, cuda(stream),
                                                      yt, c, b, act, uint32_t(count))
                                          : launch_1d(bias_activation_kernel<T, size_t>, count, kBlock, cuda(stream),
                                                      yt, c, b, act, count);
                   }),
        "bias_activation");
}

void convert(gp::Precision p, const float* x, size_t count, void* out, gp::Stream stream) {
  check(by_storage(p,
                   [&](auto type) {
                     using T = typename decltype(type)::type;
                     T* o = static_cast<T*>(out);
                     return narrow(count)
                                ? launch_1d(convert_kernel<T, uint32_t>, count, kBlock, cuda(stream), x,
                                            uint32_t(count), o)
                                : launch_1d(convert_kernel<T, size_t>, count, kBlock, cuda(stream), x, count, o);
                   }),
        "materialize_convert");
}

}  // namespace gathers
}  // namespace GP_KERNEL_NS

#if !defined(__CUDACC_SIM__)
// ---- nvcc only: the dispatch by backend ----------------------------------------------------

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
  if (on_simulator(backend)) gp_sim::gathers::maxpool(p, x, h_in, w_in, c, out, stream);
  else gp_cuda::gathers::maxpool(p, x, h_in, w_in, c, out, stream);
}

void materialize_up_concat(Backend& backend, Precision p, const void* skip, int h, int w, int c_skip, const void* low,
                           int h_low, int w_low, int c_low, void* out, Stream stream) {
  if (on_simulator(backend)) gp_sim::gathers::up_concat(p, skip, h, w, c_skip, low, h_low, w_low, c_low, out, stream);
  else gp_cuda::gathers::up_concat(p, skip, h, w, c_skip, low, h_low, w_low, c_low, out, stream);
}

void materialize_colorizer(Backend& backend, Precision p, const ColorizerInput& in, void* out, Stream stream) {
  if (on_simulator(backend))
    gp_sim::gathers::colorizer(p, in.sketch, in.labels, in.colors, in.active, in.h, in.w, in.center, out, stream);
  else gp_cuda::gathers::colorizer(p, in.sketch, in.labels, in.colors, in.active, in.h, in.w, in.center, out, stream);
}

void bias_activation(Backend& backend, Precision p, void* y, size_t pixels, int c, const void* bias, Activation act,
                     Stream stream) {
  if (on_simulator(backend)) gp_sim::gathers::bias_activation(p, y, pixels, c, bias, int(act), stream);
  else gp_cuda::gathers::bias_activation(p, y, pixels, c, bias, int(act), stream);
}

void materialize_convert(Backend& backend, Precision p, const float* x, size_t count, void* out, Stream stream) {
  if (on_simulator(backend)) gp_sim::gathers::convert(p, x, count, out, stream);
  else gp_cuda::gathers::convert(p, x, count, out, stream);
}

}  // namespace gp
#endif  // !__CUDACC_SIM__
