// Fiber stacks: one per thread slot of a worker, each with a guard page below it.
#pragma once

#include <cstddef>
#include <vector>

namespace gpusim::sim_internal {

// Bytes of one fiber stack: $GPUSIM_STACK_KB (at least 16), else 128 KiB (512 KiB under
// a sanitizer, whose frames are larger).
size_t stack_bytes();

// Fiber stacks of one worker, made on first use and kept.
class StackPool {
 public:
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();
  // Lowest usable address of stack i.
  unsigned char* get(unsigned i);

 private:
  std::vector<unsigned char*> stacks_;
};

}  // namespace gpusim::sim_internal
