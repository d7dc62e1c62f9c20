// Atomics from hundreds of blocks (run in parallel on several workers) on one or a
// few addresses: sums, min/max, exchange, CAS, bitwise ops, increments, and the old
// values they return, against CPU results. Float and double sums use values whose
// partial sums are exact, so any order gives the same total.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <numeric>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_atomics {
using namespace simtest;

constexpr unsigned kBlocks = 300, kThreads = 128, kTotal = kBlocks * kThreads;

__device__ __host__ int int_term(unsigned g) { return int(simtest::mix(g) % 2001) - 1000; }
__device__ __host__ unsigned uint_term(unsigned g) { return simtest::mix(g) >> 8; }
__device__ __host__ float float_term(unsigned g) { return float(int(simtest::mix(g) % 64) - 20) * 0.125f; }
__device__ __host__ double double_term(unsigned g) { return double(simtest::mix(g) % 100000) * 0x1p-12; }

class Atomics : public SimTest {};

struct Totals {
  int isum;
  unsigned usum;
  float fsum;
  double dsum;
  unsigned long long ullsum;
  int imax, imin;
  unsigned umax, umin;
  int isub;
};

__global__ void arithmetic(Totals* t) {
  const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(&t->isum, int_term(g));
  atomicAdd(&t->usum, uint_term(g));
  atomicAdd(&t->fsum, float_term(g));
  atomicAdd(&t->dsum, double_term(g));
  atomicAdd(&t->ullsum, (unsigned long long)uint_term(g) << 20);
  atomicMax(&t->imax, int_term(g));
  atomicMin(&t->imin, int_term(g));
  atomicMax(&t->umax, uint_term(g));
  atomicMin(&t->umin, uint_term(g));
  atomicSub(&t->isub, int_term(g));
}

TEST_F(Atomics, SumsMinMaxFromManyBlocksMatchCpu) {
  Totals init{};
  init.imax = INT_MIN;
  init.imin = INT_MAX;
  init.umax = 0;
  init.umin = UINT_MAX;
  init.isub = 12345;
  DeviceBuffer<Totals> d(std::vector<Totals>{init});
  auto cfg = launch_config(dim3(kBlocks), dim3(kThreads));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, arithmetic, d.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const Totals r = d.download()[0];
  Totals e = init;
  for (unsigned g = 0; g < kTotal; ++g) {
    e.isum += int_term(g);
    e.usum += uint_term(g);
    e.fsum += float_term(g);
    e.dsum += double_term(g);
    e.ullsum += (unsigned long long)uint_term(g) << 20;
    e.imax = std::max(e.imax, int_term(g));
    e.imin = std::min(e.imin, int_term(g));
    e.umax = std::max(e.umax, uint_term(g));
    e.umin = std::min(e.umin, uint_term(g));
    e.isub -= int_term(g);
  }
  EXPECT_EQ(r.isum, e.isum);
  EXPECT_EQ(r.usum, e.usum);
  EXPECT_EQ(r.fsum, e.fsum);  // exact: multiples of 1/8, |sum| < 2^20
  EXPECT_EQ(r.dsum, e.dsum);
  EXPECT_EQ(r.ullsum, e.ullsum);
  EXPECT_EQ(r.imax, e.imax);
  EXPECT_EQ(r.imin, e.imin);
  EXPECT_EQ(r.umax, e.umax);
  EXPECT_EQ(r.umin, e.umin);
  EXPECT_EQ(r.isub, e.isub);
  std::printf("gpusim workers: %d\n", gpusim::worker_count());
}

// Sustained contention: every thread adds to one counter in a tight loop, so the
// workers' read-modify-writes overlap for milliseconds; a lost update shows. (Short
// bursts may not overlap at all on a loaded machine: a worker wakes up late.)
__global__ void hammer(unsigned long long* counter, float* fsum, int iters) {
  for (int i = 0; i < iters; ++i) {
    atomicAdd(counter, 1ull);
    atomicAdd(fsum, 1.0f);
  }
}

