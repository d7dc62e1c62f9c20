// gpusim scheduler: blocks on worker threads, CUDA threads as fibers, barriers and
// warp collectives as rendezvous points with divergence and deadlock detection. Beside it:
// the context switch (context_switch.cpp), fiber stacks (fiber_stacks.cpp), ThreadSanitizer's
// fibers (tsan_fibers.cpp) and the names in its messages (symbols.cpp).
#include "gpusim/runtime.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <numeric>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "context_switch.h"
#include "fiber_stacks.h"
#include "sim_internal.h"
#ifdef GPUSIM_TSAN
#include "tsan_fibers.h"
#endif

#ifdef GPUSIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GPUSIM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// The project's one canonical dynamic shared memory array (kernels declare it
// `extern __shared__ __align__(16) unsigned char dynamic_smem[]`).
alignas(16) thread_local unsigned char dynamic_smem[gpusim::kMaxOptinSharedBytes];

namespace gpusim {
namespace sim_internal {

namespace bctx = boost::context::detail;

thread_local ThreadState* tl_thread = nullptr;

void* dynamic_shared_base() { return dynamic_smem; }

namespace {

enum class FiberState : uint8_t { Ready, AtBarrier, AtWarp, Failed, Done };

struct Fiber {
  ThreadState ts;  // first: a ThreadState* is a Fiber*
  bctx::fcontext_t ctx = nullptr;
  FiberState state = FiberState::Ready;
  std::source_location site;
  const char* wait_name = nullptr;  // the collective it waits in, for deadlock reports
  void* fake_stack = nullptr;
};

struct WarpGroup {
  std::source_location site;
  unsigned mask = 0, arrived = 0;
  WarpOp op = WarpOp::Sync;
  int width = 32;
  size_t bytes = 0;
  WarpCustomFn fn = nullptr;
  void* fn_ctx = nullptr;
};

// The one .aligned instruction (mma.sync, ldmatrix) a warp may be executing: every lane
// must reach the same one, so it needs no list.
struct AlignedGroup {
  bool active = false;
  unsigned arrived = 0;
  const char* name = nullptr;
  std::source_location site;
  WarpCustomFn fn = nullptr;
  void* fn_ctx = nullptr;
};

struct WarpState {
  unsigned live = 0;  // lanes that exist and have not exited
  int group_count = 0;
  AlignedGroup aligned;
  WarpGroup groups[32];
};

struct Launch {
  void (*invoke)(const void* closure);
  const void* closure;
  const void* kernel;
  dim3 grid, block;
  size_t smem;
  uint64_t block_count;
  uint64_t perm_a = 1, perm_b = 0;  // block order: (a * i + b) mod count
  bool random = false;
  uint64_t seed = 0;
  uint64_t launch_id = 0;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
  const std::atomic<bool>* interrupt = nullptr;  // the launching thread's (set_interrupt)
  std::atomic<bool> interrupted{false};
};

thread_local const std::atomic<bool>* tl_interrupt = nullptr;

bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

std::string site_text(const std::source_location& s) {
  return std::string(s.file_name()) + ":" + std::to_string(s.line()) + ":" + std::to_string(s.column());
}

std::string thread_text(const uint3& t) {
  return "(" + std::to_string(t.x) + "," + std::to_string(t.y) + "," + std::to_string(t.z) + ")";
}

}  // namespace

struct BlockState {
  Fiber* fibers = nullptr;
  unsigned nthreads = 0, alive = 0;
  uint3 block_idx{};
  // __syncthreads
  unsigned at_barrier = 0;
  std::source_location barrier_site;
  int barrier_op = 0, barrier_acc = 0, barrier_result = 0;
  unsigned barrier_first = 0;
  // warps
  unsigned nwarps = 0;
  WarpState warps[32];
  // ready queue: a ring in deterministic mode, a bag picked at random otherwise
  unsigned ready[kMaxThreadsPerBlock];
  unsigned ready_head = 0, ready_count = 0;
  bool random = false;
  std::mt19937_64 rng;
  bool failed = false;
  std::string error;
  uint64_t serial = 0;  // distinct for every block run on this worker
};

namespace {

struct Worker {
  StackPool stacks;
  BlockState block;
  Fiber fibers[kMaxThreadsPerBlock];
  bctx::fcontext_t sched_ctx = nullptr;
  Launch* launch = nullptr;
#ifdef GPUSIM_ASAN
  void* sched_fake_stack = nullptr;
  const void* main_stack_lo = nullptr;
  size_t main_stack_size = 0;
#endif
#ifdef GPUSIM_TSAN
  // While it runs blocks: the worker thread itself (its scheduler loop) and a set of TSan
  // fibers, one per thread slot, borrowed for the launch (TsanFiberSets).
  void* tsan_sched = nullptr;
  TsanFiberSet* tsan = nullptr;
  void* tsan_fiber(unsigned i);
#endif
};

#ifdef GPUSIM_TSAN
void* Worker::tsan_fiber(unsigned i) {
  void*& f = tsan->fibers[i];
  if (!f) f = __tsan_create_fiber(0);
  return f;
}
#endif
thread_local std::unique_ptr<Worker> tl_worker;

Worker& this_worker() {
  if (!tl_worker) tl_worker = std::make_unique<Worker>();
  return *tl_worker;
}

void push_ready(BlockState& b, unsigned i) {
  b.ready[(b.ready_head + b.ready_count) % kMaxThreadsPerBlock] = i;
  ++b.ready_count;
}

unsigned pop_ready(BlockState& b) {
  if (b.random && b.ready_count > 1) {
    const unsigned k = unsigned(b.rng() % b.ready_count);
    const unsigned slot = (b.ready_head + k) % kMaxThreadsPerBlock;
    std::swap(b.ready[slot], b.ready[b.ready_head]);
  }
  const unsigned i = b.ready[b.ready_head];
  b.ready_head = (b.ready_head + 1) % kMaxThreadsPerBlock;
  --b.ready_count;
  return i;
}

void fail_block(BlockState& b, std::string message) {
  if (b.failed) return;
  b.failed = true;
  b.error = "block " + thread_text(b.block_idx) + ": " + std::move(message);
}

// Suspend the running fiber and switch straight to the next ready fiber of the block,
// or back to the worker's scheduler loop when none is ready (block finished, failed,
// or deadlocked). Switching fiber to fiber rather than through the scheduler halves the
// jumps, and since the fibers of a block usually wait at the same call site, the
// return addresses the CPU predicts after a switch are the right ones (see
// GPUSIM_JUMP); bench/RESULTS.md has the gain. Each jump passes the slot where the
// resumed side stores the suspended context.
GPUSIM_NO_TSAN void yield_fiber(Fiber& f) {
  Worker& w = *tl_worker;
  BlockState& b = w.block;
  Fiber* next = nullptr;
  if (b.ready_count > 0 && !b.failed) {
    next = &w.fibers[pop_ready(b)];
    if (next == &f) return;  // f itself is the next to run (it was made ready again)
    tl_thread = &next->ts;
    threadIdx = next->ts.thread_idx;
  }
#ifdef GPUSIM_ASAN
  if (next)
    __sanitizer_start_switch_fiber(f.state == FiberState::Done ? nullptr : &f.fake_stack, w.stacks.get(next->ts.linear),
                                   stack_bytes());
  else
    __sanitizer_start_switch_fiber(f.state == FiberState::Done ? nullptr : &f.fake_stack, w.main_stack_lo,
                                   w.main_stack_size);
#endif
#ifdef GPUSIM_TSAN
  __tsan_switch_to_fiber(next ? w.tsan_fiber(next->ts.linear) : w.tsan_sched, 0);
#endif
  bctx::transfer_t t = GPUSIM_JUMP(next ? next->ctx : w.sched_ctx, &f.ctx);
#ifdef GPUSIM_ASAN
  __sanitizer_finish_switch_fiber(f.fake_stack, nullptr, nullptr);
#endif
  *static_cast<bctx::fcontext_t*>(t.data) = t.fctx;
}

void release_barrier(BlockState& b) {
  b.barrier_result = b.barrier_acc;
  b.at_barrier = 0;
  for (unsigned i = 0; i < b.nthreads; ++i)
    if (b.fibers[i].state == FiberState::AtBarrier) {
      b.fibers[i].state = FiberState::Ready;
      push_ready(b, i);
    }
}

// PTX shfl.sync source lane (bval = b[4:0], c from width as CUDA's intrinsics pass it).
int shuffle_source(WarpOp op, int lane, int param, int width) {
  const int segmask = (32 - width) & 31;
  const int bval = param & 31;
  const int cval = op == WarpOp::ShflUp ? 0 : 31;
  const int max_lane = (lane & segmask) | (cval & ~segmask);
  const int min_lane = lane & segmask;
  int j = lane;
  bool valid = false;
  switch (op) {
    case WarpOp::ShflUp:
      j = lane - bval;
      valid = j >= max_lane;
      break;
    case WarpOp::ShflDown:
      j = lane + bval;
      valid = j <= max_lane;
      break;
    case WarpOp::ShflXor:
      j = lane ^ bval;
      valid = j <= max_lane;
      break;
    case WarpOp::ShflIdx:
      j = min_lane | (bval & ~segmask);
      valid = j <= max_lane;
      break;
    default: break;
  }
  return valid ? j : lane;
}

std::string mask_text(unsigned mask) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08x", mask);
  return s;
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Sync: return "__syncwarp";
    case WarpOp::ShflIdx: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::Custom: return "wmma collective";
    case WarpOp::Active: return "__activemask";
  }
  return "?";
}

void complete_group(BlockState& b, unsigned warp, int gi) {
  WarpState& ws = b.warps[warp];
  const WarpGroup g = ws.groups[gi];
  ws.groups[gi] = ws.groups[--ws.group_count];
  Fiber* lanes = b.fibers + warp * 32;
  if (g.op == WarpOp::Custom) {
    if (g.arrived != 0xffffffffu) {
      fail_block(
          b, std::string(op_name(g.op)) + " at " + site_text(g.site) + " in warp " + std::to_string(warp) +
                 " needs all 32 lanes, but only mask 0x" +
                 [&] {
                   char s[16];
                   std::snprintf(s, 16, "%08x", g.arrived);
                   return std::string(s);
                 }() +
                 " arrived");
      return;
    }
    ThreadState* states[32];
    for (int l = 0; l < 32; ++l) states[l] = &lanes[l].ts;
    g.fn(g.fn_ctx, states, g.arrived);
  }
  unsigned ballot = 0;
  if (g.op == WarpOp::Ballot || g.op == WarpOp::Any || g.op == WarpOp::All)
    for (unsigned l = 0; l < 32; ++l)
      if ((g.arrived >> l) & 1u) {
        int p;
        std::memcpy(&p, lanes[l].ts.shfl_in, sizeof p);
        if (p) ballot |= 1u << l;
      }
  for (unsigned l = 0; l < 32; ++l) {
    if (!((g.arrived >> l) & 1u)) continue;
    ThreadState& t = lanes[l].ts;
    switch (g.op) {
      case WarpOp::ShflIdx:
      case WarpOp::ShflUp:
      case WarpOp::ShflDown:
      case WarpOp::ShflXor: {
        const int src = shuffle_source(g.op, int(l), t.shfl_param, g.width);
        if ((g.arrived >> src) & 1u) std::memcpy(t.shfl_out, lanes[src].ts.shfl_in, g.bytes);
        else std::memset(t.shfl_out, 0xff, g.bytes);  // poison: the source lane did not take part
        break;
      }
      case WarpOp::Ballot: std::memcpy(t.shfl_out, &ballot, 4); break;
      case WarpOp::Any: {
        int r = ballot != 0;
        std::memcpy(t.shfl_out, &r, 4);
        break;
      }
      case WarpOp::All: {
        int r = ballot == g.arrived;
        std::memcpy(t.shfl_out, &r, 4);
        break;
      }
      case WarpOp::Active: std::memcpy(t.shfl_out, &g.arrived, 4); break;
      default: break;
    }
    lanes[l].state = FiberState::Ready;
    push_ready(b, warp * 32 + l);
  }
}

void complete_aligned(BlockState& b, unsigned warp) {
  AlignedGroup& g = b.warps[warp].aligned;
  g.active = false;
  Fiber* lanes = b.fibers + warp * 32;
  if (g.arrived != 0xffffffffu) {
    fail_block(b, std::string(g.name) + " at " + site_text(g.site) + ": warp " + std::to_string(warp) +
                      " must execute it with all 32 lanes, but only lanes " + mask_text(g.arrived) +
                      " did (the others have exited, or the block's last warp is partial)");
    return;
  }
  ThreadState* states[32];
  for (int l = 0; l < 32; ++l) states[l] = &lanes[l].ts;
  g.fn(g.fn_ctx, states, g.arrived);
  for (unsigned l = 0; l < 32; ++l) {
    lanes[l].state = FiberState::Ready;
    push_ready(b, warp * 32 + l);
  }
}

void check_warp_groups(BlockState& b, unsigned warp) {
  WarpState& ws = b.warps[warp];
  if (ws.aligned.active && (ws.aligned.arrived & ws.live) == ws.live) complete_aligned(b, warp);
  for (int gi = ws.group_count - 1; gi >= 0; --gi) {
    const WarpGroup& g = ws.groups[gi];
    const unsigned needed = g.mask & ws.live;
    if ((g.arrived & needed) == needed) complete_group(b, warp, gi);
  }
}

// Nothing in the block can run: the lanes waiting in an __activemask call are all the
// lanes of their warp that reach it (the others took another branch). Completes every
// such call with the lanes that arrived; false if there was none.
bool release_activemask_groups(BlockState& b) {
  bool any = false;
  for (unsigned w = 0; w < b.nwarps; ++w)
    for (int gi = b.warps[w].group_count - 1; gi >= 0; --gi)
      if (b.warps[w].groups[gi].op == WarpOp::Active) {
        complete_group(b, w, gi);
        any = true;
      }
  return any;
}

GPUSIM_NO_TSAN void fiber_main(bctx::transfer_t t) {
  Worker& w = *tl_worker;
  *static_cast<bctx::fcontext_t*>(t.data) = t.fctx;  // the scheduler's or another fiber's
#ifdef GPUSIM_ASAN
  // The scheduler starts the first fiber of a worker's first block: learn its stack then.
  if (t.data == &w.sched_ctx) __sanitizer_finish_switch_fiber(nullptr, &w.main_stack_lo, &w.main_stack_size);
  else __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  Fiber& f = *reinterpret_cast<Fiber*>(tl_thread);  // set by whoever switched here
  BlockState& b = w.block;
  try {
    w.launch->invoke(w.launch->closure);
  } catch (const DeviceFault& e) {
    fail_block(b, "thread " + thread_text(f.ts.thread_idx) + ": " + e.what());
  } catch (const std::exception& e) {
    fail_block(b, "thread " + thread_text(f.ts.thread_idx) + " threw: " + e.what());
  } catch (...) {
    fail_block(b, "thread " + thread_text(f.ts.thread_idx) + " threw an exception");
  }
  f.state = FiberState::Done;
  --b.alive;
  b.warps[f.ts.warp].live &= ~(1u << f.ts.lane);
  if (!b.failed) {
    if (b.at_barrier > 0 && b.at_barrier == b.alive) release_barrier(b);
    check_warp_groups(b, f.ts.warp);
  }
  yield_fiber(f);
  __builtin_unreachable();
}

std::string deadlock_report(const BlockState& b) {
  std::string out = "deadlock: no thread can run; waiting:";
  unsigned i = 0;
  while (i < b.nthreads) {
    const Fiber& f = b.fibers[i];
    if (f.state != FiberState::AtBarrier && f.state != FiberState::AtWarp) {
      ++i;
      continue;
    }
    unsigned j = i + 1;
    while (j < b.nthreads && b.fibers[j].state == f.state && same_site(b.fibers[j].site, f.site)) ++j;
    out += "\n  threads " + std::to_string(i) + "-" + std::to_string(j - 1) + " at " +
           (f.state == FiberState::AtBarrier ? "__syncthreads"
            : f.wait_name                    ? f.wait_name
                                             : "a warp collective") +
           " " + site_text(f.site);
    i = j;
  }
  return out;
}

void run_block(Worker& w, Launch& L, uint64_t linear_block) {
  const uint64_t gx = L.grid.x, gy = L.grid.y;
  BlockState& b = w.block;
  b.block_idx = {unsigned(linear_block % gx), unsigned((linear_block / gx) % gy), unsigned(linear_block / (gx * gy))};
  blockIdx = b.block_idx;
  blockDim = L.block;
  gridDim = L.grid;
  const unsigned n = L.block.x * L.block.y * L.block.z;
  b.fibers = w.fibers;
  b.nthreads = b.alive = n;
  b.at_barrier = 0;
  ++b.serial;
  b.failed = false;
  b.error.clear();
  b.nwarps = (n + 31) / 32;
  for (unsigned k = 0; k < b.nwarps; ++k) {
    const unsigned lanes = std::min(32u, n - k * 32);
    b.warps[k].live = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1u;
    b.warps[k].group_count = 0;
    b.warps[k].aligned.active = false;
  }
  b.random = L.random;
  if (L.random) b.rng.seed(L.seed ^ (L.launch_id * 0x9e3779b97f4a7c15ull) ^ (linear_block * 0xbf58476d1ce4e5b9ull));
  b.ready_head = 0;
  b.ready_count = 0;
  // Garbage, to expose reads of unwritten smem; never the byte 0, which would look
  // like zero-initialised memory.
  std::memset(dynamic_smem, L.random ? int(1 + b.rng() % 255) : 0xff, L.smem);

  const size_t bytes = stack_bytes();
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = w.fibers[i];
    f.ts.thread_idx = {i % L.block.x, (i / L.block.x) % L.block.y, i / (L.block.x * L.block.y)};
    f.ts.linear = i;
    f.ts.lane = i % 32;
    f.ts.warp = i / 32;
    f.ts.block = &b;
    f.state = FiberState::Ready;
    unsigned char* lo = w.stacks.get(i);
#ifdef GPUSIM_ASAN
    __asan_unpoison_memory_region(lo, bytes);  // frames of a fiber that never returned stay poisoned
#endif
    f.ctx = bctx::make_fcontext(lo + bytes, bytes, fiber_main);
    push_ready(b, i);
  }
  // When nothing can run, lanes waiting in __activemask calls are released first.
  while (!b.failed && (b.ready_count > 0 || (b.alive > 0 && release_activemask_groups(b)))) {
    const unsigned i = pop_ready(b);
    Fiber& f = w.fibers[i];
    tl_thread = &f.ts;
    threadIdx = f.ts.thread_idx;
#ifdef GPUSIM_ASAN
    __sanitizer_start_switch_fiber(&w.sched_fake_stack, w.stacks.get(i), bytes);
#endif
#ifdef GPUSIM_TSAN
    __tsan_switch_to_fiber(w.tsan_fiber(i), 0);
#endif
    bctx::transfer_t t = GPUSIM_JUMP(f.ctx, &w.sched_ctx);
#ifdef GPUSIM_ASAN
    __sanitizer_finish_switch_fiber(w.sched_fake_stack, nullptr, nullptr);
#endif
    *static_cast<bctx::fcontext_t*>(t.data) = t.fctx;  // the fiber that switched back here
  }
  tl_thread = nullptr;
  if (!b.failed && b.alive > 0) fail_block(b, deadlock_report(b));
  if (b.failed) {
    std::lock_guard<std::mutex> lk(L.error_mutex);
    if (!L.failed.exchange(true)) L.error = b.error;
  }
}

