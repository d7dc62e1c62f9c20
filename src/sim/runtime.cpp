// gpusim runtime: errors, device properties, streams, events, function attributes,
// schedule configuration.
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "sim_internal.h"

namespace gpusim {

struct SimStream { unsigned flags; };
struct SimEvent {
  std::chrono::steady_clock::time_point when;
  bool recorded = false;
  unsigned flags = 0;
};

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

bool valid_stream(cudaStream_t s) {
  if (!s) return true;
  std::lock_guard<std::mutex> lk(handles_mutex);
  return live_streams.count(s) != 0;
}
bool valid_event(cudaEvent_t e) {
  std::lock_guard<std::mutex> lk(handles_mutex);
  return e && live_events.count(e) != 0;
}

}  // namespace

cudaError_t record_error(cudaError_t e, const std::string& message) {
  last_error = e;
  last_message = message;
  std::fprintf(stderr, "gpusim: %s: %s\n", cudaGetErrorName(e), message.c_str());
  return e;
}

// As on a GPU, a fault found while a kernel ran is not visible to cudaGetLastError
// right after the launch (the kernel would still be running); the next
// synchronisation (or blocking copy) reports it and makes it the last error.
void record_async_error(cudaError_t e, const std::string& message) {
  last_message = message;
  std::fprintf(stderr, "gpusim: %s: %s\n", cudaGetErrorName(e), message.c_str());
  async_error = e;
}

cudaError_t consume_async_error() {
  const cudaError_t e = async_error;
  async_error = cudaSuccess;
  if (e != cudaSuccess) last_error = e;
  return e;
}

size_t dynamic_smem_limit(const void* kernel) {
  std::lock_guard<std::mutex> lk(handles_mutex);
  auto it = smem_limits.find(kernel);
  return it == smem_limits.end() ? kDefaultSharedBytes : it->second;
}

}  // namespace sim_internal

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
cudaError_t cudaDeviceSynchronize() { return sim_internal::consume_async_error(); }
cudaError_t cudaDeviceReset() {
  sim_internal::last_error = sim_internal::async_error = cudaSuccess;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return record_error(cudaErrorInvalidValue, "cudaGetDeviceCount: null pointer");
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return record_error(cudaErrorInvalidValue, "cudaGetDevice: null pointer");
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device != 0) return record_error(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + "): the simulator has device 0 only");
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!p) return record_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: null pointer");
  if (device != 0) return record_error(cudaErrorInvalidDevice, "cudaGetDeviceProperties: no device " + std::to_string(device));
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "gpusim (CPU SIMT simulator, sm_90 limits)");
  p->totalGlobalMem = size_t(80) << 30;
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
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (!sim_internal::valid_stream(s)) return record_error(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: not a live stream");
  return cudaDeviceSynchronize();
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned) {
  if (!sim_internal::valid_stream(s) || !sim_internal::valid_event(e))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: not a live stream or event");
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
  e->when = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!sim_internal::valid_event(e)) return record_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not a live event");
  return sim_internal::consume_async_error();
}
cudaError_t cudaEventQuery(cudaEvent_t e) {
  if (!sim_internal::valid_event(e)) return record_error(cudaErrorInvalidResourceHandle, "cudaEventQuery: not a live event");
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
      return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: MaxDynamicSharedMemorySize " + std::to_string(value) +
                                                     " is outside 0.." + std::to_string(kMaxOptinSharedBytes));
    std::lock_guard<std::mutex> lk(sim_internal::handles_mutex);
    sim_internal::smem_limits[func] = size_t(value);
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) {
    if (value < -1 || value > 100) return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: carveout out of range");
    return cudaSuccess;
  }
  return record_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " + std::to_string(int(attr)) + " is not simulated");
}

void set_schedule(Schedule s, uint64_t seed) {
  sim_internal::schedule_config().schedule = s;
  sim_internal::schedule_config().seed = seed;
}
Schedule schedule() { return sim_internal::schedule_config().schedule; }
uint64_t schedule_seed() { return sim_internal::schedule_config().seed; }

}  // namespace gpusim
