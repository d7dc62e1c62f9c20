// gpusim device memory: exact-size allocations (so AddressSanitizer sees overruns),
// a registry that tells device from host pointers, a quarantine for freed memory,
// and copies checked against their declared direction.
#include <cctype>
#include <cstdio>
#include <string>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <new>

#include "sim_internal.h"

#ifdef GPUSIM_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace gpusim {
namespace sim_internal {
namespace {

constexpr std::align_val_t kAlign{256};  // cudaMalloc's alignment
constexpr size_t kQuarantineBytes = size_t(64) << 20;
// GPUSIM_DEVICE_BYTES as a byte count: a number (a fraction allowed) and an optional
// unit, SI (K, M, G, T: powers of 1000) or binary (Ki, Mi, Gi, Ti: powers of 1024),
// with or without a final B ("4G", "4GiB", "1.5Gi", "4294967296"); 0 if unreadable.
size_t parse_byte_count(const std::string& text) {
  size_t i = 0;
  double number = 0;
  bool digits = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, digits = true)
    number = number * 10 + (text[i] - '0');
  if (i < text.size() && text[i] == '.') {
    double scale = 0.1;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, scale /= 10, digits = true)
      number += (text[i] - '0') * scale;
  }
  if (!digits) return 0;
  std::string unit = text.substr(i);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double multiplier = 1;
  if (!unit.empty()) {
    const std::string prefixes = "KMGT";
    const size_t power = prefixes.find(char(std::toupper(static_cast<unsigned char>(unit[0])))) + 1;
    const bool binary = unit.size() == 2 && unit[1] == 'i';
    if (power == 0 || (unit.size() != 1 && !binary)) return 0;
    for (size_t p = 0; p < power; ++p) multiplier *= binary ? 1024.0 : 1000.0;
  }
  const double bytes = number * multiplier;
  return bytes >= 1 && bytes < 0x1p63 ? size_t(bytes) : 0;
}

// The simulated device's memory: 80 GiB (an H100's), or GPUSIM_DEVICE_BYTES (read once)
// to model a smaller GPU. A value that cannot be read is refused, not replaced: the
// device then reports it from cudaGetDeviceProperties, cudaMemGetInfo and cudaMalloc,
// so a run meant for a small device never goes on as if it had 80 GiB.
struct DeviceBytes {
  size_t bytes = size_t(80) << 30;
  std::string error;  // why GPUSIM_DEVICE_BYTES was refused, or ""
};
const DeviceBytes& device_memory() {
  static const DeviceBytes memory = [] {
    DeviceBytes m;
    const char* env = std::getenv("GPUSIM_DEVICE_BYTES");
    if (env && *env) {
      m.bytes = parse_byte_count(env);
      if (m.bytes == 0)
        m.error = std::string("GPUSIM_DEVICE_BYTES='") + env +
                  "' is not a byte count: give a positive number with an optional unit, K M G T (powers of 1000) or "
                  "Ki Mi Gi Ti (powers of 1024), such as 4Gi";
    }
    return m;
  }();
  return memory;
}

}  // namespace

size_t device_bytes() { return device_memory().bytes; }
const std::string& device_memory_error() { return device_memory().error; }

namespace {

struct Registry {
  std::mutex m;
  std::map<uintptr_t, size_t> live;
  std::map<uintptr_t, size_t> freed;   // in quarantine, still mapped and poisoned
  std::map<uintptr_t, size_t> pinned;  // live cudaMallocHost blocks
  std::map<uintptr_t, int> owner;      // the device (cudaSetDevice) each live allocation is on
  std::deque<std::pair<uintptr_t, size_t>> order;
  size_t quarantined = 0, live_bytes = 0;

  // The allocation of `map` that contains address a, or end().
  static std::map<uintptr_t, size_t>::const_iterator find(const std::map<uintptr_t, size_t>& map, uintptr_t a) {
    auto it = map.upper_bound(a);
    if (it == map.begin()) return map.end();
    --it;
    return a < it->first + std::max<size_t>(it->second, 1) ? it : map.end();
  }
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: frees may run during static destruction
  return *r;
}

void release(uintptr_t p, size_t bytes) {
#ifdef GPUSIM_ASAN
  __asan_unpoison_memory_region(reinterpret_cast<void*>(p), bytes + 1);  // the block and cudaMalloc's pad
#endif
  (void)bytes;
  ::operator delete(reinterpret_cast<void*>(p), kAlign);
}

enum class Where { Host, Device, Freed };
Where classify(const void* p, size_t bytes, std::string* why) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.m);
  const auto a = reinterpret_cast<uintptr_t>(p);
  auto it = Registry::find(r.live, a);
  if (it != r.live.end()) {
    if (a + bytes > it->first + it->second && why)
      *why = std::to_string(bytes) + " bytes at offset " + std::to_string(a - it->first) +
             " overrun the allocation of " + std::to_string(it->second) + " bytes";
    return Where::Device;
  }
  if (Registry::find(r.freed, a) != r.freed.end()) return Where::Freed;
  return Where::Host;
}

}  // namespace

