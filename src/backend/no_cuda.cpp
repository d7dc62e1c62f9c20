// Stands in for the GPU backend in a build without nvcc.
#include "src/backend/backend.h"
#include "src/common/error.h"

namespace gp::gp_cuda_backend {
int device_count() { return 0; }
std::unique_ptr<Backend> make(int) {
  throw Error(ErrorKind::Device,
              "this build of guidingpainter has no CUDA support (configured without nvcc); use the simulator");
}
}  // namespace gp::gp_cuda_backend
