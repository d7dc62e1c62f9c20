// gpusim: tensor-core and asynchronous-copy PTX (mma.sync, ldmatrix, cp.async) and the
// shared state space addresses they take. Semantics and layouts: include/gpusim/ptx.h.
#include "gpusim/ptx.h"

#include <link.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim_internal.h"

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

void require_device_code(const char* what) {
  if (!sim_internal::tl_thread)
    throw std::logic_error(std::string(what) + " called outside a kernel (it is device code)");
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
          std::string(operand) + " " + hex(address) + " is not a shared memory address of this block (take it with "
                                 "__cvta_generic_to_shared of a __shared__ or dynamic shared memory pointer)");
  return reinterpret_cast<unsigned char*>(thread_pointer() - kWindow + address);
}

// ---- allocations of global memory, cached per worker --------------------------------
// cp.async checks that its source lies in one live cudaMalloc allocation. The registry
// takes a lock; a kernel's copies almost always hit the allocation of the previous one.
struct AllocationCache {
  uintptr_t lo = 0, hi = 0;
  uint64_t epoch = ~uint64_t(0);
};
thread_local AllocationCache tl_allocation;

bool in_device_allocation(const void* p, size_t bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  AllocationCache& c = tl_allocation;
  const uint64_t epoch = sim_internal::free_epoch();
  if (c.epoch == epoch && a >= c.lo && a + bytes <= c.hi) return true;
  uintptr_t lo = 0;
  size_t size = 0;
  if (!sim_internal::find_device_allocation(p, &lo, &size) || a + bytes > lo + size) return false;
  c = {lo, lo + size, epoch};
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

// ---- mma.sync -----------------------------------------------------------------------
struct MmaLane {
  uint32_t a[4], b[2];
  float c[4];
  float* d[4];
};

// f16 or bf16 bits to float, exactly (subnormal halves included), without branches so
// that the loops over a fragment vectorise.
inline float to_float(uint16_t h, ptx::Type type) {
  if (type == ptx::Type::BF16) return bits_float(uint32_t(h) << 16);
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, magnitude = h & 0x7fffu;
  // exponent and mantissa shifted into float position, rebased by 2^(127 - 15)
  float f = bits_float(magnitude << 13) * 0x1p112f;
  if (magnitude >= 0x7c00u) f = bits_float(0x7f800000u | (magnitude << 13));  // inf, NaN
  return bits_float(float_bits(f) | sign);
}

inline uint16_t lo16(uint32_t r) { return uint16_t(r & 0xffffu); }
inline uint16_t hi16(uint32_t r) { return uint16_t(r >> 16); }

// D = C + A B for one m16n8kK tile, the products (exact in fp32) added in k order.
template <int K>
void mma_tile(const float (&A)[16][K], const float (&B)[K][8], float (&D)[16][8]) {
  for (int m = 0; m < 16; ++m) {
    float acc[8];
    for (int n = 0; n < 8; ++n) acc[n] = D[m][n];
    for (int k = 0; k < K; ++k) {
      const float a = A[m][k];
      for (int n = 0; n < 8; ++n) acc[n] += a * B[k][n];
    }
    for (int n = 0; n < 8; ++n) D[m][n] = acc[n];
  }
}

// The warp's operands in the ISA's per-lane layout (include/gpusim/ptx.h).
template <int K, ptx::Type T>
void mma_warp(void*, ThreadState* const* lanes, unsigned) {
  float A[16][K], B[K][8], D[16][8];
  for (int l = 0; l < 32; ++l) {
    const MmaLane& x = *static_cast<const MmaLane*>(lanes[l]->coll_ptr);
    const int g = l >> 2, t = l & 3;
    A[g][2 * t] = to_float(lo16(x.a[0]), T);
    A[g][2 * t + 1] = to_float(hi16(x.a[0]), T);
    A[g + 8][2 * t] = to_float(lo16(x.a[1]), T);
    A[g + 8][2 * t + 1] = to_float(hi16(x.a[1]), T);
    B[2 * t][g] = to_float(lo16(x.b[0]), T);
    B[2 * t + 1][g] = to_float(hi16(x.b[0]), T);
    if constexpr (K == 16) {
      A[g][2 * t + 8] = to_float(lo16(x.a[2]), T);
      A[g][2 * t + 9] = to_float(hi16(x.a[2]), T);
      A[g + 8][2 * t + 8] = to_float(lo16(x.a[3]), T);
      A[g + 8][2 * t + 9] = to_float(hi16(x.a[3]), T);
      B[2 * t + 8][g] = to_float(lo16(x.b[1]), T);
      B[2 * t + 9][g] = to_float(hi16(x.b[1]), T);
    }
    D[g][2 * t] = x.c[0];
    D[g][2 * t + 1] = x.c[1];
    D[g + 8][2 * t] = x.c[2];
    D[g + 8][2 * t + 1] = x.c[3];
  }
  mma_tile<K>(A, B, D);
  // Every lane's C was read above, so a D that aliases C ("+f" operands) is safe.
  for (int l = 0; l < 32; ++l) {
    const MmaLane& x = *static_cast<const MmaLane*>(lanes[l]->coll_ptr);
    const int g = l >> 2, t = l & 3;
    *x.d[0] = D[g][2 * t];
    *x.d[1] = D[g][2 * t + 1];
    *x.d[2] = D[g + 8][2 * t];
    *x.d[3] = D[g + 8][2 * t + 1];
  }
}

constexpr const char* kMmaName[2][2] = {
    {"mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32", "mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32"},
    {"mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"}};

template <int K>
void mma(ptx::Type type, MmaLane& lane, const std::source_location& loc) {
  require_device_code("mma.sync");
  sim_internal::tl_thread->coll_ptr = &lane;
  const bool bf16 = type == ptx::Type::BF16;
  sim_internal::warp_aligned(kMmaName[K == 16][bf16], loc, bf16 ? &mma_warp<K, ptx::Type::BF16> : &mma_warp<K, ptx::Type::F16>,
                             nullptr);
}

// ---- ldmatrix -----------------------------------------------------------------------
struct LdmatrixLane {
  uint32_t address;
  uint32_t* out;
};

constexpr const char* kLdmatrixName[3][2] = {
    {"ldmatrix.sync.aligned.m8n8.x1.shared.b16", "ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16"},
    {"ldmatrix.sync.aligned.m8n8.x2.shared.b16", "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16"},
    {"ldmatrix.sync.aligned.m8n8.x4.shared.b16", "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"}};

template <int Count, bool Trans>
void ldmatrix_warp(void* ctx, ThreadState* const* lanes, unsigned) {
  const std::source_location& loc = *static_cast<const std::source_location*>(ctx);
  const char* name = kLdmatrixName[Count == 1 ? 0 : Count == 2 ? 1 : 2][Trans];
  uint16_t M[Count][8][8];
  for (int i = 0; i < Count; ++i)
    for (int r = 0; r < 8; ++r) {
      const int lane = 8 * i + r;
      const uint32_t address = static_cast<const LdmatrixLane*>(lanes[lane]->coll_ptr)->address;
      if (address % 16 != 0)
        fault(name, loc,
              "the row address of lane " + std::to_string(lane) + " (matrix " + std::to_string(i) + ", row " +
                  std::to_string(r) + ") is " + hex(address) + ", not 16-byte aligned");
      std::memcpy(M[i][r], shared_bytes(address, 16, name, loc, ("the row address of lane " + std::to_string(lane)).c_str()),
                  16);
    }
  for (int l = 0; l < 32; ++l) {
    uint32_t* out = static_cast<const LdmatrixLane*>(lanes[l]->coll_ptr)->out;
    const int row = l >> 2, col = 2 * (l & 3);
    for (int i = 0; i < Count; ++i)
      out[i] = Trans ? uint32_t(M[i][col][row]) | uint32_t(M[i][col + 1][row]) << 16
                     : uint32_t(M[i][row][col]) | uint32_t(M[i][row][col + 1]) << 16;
  }
}

template <int Count, bool Trans>
void ldmatrix_variant(LdmatrixLane& lane, const std::source_location& loc) {
  sim_internal::tl_thread->coll_ptr = &lane;
  // Every lane's loc is its own copy of the same call site; the first arrival's is used.
  sim_internal::warp_aligned(kLdmatrixName[Count == 1 ? 0 : Count == 2 ? 1 : 2][Trans], loc,
                             &ldmatrix_warp<Count, Trans>, const_cast<std::source_location*>(&loc));
}

}  // namespace