std::string pointer_text(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

std::atomic<uint64_t> free_epoch_counter{0};
uint64_t free_epoch() { return free_epoch_counter.load(std::memory_order_acquire); }

bool find_device_allocation(const void* p, uintptr_t* base, size_t* bytes) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.m);
  auto it = Registry::find(r.live, reinterpret_cast<uintptr_t>(p));
  if (it == r.live.end()) return false;
  *base = it->first;
  *bytes = it->second;
  return true;
}

std::string pointer_origin(const void* p) {
  switch (classify(p, 1, nullptr)) {
    case Where::Freed: return "it points into freed device memory";
    case Where::Device: return "device memory";
    case Where::Host: return "host memory?";
  }
  return "";
}

}  // namespace sim_internal

using sim_internal::record_error;

int device_of_pointer(const void* ptr) {
  using namespace sim_internal;
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.m);
  const auto it = Registry::find(r.live, reinterpret_cast<uintptr_t>(ptr));
  if (it == r.live.end()) return -1;
  const auto owner = r.owner.find(it->first);
  return owner == r.owner.end() ? -1 : owner->second;
}

bool is_device_pointer(const void* ptr, size_t bytes) {
  std::string overrun;
  return sim_internal::classify(ptr, bytes, &overrun) == sim_internal::Where::Device && overrun.empty();
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  using namespace sim_internal;
  if (!ptr) return record_error(cudaErrorInvalidValue, "cudaMalloc: null output pointer");
  *ptr = nullptr;
  if (cudaError_t e = capture_forbids("cudaMalloc")) return e;
  if (bytes == 0) return cudaSuccess;
  if (!device_memory_error().empty())
    return record_error(cudaErrorInvalidValue, "cudaMalloc: " + device_memory_error());
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lk(r.m);
    if (r.live_bytes + bytes > device_bytes())
      return record_error(cudaErrorMemoryAllocation, "cudaMalloc: " + std::to_string(bytes) +
                                                         " bytes exceed the simulated device's " +
                                                         std::to_string(device_bytes() - r.live_bytes) + " free bytes");
  }
  // One byte more than asked: the block's end address (a valid argument: an empty range,
  // an end pointer) then lies inside it, so no other allocation can start there. Without
  // it an allocator that packs blocks without headers (ThreadSanitizer's does) can put a
  // host block right behind, and a host pointer would pass as a device end pointer.
  void* p = ::operator new(bytes + 1, kAlign, std::nothrow);
  if (!p)
    return record_error(cudaErrorMemoryAllocation,
                        "cudaMalloc: out of host memory for " + std::to_string(bytes) + " bytes");
#ifdef GPUSIM_ASAN
  __asan_poison_memory_region(static_cast<char*>(p) + bytes, 1);  // an overrun into the pad is still caught
#endif
  std::lock_guard<std::mutex> lk(r.m);
  r.live[reinterpret_cast<uintptr_t>(p)] = bytes;
  r.owner[reinterpret_cast<uintptr_t>(p)] = current_device();
  r.live_bytes += bytes;
  *ptr = p;
  counters().device_allocations.fetch_add(1, std::memory_order_relaxed);
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  using namespace sim_internal;
  if (!ptr) return cudaSuccess;
  if (cudaError_t e = capture_forbids("cudaFree")) return e;
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.m);
  auto it = r.live.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == r.live.end()) {
    const bool freed = Registry::find(r.freed, reinterpret_cast<uintptr_t>(ptr)) != r.freed.end();
    return record_error(cudaErrorInvalidValue,
                        "cudaFree(" + pointer_text(ptr) +
                            "): " + (freed ? "already freed" : "not the start of a cudaMalloc allocation"));
  }
  const size_t bytes = it->second;
  r.owner.erase(it->first);
  r.live.erase(it);
  counters().device_frees.fetch_add(1, std::memory_order_relaxed);
  free_epoch_counter.fetch_add(1, std::memory_order_acq_rel);
  r.live_bytes -= bytes;
