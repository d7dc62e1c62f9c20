// gpusim runtime: errors, device properties, streams, events, function attributes,
// schedule configuration.
#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "sim_internal.h"

namespace gpusim {

namespace sim_internal {
namespace {

thread_local cudaError_t last_error = cudaSuccess;
thread_local cudaError_t async_error = cudaSuccess;
thread_local std::string last_message;

std::mutex handles_mutex;
std::set<const SimStream*> live_streams;
std::set<const SimEvent*> live_events;
std::map<const void*, size_t> smem_limits;

struct ScheduleConfig {
  Schedule schedule = Schedule::Deterministic;
  uint64_t seed = 0;
  ScheduleConfig() {
    const char* mode = std::getenv("GPUSIM_SCHEDULE");
    if (mode && std::string(mode) == "random") {
      schedule = Schedule::Random;
      const char* s = std::getenv("GPUSIM_SEED");
      seed = s ? std::strtoull(s, nullptr, 10) : std::random_device{}();
      std::fprintf(stderr, "gpusim: random schedule, seed %llu (GPUSIM_SEED=%llu repeats it)\n",
                   (unsigned long long)seed, (unsigned long long)seed);
    }
  }
};
ScheduleConfig& schedule_config() {
  static ScheduleConfig c;
  return c;
}

}  // namespace

bool valid_stream(cudaStream_t s) {
  if (!s) return true;
  std::lock_guard<std::mutex> lk(handles_mutex);
  return live_streams.count(s) != 0;
}
bool valid_event(cudaEvent_t e) {
  std::lock_guard<std::mutex> lk(handles_mutex);
  return e && live_events.count(e) != 0;
}

Counters& counters() {
  static Counters c;
  return c;
}

cudaError_t record_error(cudaError_t e, const std::string& message) {
  last_error = e;
  last_message = message;
  std::fprintf(stderr, "gpusim: %s: %s\n", cudaGetErrorName(e), message.c_str());
  return e;
}

// As on a GPU, a fault found while a kernel ran is not visible to cudaGetLastError
// right after the launch (the kernel would still be running); the next
// synchronisation (or blocking copy) reports it and makes it the last error.
void record_async_error(cudaError_t e, const std::string& message, bool report) {
  last_message = message;
  if (report) std::fprintf(stderr, "gpusim: %s: %s\n", cudaGetErrorName(e), message.c_str());
  async_error = e;
}

cudaError_t consume_async_error() {
  const cudaError_t e = async_error;
  async_error = cudaSuccess;
  if (e != cudaSuccess) last_error = e;
  return e;
}

thread_local int tl_current_device = 0;
int current_device() { return tl_current_device; }
void set_current_device(int device) { tl_current_device = device; }

size_t dynamic_smem_limit(const void* kernel) {
  std::lock_guard<std::mutex> lk(handles_mutex);
  auto it = smem_limits.find(kernel);
  return it == smem_limits.end() ? kDefaultSharedBytes : it->second;
}

}  // namespace sim_internal

namespace {
std::atomic<int> g_device_count{1};
}
void set_device_count(int count) { g_device_count.store(std::clamp(count, 1, 16)); }
int device_count() { return g_device_count.load(); }

using sim_internal::record_error;

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchTimeout: return "cudaErrorLaunchTimeout";
    case cudaErrorIllegalInstruction: return "cudaErrorIllegalInstruction";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureMerge: return "cudaErrorStreamCaptureMerge";
    case cudaErrorStreamCaptureUnmatched: return "cudaErrorStreamCaptureUnmatched";
    case cudaErrorStreamCaptureUnjoined: return "cudaErrorStreamCaptureUnjoined";
    case cudaErrorStreamCaptureIsolation: return "cudaErrorStreamCaptureIsolation";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    case cudaErrorCapturedEvent: return "cudaErrorCapturedEvent";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureMerge: return "operation would result in a merge of separate capture sequences";
    case cudaErrorStreamCaptureUnmatched: return "capture was not ended in the same stream as it began";
    case cudaErrorStreamCaptureUnjoined: return "capturing stream has unjoined work";
    case cudaErrorStreamCaptureIsolation: return "dependency created on uncaptured work in another stream";
    case cudaErrorStreamCaptureImplicit:
      return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorCapturedEvent: return "operation not permitted on an event last recorded in a capturing stream";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
    default: return cudaGetErrorName(e);
  }
}

