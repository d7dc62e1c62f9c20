// CUDA graphs through stream capture, and the capture rules, as the CUDA runtime gives them.
//
// Written only against the CUDA runtime API, so one source runs three ways:
//   * on the gpusim simulator through scripts/simcc:  scripts/simcc tests/sim/graph_capture.cu -o gc && ./gc
//   * on the simulator from the project build:         build/tests/sim/graph_capture_sim
//   * on a GPU, built by nvcc:                          build/tests/sim/graph_capture_cuda
// The GPU run proves that what the simulator reports (which calls are captured, which
// fail, with which error, and what a failed capture leaves) is what a GPU does. Cases
// only the simulator can check (the work counted by gpusim::stats(), a replay that reads
// freed memory) run on the simulator only.
//
// One line per case, "NAME: OK" or "NAME: FAILED ..."; "ALL OK" and exit 0 when every
// case holds, exit 1 otherwise, exit 77 (skipped) when built for CUDA and no GPU is present.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

void report(const std::string& name, bool ok, const std::string& detail = "") {
  std::printf("%s: %s%s%s\n", name.c_str(), ok ? "OK" : "FAILED", detail.empty() ? "" : " ", detail.c_str());
  if (!ok) ++failures;
}

bool cuda_ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::printf("%s: %s (%s)\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  ++failures;
  return false;
}
#define CUDA_OK(expr) cuda_ok((expr), #expr)

// "got X, want Y" when an error code differs from what a GPU returns.
std::string want(cudaError_t got, cudaError_t expected) {
  if (got == expected) return "";
  return std::string("got ") + cudaGetErrorName(got) + ", want " + cudaGetErrorName(expected);
}

// The two captured kernels. fmaf is explicit so that the host reference below rounds
// exactly as the device does (nvcc would otherwise contract a * b + c on its own).
__global__ void scale_add(const float* in, float* mid, int n, float scale) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) mid[i] = __fmaf_rn(in[i], scale, float(i % 7));
}
__global__ void square_plus(const float* mid, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __fmaf_rn(mid[i], mid[i], 0.25f);
}

constexpr int kN = 1037;  // not a multiple of the block
constexpr int kBlock = 128;
constexpr float kScale = 1.5f;
const int kGrid = (kN + kBlock - 1) / kBlock;

std::vector<float> reference(const float* in) {
  std::vector<float> out(kN);
  for (int i = 0; i < kN; ++i) {
    const float mid = std::fmaf(in[i], kScale, float(i % 7));
    out[i] = std::fmaf(mid, mid, 0.25f);
  }
  return out;
}

void fill_random(float* p, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-3.0f, 3.0f);
  for (int i = 0; i < n; ++i) p[i] = d(rng);
}

struct Buffers {
  float *in = nullptr, *mid = nullptr, *out = nullptr;  // device
  float *host_in = nullptr, *host_out = nullptr;        // pinned
  Buffers() {
    CUDA_OK(cudaMalloc(&in, kN * sizeof(float)));
    CUDA_OK(cudaMalloc(&mid, kN * sizeof(float)));
    CUDA_OK(cudaMalloc(&out, kN * sizeof(float)));
    CUDA_OK(cudaMallocHost(&host_in, kN * sizeof(float)));
    CUDA_OK(cudaMallocHost(&host_out, kN * sizeof(float)));
  }
  ~Buffers() {
    cudaFree(in);
    cudaFree(mid);
    cudaFree(out);
    cudaFreeHost(host_in);
    cudaFreeHost(host_out);
  }
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
};

// Pinned input up, the two kernels, pinned output down: what an interactive step does.
void issue_step(const Buffers& b, cudaStream_t s) {
  cudaMemcpyAsync(b.in, b.host_in, kN * sizeof(float), cudaMemcpyHostToDevice, s);
  scale_add<<<kGrid, kBlock, 0, s>>>(b.in, b.mid, kN, kScale);
  square_plus<<<kGrid, kBlock, 0, s>>>(b.mid, b.out, kN);
  cudaMemcpyAsync(b.host_out, b.out, kN * sizeof(float), cudaMemcpyDeviceToHost, s);
}

