#include "tsan_fibers.h"

namespace gpusim::sim_internal {

TsanFiberSets& tsan_fiber_sets() {
  static TsanFiberSets* sets = new TsanFiberSets;
  return *sets;
}

}  // namespace gpusim::sim_internal