void run_blocks(Worker& w, Launch& L) {
  w.launch = &L;
#ifdef GPUSIM_TSAN
  w.tsan_sched = __tsan_get_current_fiber();
  w.tsan = tsan_fiber_sets().take();
#endif
  for (;;) {
    if (L.failed.load(std::memory_order_relaxed)) break;
    if (L.interrupt && L.interrupt->load(std::memory_order_relaxed)) {
      L.interrupted.store(true, std::memory_order_relaxed);
      break;
    }
    const uint64_t i = L.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= L.block_count) break;
    const uint64_t block =
        L.random ? uint64_t((unsigned __int128)(L.perm_a) * i % L.block_count + L.perm_b) % L.block_count : i;
    run_block(w, L, block);
  }
  w.launch = nullptr;
#ifdef GPUSIM_TSAN
  tsan_fiber_sets().give_back(w.tsan);
  w.tsan = nullptr;
#endif
}

// Worker threads besides the launching host thread, which works too.
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 1; i < workers; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void run(Launch& L) {
    {
      std::lock_guard<std::mutex> lk(m_);
      job_ = &L;
      ++generation_;
      busy_ = int(threads_.size());
    }
    cv_.notify_all();
    run_blocks(this_worker(), L);
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [&] { return busy_ == 0; });
    job_ = nullptr;
  }
  int size() const { return int(threads_.size()) + 1; }

 private:
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      Launch* L;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        L = job_;
      }
      run_blocks(this_worker(), *L);
      {
        std::lock_guard<std::mutex> lk(m_);
        --busy_;
      }
      done_cv_.notify_all();
    }
  }
  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  Launch* job_ = nullptr;
  uint64_t generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
};