#ifdef GPUSIM_ASAN
  __asan_poison_memory_region(ptr, bytes);
#endif
  r.freed[reinterpret_cast<uintptr_t>(ptr)] = bytes;
  r.order.emplace_back(reinterpret_cast<uintptr_t>(ptr), bytes);
  r.quarantined += bytes;
  while (r.quarantined > kQuarantineBytes) {
    auto [p, n] = r.order.front();
    r.order.pop_front();
    r.freed.erase(p);
    r.quarantined -= n;
    release(p, n);
  }
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  using namespace sim_internal;
  if (!ptr) return record_error(cudaErrorInvalidValue, "cudaMallocHost: null output pointer");
  *ptr = ::operator new(bytes ? bytes : 1, kAlign, std::nothrow);
  if (!*ptr)
    return record_error(cudaErrorMemoryAllocation,
                        "cudaMallocHost: out of memory for " + std::to_string(bytes) + " bytes");
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.m);
  r.pinned[reinterpret_cast<uintptr_t>(*ptr)] = bytes;
  return cudaSuccess;
}
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned) { return cudaMallocHost(ptr, bytes); }
// Frees at once: unlike device memory, nothing checks a stale pinned pointer but the
// graph replay (which knows which of its copies were pinned) and AddressSanitizer.
cudaError_t cudaFreeHost(void* ptr) {
  using namespace sim_internal;
  if (!ptr) return cudaSuccess;
  if (cudaError_t e = capture_forbids("cudaFreeHost")) return e;
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lk(r.m);
    if (!r.pinned.erase(reinterpret_cast<uintptr_t>(ptr)))
      return record_error(cudaErrorInvalidValue, "cudaFreeHost(" + pointer_text(ptr) +
                                                     "): not a live block from cudaMallocHost or cudaHostAlloc");
  }
  ::operator delete(ptr, kAlign);
  return cudaSuccess;
}

bool is_pinned_host_pointer(const void* ptr, size_t bytes) {
  sim_internal::Registry& r = sim_internal::registry();
  std::lock_guard<std::mutex> lk(r.m);
  auto it = sim_internal::Registry::find(r.pinned, reinterpret_cast<uintptr_t>(ptr));
  return it != r.pinned.end() && reinterpret_cast<uintptr_t>(ptr) + bytes <= it->first + it->second;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (!sim_internal::device_memory_error().empty())
    return sim_internal::record_error(cudaErrorInvalidValue, "cudaMemGetInfo: " + sim_internal::device_memory_error());
  auto& r = sim_internal::registry();
  std::lock_guard<std::mutex> lk(r.m);
  if (free_bytes) *free_bytes = sim_internal::device_bytes() - r.live_bytes;
  if (total_bytes) *total_bytes = sim_internal::device_bytes();
  return cudaSuccess;
}

namespace {

const char* kind_name(cudaMemcpyKind k) {
  switch (k) {
    case cudaMemcpyHostToHost: return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice: return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost: return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice: return "cudaMemcpyDeviceToDevice";
    case cudaMemcpyDefault: return "cudaMemcpyDefault";
  }
  return "an unknown kind";
}

// One side of a copy: where it is must match what `kind` says it is ("" if it does).
std::string side_problem(const char* fn, const char* side, const void* p, size_t bytes, bool want_device, bool any) {
  using namespace sim_internal;
  std::string overrun;
  const Where w = classify(p, bytes, &overrun);
  if (w == Where::Freed)
    return std::string(fn) + ": " + side + " " + pointer_text(p) + " points into freed device memory";
  if (!overrun.empty()) return std::string(fn) + ": " + side + " " + pointer_text(p) + ": " + overrun;
  if (!any && (w == Where::Device) != want_device)
    return std::string(fn) + ": " + side + " " + pointer_text(p) + " is " + (w == Where::Device ? "device" : "host") +
           " memory, but the copy kind says " + (want_device ? "device" : "host");
  return "";
}

}  // namespace

