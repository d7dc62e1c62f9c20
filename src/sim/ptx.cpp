// gpusim: tensor-core and asynchronous-copy PTX (mma.sync, ldmatrix, cp.async) and the
// shared state space addresses they take. Semantics and layouts: include/gpusim/ptx.h.
#include "gpusim/ptx.h"

#include <immintrin.h>
#include <link.h>

#include <algorithm>
#include <cstdlib>
#include <cstddef>
#include <bit>
#include <string>
#include <vector>

#include "sim_internal.h"

// 32-byte vectors (two SSE registers without -mavx) inside this file only.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace gpusim {
namespace {

using sim_internal::ThreadState;

std::string site_text(const std::source_location& s) {
  return std::string(s.file_name()) + ":" + std::to_string(s.line());
}

std::string hex(uint64_t v) {
  char s[32];
  std::snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
  return s;
}

[[noreturn]] void fault(const char* instruction, const std::source_location& loc, const std::string& why) {
  sim_internal::device_fault(std::string(instruction) + " at " + site_text(loc) + ": " + why);
}

[[noreturn, gnu::cold, gnu::noinline]] void called_from_host(const char* what) {
  throw std::logic_error(std::string(what) + " called outside a kernel (it is device code)");
}
inline void require_device_code(const char* what) {
  if (!sim_internal::tl_thread) [[unlikely]]
    called_from_host(what);
}

// ---- the shared state space --------------------------------------------------------
// Shared memory is thread_local storage of the worker that runs the block (static
// __shared__ variables and the dynamic buffer alike), which glibc places in the static
// TLS area just below the worker's thread pointer. A shared address is the position in
// a 16 MiB window that ends at the thread pointer: small, 32-bit, and the same
// arithmetic as on a GPU (an address plus a byte offset is the address of the byte).
constexpr uintptr_t kWindow = uintptr_t(1) << 24;

// The bytes of static TLS below the thread pointer: every loaded object's TLS segment
// with its alignment, and a page of slack for the C library's own.
uintptr_t static_tls_bytes() {
  static const uintptr_t bytes = [] {
    uintptr_t total = 4096;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
          for (int i = 0; i < info->dlpi_phnum; ++i)
            if (info->dlpi_phdr[i].p_type == PT_TLS)
              *static_cast<uintptr_t*>(data) += info->dlpi_phdr[i].p_memsz + info->dlpi_phdr[i].p_align;
          return 0;
        },
        &total);
    return std::min(total, kWindow);
  }();
  return bytes;
}

uintptr_t thread_pointer() { return reinterpret_cast<uintptr_t>(__builtin_thread_pointer()); }

// The host address of shared bytes [address, address + bytes), or a fault.
unsigned char* shared_bytes(uint32_t address, size_t bytes, const char* instruction, const std::source_location& loc,
                            const char* operand) {
  const uintptr_t lo = kWindow - static_tls_bytes();
  if (address < lo || address + bytes > kWindow)
    fault(instruction, loc,
          std::string(operand) + " " + hex(address) +
              " is not a shared memory address of this block (take it with "
              "__cvta_generic_to_shared of a __shared__ or dynamic shared memory pointer)");
  return reinterpret_cast<unsigned char*>(thread_pointer() - kWindow + address);
}

// ---- allocations of global memory, cached per worker --------------------------------
// cp.async checks that its source lies in one live cudaMalloc allocation. The registry
// takes a lock; a kernel's copies almost always come from the few allocations of its
// arguments, so the last four found are kept (dropped whenever anything is freed).
struct AllocationCache {
  static constexpr int kEntries = 4;
  uintptr_t lo[kEntries] = {}, hi[kEntries] = {};
  uint64_t epoch = ~uint64_t(0);
  int next = 0;
};
thread_local AllocationCache tl_allocations;