int configured_workers() {
  if (const char* env = std::getenv("GPUSIM_WORKERS")) {
    const int n = std::atoi(env);
    if (n > 0) return std::min(n, 256);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  static Pool p(configured_workers());
  return p;
}

}  // namespace

namespace {

std::mutex launch_mutex;
uint64_t launch_counter = 0;

}  // namespace

int block_barrier_result() { return tl_thread->block->barrier_result; }

void block_barrier(int op, int predicate, const std::source_location& loc) {
  ThreadState* t = tl_thread;
  BlockState& b = *t->block;
  Fiber& f = reinterpret_cast<Fiber&>(*t);
  if (b.at_barrier == 0) {
    b.barrier_site = loc;
    b.barrier_op = op;
    b.barrier_acc = op == 2 ? 1 : 0;
    b.barrier_first = t->linear;
  } else if (!same_site(loc, b.barrier_site) || op != b.barrier_op) {
    fail_block(b, "divergent __syncthreads: thread " + thread_text(t->thread_idx) + " reached the barrier at " +
                      site_text(loc) + " while thread " + thread_text(b.fibers[b.barrier_first].ts.thread_idx) +
                      " waits at " + site_text(b.barrier_site));
    f.state = FiberState::Failed;
    yield_fiber(f);
    return;
  }
  switch (op) {
    case 1: b.barrier_acc += predicate != 0; break;
    case 2: b.barrier_acc &= predicate != 0; break;
    case 3: b.barrier_acc |= predicate != 0; break;
    default: break;
  }
  f.state = FiberState::AtBarrier;
  f.site = loc;
  if (++b.at_barrier == b.alive) release_barrier(b);
  yield_fiber(f);
}

