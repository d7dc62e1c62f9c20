// Where guidingpainter runs its kernels.
//
// Auto picks a CUDA GPU when one is present and otherwise the CPU simulator, with a
// one-line notice on stderr. The environment variable GP_DEVICE=cuda|sim|auto
// overrides Auto; an explicit Cuda or Simulator request overrides both.
#pragma once

#include <string>
#include <string_view>

namespace gp {

enum class Device { Auto, Cuda, Simulator };

// "auto", "cuda" or "sim" (also "simulator"); throws gp::Error for anything else.
Device parse_device(std::string_view text);
const char* device_name(Device device);

}  // namespace gp