int mismatches(const float* got, const std::vector<float>& expected) {
  int bad = 0;
  for (int i = 0; i < kN; ++i) bad += !(got[i] == expected[i]);
  return bad;
}

void test_capture_and_replay() {
  Buffers b;
  cudaStream_t s;
  CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::fill(b.host_out, b.host_out + kN, -1.0f);
  fill_random(b.host_in, kN, 1);

  cudaStreamCaptureStatus status = cudaStreamCaptureStatusInvalidated;
  CUDA_OK(cudaStreamIsCapturing(s, &status));
  report("a new stream is not capturing", status == cudaStreamCaptureStatusNone);
  CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  CUDA_OK(cudaStreamIsCapturing(s, &status));
  report("after cudaStreamBeginCapture the stream is capturing", status == cudaStreamCaptureStatusActive);
  issue_step(b, s);
  CUDA_OK(cudaGetLastError());
  cudaGraph_t graph = nullptr;
  CUDA_OK(cudaStreamEndCapture(s, &graph));
  CUDA_OK(cudaStreamIsCapturing(s, &status));
  report("after cudaStreamEndCapture the stream is not capturing", status == cudaStreamCaptureStatusNone);
  // Captured work is recorded, not run.
  CUDA_OK(cudaStreamSynchronize(s));
  report("captured copies and kernels did not run",
         std::all_of(b.host_out, b.host_out + kN, [](float v) { return v == -1.0f; }));

  size_t count = 0;
  CUDA_OK(cudaGraphGetNodes(graph, nullptr, &count));
  std::vector<cudaGraphNode_t> nodes(count);
  if (count) CUDA_OK(cudaGraphGetNodes(graph, nodes.data(), &count));
  int kernels = 0, copies = 0;
  for (cudaGraphNode_t n : nodes) {
    cudaGraphNodeType t;
    CUDA_OK(cudaGraphNodeGetType(n, &t));
    kernels += t == cudaGraphNodeTypeKernel;
    copies += t == cudaGraphNodeTypeMemcpy;
  }
  report(
      "the graph has 4 nodes: 2 kernels, 2 copies", count == 4 && kernels == 2 && copies == 2,
      std::to_string(count) + " nodes, " + std::to_string(kernels) + " kernels, " + std::to_string(copies) + " copies");

  cudaGraphExec_t exec = nullptr;
  CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
  // An executable graph outlives its graph.
  CUDA_OK(cudaGraphDestroy(graph));
  for (int replay = 0; replay < 3; ++replay) {
    fill_random(b.host_in, kN, 100 + replay);  // new pinned input, read by the replay
    const std::vector<float> expected = reference(b.host_in);
    CUDA_OK(cudaGraphLaunch(exec, s));
    CUDA_OK(cudaStreamSynchronize(s));
    const int bad = mismatches(b.host_out, expected);
    report("replay " + std::to_string(replay + 1) + " with new pinned input", bad == 0,
           std::to_string(bad) + " of " + std::to_string(kN) + " outputs differ");
  }
  // Back to back without a synchronisation between: in order, the last input wins.
  fill_random(b.host_in, kN, 7);
  CUDA_OK(cudaGraphLaunch(exec, s));
  CUDA_OK(cudaGraphLaunch(exec, s));
  CUDA_OK(cudaStreamSynchronize(s));
  report("two replays back to back", mismatches(b.host_out, reference(b.host_in)) == 0);
  // On another stream (the legacy one, no capture anywhere).
  fill_random(b.host_in, kN, 8);
  CUDA_OK(cudaGraphLaunch(exec, nullptr));
  CUDA_OK(cudaDeviceSynchronize());
  report("replay on the legacy default stream", mismatches(b.host_out, reference(b.host_in)) == 0);

  CUDA_OK(cudaGraphExecDestroy(exec));
  CUDA_OK(cudaStreamDestroy(s));
}

