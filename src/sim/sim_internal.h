// Shared between the simulator's translation units; not part of its interface.
#pragma once
#include <string>

#include "gpusim/runtime.h"

// GPUSIM_ASAN: built with AddressSanitizer (GCC or clang), which needs to be told
// about fiber switches and reused fiber stacks.
#if defined(__SANITIZE_ADDRESS__)
#define GPUSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GPUSIM_ASAN 1
#endif
#endif

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
// The live cudaMalloc allocation that contains p (false if none), and a counter that
// changes whenever an allocation is freed (so a caller may cache what it found).
bool find_device_allocation(const void* p, uintptr_t* base, size_t* bytes);
uint64_t free_epoch();

}  // namespace gpusim::sim_internal
