// gpusim: the inline PTX that tensor-core kernels are written with, executed on the CPU.
//
// A CUDA source keeps its `asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 ..."
// : "=f"(d0), ... : "r"(a0), ...)` statements; for the simulator, the source rewrite of
// scripts/sim_rewrite.py (used by scripts/simcc and by the project's own simulator
// build) turns each supported statement into one call below, with the operands in the
// order the instruction names them and the output operands passed by reference. Any
// other asm is a compile-time error of the rewrite naming the file, line and instruction.
//
// What is executed, from the PTX ISA (sections on mma.sync, ldmatrix and cp.async):
//  * mma.sync.aligned.m16n8k16 / m16n8k8 .row.col .f32 .{f16,bf16} .{f16,bf16} .f32: a warp
//    rendezvous; the last lane to arrive forms A (16 x K), B (K x 8) and C (16 x 8) from all
//    32 lanes' registers with the ISA's per-lane layout (g = lane / 4, t = lane % 4; A holds
//    rows g and g + 8, columns 2t, 2t + 1 (+ 8 for k16); B rows 2t, 2t + 1 (+ 8) of column g;
//    C and D rows g and g + 8, columns 2t, 2t + 1; the lower 16 bits of a register hold the
//    element of lower index) and computes D = C + A B in fp32, adding the exact products in
//    k order. Hardware accumulates in an unspecified order with its own internal rounding,
//    so D may differ from a GPU's in the last bits, except when every partial sum is exact.
//  * ldmatrix.sync.aligned.m8n8.{x1,x2,x4}{,.trans}.shared{,::cta}.b16: a warp rendezvous;
//    lanes 8i .. 8i + 7 give the row addresses of matrix i (16-byte aligned shared memory;
//    .x1 / .x2 read lanes 0-7 / 0-15 only); lane l receives row l / 4, columns 2(l % 4) and
//    2(l % 4) + 1 of each matrix (.trans: of its transpose).
//  * cp.async.{ca,cg}.shared{,::cta}.global [dst], [src], cp-size{, src-size}: per thread;
//    the copy is recorded and its destination poisoned (0xff bytes: NaN in f16, bf16 and
//    f32) at once; the data lands at the cp.async.wait_group / wait_all that covers its
//    group, so a read before the wait sees poison, as it may on a GPU. src-size < cp-size
//    zero-fills the rest; src-size 0 reads nothing.
//  * cp.async.commit_group, cp.async.wait_group N, cp.async.wait_all.
// mma and ldmatrix need all 32 lanes of the warp at the same call site: a lane that exited,
// a partial warp, or lanes at another .aligned instruction fail the kernel with a message
// naming the instruction, the kernel and the source line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