void test_memset_node() {
  Buffers b;
  cudaStream_t s;
  CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  cudaMemsetAsync(b.out, 0x3f, kN * sizeof(float), s);
  cudaMemcpyAsync(b.host_out, b.out, kN * sizeof(float), cudaMemcpyDeviceToHost, s);
  cudaGraph_t graph = nullptr;
  CUDA_OK(cudaStreamEndCapture(s, &graph));
  cudaGraphNode_t nodes[2] = {};
  size_t count = 2;
  CUDA_OK(cudaGraphGetNodes(graph, nodes, &count));
  cudaGraphNodeType t0 = cudaGraphNodeTypeEmpty, t1 = cudaGraphNodeTypeEmpty;
  if (count == 2) {
    CUDA_OK(cudaGraphNodeGetType(nodes[0], &t0));
    CUDA_OK(cudaGraphNodeGetType(nodes[1], &t1));
  }
  const bool has_memset = t0 == cudaGraphNodeTypeMemset || t1 == cudaGraphNodeTypeMemset;
  cudaGraphExec_t exec = nullptr;
  CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
  std::fill(b.host_out, b.host_out + kN, 0.0f);
  CUDA_OK(cudaGraphLaunch(exec, s));
  CUDA_OK(cudaStreamSynchronize(s));
  unsigned bits;
  std::memcpy(&bits, &b.host_out[kN - 1], 4);
  report("a captured memset is a memset node and replays", count == 2 && has_memset && bits == 0x3f3f3f3fu);
  CUDA_OK(cudaGraphExecDestroy(exec));
  CUDA_OK(cudaGraphDestroy(graph));
  CUDA_OK(cudaStreamDestroy(s));
}

// Begins a global-mode capture on s with one kernel in it.
void begin_with_kernel(const Buffers& b, cudaStream_t s, cudaStreamCaptureMode mode) {
  CUDA_OK(cudaStreamBeginCapture(s, mode));
  scale_add<<<kGrid, kBlock, 0, s>>>(b.in, b.mid, kN, kScale);
  CUDA_OK(cudaGetLastError());
}

// Ends the capture on s, which an error invalidated: no graph, and s works again after.
void expect_invalidated(const std::string& name, cudaStream_t s) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  CUDA_OK(cudaStreamIsCapturing(s, &status));
  cudaGraph_t graph = reinterpret_cast<cudaGraph_t>(&status);
  const cudaError_t end = cudaStreamEndCapture(s, &graph);
  cudaGetLastError();
  report(name + ": the capture is invalidated and its end gives no graph",
         status == cudaStreamCaptureStatusInvalidated && end == cudaErrorStreamCaptureInvalidated && graph == nullptr,
         want(end, cudaErrorStreamCaptureInvalidated) +
             (status == cudaStreamCaptureStatusInvalidated ? "" : " (cudaStreamIsCapturing did not say invalidated)"));
  CUDA_OK(cudaStreamIsCapturing(s, &status));
  CUDA_OK(cudaStreamSynchronize(s));
  report(name + ": the stream is usable after the failed capture", status == cudaStreamCaptureStatusNone);
}