void warp_collective(unsigned mask, WarpOp op, int width, size_t bytes, const std::source_location& loc,
                     WarpCustomFn fn, void* fn_ctx) {
  ThreadState* t = tl_thread;
  BlockState& b = *t->block;
  Fiber& f = reinterpret_cast<Fiber&>(*t);
  const unsigned bit = 1u << t->lane;
  auto fail_here = [&](const std::string& why) {
    fail_block(
        b, std::string(op_name(op)) + " at " + site_text(loc) + ", thread " + thread_text(t->thread_idx) + ": " + why);
  };
  // A failed fiber never resumes: nothing that owns memory may live across this yield
  // (the message strings above are destroyed before it).
  auto stop_here = [&] {
    f.state = FiberState::Failed;
    yield_fiber(f);
  };
  if (!(mask & bit)) {
    char m[16];
    std::snprintf(m, sizeof m, "0x%08x", mask);
    fail_here(std::string("lane ") + std::to_string(t->lane) + " is not in its own mask " + m);
    return stop_here();
  }
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
    fail_here("width " + std::to_string(width) + " is not a power of two in 1..32");
    return stop_here();
  }
  WarpState& ws = b.warps[t->warp];
  int gi = 0;
  while (gi < ws.group_count && !(ws.groups[gi].mask == mask && same_site(ws.groups[gi].site, loc))) ++gi;
  if (gi == ws.group_count) {
    ws.groups[ws.group_count++] = WarpGroup{loc, mask, 0, op, width, bytes, fn, fn_ctx};
  } else if (ws.groups[gi].op != op || ws.groups[gi].width != width) {
    fail_here("lanes of one warp disagree on the operation or width at this call site");
    return stop_here();
  }
  ws.groups[gi].arrived |= bit;
  f.state = FiberState::AtWarp;
  f.site = loc;
  f.wait_name = op_name(op);
  const unsigned needed = mask & ws.live;
  if ((ws.groups[gi].arrived & needed) == needed) complete_group(b, t->warp, gi);
  yield_fiber(f);
}

