#pragma once
#include "guidingpainter/device.hpp"

namespace gp {
// Runs a kernel on the chosen device and compares it with the CPU reference;
// prints one line, returns 0 when they agree.
int cli_selftest(Device device);
}  // namespace gp
