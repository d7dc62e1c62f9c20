// gpusim: the CUDA runtime API subset and device built-ins, on the CPU.
//
// A .cu file compiled by g++ with this header force-included (see scripts/simcc)
// runs its kernels on the simulator: each CUDA thread is a fiber, each block runs on
// one worker thread, barriers and warp collectives are real rendezvous points.
// Everything lives in namespace gpusim and is imported into the global namespace at
// the end, so a program may link the simulator and the real CUDA runtime side by side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <atomic>
#include <source_location>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

// ---- CUDA qualifiers as plain C++ ------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
// Block-scope `thread_local` is static per OS thread; a block never leaves its
// worker thread, so this is exactly one instance per resident block.
#define __shared__ thread_local
#define __CUDACC_SIM__ 1

namespace gpusim {

// ---- vector and launch types ------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct int2 {
  int x, y;
};
struct int4 {
  int x, y, z, w;
};
struct float2 {
  float x, y;
};
struct __attribute__((aligned(16))) float4 {
  float x, y, z, w;
};
struct __attribute__((aligned(4))) uchar4 {
  unsigned char x, y, z, w;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline uchar4 make_uchar4(unsigned char x, unsigned char y, unsigned char z, unsigned char w) { return {x, y, z, w}; }
inline constexpr int warpSize = 32;

// Values as in the CUDA runtime's driver_types.h.
enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorIllegalInstruction = 715,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotSupported = 801,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureMerge = 902,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorStreamCaptureUnjoined = 904,
  cudaErrorStreamCaptureIsolation = 905,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorCapturedEvent = 907,
  cudaErrorStreamCaptureWrongThread = 908,
  cudaErrorUnknown = 999,
};
using cudaError = cudaError_t;

enum cudaMemcpyKind : int {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaFuncAttribute : int {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};

struct SimStream;
struct SimEvent;
using cudaStream_t = SimStream*;
using cudaEvent_t = SimEvent*;
inline constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
inline constexpr unsigned cudaEventDefault = 0, cudaEventDisableTiming = 2;
inline constexpr unsigned cudaHostAllocDefault = 0;

// Stream capture and graphs (values as in driver_types.h). A graph captured from one
// stream is the chain of its operations in issue order.
enum cudaStreamCaptureMode : int {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};
enum cudaStreamCaptureStatus : int {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2,
};
enum cudaGraphNodeType : int {
  cudaGraphNodeTypeKernel = 0,
  cudaGraphNodeTypeMemcpy = 1,
  cudaGraphNodeTypeMemset = 2,
  cudaGraphNodeTypeHost = 3,
  cudaGraphNodeTypeGraph = 4,
  cudaGraphNodeTypeEmpty = 5,
};
struct SimGraph;
struct SimGraphExec;
struct SimGraphNode;
using cudaGraph_t = SimGraph*;
using cudaGraphExec_t = SimGraphExec*;
using cudaGraphNode_t = SimGraphNode*;

struct cudaLaunchAttribute {
  int id;
  unsigned char val[64];
};
struct cudaLaunchConfig_t {
  dim3 gridDim;
  dim3 blockDim;
  size_t dynamicSmemBytes = 0;
  cudaStream_t stream = nullptr;
  cudaLaunchAttribute* attrs = nullptr;
  unsigned numAttrs = 0;
};

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int clockRate;
  size_t totalConstMem;
  int major;
  int minor;
  int multiProcessorCount;
  int maxThreadsPerMultiProcessor;
  size_t sharedMemPerMultiprocessor;
  size_t sharedMemPerBlockOptin;
  int regsPerMultiprocessor;
  int l2CacheSize;
};

// The sm_90 limits the launch checks enforce.
inline constexpr unsigned kMaxThreadsPerBlock = 1024;
inline constexpr unsigned kMaxBlockDimXY = 1024, kMaxBlockDimZ = 64;
inline constexpr unsigned kMaxGridDimX = 2147483647u, kMaxGridDimYZ = 65535;
inline constexpr size_t kDefaultSharedBytes = 48 * 1024;
inline constexpr size_t kMaxOptinSharedBytes = 232448;

// ---- runtime API --------------------------------------------------------------------
const char* cudaGetErrorString(cudaError_t e);
const char* cudaGetErrorName(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaDeviceReset();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);

cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <class T> cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned flags);
template <class T> cudaError_t cudaMallocHost(T** ptr, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status);
cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode);
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count);
cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, cudaGraphNodeType* type);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value);
template <class R, class... A> cudaError_t cudaFuncSetAttribute(R (*func)(A...), cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(func), attr, value);
}

// ---- simulator control (not part of CUDA) -------------------------------------------
enum class Schedule { Deterministic, Random };
// Overrides GPUSIM_SCHEDULE / GPUSIM_SEED for the rest of the process.
void set_schedule(Schedule schedule, uint64_t seed = 0);
Schedule schedule();
uint64_t schedule_seed();
// The message that went with the most recent error of this host thread ("" if none).
const char* last_error_message();
// True if [ptr, ptr + bytes) lies inside one live cudaMalloc allocation.
bool is_device_pointer(const void* ptr, size_t bytes = 1);
// True if [ptr, ptr + bytes) lies inside one live cudaMallocHost / cudaHostAlloc block.
bool is_pinned_host_pointer(const void* ptr, size_t bytes = 1);
int worker_count();
// How many devices the simulator presents (default 1; 1..16). Each host thread has a
// current device (cudaSetDevice, 0 on a new thread); an allocation belongs to the device
// current when it was made, and a launch given another device's memory fails naming both.
void set_device_count(int count);
int device_count();
// The device a live cudaMalloc allocation containing ptr belongs to; -1 if none.
int device_of_pointer(const void* ptr);
// A host thread's interrupt flag (null: none): once *flag is true, a kernel this thread
// launches (directly or in a graph replay) starts no further thread blocks, and fails
// with cudaErrorLaunchFailure "interrupted" at the next synchronisation, without the
// usual message on stderr. Blocks already running finish. So a long launch on the
// simulator can be cancelled within one block's time (a GPU finishes its launches).
void set_interrupt(const std::atomic<bool>* flag);
// What the process has asked of the device so far (all host threads together), for
// tests that count the work of a step: take stats() before and after, subtract.
struct Stats {
  uint64_t device_allocations = 0;     // successful cudaMalloc calls
  uint64_t device_frees = 0;           // successful cudaFree calls of a live allocation
  uint64_t host_synchronizations = 0;  // cudaDevice/Stream/EventSynchronize, blocking cudaMemcpy*
  uint64_t kernel_launches = 0;        // kernels run by a launch call (not those captured)
  uint64_t graph_launches = 0;         // cudaGraphLaunch calls that ran a graph
  uint64_t memcpy_calls = 0;           // cudaMemcpy* calls that copied (not those captured)
  uint64_t memset_calls = 0;           // cudaMemset* calls that set (not those captured)
};
Stats stats();
Stats operator-(const Stats& a, const Stats& b);

