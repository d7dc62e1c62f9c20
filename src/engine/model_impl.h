// What a loaded Model holds: its backend and both U-Nets on the device.
#pragma once

#include <memory>
#include <string>

#include "guidingpainter/guidingpainter.hpp"
#include "src/backend/backend.h"
#include "src/engine/unet.h"

namespace gp {

struct Model::Impl {
  std::string path;
  ModelConfig config;
  Precision precision = Precision::Fp32;
  // Kernels of one device run one at a time here; sessions on other threads share it.
  std::unique_ptr<Backend> backend;
  UploadedUNet segmentator, colorizer;
};

}  // namespace gp
