#include "fiber_stacks.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "sim_internal.h"

namespace gpusim::sim_internal {
namespace {
size_t page() { return size_t(sysconf(_SC_PAGESIZE)); }
}  // namespace

size_t stack_bytes() {
  static const size_t bytes = [] {
    size_t kb = 0;
    if (const char* env = std::getenv("GPUSIM_STACK_KB")) kb = std::strtoul(env, nullptr, 10);
#if defined(GPUSIM_ASAN) || defined(GPUSIM_TSAN)
    if (kb == 0) kb = 512;
#else
    if (kb == 0) kb = 128;
#endif
    return std::max<size_t>(kb, 16) * 1024;
  }();
  return bytes;
}

StackPool::~StackPool() {
  for (auto& s : stacks_)
    if (s) munmap(s, stack_bytes() + page());
}

unsigned char* StackPool::get(unsigned i) {
  if (i >= stacks_.size()) stacks_.resize(i + 1, nullptr);
  if (!stacks_[i]) {
    void* p = mmap(nullptr, stack_bytes() + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    mprotect(p, page(), PROT_NONE);
    stacks_[i] = static_cast<unsigned char*>(p);
  }
  return stacks_[i] + page();
}

}  // namespace gpusim::sim_internal
