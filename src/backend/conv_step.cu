#include "src/backend/conv_step.cuh"

#include <algorithm>
#include <cstring>

#include "kernels/colorizer_input.cuh"
#include "kernels/conv.cuh"
#include "kernels/conv_mma.cuh"
#include "kernels/upsample.cuh"

namespace GP_KERNEL_NS {
namespace {

// A step's block: the packed weights, then (at a 256-byte boundary) the fp32 bias.
constexpr size_t kBiasAlignment = 256;
size_t bias_offset(size_t weight_bytes) {
  return (weight_bytes + kBiasAlignment - 1) / kBiasAlignment * kBiasAlignment;
}

template <class T> std::vector<uint8_t> with_bias(const std::vector<T>& packed, const float* bias, int cout) {
  const size_t weight_bytes = packed.size() * sizeof(T), offset = bias_offset(weight_bytes);
  std::vector<uint8_t> block(offset + size_t(cout) * sizeof(float), 0);
  if (weight_bytes) std::memcpy(block.data(), packed.data(), weight_bytes);
  std::memcpy(block.data() + offset, bias, size_t(cout) * sizeof(float));
  return block;
}

// [cout][cin][k][k] -> [cout][cin_to][k][k] (cin_to >= cin), the extra input channels' weights zero.
std::vector<float> pad_input_channels(const float* weight, int cout, int cin, int ksize, int cin_to) {
  if (cin_to < cin) cin_to = cin;
  const size_t taps = size_t(ksize) * ksize;
  std::vector<float> padded(size_t(cout) * cin_to * taps, 0.0f);
  for (int co = 0; co < cout; ++co)
    std::copy_n(weight + size_t(co) * cin * taps, size_t(cin) * taps,
                padded.begin() + std::ptrdiff_t(size_t(co) * cin_to * taps));
  return padded;
}

// The 16-bit path runs its 3x3 steps on tensor cores; its 1x1 heads, and every step in
// fp32, on the fp32 kernels (fp32 weights).
bool tensor_core_step(const gp::ConvStep& s, gp::Precision p) { return p != gp::Precision::Fp32 && s.ksize == 3; }

// Calls f((T*)nullptr) with T the element type of precision p (Fp16 or Bf16).
template <class F> void with16(gp::Precision p, F&& f) {
  if (p == gp::Precision::Bf16) f.template operator()<__nv_bfloat16>(nullptr);
  else f.template operator()<__half>(nullptr);
}

// The step's fp32 kernels: every step of the fp32 path.
cudaError_t run_fp32(const gp::ConvStep& s, const ConvWeights& wt, const gp::StepTensors& t, cudaStream_t stream,
                     const char** what) {
  const float* in = static_cast<const float*>(t.in);
  const ConvPlain plain{in, s.in.h, s.in.w, s.in.c};
  float* out = static_cast<float*>(t.out);
  switch (s.epilogue) {
    case gp::Epilogue::Argmax: *what = "conv1x1_argmax"; return conv1x1_argmax(plain, wt, t.labels, t.logits, stream);
    case gp::Epilogue::BiasTanh: *what = "conv1x1_bias_tanh"; return conv1x1_bias_tanh(plain, wt, out, stream);
    case gp::Epilogue::BiasRelu: break;
  }
  switch (s.gather) {
    case gp::Gather::Plain: *what = "conv3x3_bias_relu"; return conv3x3_bias_relu(plain, wt, out, stream);
    case gp::Gather::MaxPool:
      *what = "conv3x3_bias_relu (max-pool gather)";
      return conv3x3_bias_relu(ConvMaxPool{in, s.in.h, s.in.w, s.in.c}, wt, out, stream);
    case gp::Gather::UpConcat:
      *what = "conv3x3_bias_relu (upsample gather)";
      return conv3x3_bias_relu(
          ConvUpConcat{in, s.in.h, s.in.w, s.in.c, static_cast<const float*>(t.low), s.low.h, s.low.w, s.low.c}, wt,
          out, stream);
    case gp::Gather::Colorizer: {
      const gp::ColorizerInput& c = *t.colorizer;
      *what = "conv3x3_bias_relu (colorizer gather)";
      return conv3x3_bias_relu(ConvColorizer{c.sketch, c.labels, c.colors, c.active, c.h, c.w, c.center}, wt, out,
                               stream);
    }
  }
  *what = "conv step (unknown gather)";
  return cudaErrorInvalidValue;
}

// The 16-bit path's 1x1 heads: 16-bit input, fp32 weights.
cudaError_t run_head16(const gp::ConvStep& s, gp::Precision p, const ConvWeights& wt, const gp::StepTensors& t,
                       cudaStream_t stream, const char** what) {
  auto head = [&](auto plain) {
    if (s.epilogue == gp::Epilogue::Argmax) {
      *what = "conv1x1_argmax (16-bit input)";
      return conv1x1_argmax(plain, wt, t.labels, t.logits, stream);
    }
    *what = "conv1x1_bias_tanh (16-bit input)";
    return conv1x1_bias_tanh(plain, wt, static_cast<float*>(t.out), stream);
  };
  if (p == gp::Precision::Bf16)
    return head(ConvPlainBF16{static_cast<const __nv_bfloat16*>(t.in), s.in.h, s.in.w, s.in.c});
  return head(ConvPlainF16{static_cast<const __half*>(t.in), s.in.h, s.in.w, s.in.c});
}

// The 16-bit path's 3x3 steps on tensor cores.
template <class T> cudaError_t run_mma(const gp::ConvStep& s, const void* packed, const gp::StepTensors& t,
                                       const gp::StepScratch& scratch, cudaStream_t stream, const char** what) {
  const size_t offset = bias_offset(conv_mma_packed_count(s.cout, s.mma_cin) * sizeof(T));
  const ConvMmaWeights<T> wt{static_cast<const T*>(packed),
                             reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed) + offset), s.cout,
                             s.mma_cin};
  const gp::ConvMmaLaunch launch(s.mma, scratch.split_partials, scratch.split_counters);
  if (launch.splits > 1 && (!launch.partials || !launch.counters)) {
    *what = "conv3x3_mma_bias_relu (a split-K step needs StepScratch::split_partials and split_counters)";
    return cudaErrorInvalidValue;
  }
  T* out = static_cast<T*>(t.out);
  const T* in = static_cast<const T*>(t.in);
  switch (s.gather) {
    case gp::Gather::Plain:
      *what = "conv3x3_mma_bias_relu";
      if (s.in.buffer == gp::Buffer::Input)  // the segmentator's fp32 sketch
        return conv3x3_mma_bias_relu<T>(ConvPlainFloatMma{static_cast<const float*>(t.in), s.in.h, s.in.w, s.in.c}, wt,
                                        out, stream, launch);
      return conv3x3_mma_bias_relu<T>(ConvPlainT<T>{in, s.in.h, s.in.w, s.in.c}, wt, out, stream, launch);
    case gp::Gather::MaxPool:
      *what = "conv3x3_mma_bias_relu (max-pool gather)";
      return conv3x3_mma_bias_relu<T>(ConvMaxPoolT<T>{in, s.in.h, s.in.w, s.in.c}, wt, out, stream, launch);
    case gp::Gather::UpConcat: {
      const T* low = static_cast<const T*>(t.low);
      if (scratch.upsampled && s.in.c % 8 == 0 && s.low.c % 8 == 0) {
        T* up = static_cast<T*>(scratch.upsampled);
        *what = "upsample2x_pad";
        if (const cudaError_t e = upsample2x_pad<T>(low, s.low.h, s.low.w, s.low.c, up, s.in.h, s.in.w, stream))
          return e;
        *what = "conv3x3_mma_bias_relu (concat gather)";
        return conv3x3_mma_bias_relu<T>(ConvConcatT<T>{in, up, s.in.h, s.in.w, s.in.c, s.low.c}, wt, out, stream,
                                        launch);
      }
      *what = "conv3x3_mma_bias_relu (upsample gather)";
      return conv3x3_mma_bias_relu<T>(ConvUpConcatT<T>{in, s.in.h, s.in.w, s.in.c, low, s.low.h, s.low.w, s.low.c}, wt,
                                      out, stream, launch);
    }
    case gp::Gather::Colorizer: {
      const gp::ColorizerInput& c = *t.colorizer;
      const ConvColorizerMma gather{c.sketch, c.labels, c.colors, c.active, c.h, c.w, c.center};
      if (scratch.colorizer_input) {
        T* written = static_cast<T*>(scratch.colorizer_input);
        *what = "colorizer_input16";
        if (const cudaError_t e = colorizer_input16<T>(gather, written, stream)) return e;
        *what = "conv3x3_mma_bias_relu (written colorizer input)";
        return conv3x3_mma_bias_relu<T>(ConvPlainT<T>{written, c.h, c.w, s.mma_cin}, wt, out, stream, launch);
      }
      // The weights are packed for mma_cin input channels (pack_conv_step), which only
      // the written input has.
      *what = "conv3x3_mma_bias_relu (colorizer: needs StepScratch::colorizer_input)";
      return cudaErrorInvalidValue;
    }
  }
  *what = "conv step (unknown gather)";
  return cudaErrorInvalidValue;
}

}  // namespace