void test_capture_errors() {
  Buffers b;
  cudaStream_t s;
  CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  float host[4];

  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  cudaError_t e = cudaMemcpy(host, b.out, sizeof host, cudaMemcpyDeviceToHost);
  cudaGetLastError();
  report("a synchronous cudaMemcpy during a global-mode capture fails", e == cudaErrorStreamCaptureUnsupported,
         want(e, cudaErrorStreamCaptureUnsupported));
  expect_invalidated("synchronous cudaMemcpy", s);

  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  e = cudaStreamSynchronize(s);
  cudaGetLastError();
  report("cudaStreamSynchronize of a capturing stream fails", e == cudaErrorStreamCaptureUnsupported,
         want(e, cudaErrorStreamCaptureUnsupported));
  expect_invalidated("cudaStreamSynchronize", s);

  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  float* extra = nullptr;
  e = cudaMalloc(&extra, 64);
  cudaGetLastError();
  report("cudaMalloc during a global-mode capture fails", e == cudaErrorStreamCaptureUnsupported,
         want(e, cudaErrorStreamCaptureUnsupported));
  if (e == cudaSuccess) cudaFree(extra);
  expect_invalidated("cudaMalloc", s);

  // Relaxed mode permits it, and the capture stays good.
  begin_with_kernel(b, s, cudaStreamCaptureModeRelaxed);
  e = cudaMalloc(&extra, 64);
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(s, &graph);
  report("cudaMalloc during a relaxed-mode capture is allowed", e == cudaSuccess && end == cudaSuccess && graph,
         want(e, cudaSuccess) + want(end, cudaSuccess));
  if (e == cudaSuccess) CUDA_OK(cudaFree(extra));
  if (graph) CUDA_OK(cudaGraphDestroy(graph));

  // Work on the legacy stream would depend on a capturing blocking stream.
  cudaStream_t blocking;
  CUDA_OK(cudaStreamCreate(&blocking));
  begin_with_kernel(b, blocking, cudaStreamCaptureModeGlobal);
  square_plus<<<kGrid, kBlock>>>(b.mid, b.out, kN);
  e = cudaGetLastError();
  report("a legacy-stream launch while a blocking stream captures fails", e == cudaErrorStreamCaptureImplicit,
         want(e, cudaErrorStreamCaptureImplicit));
  expect_invalidated("legacy-stream launch", blocking);
  // ... but a non-blocking capture leaves the legacy stream alone.
  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  square_plus<<<kGrid, kBlock>>>(b.mid, b.out, kN);
  e = cudaGetLastError();
  graph = nullptr;
  const cudaError_t end2 = cudaStreamEndCapture(s, &graph);
  report("a legacy-stream launch while a non-blocking stream captures runs", e == cudaSuccess && end2 == cudaSuccess,
         want(e, cudaSuccess) + want(end2, cudaSuccess));
  if (graph) CUDA_OK(cudaGraphDestroy(graph));
  CUDA_OK(cudaDeviceSynchronize());

  e = cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal);
  cudaGetLastError();
  report("the legacy stream cannot capture", e == cudaErrorStreamCaptureUnsupported,
         want(e, cudaErrorStreamCaptureUnsupported));
  graph = nullptr;
  e = cudaStreamEndCapture(s, &graph);
  cudaGetLastError();
  report("ending a capture that was never begun fails", e == cudaErrorIllegalState, want(e, cudaErrorIllegalState));
  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  e = cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal);
  cudaGetLastError();
  report("beginning a second capture on a capturing stream fails", e == cudaErrorIllegalState,
         want(e, cudaErrorIllegalState));
  graph = nullptr;
  CUDA_OK(cudaStreamEndCapture(s, &graph));
  if (graph) CUDA_OK(cudaGraphDestroy(graph));

  CUDA_OK(cudaStreamDestroy(blocking));
  CUDA_OK(cudaStreamDestroy(s));
}

void test_capture_threads() {
  Buffers b;
  cudaStream_t s;
  CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));

  // A thread-local capture does not forbid other threads anything.
  begin_with_kernel(b, s, cudaStreamCaptureModeThreadLocal);
  cudaError_t other = cudaErrorUnknown;
  std::thread([&] {
    float* p = nullptr;
    other = cudaMalloc(&p, 64);
    if (other == cudaSuccess) cudaFree(p);
  }).join();
  cudaGraph_t graph = nullptr;
  cudaError_t end = cudaStreamEndCapture(s, &graph);
  report("another thread may cudaMalloc during a thread-local capture", other == cudaSuccess && end == cudaSuccess,
         want(other, cudaSuccess) + want(end, cudaSuccess));
  if (graph) CUDA_OK(cudaGraphDestroy(graph));

  // A global-mode capture forbids every thread in global mode ...
  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  std::thread([&] {
    float* p = nullptr;
    other = cudaMalloc(&p, 64);
    if (other == cudaSuccess) cudaFree(p);
    cudaGetLastError();
  }).join();
  report("another thread's cudaMalloc during a global-mode capture fails", other == cudaErrorStreamCaptureUnsupported,
         want(other, cudaErrorStreamCaptureUnsupported));
  expect_invalidated("another thread's cudaMalloc", s);

  // ... but not one that chose relaxed mode for itself.
  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  std::thread([&] {
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    cudaThreadExchangeStreamCaptureMode(&mode);
    float* p = nullptr;
    other = cudaMalloc(&p, 64);
    if (other == cudaSuccess) cudaFree(p);
    cudaThreadExchangeStreamCaptureMode(&mode);
  }).join();
  graph = nullptr;
  end = cudaStreamEndCapture(s, &graph);
  report("a relaxed-mode thread may cudaMalloc during another's global capture",
         other == cudaSuccess && end == cudaSuccess, want(other, cudaSuccess) + want(end, cudaSuccess));
  if (graph) CUDA_OK(cudaGraphDestroy(graph));

  // A global-mode capture ends on the thread that began it.
  begin_with_kernel(b, s, cudaStreamCaptureModeGlobal);
  cudaGraph_t wrong = nullptr;
  std::thread([&] {
    other = cudaStreamEndCapture(s, &wrong);
    cudaGetLastError();
  }).join();
  graph = nullptr;
  end = cudaStreamEndCapture(s, &graph);
  report("a global-mode capture cannot end on another thread",
         other == cudaErrorStreamCaptureWrongThread && end == cudaSuccess,
         want(other, cudaErrorStreamCaptureWrongThread) + want(end, cudaSuccess));
  if (graph) CUDA_OK(cudaGraphDestroy(graph));

  CUDA_OK(cudaStreamDestroy(s));
}