TEST_F(Atomics, SustainedContentionLosesNoUpdate) {
  const int iters = 1024;
  DeviceBuffer<unsigned long long> counter(1);
  DeviceBuffer<float> fsum(1);
  counter.fill_bytes(0);
  fsum.fill_bytes(0);
  auto cfg = launch_config(dim3(64), dim3(64));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, hammer, counter.get(), fsum.get(), iters));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_EQ(counter.download()[0], 64ull * 64 * iters);
  EXPECT_EQ(fsum.download()[0], float(64 * 64 * iters));  // 2^22: every partial sum is exact
}

// Tickets: every thread takes one from a counter, with atomicAdd's return value and
// with a CAS retry loop (no thread waits for another); each ticket is taken once.
__global__ void tickets(unsigned* counter_add, unsigned long long* counter_cas, unsigned* by_add, unsigned* by_cas,
                        unsigned* by_inc, unsigned* counter_inc) {
  const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
  by_add[atomicAdd(counter_add, 1u)] = g;
  // No plain read of the counter first: other blocks change it atomically meanwhile (a
  // data race; ThreadSanitizer says so). The first CAS, from a guess of 0, reads it.
  unsigned long long old = 0, assumed;
  do {
    assumed = old;
    old = atomicCAS(counter_cas, assumed, assumed + 1);
  } while (old != assumed);
  by_cas[assumed] = g;
  by_inc[atomicInc(counter_inc, 0xffffffffu)] = g;
}

TEST_F(Atomics, TicketsFromAddCasAndIncArePermutations) {
  DeviceBuffer<unsigned> c_add(1), c_inc(1), by_add(kTotal), by_cas(kTotal), by_inc(kTotal);
  DeviceBuffer<unsigned long long> c_cas(1);
  c_add.fill_bytes(0);
  c_inc.fill_bytes(0);
  c_cas.fill_bytes(0);
  auto cfg = launch_config(dim3(kBlocks), dim3(kThreads));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, tickets, c_add.get(), c_cas.get(), by_add.get(), by_cas.get(), by_inc.get(),
                                     c_inc.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_EQ(c_add.download()[0], kTotal);
  EXPECT_EQ(c_inc.download()[0], kTotal);
  EXPECT_EQ(c_cas.download()[0], kTotal);
  for (auto* buf : {&by_add, &by_cas, &by_inc}) {
    std::vector<unsigned> r = buf->download();
    std::sort(r.begin(), r.end());
    for (unsigned i = 0; i < kTotal; ++i) ASSERT_EQ(r[i], i);
  }
}

// atomicInc wraps to 0 once the old value reaches the limit; atomicCAS only swaps on a
// match and always returns the old value.
__global__ void inc_wrap_and_cas(unsigned* wrap, unsigned* cas_results, int* cas_slot) {
  const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicInc(wrap, 9u);
  // The first thread to get here swaps 7 for its own mark; every later one finds the mark.
  cas_results[g] = unsigned(atomicCAS(cas_slot, 7, -int(g) - 1));
}

TEST_F(Atomics, IncWrapsAndCasSwapsOnlyOnMatch) {
  DeviceBuffer<unsigned> wrap(1), cas_results(4 * 64);
  DeviceBuffer<int> slot(std::vector<int>{7});
  wrap.fill_bytes(0);
  auto cfg = launch_config(dim3(4), dim3(64));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, inc_wrap_and_cas, wrap.get(), cas_results.get(), slot.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_EQ(wrap.download()[0], 256u % 10u);  // counts 0..9 then wraps
  const int final_slot = slot.download()[0];
  ASSERT_LT(final_slot, 0);  // exactly one CAS succeeded
  const unsigned winner = unsigned(-final_slot - 1);
  const std::vector<unsigned> r = cas_results.download();
  int saw_seven = 0;
  for (unsigned g = 0; g < 4 * 64; ++g) {
    if (r[g] == 7u) ++saw_seven;
    else EXPECT_EQ(int(r[g]), final_slot) << g;
  }
  EXPECT_EQ(saw_seven, 1);
  EXPECT_EQ(r[winner], 7u);
}

// Exchange: each thread swaps its own token in; the old values returned plus the
// final value are exactly the initial value plus all tokens.
__global__ void exchange(int* slot, int* olds) {
  const unsigned g = blockIdx.x * blockDim.x + threadIdx.x;
  olds[g] = atomicExch(slot, int(g) + 1000);
}

