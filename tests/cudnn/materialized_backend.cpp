#include "tests/cudnn/materialized_backend.h"

#include <algorithm>
#include <cstring>

#include "src/common/error.h"
#include "tests/cudnn/cudnn_conv.h"
#include "tests/cudnn/materialize.h"

namespace gp {
namespace {

constexpr size_t kBiasAlignment = 256;
size_t bias_offset(size_t filter_bytes) {
  return (filter_bytes + kBiasAlignment - 1) / kBiasAlignment * kBiasAlignment;
}
size_t filter_elements(const ConvStep& s) { return size_t(s.cout) * s.cin * s.ksize * s.ksize; }

template <class T> std::vector<uint8_t> block(const std::vector<T>& filter, const std::vector<T>& bias) {
  const size_t offset = bias_offset(filter.size() * sizeof(T));
  std::vector<uint8_t> out(offset + bias.size() * sizeof(T), 0);
  std::memcpy(out.data(), filter.data(), filter.size() * sizeof(T));
  std::memcpy(out.data() + offset, bias.data(), bias.size() * sizeof(T));
  return out;
}

// The largest input a step of `plan` writes out (in 4-byte elements, enough for every
// precision) and the largest head output (cuDNN's logits).
void largest(const UNetPlan& plan, size_t& input, size_t& logits) {
  for (const ConvStep& s : plan.steps) {
    input = std::max(input, size_t(s.out.h) * s.out.w * std::max(s.cin, s.mma_cin));
    if (s.epilogue == Epilogue::Argmax) logits = std::max(logits, size_t(s.out.h) * s.out.w * s.cout);
  }
}

}  // namespace

MaterializedBackend::MaterializedBackend(Backend& inner, Convs convs, CudnnConv* cudnn, const UNetPlan& a,
                                         const UNetPlan& b)
    : inner_(inner), convs_(convs), cudnn_(cudnn) {
  if (convs == Convs::Cudnn && !cudnn)
    throw Error(ErrorKind::Argument, "MaterializedBackend: the cuDNN path needs a CudnnConv");
  size_t input = 0, logits = 0;
  largest(a, input, logits);
  largest(b, input, logits);
  gathered_ = DeviceArray<uint8_t>(inner, input * sizeof(float), "materialised gathers");
  if (convs == Convs::Cudnn) logits_ = DeviceArray<float>(inner, logits, "cuDNN logits");
}

MaterializedBackend::~MaterializedBackend() = default;

std::string MaterializedBackend::name() const {
  return inner_.name() + (convs_ == Convs::Cudnn ? ", unfused on cuDNN" : ", unfused");
}

bool MaterializedBackend::on_inner_kernels(const ConvStep& s, Precision p) const {
  return convs_ == Convs::Backend || (p != Precision::Fp32 && s.ksize == 1);
}

void* MaterializedBackend::gathered(size_t bytes, const ConvStep& s) const {
  if (bytes > gathered_.size())
    throw Error(ErrorKind::Argument, "MaterializedBackend: step " + s.name + " writes out " + std::to_string(bytes) +
                                         " bytes, more than the plans it was made for (" +
                                         std::to_string(gathered_.size()) + ")");
  return gathered_.get();
}

std::vector<uint8_t> MaterializedBackend::pack_step(const ConvStep& s, const float* weight, const float* bias,
                                                    Precision p) const {
  if (on_inner_kernels(s, p)) return inner_.pack_step(s, weight, bias, p);
  const std::vector<float> filter = CudnnConv::filter_from_torch(weight, s.cout, s.cin, s.ksize);
  if (p == Precision::Fp32) return block(filter, std::vector<float>(bias, bias + s.cout));
  return block(CudnnConv::to16(filter.data(), filter.size(), p), CudnnConv::to16(bias, size_t(s.cout), p));
}

void MaterializedBackend::run_step(const ConvStep& s, Precision p, const void* packed, const StepTensors& tensors,
                                   const StepScratch& scratch, Stream stream) {
  if (s.gather == Gather::Colorizer &&
      (!tensors.colorizer || tensors.colorizer->h != s.out.h || tensors.colorizer->w != s.out.w))
    throw Error(ErrorKind::Argument, "MaterializedBackend: step " + s.name + " needs a colorizer input of " +
                                         std::to_string(s.out.w) + " x " + std::to_string(s.out.h));
  const bool wide = p == Precision::Fp32;
  const bool cudnn = convs_ == Convs::Cudnn;
  const size_t element = wide ? sizeof(float) : sizeof(uint16_t);
  if (s.gather == Gather::Colorizer && !wide && !cudnn) {
    // The engine's own materialisation: the input written out padded to mma_cin
    // (kernels/colorizer_input.cuh), then the plain conv over it.
    StepScratch written = scratch;
    written.colorizer_input = gathered(size_t(s.out.h) * s.out.w * s.mma_cin * element, s);
    inner_.run_step(s, p, packed, tensors, written, stream);
    return;
  }
  // The step as a plain conv on its written-out input: `in` is the network input (fp32)
  // or a tensor of the precision's type (any buffer but Input says so).
  ConvStep plain = s;
  plain.gather = Gather::Plain;
  plain.in = TensorRef{s.in.buffer, s.out.h, s.out.w, s.cin};
  plain.low = TensorRef{};
  StepTensors t = tensors;
  t.low = nullptr;
  const size_t input_bytes = size_t(s.out.h) * s.out.w * s.cin * element;
  if (s.gather != Gather::Plain || (s.in.buffer == Buffer::Input && !wide && cudnn)) {
    void* written = gathered(input_bytes, s);
    switch (s.gather) {
      // cuDNN's 16-bit convolutions take 16-bit input only: the network input rounded.
      case Gather::Plain:
        materialize_convert(inner_, p, static_cast<const float*>(tensors.in), size_t(s.in.h) * s.in.w * s.in.c, written,
                            stream);
        break;
      case Gather::MaxPool: materialize_maxpool(inner_, p, tensors.in, s.in.h, s.in.w, s.in.c, written, stream); break;
      case Gather::UpConcat:
        materialize_up_concat(inner_, p, tensors.in, s.in.h, s.in.w, s.in.c, tensors.low, s.low.h, s.low.w, s.low.c,
                              written, stream);
        break;
      case Gather::Colorizer: materialize_colorizer(inner_, p, *tensors.colorizer, written, stream); break;
    }
    t.in = written;
    plain.in.buffer = Buffer::Mid;
  }
  if (on_inner_kernels(s, p)) {
    StepScratch plain_scratch = scratch;
    plain_scratch.upsampled = plain_scratch.colorizer_input = nullptr;
    inner_.run_step(plain, p, packed, t, plain_scratch, stream);
    return;
  }
  const uint8_t* filter = static_cast<const uint8_t*>(packed);
  const void* bias = filter + bias_offset(filter_elements(s) * element);
  const int h = s.out.h, w = s.out.w;
  switch (s.epilogue) {
    case Epilogue::BiasRelu:
      cudnn_->forward(p, t.in, h, w, s.cin, filter, bias, s.cout, 3, Activation::Relu, t.out, stream);
      break;
    case Epilogue::Argmax: {
      float* logits = t.logits ? t.logits : logits_.get();
      cudnn_->forward(p, t.in, h, w, s.cin, filter, bias, s.cout, 1, Activation::Identity, logits, stream);
      inner_.argmax_channels(logits, size_t(h) * w, s.cout, t.labels, stream);
      break;
    }
    case Epilogue::BiasTanh:
      cudnn_->forward(p, t.in, h, w, s.cin, filter, bias, s.cout, 1, Activation::Tanh, t.out, stream);
      break;
  }
}

}  // namespace gp