// mma.sync / ldmatrix: .aligned instructions, which all 32 lanes of the warp execute at
// one call site. A lane that arrives at another .aligned site while lanes wait at this
// one is divergence (undefined on a GPU): reported at once, naming both sites.
[[gnu::cold, gnu::noinline]] void fail_divergent(BlockState& b, const ThreadState& t, const char* name,
                                                 const std::source_location& loc, const AlignedGroup& g) {
  fail_block(b, std::string("divergent ") + name + ": lane " + std::to_string(t.lane) + " of warp " +
                    std::to_string(t.warp) + " reached it at " + site_text(loc) + " while lanes " +
                    mask_text(g.arrived) + " wait at " + g.name + " at " + site_text(g.site));
}

void warp_aligned(const char* name, const std::source_location& loc, WarpCustomFn fn, void* fn_ctx) {
  ThreadState* t = tl_thread;
  BlockState& b = *t->block;
  Fiber& f = reinterpret_cast<Fiber&>(*t);
  WarpState& ws = b.warps[t->warp];
  AlignedGroup& g = ws.aligned;
  if (!g.active) {
    g.active = true;
    g.arrived = 0;
    g.name = name;
    g.site = loc;
    g.fn = fn;
    g.fn_ctx = fn_ctx;
  } else if (g.name != name || !same_site(g.site, loc)) {
    fail_divergent(b, *t, name, loc, g);
    f.state = FiberState::Failed;
    yield_fiber(f);
    return;
  }
  g.arrived |= 1u << t->lane;
  f.state = FiberState::AtWarp;
  f.site = loc;
  f.wait_name = name;
  if ((g.arrived & ws.live) == ws.live) complete_aligned(b, t->warp);
  yield_fiber(f);
}