TEST_F(Atomics, ExchangeHandsEveryValueOnOnce) {
  DeviceBuffer<int> slot(std::vector<int>{-5}), olds(kTotal);
  auto cfg = launch_config(dim3(kBlocks), dim3(kThreads));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, exchange, slot.get(), olds.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  std::vector<int> seen = olds.download();
  seen.push_back(slot.download()[0]);
  std::sort(seen.begin(), seen.end());
  std::vector<int> expect{-5};
  for (unsigned g = 0; g < kTotal; ++g) expect.push_back(int(g) + 1000);
  std::sort(expect.begin(), expect.end());
  EXPECT_EQ(seen, expect);
}

constexpr int kWords = 8;

// About one thread in 150 clears (sets) one bit, so each word ends up partly set.
__device__ __host__ unsigned clear_mask(unsigned g) {
  return simtest::mix(g) % 151 == 0 ? ~(1u << (simtest::mix(g * 3) % 32)) : 0xffffffffu;
}
__device__ __host__ unsigned set_mask(unsigned g) {
  return simtest::mix(g + 7) % 149 == 0 ? 1u << (simtest::mix(g * 5) % 32) : 0u;
}

__global__ void bitwise(unsigned* and_words, unsigned* or_words, unsigned* xor_words) {
  const unsigned g = blockIdx.x * blockDim.x + threadIdx.x, w = blockIdx.x % kWords;
  atomicAnd(&and_words[w], clear_mask(g));
  atomicOr(&or_words[w], set_mask(g));
  atomicXor(&xor_words[w], simtest::mix(g + 99));
}

TEST_F(Atomics, AndOrXorFromManyBlocksMatchCpu) {
  std::vector<unsigned> and_init(kWords, 0xffffffffu), or_init(kWords, 0u), xor_init(kWords);
  for (int i = 0; i < kWords; ++i) xor_init[i] = mix(unsigned(i) + 1234);
  DeviceBuffer<unsigned> a(and_init), o(or_init), x(xor_init);
  auto cfg = launch_config(dim3(kBlocks), dim3(kThreads));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, bitwise, a.get(), o.get(), x.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  std::vector<unsigned> ea = and_init, eo = or_init, ex = xor_init;
  for (unsigned g = 0; g < kTotal; ++g) {
    const unsigned w = (g / kThreads) % kWords;
    ea[w] &= clear_mask(g);
    eo[w] |= set_mask(g);
    ex[w] ^= mix(g + 99);
  }
  EXPECT_EQ(a.download(), ea);
  EXPECT_EQ(o.download(), eo);
  EXPECT_EQ(x.download(), ex);
  // The data is not degenerate: the ANDs cleared some bits, not all; the ORs likewise.
  for (int i = 0; i < kWords; ++i) {
    EXPECT_NE(ea[i], 0u);
    EXPECT_NE(ea[i], 0xffffffffu);
    EXPECT_NE(eo[i], 0u);
    EXPECT_NE(eo[i], 0xffffffffu);
  }
}

// A histogram: contention within a block (shared-memory atomics) and across blocks
// (global atomics), as kernels use it.
__global__ void histogram(const unsigned* in, unsigned n, unsigned* bins) {
  __shared__ unsigned local[64];
  for (unsigned i = threadIdx.x; i < 64; i += blockDim.x) local[i] = 0;
  __syncthreads();
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    atomicAdd(&local[in[i] % 64], 1u);
  __syncthreads();
  for (unsigned i = threadIdx.x; i < 64; i += blockDim.x) atomicAdd(&bins[i], local[i]);
}

TEST_F(Atomics, SharedAndGlobalHistogram) {
  const unsigned n = 200003;
  std::vector<unsigned> h(n);
  for (unsigned i = 0; i < n; ++i) h[i] = mix(i) % 1000;
  DeviceBuffer<unsigned> in(h), bins(64);
  bins.fill_bytes(0);
  auto cfg = launch_config(dim3(250), dim3(96));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, histogram, static_cast<const unsigned*>(in.get()), n, bins.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  std::vector<unsigned> e(64, 0);
  for (unsigned v : h) ++e[v % 64];
  EXPECT_EQ(bins.download(), e);
}

}  // namespace sim_atomics