bool in_device_allocation(const void* p, size_t bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  AllocationCache& c = tl_allocations;
  const uint64_t epoch = sim_internal::free_epoch();
  if (c.epoch != epoch) c = AllocationCache{{}, {}, epoch, 0};
  for (int i = 0; i < AllocationCache::kEntries; ++i)
    if (a >= c.lo[i] && a + bytes <= c.hi[i]) return true;
  uintptr_t lo = 0;
  size_t size = 0;
  if (!sim_internal::find_device_allocation(p, &lo, &size) || a + bytes > lo + size) return false;
  c.lo[c.next] = lo;
  c.hi[c.next] = lo + size;
  c.next = (c.next + 1) % AllocationCache::kEntries;
  return true;
}

// ---- cp.async -----------------------------------------------------------------------
struct AsyncCopy {
  unsigned char* dst;
  const unsigned char* src;
  uint32_t bytes, src_bytes;
};
// One CUDA thread's copies in issue order; group_end[i] is the number of copies issued
// when group i was committed (groups not yet waited for).
struct AsyncThread {
  uint64_t serial = 0;
  std::vector<AsyncCopy> copies;
  std::vector<size_t> group_end;
};
thread_local std::vector<AsyncThread> tl_async;

AsyncThread& async_thread() {
  std::vector<AsyncThread>& all = tl_async;
  if (all.empty()) all.resize(kMaxThreadsPerBlock);
  AsyncThread& t = all[sim_internal::tl_thread->linear];
  const uint64_t serial = sim_internal::block_serial();
  if (t.serial != serial) {  // left by a block that ran before: its copies died with it
    t.serial = serial;
    t.copies.clear();
    t.group_end.clear();
  }
  return t;
}

void land(const AsyncCopy& c) {
  if (c.src_bytes) std::memcpy(c.dst, c.src, c.src_bytes);
  if (c.src_bytes < c.bytes) std::memset(c.dst + c.src_bytes, 0, c.bytes - c.src_bytes);
}

// ---- the warp's staging area -----------------------------------------------------------
// mma.sync and ldmatrix are warp rendezvous. Each lane copies its operands into its own
// slot of the warp's staging area when it arrives, the last lane to arrive computes every
// lane's results into their slots, and each lane copies its own results out when it
// resumes. The slots of different lanes are disjoint, so a lane that runs ahead to the
// warp's next instruction never overwrites what another lane has yet to read; a lane's
// own work stays a few stores and loads, and the layout permutation is done once per
// instruction, in a loop the compiler unrolls with constant addresses.
using ptx::detail::MmaSlot;
struct alignas(64) WarpStaging {
  MmaSlot mma[32];
  uint32_t address[32];  // ldmatrix row addresses, by lane
  uint32_t out[32][4];   // ldmatrix results, by lane
};
thread_local WarpStaging tl_staging[kMaxThreadsPerBlock / 32];

// ---- mma.sync -----------------------------------------------------------------------
inline uint16_t lo16(uint32_t r) { return uint16_t(r & 0xffffu); }
inline uint16_t hi16(uint32_t r) { return uint16_t(r >> 16); }

namespace baseline {
#define GPUSIM_MMA_F16C 0
#include "mma_tile.inc"
#undef GPUSIM_MMA_F16C
}  // namespace baseline

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
#define GPUSIM_MMA_F16C 1
#include "mma_tile.inc"
#undef GPUSIM_MMA_F16C
}  // namespace avx2
#pragma GCC pop_options

// GPUSIM_NO_AVX2=1 runs the baseline code on any CPU (the tests run both).
const bool kHaveAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                       __builtin_cpu_supports("f16c") && !std::getenv("GPUSIM_NO_AVX2");

template <int K, ptx::Type T> void mma_warp(void* ctx, ThreadState* const*, unsigned) {
  MmaSlot* slot = static_cast<WarpStaging*>(ctx)->mma;
  if (kHaveAvx2) avx2::mma_tile<K, T>(slot);
  else baseline::mma_tile<K, T>(slot);
}

