// Shared between the simulator's translation units; not part of its interface.
#pragma once
#include <string>

#include "gpusim/runtime.h"

namespace gpusim::sim_internal {

// Records `e` as this host thread's last error, prints "gpusim: <message>" on
// stderr, and returns `e`.
cudaError_t record_error(cudaError_t e, const std::string& message);
// An error found while a kernel ran: returned by the next synchronisation call.
void record_async_error(cudaError_t e, const std::string& message);
// The pending kernel error (cleared; it becomes the last error), or cudaSuccess.
cudaError_t consume_async_error();
size_t dynamic_smem_limit(const void* kernel);
std::string pointer_text(const void* p);
// "host memory", "freed device memory (allocation of N bytes at P)", ...
std::string pointer_origin(const void* p);

}  // namespace gpusim::sim_internal