cudaError_t cudaGetLastError() {
  cudaError_t e = sim_internal::last_error;
  sim_internal::last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return sim_internal::last_error; }
const char* last_error_message() { return sim_internal::last_message.c_str(); }

// Kernels run to completion inside the launch call, so synchronising only reports
// what they found. Unlike a GPU, a launch failure is not sticky: the synchronisation
// returns it once and cudaGetLastError once more.
cudaError_t cudaDeviceSynchronize() {
  if (cudaError_t e = sim_internal::capture_forbids("cudaDeviceSynchronize")) return e;
  sim_internal::counters().host_synchronizations.fetch_add(1, std::memory_order_relaxed);
  return sim_internal::consume_async_error();
}
cudaError_t cudaDeviceReset() {
  sim_internal::last_error = sim_internal::async_error = cudaSuccess;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return record_error(cudaErrorInvalidValue, "cudaGetDeviceCount: null pointer");
  *count = device_count();
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return record_error(cudaErrorInvalidValue, "cudaGetDevice: null pointer");
  *device = sim_internal::current_device();
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count())
    return record_error(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + "): the simulator has " +
                                                    std::to_string(device_count()) + " device(s)");
  sim_internal::set_current_device(device);
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!p) return record_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: null pointer");
  if (device < 0 || device >= device_count())
    return record_error(cudaErrorInvalidDevice, "cudaGetDeviceProperties: no device " + std::to_string(device));
  if (!sim_internal::device_memory_error().empty())
    return record_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: " + sim_internal::device_memory_error());
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "gpusim (CPU SIMT simulator, sm_90 limits)");
  p->totalGlobalMem = sim_internal::device_bytes();
  p->sharedMemPerBlock = kDefaultSharedBytes;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = int(kMaxThreadsPerBlock);
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = int(kMaxBlockDimXY);
  p->maxThreadsDim[2] = int(kMaxBlockDimZ);
  p->maxGridSize[0] = int(kMaxGridDimX);
  p->maxGridSize[1] = p->maxGridSize[2] = int(kMaxGridDimYZ);
  p->clockRate = 1980000;
  p->totalConstMem = 65536;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 132;
  p->maxThreadsPerMultiProcessor = 2048;
  p->sharedMemPerMultiprocessor = 233472;
  p->sharedMemPerBlockOptin = kMaxOptinSharedBytes;
  p->regsPerMultiprocessor = 65536;
  p->l2CacheSize = 50 << 20;
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  if (!s) return record_error(cudaErrorInvalidValue, "cudaStreamCreate: null pointer");
  *s = new SimStream{flags};
  std::lock_guard<std::mutex> lk(sim_internal::handles_mutex);
  sim_internal::live_streams.insert(*s);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  {
    std::lock_guard<std::mutex> lk(sim_internal::handles_mutex);
    if (!s || !sim_internal::live_streams.erase(s))
      return record_error(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a live stream");
  }
  sim_internal::capture_discard(s);
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (!sim_internal::valid_stream(s))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: not a live stream");
  if (cudaError_t e = sim_internal::capture_forbids_sync(s, "cudaStreamSynchronize")) return e;
  sim_internal::counters().host_synchronizations.fetch_add(1, std::memory_order_relaxed);
  return sim_internal::consume_async_error();
}
// Work is done when its call returns, so a stream is never busy.
cudaError_t cudaStreamQuery(cudaStream_t s) {
  if (!sim_internal::valid_stream(s))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamQuery: not a live stream");
  if (cudaError_t e = sim_internal::capture_forbids_sync(s, "cudaStreamQuery")) return e;
  return cudaSuccess;
}
// Everything before the wait has run, so a wait orders nothing here; what it checks is
// what a GPU refuses: crossing a capture's boundary.
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned) {
  if (!sim_internal::valid_stream(s) || !sim_internal::valid_event(e))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: not a live stream or event");
  bool capturing = false;
  if (cudaError_t err = sim_internal::capture_check(s, "cudaStreamWaitEvent", &capturing)) return err;
  const uint64_t stream_capture = sim_internal::capture_id(s), event_capture = e->captured_in;
  if (event_capture != 0 && stream_capture == 0)
    return record_error(cudaErrorNotSupported,
                        "cudaStreamWaitEvent: a stream joining another stream's capture "
                        "(waiting on an event recorded in it) is not simulated");
  if (stream_capture != 0 && event_capture != stream_capture)
    return record_error(event_capture ? cudaErrorStreamCaptureMerge : cudaErrorStreamCaptureIsolation,
                        event_capture
                            ? "cudaStreamWaitEvent: the event was recorded in another capture sequence"
                            : "cudaStreamWaitEvent: a capturing stream waits on an event recorded outside its capture");
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  if (!e) return record_error(cudaErrorInvalidValue, "cudaEventCreate: null pointer");
  *e = new SimEvent{};
  (*e)->flags = flags;
  std::lock_guard<std::mutex> lk(sim_internal::handles_mutex);
  sim_internal::live_events.insert(*e);
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  {
    std::lock_guard<std::mutex> lk(sim_internal::handles_mutex);
    if (!e || !sim_internal::live_events.erase(e))
      return record_error(cudaErrorInvalidResourceHandle, "cudaEventDestroy: not a live event");
  }
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!sim_internal::valid_event(e) || !sim_internal::valid_stream(s))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: not a live event or stream");
  bool capturing = false;
  if (cudaError_t err = sim_internal::capture_check(s, "cudaEventRecord", &capturing)) return err;
  // Recorded inside a capture, an event marks a point of the graph, not a time.
  e->captured_in = capturing ? sim_internal::capture_id(s) : 0;
  if (!capturing) {
    e->when = std::chrono::steady_clock::now();
    e->recorded = true;
  }
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!sim_internal::valid_event(e))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not a live event");
  if (e->captured_in)
    return record_error(cudaErrorCapturedEvent,
                        "cudaEventSynchronize: the event was last recorded in a capturing stream");
  if (cudaError_t err = sim_internal::capture_forbids("cudaEventSynchronize")) return err;
  sim_internal::counters().host_synchronizations.fetch_add(1, std::memory_order_relaxed);
  return sim_internal::consume_async_error();
}
cudaError_t cudaEventQuery(cudaEvent_t e) {
  if (!sim_internal::valid_event(e))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventQuery: not a live event");
  if (e->captured_in)
    return record_error(cudaErrorCapturedEvent, "cudaEventQuery: the event was last recorded in a capturing stream");
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (!ms) return record_error(cudaErrorInvalidValue, "cudaEventElapsedTime: null pointer");
  if (!sim_internal::valid_event(a) || !sim_internal::valid_event(b))
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: not a live event");
  if (!a->recorded || !b->recorded || (a->flags | b->flags) & cudaEventDisableTiming)
    return record_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event not recorded or timing disabled");
  *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return record_error(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: null function");
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || size_t(value) > kMaxOptinSharedBytes)
      return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: MaxDynamicSharedMemorySize " +
                                                     std::to_string(value) + " is outside 0.." +
                                                     std::to_string(kMaxOptinSharedBytes));
    std::lock_guard<std::mutex> lk(sim_internal::handles_mutex);
    sim_internal::smem_limits[func] = size_t(value);
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) {
    if (value < -1 || value > 100)
      return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: carveout out of range");
    return cudaSuccess;
  }
  return record_error(cudaErrorInvalidValue,
                      "cudaFuncSetAttribute: attribute " + std::to_string(int(attr)) + " is not simulated");
}