namespace gpusim {

// The 32-bit address in the shared state space that ldmatrix and cp.async take: the
// offset of `p` in the block's shared memory window. `p` must point into shared memory
// (a __shared__ variable or dynamic shared memory) of the calling block.
size_t __cvta_generic_to_shared(const void* p,
                                std::source_location loc = std::source_location::current());
inline size_t __cvta_generic_to_global(const void* p) { return reinterpret_cast<size_t>(p); }

namespace ptx {

enum class Type { F16, BF16 };

// "r" operands: any 32-bit value, as its bits.
template <class R> inline uint32_t bits(const R& r) {
  static_assert(sizeof(R) == 4 && std::is_trivially_copyable_v<R>, "an \"r\" operand must be 32 bits");
  uint32_t u;
  std::memcpy(&u, &r, 4);
  return u;
}
// "=r" outputs.
template <class R> inline void set_bits(R& r, uint32_t u) {
  static_assert(sizeof(R) == 4 && std::is_trivially_copyable_v<R>, "an \"=r\" operand must be 32 bits");
  std::memcpy(&r, &u, 4);
}
// "l" operands: a global address, as a pointer or as an integer.
template <class P> inline const void* address(const P& p) {
  if constexpr (std::is_pointer_v<P>) return static_cast<const void*>(p);
  else return reinterpret_cast<const void*>(static_cast<uintptr_t>(p));
}

namespace detail {
// A lane's registers in its warp's mma staging area (src/sim/ptx.cpp says why).
struct alignas(64) MmaSlot {
  uint32_t a[4], b[2];
  float c[4];  // C on arrival
  float d[4];  // D on completion
};
MmaSlot& mma_slot();
void mma_rendezvous(Type type, int k, const std::source_location& loc);
}  // namespace detail

// The instructions (the rewrite passes the operands in the instruction's order).
inline void mma_m16n8k16(Type type, float& d0, float& d1, float& d2, float& d3, uint32_t a0, uint32_t a1, uint32_t a2,
                         uint32_t a3, uint32_t b0, uint32_t b1, float c0, float c1, float c2, float c3,
                         std::source_location loc = std::source_location::current()) {
  detail::MmaSlot& s = detail::mma_slot();
  s.a[0] = a0, s.a[1] = a1, s.a[2] = a2, s.a[3] = a3, s.b[0] = b0, s.b[1] = b1;
  s.c[0] = c0, s.c[1] = c1, s.c[2] = c2, s.c[3] = c3;
  detail::mma_rendezvous(type, 16, loc);
  // d may alias c ("+f" operands): c was passed by value.
  d0 = s.d[0], d1 = s.d[1], d2 = s.d[2], d3 = s.d[3];
}
inline void mma_m16n8k8(Type type, float& d0, float& d1, float& d2, float& d3, uint32_t a0, uint32_t a1, uint32_t b0,
                        float c0, float c1, float c2, float c3,
                        std::source_location loc = std::source_location::current()) {
  detail::MmaSlot& s = detail::mma_slot();
  s.a[0] = a0, s.a[1] = a1, s.b[0] = b0;
  s.c[0] = c0, s.c[1] = c1, s.c[2] = c2, s.c[3] = c3;
  detail::mma_rendezvous(type, 8, loc);
  d0 = s.d[0], d1 = s.d[1], d2 = s.d[2], d3 = s.d[3];
}
void ldmatrix(int count, bool trans, uint32_t address, uint32_t* out, std::source_location loc);
void cp_async(bool cg, uint32_t dst, const void* src, long cp_size, long src_size, std::source_location loc);
void cp_async_commit_group(std::source_location loc = std::source_location::current());
void cp_async_wait_group(long n, std::source_location loc = std::source_location::current());
void cp_async_wait_all(std::source_location loc = std::source_location::current());

template <class A, class R0>
inline void ldmatrix_x1(bool trans, const A& addr, R0& r0, std::source_location loc = std::source_location::current()) {
  uint32_t out[1];
  ldmatrix(1, trans, bits(addr), out, loc);
  set_bits(r0, out[0]);
}
template <class A, class R0, class R1>
inline void ldmatrix_x2(bool trans, const A& addr, R0& r0, R1& r1,
                        std::source_location loc = std::source_location::current()) {
  uint32_t out[2];
  ldmatrix(2, trans, bits(addr), out, loc);
  set_bits(r0, out[0]);
  set_bits(r1, out[1]);
}
template <class A, class R0, class R1, class R2, class R3>
inline void ldmatrix_x4(bool trans, const A& addr, R0& r0, R1& r1, R2& r2, R3& r3,
                        std::source_location loc = std::source_location::current()) {
  uint32_t out[4];
  ldmatrix(4, trans, bits(addr), out, loc);
  set_bits(r0, out[0]);
  set_bits(r1, out[1]);
  set_bits(r2, out[2]);
  set_bits(r3, out[3]);
}
// cp-size and src-size come as "n" immediates or "r" registers: any integer.
template <class D, class S>
inline void cp_async_copy(bool cg, const D& dst, const S& src, long cp_size, long src_size,
                          std::source_location loc = std::source_location::current()) {
  cp_async(cg, bits(dst), address(src), cp_size, src_size, loc);
}
template <class D, class S>
inline void cp_async_copy(bool cg, const D& dst, const S& src, long cp_size,
                          std::source_location loc = std::source_location::current()) {
  cp_async(cg, bits(dst), address(src), cp_size, cp_size, loc);
}

}  // namespace ptx
}  // namespace gpusim
