// gpusim stream capture and graphs: work issued to a capturing stream is recorded as
// graph nodes instead of run; an instantiated graph replays them in issue order.
//
// The rules are the CUDA runtime's (cuda_runtime_api.h, cudaStreamBeginCapture and
// cudaThreadExchangeStreamCaptureMode): the legacy stream cannot capture and may not be
// used while a blocking stream captures (cudaErrorStreamCaptureImplicit); a thread is
// forbidden potentially unsafe calls (cudaMalloc, blocking copies, synchronisations)
// while it has a capture not begun in relaxed mode, or, in its default global mode,
// while another thread has a global-mode capture; such a call fails with
// cudaErrorStreamCaptureUnsupported and invalidates the capture, whose end then gives
// cudaErrorStreamCaptureInvalidated and no graph. A capture not begun in relaxed mode
// must end on the thread that began it. One stream's capture is one chain: a stream
// joining another's capture through an event (a forked capture) is not simulated.
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sim_internal.h"

namespace gpusim {

struct SimGraph {
  std::vector<std::shared_ptr<SimGraphNode>> nodes;
};
struct SimGraphExec {
  std::shared_ptr<const std::vector<std::shared_ptr<const SimGraphNode>>> nodes;
};

namespace sim_internal {

struct Capture {
  uint64_t id;
  cudaStreamCaptureMode mode;
  std::thread::id thread;
  std::string invalidated;  // why, once an error invalidated it
  std::unique_ptr<SimGraph> graph;
};

namespace {

std::mutex capture_mutex;                // guards everything below and every SimStream::capture
std::set<SimStream*> capturing_streams;  // streams with a capture
uint64_t next_capture_id = 0;
std::set<const SimGraph*> live_graphs;
std::set<const SimGraphExec*> live_execs;
thread_local cudaStreamCaptureMode thread_mode = cudaStreamCaptureModeGlobal;

const char* mode_name(cudaStreamCaptureMode m) {
  switch (m) {
    case cudaStreamCaptureModeGlobal: return "global";
    case cudaStreamCaptureModeThreadLocal: return "thread-local";
    case cudaStreamCaptureModeRelaxed: return "relaxed";
  }
  return "unknown";
}

std::string stream_text(const SimStream* s) { return "stream " + pointer_text(s); }

void invalidate(SimStream* s, const std::string& why) {
  if (s->capture->invalidated.empty()) s->capture->invalidated = why;
}

// Streams whose capture makes the legacy stream unusable: the blocking ones.
std::vector<SimStream*> blocking_captures() {
  std::vector<SimStream*> out;
  for (SimStream* s : capturing_streams)
    if (!(s->flags & cudaStreamNonBlocking)) out.push_back(s);
  return out;
}

}  // namespace

cudaError_t capture_check(cudaStream_t stream, const char* api, bool* capturing) {
  *capturing = false;
  if (!valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, std::string(api) + ": not a live stream");
  std::unique_lock<std::mutex> lk(capture_mutex);
  if (!stream) {
    const std::vector<SimStream*> blocking = blocking_captures();
    if (blocking.empty()) return cudaSuccess;
    const std::string why = std::string(api) + " used the legacy default stream while blocking " +
                            stream_text(blocking.front()) + " was capturing";
    for (SimStream* s : blocking) invalidate(s, why);
    lk.unlock();
    return record_error(cudaErrorStreamCaptureImplicit,
                        why + " (an implicit dependency on a capture; the capture is invalidated)");
  }
  if (!stream->capture) return cudaSuccess;
  if (!stream->capture->invalidated.empty()) {
    const std::string why = stream->capture->invalidated;
    lk.unlock();
    return record_error(
        cudaErrorStreamCaptureInvalidated,
        std::string(api) + ": the capture on " + stream_text(stream) + " was invalidated earlier: " + why);
  }
  *capturing = true;
  return cudaSuccess;
}

cudaError_t capture_append(cudaStream_t stream, NodeData node) {
  std::unique_lock<std::mutex> lk(capture_mutex);
  if (!stream || !stream->capture || !stream->capture->invalidated.empty()) {
    lk.unlock();
    return record_error(cudaErrorIllegalState,
                        "work issued to " + stream_text(stream) + " while its capture ended on another thread");
  }
  auto n = std::make_shared<SimGraphNode>();
  static_cast<NodeData&>(*n) = std::move(node);
  stream->capture->graph->nodes.push_back(std::move(n));
  return cudaSuccess;
}

cudaError_t capture_forbids(const char* api) {
  const cudaStreamCaptureMode mine = thread_mode;
  if (mine == cudaStreamCaptureModeRelaxed) return cudaSuccess;
  std::unique_lock<std::mutex> lk(capture_mutex);
  const std::thread::id self = std::this_thread::get_id();
  SimStream* first = nullptr;
  for (SimStream* s : capturing_streams) {
    const Capture& c = *s->capture;
    const bool local = c.thread == self;
    if ((local && c.mode != cudaStreamCaptureModeRelaxed) ||
        (!local && mine == cudaStreamCaptureModeGlobal && c.mode == cudaStreamCaptureModeGlobal)) {
      if (!first) first = s;
      invalidate(s, std::string(api) + " was called during the capture");
    }
  }
  if (!first) return cudaSuccess;
  const std::string text = std::string(api) + " is not permitted while " + stream_text(first) + " is capturing in " +
                           mode_name(first->capture->mode) + " mode" +
                           (first->capture->thread == self ? "" : " on another thread") +
                           "; the capture is invalidated";
  lk.unlock();
  return record_error(cudaErrorStreamCaptureUnsupported, text);
}

cudaError_t capture_forbids_sync(cudaStream_t stream, const char* api) {
  if (!stream) {
    bool capturing;
    if (cudaError_t e = capture_check(nullptr, api, &capturing)) return e;
  } else {
    std::unique_lock<std::mutex> lk(capture_mutex);
    if (stream->capture) {
      invalidate(stream, std::string(api) + " was called on the capturing stream");
      lk.unlock();
      return record_error(cudaErrorStreamCaptureUnsupported, std::string(api) + " on " + stream_text(stream) +
                                                                 ", which is capturing; the capture is invalidated");
    }
  }
  return capture_forbids(api);
}

uint64_t capture_id(cudaStream_t stream) {
  std::lock_guard<std::mutex> lk(capture_mutex);
  return stream && stream->capture ? stream->capture->id : 0;
}

void capture_discard(cudaStream_t stream) {
  std::lock_guard<std::mutex> lk(capture_mutex);
  if (!stream->capture) return;
  capturing_streams.erase(stream);
  delete stream->capture;
  stream->capture = nullptr;
}

namespace {

using NodeList = std::vector<std::shared_ptr<const SimGraphNode>>;

// A replayed node that cannot run faults like a kernel would: the rest of the graph does
// not run and the next synchronisation reports it.
bool replay_fault(size_t index, const char* what, const std::string& problem) {
  record_async_error(cudaErrorIllegalAddress, "graph node " + std::to_string(index) + " (" + what + "): " + problem);
  return false;
}

bool replay(const NodeList& nodes) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    const SimGraphNode& n = *nodes[i];
    switch (n.type) {
      case cudaGraphNodeTypeKernel: {
        const std::string bad = bad_pointer_argument(n.kernel, n.pointers.data(), int(n.pointers.size()));
        if (!bad.empty()) return replay_fault(i, "kernel", bad);
        if (!run_kernel(n.kernel, n.grid, n.block, n.smem, n.ops->invoke, n.closure.get())) return false;
        break;
      }
      case cudaGraphNodeTypeMemcpy: {
        if ((n.pinned_dst && !is_pinned_host_pointer(n.dst, n.bytes)) ||
            (n.pinned_src && !is_pinned_host_pointer(n.src, n.bytes)))
          return replay_fault(i, "memcpy", "its pinned host memory was freed with cudaFreeHost after the capture");
        cudaError_t code;
        const std::string problem = copy_problem("the captured copy", n.dst, n.src, n.bytes, n.kind, &code);
        if (!problem.empty()) return replay_fault(i, "memcpy", problem);
        if (n.bytes) std::memmove(n.dst, n.src, n.bytes);
        break;
      }
      case cudaGraphNodeTypeMemset: {
        const std::string problem = memset_problem("the captured memset", n.dst, n.bytes);
        if (!problem.empty()) return replay_fault(i, "memset", problem);
        if (n.bytes) std::memset(n.dst, n.value, n.bytes);
        break;
      }
      case cudaGraphNodeTypeGraph:
        if (!replay(*n.child)) return false;
        break;
      default: break;
    }
  }
  return true;
}

bool live_graph(cudaGraph_t g) {
  std::lock_guard<std::mutex> lk(capture_mutex);
  return g && live_graphs.count(g);
}

}  // namespace
}  // namespace sim_internal

