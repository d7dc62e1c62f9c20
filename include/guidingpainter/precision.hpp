// The number format the network's convolutions run in.
#pragma once

#include <string>

namespace gp {

enum class Precision {
  Fp32,  // fp32 everywhere (CUDA cores): the reference path, any GPU and the simulator
  Fp16,  // fp16 activations and weights, fp32 accumulation on tensor cores (sm_80+)
  Bf16,  // the same with bf16 (sm_80+)
};

inline const char* precision_name(Precision p) {
  return p == Precision::Fp32 ? "fp32" : p == Precision::Fp16 ? "fp16" : "bf16";
}
// "fp32", "fp16" or "bf16"; throws gp::Error (error.hpp) otherwise.
Precision parse_precision(const std::string& text);

}  // namespace gp