size_t __cvta_generic_to_shared(const void* p, std::source_location loc) {
  require_device_code("__cvta_generic_to_shared");
  const uintptr_t tp = thread_pointer(), a = reinterpret_cast<uintptr_t>(p);
  if (a >= tp || tp - a > static_tls_bytes())
    fault("__cvta_generic_to_shared", loc,
          sim_internal::pointer_text(p) + " is not shared memory of this block (" + sim_internal::pointer_origin(p) + ")");
  return kWindow - (tp - a);
}

namespace ptx {

void mma_m16n8k16(Type type, float& d0, float& d1, float& d2, float& d3, uint32_t a0, uint32_t a1, uint32_t a2,
                  uint32_t a3, uint32_t b0, uint32_t b1, float c0, float c1, float c2, float c3,
                  std::source_location loc) {
  MmaLane lane{{a0, a1, a2, a3}, {b0, b1}, {c0, c1, c2, c3}, {&d0, &d1, &d2, &d3}};
  mma<16>(type, lane, loc);
}

void mma_m16n8k8(Type type, float& d0, float& d1, float& d2, float& d3, uint32_t a0, uint32_t a1, uint32_t b0,
                 float c0, float c1, float c2, float c3, std::source_location loc) {
  MmaLane lane{{a0, a1, 0, 0}, {b0, 0}, {c0, c1, c2, c3}, {&d0, &d1, &d2, &d3}};
  mma<8>(type, lane, loc);
}

void ldmatrix(int count, bool trans, uint32_t address, uint32_t* out, std::source_location loc) {
  require_device_code("ldmatrix");
  LdmatrixLane lane{address, out};
  switch (count * 2 + trans) {
    case 2: return ldmatrix_variant<1, false>(lane, loc);
    case 3: return ldmatrix_variant<1, true>(lane, loc);
    case 4: return ldmatrix_variant<2, false>(lane, loc);
    case 5: return ldmatrix_variant<2, true>(lane, loc);
    case 8: return ldmatrix_variant<4, false>(lane, loc);
    case 9: return ldmatrix_variant<4, true>(lane, loc);
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
      fault(name, loc, "the global address " + sim_internal::pointer_text(src) + " is not aligned to cp-size " +
                           std::to_string(cp_size));
    if (!in_device_allocation(src, size_t(src_size)))
      fault(name, loc, std::to_string(src_size) + " bytes at " + sim_internal::pointer_text(src) +
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