uint64_t block_serial() { return tl_thread->block->serial; }

void device_fault(const std::string& message) { throw DeviceFault(message); }

std::string bad_pointer_argument(const void* kernel, const PointerArg* pointers, int count) {
  for (int i = 0; i < count; ++i) {
    const void* p = pointers[i].value;
    // One past the end of an allocation is a valid value (an empty range, an end pointer).
    const bool at_end = p && !is_device_pointer(p) && is_device_pointer(static_cast<const char*>(p) - 1);
    if (p && (is_device_pointer(p) || at_end)) {
      const int owner = device_of_pointer(at_end ? static_cast<const char*>(p) - 1 : p);
      if (owner < 0 || owner == current_device()) continue;
      return "launch of " + kernel_name(kernel) + ": argument " + std::to_string(pointers[i].index) + " (" +
             demangled(pointers[i].type_name) + ") = " + pointer_text(p) + " is memory of device " +
             std::to_string(owner) + ", but the launch is on device " + std::to_string(current_device()) +
             " (cudaSetDevice)";
    }
    if (!p) continue;
    return "launch of " + kernel_name(kernel) + ": argument " + std::to_string(pointers[i].index) + " (" +
           demangled(pointers[i].type_name) + ") = " + pointer_text(p) + " is not device memory from cudaMalloc (" +
           pointer_origin(p) + ")";
  }
  return "";
}