constexpr const char* kMmaName[2][2] = {
    {"mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32", "mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32"},
    {"mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"}};

// ---- ldmatrix -----------------------------------------------------------------------
constexpr const char* kLdmatrixName[3][2] = {
    {"ldmatrix.sync.aligned.m8n8.x1.shared.b16", "ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16"},
    {"ldmatrix.sync.aligned.m8n8.x2.shared.b16", "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16"},
    {"ldmatrix.sync.aligned.m8n8.x4.shared.b16", "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"}};

constexpr int name_index(int count) { return count == 1 ? 0 : count == 2 ? 1 : 2; }

struct LdmatrixSite {
  WarpStaging* w;
  const std::source_location* loc;
};

template <int Count, bool Trans> void ldmatrix_warp(void* ctx, ThreadState* const*, unsigned) {
  const LdmatrixSite& site = *static_cast<const LdmatrixSite*>(ctx);
  WarpStaging& w = *site.w;
  const char* name = kLdmatrixName[name_index(Count)][Trans];
  uint16_t M[Count][8][8];
  for (int i = 0; i < Count; ++i)
    for (int r = 0; r < 8; ++r) {
      const int lane = 8 * i + r;
      const uint32_t address = w.address[lane];
      if (address % 16 != 0)
        fault(name, *site.loc,
              "the row address of lane " + std::to_string(lane) + " (matrix " + std::to_string(i) + ", row " +
                  std::to_string(r) + ") is " + hex(address) + ", not 16-byte aligned");
      std::memcpy(M[i][r], shared_bytes(address, 16, name, *site.loc, "a row address"), 16);
    }
  for (int l = 0; l < 32; ++l) {
    const int row = l >> 2, col = 2 * (l & 3);
    for (int i = 0; i < Count; ++i)
      w.out[l][i] = Trans ? uint32_t(M[i][col][row]) | uint32_t(M[i][col + 1][row]) << 16
                          : uint32_t(M[i][row][col]) | uint32_t(M[i][row][col + 1]) << 16;
  }
}

template <int Count, bool Trans>
void ldmatrix_variant(uint32_t address, uint32_t* out, const std::source_location& loc) {
  WarpStaging& w = tl_staging[sim_internal::tl_thread->warp];
  const unsigned lane = sim_internal::tl_thread->lane;
  w.address[lane] = address;
  // The context of the first lane to arrive is used; every lane's is the same site.
  LdmatrixSite site{&w, &loc};
  sim_internal::warp_aligned(kLdmatrixName[name_index(Count)][Trans], loc, &ldmatrix_warp<Count, Trans>, &site);
  for (int i = 0; i < Count; ++i) out[i] = w.out[lane][i];
}

}  // namespace

size_t __cvta_generic_to_shared(const void* p, std::source_location loc) {
  require_device_code("__cvta_generic_to_shared");
  const uintptr_t tp = thread_pointer(), a = reinterpret_cast<uintptr_t>(p);
  if (a >= tp || tp - a > static_tls_bytes())
    fault("__cvta_generic_to_shared", loc,
          sim_internal::pointer_text(p) + " is not shared memory of this block (" + sim_internal::pointer_origin(p) +
              ")");
  return kWindow - (tp - a);
}