namespace sim_internal {

struct BlockState;

// The context of the CUDA thread (fiber) that is running on this worker.
struct ThreadState {
  uint3 thread_idx;
  unsigned linear;  // x + y * bx + z * bx * by
  unsigned lane, warp;
  BlockState* block;
  // Exchange area of warp collectives.
  alignas(16) unsigned char shfl_in[16];
  alignas(16) unsigned char shfl_out[16];
  int shfl_param;
  void* coll_ptr;
};
extern thread_local ThreadState* tl_thread;

struct PointerArg {
  int index;
  const void* value;
  const char* type_name;  // mangled
};
// How the launcher handles a kernel's argument closure without knowing its type: run
// it, and (for a launch captured into a graph) copy it to the heap and free the copy.
struct ClosureOps {
  void (*invoke)(const void* closure);
  void* (*clone)(const void* closure);
  void (*destroy)(void* closure);
};
cudaError_t launch(const cudaLaunchConfig_t* config, const void* kernel, const ClosureOps& ops, const void* closure,
                   const PointerArg* pointers, int pointer_count);
void* dynamic_shared_base();

// Warp collectives: every non-exited lane in `mask` must reach the same call site.
enum class WarpOp { Sync, ShflIdx, ShflUp, ShflDown, ShflXor, Ballot, Any, All, Custom, Active };
// Custom: the last lane to arrive calls fn(ctx, lane_states[32], arrived_mask) once
// for the group; each lane's coll_ptr was set before arriving.
using WarpCustomFn = void (*)(void* ctx, ThreadState* const* lanes, unsigned arrived);
void warp_collective(unsigned mask, WarpOp op, int width, size_t bytes, const std::source_location& loc,
                     WarpCustomFn fn = nullptr, void* fn_ctx = nullptr);
void block_barrier(int op, int predicate, const std::source_location& loc);  // op 0 sync,1 count,2 and,3 or
// A PTX .aligned warp instruction `name` (a string literal): every one of the warp's 32
// lanes must reach this call site; the last to arrive calls fn(ctx, lanes, mask) once.
void warp_aligned(const char* name, const std::source_location& loc, WarpCustomFn fn, void* fn_ctx);
// Distinct for every block a worker runs: per-thread state of the running block
// (cp.async groups) is stale when it was made under another serial.
uint64_t block_serial();
// A fault of device code (a bad shared address, a misaligned cp.async): fails the
// block with `message`, reported at the next synchronisation. Does not return.
struct DeviceFault : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void device_fault(const std::string& message);
int block_barrier_result();

template <class T> void note_pointer_arg(PointerArg* list, int& count, int index, const T& value) {
  if constexpr (std::is_pointer_v<T>) list[count++] = {index, (const void*)value, typeid(T).name()};
}

template <class T>
inline T shuffle(unsigned mask, T var, int param, int width, WarpOp op, const std::source_location& loc) {
  static_assert(sizeof(T) <= 16 && std::is_trivially_copyable_v<T>, "shuffle of a type > 16 bytes");
  ThreadState* t = tl_thread;
  std::memcpy(t->shfl_in, &var, sizeof(T));
  t->shfl_param = param;
  warp_collective(mask, op, width, sizeof(T), loc);
  T out;
  std::memcpy(&out, tl_thread->shfl_out, sizeof(T));
  return out;
}

}  // namespace sim_internal

// Built-in variables. Per worker thread; the scheduler rewrites threadIdx at each
// switch into a fiber, the others at each block start. (Not macros: host code names
// cudaLaunchConfig_t::gridDim and blockDim.)
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

template <typename... ExpTypes, typename... ActTypes>
cudaError_t cudaLaunchKernelEx(const cudaLaunchConfig_t* config, void (*kernel)(ExpTypes...), ActTypes&&... args) {
  static_assert(sizeof...(ExpTypes) == sizeof...(ActTypes), "kernel argument count mismatch");
  using Args = std::tuple<std::decay_t<ExpTypes>...>;
  struct Closure {
    void (*kernel)(ExpTypes...);
    Args args;
  };
  Closure closure{kernel, Args(std::forward<ActTypes>(args)...)};
  sim_internal::PointerArg pointers[sizeof...(ExpTypes) + 1]{};  // zeroed: GCC cannot see that only `count` are read
  int count = 0;
  [&]<size_t... I>(std::index_sequence<I...>) {
    (sim_internal::note_pointer_arg(pointers, count, int(I), std::get<I>(closure.args)), ...);
  }
  (std::index_sequence_for<ExpTypes...>{});
  static constexpr sim_internal::ClosureOps ops{
      [](const void* p) {
        const Closure* c = static_cast<const Closure*>(p);
        std::apply(c->kernel, c->args);
      },
      [](const void* p) -> void* { return new Closure(*static_cast<const Closure*>(p)); },
      [](void* p) { delete static_cast<Closure*>(p); }};
  return sim_internal::launch(config, reinterpret_cast<const void*>(kernel), ops, &closure, pointers, count);
}

