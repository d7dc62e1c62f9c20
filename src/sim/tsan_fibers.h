// ThreadSanitizer's fibers for the simulator's CUDA threads (a GPUSIM_TSAN build).
#pragma once

#include <mutex>
#include <vector>

#include "gpusim/runtime.h"

namespace gpusim::sim_internal {

// TSan fibers are heavy (each is a TSan thread state with mappings of its own), and every
// host thread that launches is a worker: one set per worker would be thousands of them
// with 8 host threads. Launches run one at a time, so only the pool's workers and one
// launching thread use sets at once; sets are handed out for a launch and come back
// after it, each slot's fiber made when first used and kept.
struct TsanFiberSet {
  void* fibers[kMaxThreadsPerBlock] = {};
};
class TsanFiberSets {
 public:
  TsanFiberSet* take() {
    std::lock_guard<std::mutex> lk(m_);
    if (free_.empty()) return new TsanFiberSet;  // kept for the process's life
    TsanFiberSet* set = free_.back();
    free_.pop_back();
    return set;
  }
  void give_back(TsanFiberSet* set) {
    std::lock_guard<std::mutex> lk(m_);
    free_.push_back(set);
  }

 private:
  std::mutex m_;
  std::vector<TsanFiberSet*> free_;
};
// The process's sets (never destroyed: workers may outlive statics).
TsanFiberSets& tsan_fiber_sets();

}  // namespace gpusim::sim_internal
