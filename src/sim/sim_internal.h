// Shared between the simulator's translation units; not part of its interface.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

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

// GPUSIM_TSAN: built with ThreadSanitizer, which needs each fiber announced and every
// switch made through it. A switch synchronises (happens-before from the fiber left to
// the fiber entered): the fibers of a block run one at a time on one worker, so what
// orders them is the switch itself; races between blocks on different workers, and
// between host threads, are still reported.
#if defined(__SANITIZE_THREAD__)
#define GPUSIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GPUSIM_TSAN 1
#endif
#endif

// A fiber's last switch never returns, so the functions that make it must not push a
// frame on TSan's shadow stack, or each block would leave one behind on the fiber's
// (reused) TSan state. GCC drops the entry/exit hooks of such functions; clang keeps
// them, so a TSan build needs GCC (CMakeLists.txt says so).
#if defined(GPUSIM_TSAN)
#define GPUSIM_NO_TSAN __attribute__((no_sanitize_thread))
#else
#define GPUSIM_NO_TSAN
#endif

namespace gpusim {
namespace sim_internal {
struct Capture;
}

struct SimStream {
  unsigned flags;
  sim_internal::Capture* capture = nullptr;  // while capturing; guarded by graph.cpp's mutex
};
struct SimEvent {
  std::chrono::steady_clock::time_point when;
  bool recorded = false;
  unsigned flags = 0;
  uint64_t captured_in = 0;  // the capture sequence it was last recorded in, 0 if none
};

namespace sim_internal {

// One operation of a graph: what a captured call would have done, replayed in order.
struct NodeData {
  cudaGraphNodeType type = cudaGraphNodeTypeEmpty;
  // Kernel: the launch as validated at capture, and a heap copy of its arguments.
  const void* kernel = nullptr;
  dim3 grid, block;
  size_t smem = 0;
  const ClosureOps* ops = nullptr;
  std::shared_ptr<void> closure;
  std::vector<PointerArg> pointers;
  // Memcpy / memset. pinned_*: the host side was a cudaMallocHost block at capture.
  void* dst = nullptr;
  const void* src = nullptr;
  size_t bytes = 0;
  cudaMemcpyKind kind = cudaMemcpyDefault;
  int value = 0;
  bool pinned_dst = false, pinned_src = false;
  // Graph: the nodes of a graph launched into a capturing stream.
  std::shared_ptr<const std::vector<std::shared_ptr<const SimGraphNode>>> child;
};

}  // namespace sim_internal

struct SimGraphNode : sim_internal::NodeData {};

namespace sim_internal {

// Records `e` as this host thread's last error, prints "gpusim: <message>" on
// stderr, and returns `e`.
cudaError_t record_error(cudaError_t e, const std::string& message);
// An error found while a kernel ran: returned by the next synchronisation call.
void record_async_error(cudaError_t e, const std::string& message, bool report = true);
// The simulated device's memory in bytes (GPUSIM_DEVICE_BYTES, else 80 GiB), and why
// GPUSIM_DEVICE_BYTES was refused ("" when it was read or is unset).
size_t device_bytes();
const std::string& device_memory_error();
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
// The calling host thread's current device (cudaSetDevice; 0 on a new thread).
int current_device();
void set_current_device(int device);

bool valid_stream(cudaStream_t s);
bool valid_event(cudaEvent_t e);

// ---- work that a graph replays ------------------------------------------------------
// Runs a launch that passed its checks; a fault becomes the pending kernel error.
// False if the kernel failed.
bool run_kernel(const void* kernel, dim3 grid, dim3 block, size_t smem, void (*invoke)(const void*),
                const void* closure);
std::string kernel_name(const void* kernel);  // symbols.cpp
std::string demangled(const char* type);      // a C++ type name (typeid().name()) demangled
// The first pointer argument that is not (or no longer) device memory, described; "" if none.
std::string bad_pointer_argument(const void* kernel, const PointerArg* pointers, int count);
// What is wrong with a copy or memset by `fn` ("" if nothing), and the error it gets.
std::string copy_problem(const char* fn, void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                         cudaError_t* code);
std::string memset_problem(const char* fn, void* ptr, size_t bytes);

// ---- stream capture (graph.cpp) -----------------------------------------------------
// For work that `api` enqueues on `stream`: an error (recorded) if the stream cannot take
// it now (not live, capture invalidated, the legacy stream while a blocking stream
// captures); otherwise *capturing says whether it goes into the stream's capture.
cudaError_t capture_check(cudaStream_t stream, const char* api, bool* capturing);
// Appends a node to the capture of `stream` (after capture_check said it captures).
cudaError_t capture_append(cudaStream_t stream, NodeData node);
// A potentially unsafe call (cudaMalloc, blocking copies, synchronisations): while this
// thread is forbidden them by a capture, cudaErrorStreamCaptureUnsupported (recorded)
// and the captures that forbid it are invalidated, as on a GPU.
cudaError_t capture_forbids(const char* api);
// A synchronisation of `stream`: capture_forbids, and never a capturing stream.
cudaError_t capture_forbids_sync(cudaStream_t stream, const char* api);
// The capture sequence `stream` is in (0 if none).
uint64_t capture_id(cudaStream_t stream);
void capture_discard(cudaStream_t stream);

// ---- counters behind gpusim::stats() ------------------------------------------------
struct Counters {
  std::atomic<uint64_t> device_allocations{0}, device_frees{0}, host_synchronizations{0}, kernel_launches{0},
      graph_launches{0}, memcpy_calls{0}, memset_calls{0};
};
Counters& counters();

}  // namespace sim_internal
}  // namespace gpusim
