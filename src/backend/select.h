// Opens the backend for a requested device (see include/guidingpainter/device.hpp).
#pragma once

#include <memory>

#include "guidingpainter/device.hpp"
#include "src/backend/backend.h"

namespace gp {

// Throws gp::Error when the requested device cannot be used.
std::unique_ptr<Backend> open_backend(Device requested, int gpu_index = 0);

}  // namespace gp