namespace ptx {

namespace detail {

MmaSlot& mma_slot() {
  ThreadState* self = sim_internal::tl_thread;
  if (!self) require_device_code("mma.sync");
  return tl_staging[self->warp].mma[self->lane];
}

void mma_rendezvous(Type type, int k, const std::source_location& loc) {
  WarpStaging& w = tl_staging[sim_internal::tl_thread->warp];
  const bool bf16 = type == Type::BF16;
  sim_internal::WarpCustomFn fn = k == 16 ? (bf16 ? &mma_warp<16, Type::BF16> : &mma_warp<16, Type::F16>)
                                          : (bf16 ? &mma_warp<8, Type::BF16> : &mma_warp<8, Type::F16>);
  sim_internal::warp_aligned(kMmaName[k == 16][bf16], loc, fn, &w);
}

}  // namespace detail

void ldmatrix(int count, bool trans, uint32_t address, uint32_t* out, std::source_location loc) {
  require_device_code("ldmatrix");
  switch (count * 2 + trans) {
    case 2: return ldmatrix_variant<1, false>(address, out, loc);
    case 3: return ldmatrix_variant<1, true>(address, out, loc);
    case 4: return ldmatrix_variant<2, false>(address, out, loc);
    case 5: return ldmatrix_variant<2, true>(address, out, loc);
    case 8: return ldmatrix_variant<4, false>(address, out, loc);
    case 9: return ldmatrix_variant<4, true>(address, out, loc);
    default: fault("ldmatrix", loc, "count " + std::to_string(count) + " is not 1, 2 or 4");
  }
}

void cp_async(bool cg, uint32_t dst, const void* src, long cp_size, long src_size, std::source_location loc) {
  require_device_code("cp.async");
  const char* name = cg ? "cp.async.cg.shared.global" : "cp.async.ca.shared.global";
  if (cp_size != 4 && cp_size != 8 && cp_size != 16)
    fault(name, loc, "cp-size " + std::to_string(cp_size) + " is not 4, 8 or 16");
  if (cg && cp_size != 16) fault(name, loc, "cp-size " + std::to_string(cp_size) + ": .cg copies 16 bytes only");
  if (src_size < 0 || src_size > cp_size)
    fault(name, loc, "src-size " + std::to_string(src_size) + " is outside 0.." + std::to_string(cp_size));
  if (dst % uint32_t(cp_size) != 0)
    fault(name, loc, "the shared address " + hex(dst) + " is not aligned to cp-size " + std::to_string(cp_size));
  unsigned char* d = shared_bytes(dst, size_t(cp_size), name, loc, "the shared address");
  if (src_size > 0) {
    if (reinterpret_cast<uintptr_t>(src) % uintptr_t(cp_size) != 0)
      fault(name, loc,
            "the global address " + sim_internal::pointer_text(src) + " is not aligned to cp-size " +
                std::to_string(cp_size));
    if (!in_device_allocation(src, size_t(src_size)))
      fault(name, loc,
            std::to_string(src_size) + " bytes at " + sim_internal::pointer_text(src) +
                " are not inside one cudaMalloc allocation (" + sim_internal::pointer_origin(src) + ")");
  }
  std::memset(d, 0xff, size_t(cp_size));  // poison until the wait that covers the copy
  async_thread().copies.push_back({d, static_cast<const unsigned char*>(src), uint32_t(cp_size), uint32_t(src_size)});
}

void cp_async_commit_group(std::source_location) {
  require_device_code("cp.async.commit_group");
  AsyncThread& t = async_thread();
  t.group_end.push_back(t.copies.size());
}

void cp_async_wait_group(long n, std::source_location loc) {
  require_device_code("cp.async.wait_group");
  if (n < 0) fault("cp.async.wait_group", loc, "N = " + std::to_string(n) + " is negative");
  AsyncThread& t = async_thread();
  if (t.group_end.size() <= size_t(n)) return;
  const size_t groups = t.group_end.size() - size_t(n), landed = t.group_end[groups - 1];
  for (size_t i = 0; i < landed; ++i) land(t.copies[i]);
  t.copies.erase(t.copies.begin(), t.copies.begin() + long(landed));
  t.group_end.erase(t.group_end.begin(), t.group_end.begin() + long(groups));
  for (size_t& e : t.group_end) e -= landed;
}

void cp_async_wait_all(std::source_location loc) {
  cp_async_commit_group(loc);
  cp_async_wait_group(0, loc);
}

}  // namespace ptx
}  // namespace gpusim