using namespace sim_internal;

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  if (!stream)
    return record_error(cudaErrorStreamCaptureUnsupported,
                        "cudaStreamBeginCapture: the legacy default stream cannot capture");
  if (!valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamBeginCapture: not a live stream");
  if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
      mode != cudaStreamCaptureModeRelaxed)
    return record_error(cudaErrorInvalidValue, "cudaStreamBeginCapture: mode " + std::to_string(int(mode)) +
                                                   " is not a cudaStreamCaptureMode");
  std::unique_lock<std::mutex> lk(capture_mutex);
  if (stream->capture) {
    lk.unlock();
    return record_error(cudaErrorIllegalState,
                        "cudaStreamBeginCapture: " + stream_text(stream) + " is already capturing");
  }
  stream->capture = new Capture{++next_capture_id, mode, std::this_thread::get_id(), {}, std::make_unique<SimGraph>()};
  capturing_streams.insert(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!graph) return record_error(cudaErrorInvalidValue, "cudaStreamEndCapture: null graph pointer");
  if (!valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamEndCapture: not a live stream");
  std::unique_lock<std::mutex> lk(capture_mutex);
  if (!stream || !stream->capture) {
    lk.unlock();
    return record_error(cudaErrorIllegalState,
                        "cudaStreamEndCapture: " + (stream ? stream_text(stream) : std::string("the legacy stream")) +
                            " is not capturing");
  }
  Capture* c = stream->capture;
  if (c->mode != cudaStreamCaptureModeRelaxed && c->thread != std::this_thread::get_id()) {
    const std::string mode = mode_name(c->mode);
    lk.unlock();
    return record_error(cudaErrorStreamCaptureWrongThread, "cudaStreamEndCapture: the " + mode + "-mode capture on " +
                                                               stream_text(stream) +
                                                               " must end on the thread that began it");
  }
  capturing_streams.erase(stream);
  stream->capture = nullptr;
  std::unique_ptr<Capture> owned(c);
  if (!c->invalidated.empty()) {
    *graph = nullptr;
    lk.unlock();
    return record_error(
        cudaErrorStreamCaptureInvalidated,
        "cudaStreamEndCapture: the capture on " + stream_text(stream) + " was invalidated: " + owned->invalidated);
  }
  *graph = c->graph.release();
  live_graphs.insert(*graph);
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (!status) return record_error(cudaErrorInvalidValue, "cudaStreamIsCapturing: null status pointer");
  if (!valid_stream(stream))
    return record_error(cudaErrorInvalidResourceHandle, "cudaStreamIsCapturing: not a live stream");
  std::unique_lock<std::mutex> lk(capture_mutex);
  if (!stream) {
    // Asked of the legacy stream while a blocking stream captures: an error, but the
    // capture stays valid.
    if (!blocking_captures().empty()) {
      lk.unlock();
      return record_error(cudaErrorStreamCaptureImplicit,
                          "cudaStreamIsCapturing: the legacy stream while a blocking stream captures");
    }
    *status = cudaStreamCaptureStatusNone;
    return cudaSuccess;
  }
  *status = !stream->capture                       ? cudaStreamCaptureStatusNone
            : stream->capture->invalidated.empty() ? cudaStreamCaptureStatusActive
                                                   : cudaStreamCaptureStatusInvalidated;
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (!mode) return record_error(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: null pointer");
  if (*mode != cudaStreamCaptureModeGlobal && *mode != cudaStreamCaptureModeThreadLocal &&
      *mode != cudaStreamCaptureModeRelaxed)
    return record_error(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: " + std::to_string(int(*mode)) +
                                                   " is not a cudaStreamCaptureMode");
  std::swap(*mode, thread_mode);
  return cudaSuccess;
}

cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  if (!count) return record_error(cudaErrorInvalidValue, "cudaGraphGetNodes: null count pointer");
  if (!live_graph(graph)) return record_error(cudaErrorInvalidValue, "cudaGraphGetNodes: not a live graph");
  const size_t have = graph->nodes.size();
  if (nodes) {
    for (size_t i = 0; i < *count; ++i) nodes[i] = i < have ? graph->nodes[i].get() : nullptr;
    *count = std::min(*count, have);
  } else {
    *count = have;
  }
  return cudaSuccess;
}

cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, cudaGraphNodeType* type) {
  if (!type) return record_error(cudaErrorInvalidValue, "cudaGraphNodeGetType: null type pointer");
  {
    std::lock_guard<std::mutex> lk(capture_mutex);
    for (const SimGraph* g : live_graphs)
      for (const auto& n : g->nodes)
        if (n.get() == node) {
          *type = node->type;
          return cudaSuccess;
        }
  }
  return record_error(cudaErrorInvalidValue, "cudaGraphNodeGetType: not a node of a live graph");
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags) {
  if (!exec) return record_error(cudaErrorInvalidValue, "cudaGraphInstantiate: null output pointer");
  *exec = nullptr;
  if (!live_graph(graph)) return record_error(cudaErrorInvalidValue, "cudaGraphInstantiate: not a live graph");
  if (flags != 0)
    return record_error(cudaErrorNotSupported,
                        "cudaGraphInstantiate: flags " + std::to_string(flags) + " are not simulated (only 0)");
  // Nodes are never changed after capture, so the executable graph shares them; it
  // outlives cudaGraphDestroy of its graph, as on a GPU.
  auto nodes = std::make_shared<NodeList>(graph->nodes.begin(), graph->nodes.end());
  *exec = new SimGraphExec{std::move(nodes)};
  std::lock_guard<std::mutex> lk(capture_mutex);
  live_execs.insert(*exec);
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  std::shared_ptr<const NodeList> nodes;
  {
    std::lock_guard<std::mutex> lk(capture_mutex);
    if (exec && live_execs.count(exec)) nodes = exec->nodes;
  }
  if (!nodes) return record_error(cudaErrorInvalidValue, "cudaGraphLaunch: not a live executable graph");
  bool capturing = false;
  if (cudaError_t e = capture_check(stream, "cudaGraphLaunch", &capturing)) return e;
  if (capturing) {
    NodeData node;
    node.type = cudaGraphNodeTypeGraph;
    node.child = nodes;
    return capture_append(stream, std::move(node));
  }
  counters().graph_launches.fetch_add(1, std::memory_order_relaxed);
  replay(*nodes);
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  {
    std::lock_guard<std::mutex> lk(capture_mutex);
    if (!exec || !live_execs.erase(exec)) exec = nullptr;
  }
  if (!exec) return record_error(cudaErrorInvalidValue, "cudaGraphExecDestroy: not a live executable graph");
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  {
    std::lock_guard<std::mutex> lk(capture_mutex);
    if (!graph || !live_graphs.erase(graph)) graph = nullptr;
  }
  if (!graph) return record_error(cudaErrorInvalidValue, "cudaGraphDestroy: not a live graph");
  delete graph;
  return cudaSuccess;
}

}  // namespace gpusim