std::vector<uint8_t> pack_conv_step(const gp::ConvStep& s, const float* weight, const float* bias, gp::Precision p) {
  if (!tensor_core_step(s, p)) return with_bias(conv_pack_weights(weight, s.cout, s.cin, s.ksize), bias, s.cout);
  const std::vector<float> padded = pad_input_channels(weight, s.cout, s.cin, s.ksize, s.mma_cin);
  if (p == gp::Precision::Bf16)
    return with_bias(conv_mma_pack_weights<__nv_bfloat16>(padded.data(), s.cout, s.mma_cin), bias, s.cout);
  return with_bias(conv_mma_pack_weights<__half>(padded.data(), s.cout, s.mma_cin), bias, s.cout);
}

cudaError_t run_conv_step(const gp::ConvStep& s, gp::Precision p, const void* packed, const gp::StepTensors& t,
                          const gp::StepScratch& scratch, cudaStream_t stream, const char** what) {
  // The kernel families: a head is a 1x1 on a plain input, every other step a 3x3 ending
  // in bias + ReLU.
  const bool head = s.epilogue != gp::Epilogue::BiasRelu;
  if (s.ksize != (head ? 1 : 3) || (head && s.gather != gp::Gather::Plain)) {
    *what = "conv step (a head is a 1x1 conv on a plain input; a 3x3 conv ends in bias + ReLU)";
    return cudaErrorInvalidValue;
  }
  if (!tensor_core_step(s, p)) {
    const size_t offset = bias_offset(conv_packed_weight_count(s.cout, s.cin, s.ksize) * sizeof(float));
    const ConvWeights wt{static_cast<const float*>(packed),
                         reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed) + offset), s.cout, s.cin,
                         s.ksize};
    return p == gp::Precision::Fp32 ? run_fp32(s, wt, t, stream, what) : run_head16(s, p, wt, t, stream, what);
  }
  cudaError_t e = cudaSuccess;
  with16(p, [&]<class T>(T*) { e = run_mma<T>(s, packed, t, scratch, stream, what); });
  return e;
}

}  // namespace GP_KERNEL_NS
