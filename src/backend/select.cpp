#include "src/backend/select.h"

#include <cstdlib>
#include <string>

#include "src/common/error.h"
#include "src/common/log.h"

namespace gp {

Device parse_device(std::string_view text) {
  if (text == "auto") return Device::Auto;
  if (text == "cuda" || text == "gpu") return Device::Cuda;
  if (text == "sim" || text == "simulator") return Device::Simulator;
  throw Error(ErrorKind::Argument, "unknown device '" + std::string(text) + "': expected cuda, sim or auto");
}

const char* device_name(Device device) {
  switch (device) {
    case Device::Auto: return "auto";
    case Device::Cuda: return "cuda";
    case Device::Simulator: return "sim";
  }
  return "?";
}

std::unique_ptr<Backend> open_backend(Device requested, int gpu_index) {
  Device device = requested;
  if (device == Device::Auto) {
    if (const char* env = std::getenv("GP_DEVICE"); env && *env) {
      try {
        device = parse_device(env);
      } catch (const Error& e) {
        throw Error(ErrorKind::Argument, std::string("GP_DEVICE: ") + e.what());
      }
    }
  }
  if (device == Device::Cuda) return gp_cuda_backend::make(gpu_index);
  if (device == Device::Simulator) return gp_sim_backend::make(gpu_index);
  if (gp_cuda_backend::device_count() > 0) return gp_cuda_backend::make(gpu_index);
  log_note("no CUDA GPU found, running on the CPU simulator (slow; GP_DEVICE=sim hides this note)");
  return gp_sim_backend::make();
}

}  // namespace gp