Stats stats() {
  const sim_internal::Counters& c = sim_internal::counters();
  Stats s;
  s.device_allocations = c.device_allocations.load();
  s.device_frees = c.device_frees.load();
  s.host_synchronizations = c.host_synchronizations.load();
  s.kernel_launches = c.kernel_launches.load();
  s.graph_launches = c.graph_launches.load();
  s.memcpy_calls = c.memcpy_calls.load();
  s.memset_calls = c.memset_calls.load();
  return s;
}
Stats operator-(const Stats& a, const Stats& b) {
  Stats d;
  d.device_allocations = a.device_allocations - b.device_allocations;
  d.device_frees = a.device_frees - b.device_frees;
  d.host_synchronizations = a.host_synchronizations - b.host_synchronizations;
  d.kernel_launches = a.kernel_launches - b.kernel_launches;
  d.graph_launches = a.graph_launches - b.graph_launches;
  d.memcpy_calls = a.memcpy_calls - b.memcpy_calls;
  d.memset_calls = a.memset_calls - b.memset_calls;
  return d;
}

void set_schedule(Schedule s, uint64_t seed) {
  sim_internal::schedule_config().schedule = s;
  sim_internal::schedule_config().seed = seed;
}
Schedule schedule() { return sim_internal::schedule_config().schedule; }
uint64_t schedule_seed() { return sim_internal::schedule_config().seed; }

}  // namespace gpusim