bool run_kernel(const void* kernel, dim3 g, dim3 bd, size_t smem, void (*invoke)(const void*), const void* closure) {
  std::lock_guard<std::mutex> lk(launch_mutex);
  Launch L;
  L.invoke = invoke;
  L.closure = closure;
  L.kernel = kernel;
  L.grid = g;
  L.block = bd;
  L.smem = smem;
  L.block_count = uint64_t(g.x) * g.y * g.z;
  L.launch_id = ++launch_counter;
  L.interrupt = tl_interrupt;
  L.random = schedule() == Schedule::Random;
  if (L.random) {
    L.seed = schedule_seed();
    std::mt19937_64 r(L.seed ^ (L.launch_id * 0x94d049bb133111ebull));
    if (L.block_count > 1) {
      do L.perm_a = 1 + r() % (L.block_count - 1);
      while (std::gcd(L.perm_a, L.block_count) != 1);
      L.perm_b = r() % L.block_count;
    }
  }
  pool().run(L);
  if (L.failed) record_async_error(cudaErrorLaunchFailure, kernel_name(kernel) + ": " + L.error);
  if (!L.failed && L.interrupted && L.next.load() < L.block_count) {
    record_async_error(cudaErrorLaunchFailure, kernel_name(kernel) + ": interrupted", /*report=*/false);
    return false;
  }
  return !L.failed;
}