namespace sim_internal {

std::string copy_problem(const char* fn, void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                         cudaError_t* code) {
  *code = cudaErrorInvalidValue;
  if (bytes == 0) return "";
  if (!dst || !src) return std::string(fn) + ": null pointer";
  if (int(kind) < 0 || int(kind) > 4) {
    *code = cudaErrorInvalidMemcpyDirection;
    return std::string(fn) + ": " + kind_name(kind);
  }
  const bool any = kind == cudaMemcpyDefault;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  std::string p = side_problem(fn, "destination", dst, bytes, dst_dev, any);
  return p.empty() ? side_problem(fn, "source", src, bytes, src_dev, any) : p;
}

std::string memset_problem(const char* fn, void* ptr, size_t bytes) {
  return bytes == 0 ? "" : side_problem(fn, "destination", ptr, bytes, true, false);
}

}  // namespace sim_internal

namespace {

cudaError_t checked_copy(const char* fn, void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                         bool count = true) {
  cudaError_t code;
  const std::string problem = sim_internal::copy_problem(fn, dst, src, bytes, kind, &code);
  if (!problem.empty()) return record_error(code, problem);
  if (bytes) std::memmove(dst, src, bytes);
  if (count) sim_internal::counters().memcpy_calls.fetch_add(1, std::memory_order_relaxed);
  return cudaSuccess;
}

// A blocking copy runs on the legacy stream and waits for the host: both matter to a capture.
cudaError_t blocking_copy_allowed(const char* fn) {
  bool capturing;
  if (cudaError_t e = sim_internal::capture_check(nullptr, fn, &capturing)) return e;
  return sim_internal::capture_forbids(fn);
}

}  // namespace

// A blocking copy waits for the kernels before it, so it reports their faults.
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (cudaError_t e = blocking_copy_allowed("cudaMemcpy")) return e;
  sim_internal::counters().host_synchronizations.fetch_add(1, std::memory_order_relaxed);
  if (cudaError_t e = sim_internal::consume_async_error()) return e;
  return checked_copy("cudaMemcpy", dst, src, bytes, kind);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  using namespace sim_internal;
  bool capturing = false;
  if (cudaError_t e = capture_check(stream, "cudaMemcpyAsync", &capturing)) return e;
  if (!capturing) return checked_copy("cudaMemcpyAsync", dst, src, bytes, kind);
  cudaError_t code;
  const std::string problem = copy_problem("cudaMemcpyAsync", dst, src, bytes, kind, &code);
  if (!problem.empty()) return record_error(code, problem);
  NodeData node;
  node.type = cudaGraphNodeTypeMemcpy;
  node.dst = dst;
  node.src = src;
  node.bytes = bytes;
  node.kind = kind;
  node.pinned_dst = is_pinned_host_pointer(dst, bytes);
  node.pinned_src = is_pinned_host_pointer(src, bytes);
  return capture_append(stream, std::move(node));
}
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
  if (cudaError_t e = blocking_copy_allowed("cudaMemcpy2D")) return e;
  sim_internal::counters().host_synchronizations.fetch_add(1, std::memory_order_relaxed);
  if (width > dpitch || width > spitch)
    return record_error(cudaErrorInvalidValue, "cudaMemcpy2D: width exceeds a pitch");
  for (size_t row = 0; row < height; ++row)
    if (cudaError_t e = checked_copy("cudaMemcpy2D", static_cast<char*>(dst) + row * dpitch,
                                     static_cast<const char*>(src) + row * spitch, width, kind, false))
      return e;
  sim_internal::counters().memcpy_calls.fetch_add(1, std::memory_order_relaxed);
  return cudaSuccess;
}
namespace {

cudaError_t memset_on(const char* fn, void* ptr, int value, size_t bytes, cudaStream_t stream) {
  using namespace sim_internal;
  bool capturing = false;
  if (cudaError_t e = capture_check(stream, fn, &capturing)) return e;
  const std::string problem = memset_problem(fn, ptr, bytes);
  if (!problem.empty()) return record_error(cudaErrorInvalidValue, problem);
  if (capturing) {
    NodeData node;
    node.type = cudaGraphNodeTypeMemset;
    node.dst = ptr;
    node.bytes = bytes;
    node.value = value;
    return capture_append(stream, std::move(node));
  }
  if (bytes) std::memset(ptr, value, bytes);
  counters().memset_calls.fetch_add(1, std::memory_order_relaxed);
  return cudaSuccess;
}

}  // namespace

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  return memset_on("cudaMemsetAsync", ptr, value, bytes, stream);
}
// On the legacy stream and asynchronous to the host, as on a GPU (for device memory).
cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  return memset_on("cudaMemset", ptr, value, bytes, nullptr);
}

}  // namespace gpusim