// ---- synchronisation built-ins ------------------------------------------------------
inline void __syncthreads(std::source_location loc = std::source_location::current()) {
  sim_internal::block_barrier(0, 0, loc);
}
inline int __syncthreads_count(int p, std::source_location loc = std::source_location::current()) {
  sim_internal::block_barrier(1, p, loc);
  return sim_internal::block_barrier_result();
}
inline int __syncthreads_and(int p, std::source_location loc = std::source_location::current()) {
  sim_internal::block_barrier(2, p, loc);
  return sim_internal::block_barrier_result();
}
inline int __syncthreads_or(int p, std::source_location loc = std::source_location::current()) {
  sim_internal::block_barrier(3, p, loc);
  return sim_internal::block_barrier_result();
}
inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location loc = std::source_location::current()) {
  sim_internal::warp_collective(mask, sim_internal::WarpOp::Sync, 32, 0, loc);
}
template <class T> T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
                                 std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, var, src_lane, width, sim_internal::WarpOp::ShflIdx, loc);
}
template <class T> T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                                    std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, var, int(delta), width, sim_internal::WarpOp::ShflUp, loc);
}
template <class T> T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                                      std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, var, int(delta), width, sim_internal::WarpOp::ShflDown, loc);
}
template <class T> T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                                     std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, var, lane_mask, width, sim_internal::WarpOp::ShflXor, loc);
}
inline unsigned __ballot_sync(unsigned mask, int p, std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, p, 0, 32, sim_internal::WarpOp::Ballot, loc);
}
inline int __any_sync(unsigned mask, int p, std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, p, 0, 32, sim_internal::WarpOp::Any, loc);
}
inline int __all_sync(unsigned mask, int p, std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(mask, p, 0, 32, sim_internal::WarpOp::All, loc);
}
// The lanes of this warp that execute this call together: a rendezvous of the warp's
// non-exited lanes at this call site. It completes when all of them have arrived or,
// when some took another branch, once nothing else in the block can run; it returns
// the lanes that arrived. (Every lane of one call gets the same mask, whatever the
// order the fibers ran in.)
inline unsigned __activemask(std::source_location loc = std::source_location::current()) {
  return sim_internal::shuffle(0xffffffffu, 0u, 0, 32, sim_internal::WarpOp::Active, loc);
}
inline unsigned __lanemask_lt() { return (1u << sim_internal::tl_thread->lane) - 1u; }

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// ---- atomics: real atomics, blocks run on several workers ---------------------------
template <class T> inline T atomicAdd(T* a, T v) { return std::atomic_ref<T>(*a).fetch_add(v); }
template <class T> inline T atomicSub(T* a, T v) { return std::atomic_ref<T>(*a).fetch_sub(v); }
template <class T> inline T atomicExch(T* a, T v) { return std::atomic_ref<T>(*a).exchange(v); }
template <class T> inline T atomicAnd(T* a, T v) { return std::atomic_ref<T>(*a).fetch_and(v); }
template <class T> inline T atomicOr(T* a, T v) { return std::atomic_ref<T>(*a).fetch_or(v); }
template <class T> inline T atomicXor(T* a, T v) { return std::atomic_ref<T>(*a).fetch_xor(v); }
template <class T> inline T atomicCAS(T* a, T expected, T desired) {
  std::atomic_ref<T>(*a).compare_exchange_strong(expected, desired);
  return expected;
}
template <class T> inline T atomicMax(T* a, T v) {
  std::atomic_ref<T> r(*a);
  T old = r.load();
  while (old < v && !r.compare_exchange_weak(old, v)) {
  }
  return old;
}
template <class T> inline T atomicMin(T* a, T v) {
  std::atomic_ref<T> r(*a);
  T old = r.load();
  while (v < old && !r.compare_exchange_weak(old, v)) {
  }
  return old;
}
inline unsigned atomicInc(unsigned* a, unsigned limit) {
  std::atomic_ref<unsigned> r(*a);
  unsigned old = r.load();
  while (!r.compare_exchange_weak(old, old >= limit ? 0u : old + 1u)) {
  }
  return old;
}

// ---- integer and float intrinsics ---------------------------------------------------
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __tanhf(float x) { return tanhf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
// The host build does not contract a * b + c (ISO C++, no -mfma), so these round as on a GPU.
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline int __float2int_rn(float x) { return int(nearbyintf(x)); }
inline int __float2int_rz(float x) { return int(x); }
inline int __float2int_rd(float x) { return int(floorf(x)); }
inline unsigned __float2uint_rn(float x) { return unsigned(nearbyintf(x)); }
inline float __int2float_rn(int x) { return float(x); }
inline float __int_as_float(int x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
inline int __float_as_int(float x) {
  int i;
  std::memcpy(&i, &x, 4);
  return i;
}
inline unsigned __float_as_uint(float x) {
  unsigned i;
  std::memcpy(&i, &x, 4);
  return i;
}
inline float __uint_as_float(unsigned x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }

}  // namespace gpusim

using namespace gpusim;  // NOLINT: CUDA code names these unqualified

#include "gpusim/half.h"
#include "gpusim/wmma.h"
#include "gpusim/ptx.h"
