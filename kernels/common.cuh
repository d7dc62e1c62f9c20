// Shared by every kernel family: the CUDA (or gpusim) runtime, the one dynamic
// shared memory declaration, and the launch helper.
//
// Each kernel source is compiled twice: by nvcc into namespace gp_cuda and by the
// C++ compiler for the simulator into namespace gp_sim (GP_KERNEL_NS), so both can
// live in one program.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#ifndef GP_KERNEL_NS
#error "GP_KERNEL_NS must name the backend namespace (gp_cuda or gp_sim)"
#endif

// The project's one dynamic shared memory array; kernels cast it to what they need.
extern __shared__ __align__(16) unsigned char dynamic_smem[];

namespace GP_KERNEL_NS {

constexpr unsigned ceil_div(size_t a, unsigned b) { return unsigned((a + b - 1) / b); }

// Launches `kernel` with a 1-D grid covering `count` work items; no launch for 0.
template <class... Params, class... Args>
cudaError_t launch_1d(void (*kernel)(Params...), size_t count, unsigned block, cudaStream_t stream, Args&&... args) {
  if (count == 0) return cudaSuccess;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(ceil_div(count, block));
  config.blockDim = dim3(block);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace GP_KERNEL_NS