cudaError_t launch(const cudaLaunchConfig_t* config, const void* kernel, const ClosureOps& ops, const void* closure,
                   const PointerArg* pointers, int pointer_count) {
  if (!config) return record_error(cudaErrorInvalidValue, "cudaLaunchKernelEx: config is null");
  if (!kernel) return record_error(cudaErrorInvalidDeviceFunction, "cudaLaunchKernelEx: kernel is null");
  const dim3 g = config->gridDim, bd = config->blockDim;
  const uint64_t threads = uint64_t(bd.x) * bd.y * bd.z;
  auto dims = [](dim3 d) {
    return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
  };
  if (bd.x == 0 || bd.y == 0 || bd.z == 0 || bd.x > kMaxBlockDimXY || bd.y > kMaxBlockDimXY || bd.z > kMaxBlockDimZ ||
      threads > kMaxThreadsPerBlock)
    return record_error(cudaErrorInvalidConfiguration, "launch of " + kernel_name(kernel) + ": block " + dims(bd) +
                                                           " exceeds the limits (x,y <= 1024, z <= 64, x*y*z <= 1024)");
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > kMaxGridDimX || g.y > kMaxGridDimYZ || g.z > kMaxGridDimYZ)
    return record_error(cudaErrorInvalidConfiguration, "launch of " + kernel_name(kernel) + ": grid " + dims(g) +
                                                           " exceeds the limits (x < 2^31, y,z <= 65535)");
  const size_t smem_limit = dynamic_smem_limit(kernel);
  if (config->dynamicSmemBytes > smem_limit)
    return record_error(
        cudaErrorInvalidValue,
        "launch of " + kernel_name(kernel) + ": " + std::to_string(config->dynamicSmemBytes) +
            " bytes of dynamic shared memory, but the function's limit is " + std::to_string(smem_limit) +
            " (raise it with cudaFuncSetAttribute(..., cudaFuncAttributeMaxDynamicSharedMemorySize, n))");
  const std::string bad = bad_pointer_argument(kernel, pointers, pointer_count);
  if (!bad.empty()) return record_error(cudaErrorInvalidValue, bad);

  bool capturing = false;
  if (cudaError_t e = capture_check(config->stream, "cudaLaunchKernelEx", &capturing)) return e;
  if (capturing) {
    NodeData node;
    node.type = cudaGraphNodeTypeKernel;
    node.kernel = kernel;
    node.grid = g;
    node.block = bd;
    node.smem = config->dynamicSmemBytes;
    node.ops = &ops;
    node.closure = std::shared_ptr<void>(ops.clone(closure), ops.destroy);
    node.pointers.assign(pointers, pointers + pointer_count);
    return capture_append(config->stream, std::move(node));
  }
  counters().kernel_launches.fetch_add(1, std::memory_order_relaxed);
  run_kernel(kernel, g, bd, config->dynamicSmemBytes, ops.invoke, closure);
  return cudaSuccess;
}

}  // namespace sim_internal

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

int worker_count() { return sim_internal::pool().size(); }

void set_interrupt(const std::atomic<bool>* flag) { sim_internal::tl_interrupt = flag; }

}  // namespace gpusim