#ifdef __CUDACC_SIM__
// What a step costs when it is one graph: counted by the simulator.
void test_step_counts() {
  Buffers b;
  cudaStream_t s;
  CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  const gpusim::Stats before_capture = gpusim::stats();
  CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  issue_step(b, s);
  cudaGraph_t graph = nullptr;
  CUDA_OK(cudaStreamEndCapture(s, &graph));
  const gpusim::Stats captured = gpusim::stats() - before_capture;
  report("capture runs nothing (simulator counts)", captured.kernel_launches == 0 && captured.memcpy_calls == 0);
  cudaGraphExec_t exec = nullptr;
  CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
  fill_random(b.host_in, kN, 11);
  const gpusim::Stats before = gpusim::stats();
  CUDA_OK(cudaGraphLaunch(exec, s));
  CUDA_OK(cudaStreamSynchronize(s));
  const gpusim::Stats step = gpusim::stats() - before;
  report(
      "a replayed step: 1 graph launch, 1 synchronisation, no allocation, no loose launch or copy (simulator counts)",
      step.graph_launches == 1 && step.host_synchronizations == 1 && step.device_allocations == 0 &&
          step.kernel_launches == 0 && step.memcpy_calls == 0 && mismatches(b.host_out, reference(b.host_in)) == 0);

  // A replay that meets freed memory faults like a kernel would.
  float* stale = nullptr;
  CUDA_OK(cudaMalloc(&stale, kN * sizeof(float)));
  CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  cudaMemcpyAsync(stale, b.host_in, kN * sizeof(float), cudaMemcpyHostToDevice, s);
  cudaGraph_t g2 = nullptr;
  CUDA_OK(cudaStreamEndCapture(s, &g2));
  cudaGraphExec_t e2 = nullptr;
  CUDA_OK(cudaGraphInstantiate(&e2, g2, 0));
  CUDA_OK(cudaFree(stale));
  const cudaError_t launch = cudaGraphLaunch(e2, s);
  const cudaError_t sync = cudaStreamSynchronize(s);
  cudaGetLastError();
  const std::string message = gpusim::last_error_message();
  report("a replay into freed device memory is reported at the next synchronisation (simulator)",
         launch == cudaSuccess && sync == cudaErrorIllegalAddress &&
             message.find("freed device memory") != std::string::npos,
         want(sync, cudaErrorIllegalAddress) + " " + message);

  CUDA_OK(cudaGraphExecDestroy(e2));
  CUDA_OK(cudaGraphDestroy(g2));
  CUDA_OK(cudaGraphExecDestroy(exec));
  CUDA_OK(cudaGraphDestroy(graph));
  CUDA_OK(cudaStreamDestroy(s));
}
#endif

}  // namespace

int main() {
#ifndef __CUDACC_SIM__
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
#endif
  test_capture_and_replay();
  test_memset_node();
  test_capture_errors();
  test_capture_threads();
#ifdef __CUDACC_SIM__
  test_step_counts();
#endif
  if (failures) {
    std::printf("%d FAILED\n", failures);
    return 1;
  }
  std::printf("ALL OK\n");
  return 0;
}
