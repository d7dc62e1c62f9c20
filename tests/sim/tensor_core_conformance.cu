// Tensor-core PTX conformance: mma.sync, ldmatrix and cp.async against the PTX ISA's
// formulas, on awkward data (random values, every lane's registers distinct, f16 and bf16).
//
// Written only against the CUDA runtime API and inline PTX, so one source runs three ways:
//   * on the gpusim simulator through scripts/simcc:   scripts/simcc tests/sim/tensor_core_conformance.cu -o tc && ./tc
//   * on the simulator from the project build:          build/tests/sim/tensor_core_conformance_sim
//   * on a GPU (sm_80 or later), built by nvcc:         build/tests/sim/tensor_core_conformance_cuda
// The GPU run is what proves the simulator's per-lane layouts on hardware: the fragments
// below are built by the ISA's formulas, and the results are checked against a double
// precision CPU computation. Cases that only the simulator can check (poison before a
// cp.async wait, a half-warp mma reported as an error) run on the simulator only.
//
// One line per case, "NAME: OK" or "NAME: FAILED ..."; "ALL OK" and exit 0 when every
// case holds, exit 1 otherwise, exit 77 (skipped) when built for CUDA and no GPU is present.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tile_gemm.cuh"

namespace {

int failures = 0;

void report(const std::string& name, bool ok, const std::string& detail = "") {
  std::printf("%s: %s%s%s\n", name.c_str(), ok ? "OK" : "FAILED", detail.empty() ? "" : " ", detail.c_str());
  if (!ok) ++failures;
}

bool cuda_ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::printf("%s: %s (%s)\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  ++failures;
  return false;
}
#define CUDA_OK(expr) cuda_ok((expr), #expr)

template <class T> struct Device {
  T* p = nullptr;
  size_t n = 0;
  explicit Device(size_t count) : n(count) { CUDA_OK(cudaMalloc(reinterpret_cast<void**>(&p), count * sizeof(T))); }
  Device(const std::vector<T>& host) : Device(host.size()) {
    CUDA_OK(cudaMemcpy(p, host.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~Device() { cudaFree(p); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  std::vector<T> get() const {
    std::vector<T> h(n);
    CUDA_OK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
};

cudaLaunchConfig_t config(dim3 grid, dim3 block) {
  cudaLaunchConfig_t c{};
  c.gridDim = grid;
  c.blockDim = block;
  return c;
}

// ---- f16 / bf16 on the host ---------------------------------------------------------
enum class Elem { F16, BF16 };
const char* elem_name(Elem e) { return e == Elem::F16 ? "f16" : "bf16"; }

uint16_t to_bits(float v, Elem e) {
  uint16_t u;
  if (e == Elem::F16) {
    const __half h = __float2half_rn(v);
    std::memcpy(&u, &h, 2);
  } else {
    const __nv_bfloat16 b = __float2bfloat16_rn(v);
    std::memcpy(&u, &b, 2);
  }
  return u;
}

double from_bits(uint16_t u, Elem e) {
  if (e == Elem::BF16) {
    const uint32_t w = uint32_t(u) << 16;
    float f;
    std::memcpy(&f, &w, 4);
    return f;
  }
  __half h;
  std::memcpy(&h, &u, 2);
  return double(__half2float(h));
}

// Values on a grid of 1/8 with at most 8 significant bits: exact in f16 and bf16, and every
// partial sum of a k16 product is exact in fp32, so a GPU must give the same bits in any
// accumulation order.
float exact_value(std::mt19937& rng) { return float(int(rng() % 65) - 32) / 8.0f; }
float real_value(std::mt19937& rng, float scale) {
  return std::uniform_real_distribution<float>(-scale, scale)(rng);
}

// ---- mma.sync -----------------------------------------------------------------------
__device__ __forceinline__ uint32_t pack(uint16_t lo, uint16_t hi) { return uint32_t(lo) | uint32_t(hi) << 16; }

// One warp: lane l builds its A, B, C registers from row-major A (16 x K), B (K x 8, k-major)
// and C (16 x 8) by the PTX ISA's fragment layout, runs one mma, and scatters D by it.
// Form 0: D and C are the same "+f" registers; form 1: "=f" D, separate "f" C.
template <int K, bool BF16, int Form>
__global__ void mma_fragments(const uint16_t* A, const uint16_t* B, const float* C, float* D) {
  const int lane = int(threadIdx.x), g = lane / 4, t = lane % 4;
  uint32_t a[4] = {pack(A[g * K + 2 * t], A[g * K + 2 * t + 1]), pack(A[(g + 8) * K + 2 * t], A[(g + 8) * K + 2 * t + 1]), 0,
                   0};
  uint32_t b[2] = {pack(B[(2 * t) * 8 + g], B[(2 * t + 1) * 8 + g]), 0};
  if constexpr (K == 16) {
    a[2] = pack(A[g * K + 2 * t + 8], A[g * K + 2 * t + 9]);
    a[3] = pack(A[(g + 8) * K + 2 * t + 8], A[(g + 8) * K + 2 * t + 9]);
    b[1] = pack(B[(2 * t + 8) * 8 + g], B[(2 * t + 9) * 8 + g]);
  }
  const float c[4] = {C[g * 8 + 2 * t], C[g * 8 + 2 * t + 1], C[(g + 8) * 8 + 2 * t], C[(g + 8) * 8 + 2 * t + 1]};
  float d[4] = {c[0], c[1], c[2], c[3]};
  if constexpr (K == 16 && !BF16 && Form == 0) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (K == 16 && !BF16 && Form == 1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};\n"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
                   "f"(c[3]));
  } else if constexpr (K == 16 && BF16 && Form == 0) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else if constexpr (K == 16 && BF16 && Form == 1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};\n"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
                   "f"(c[3]));
  } else if constexpr (K == 8 && !BF16) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b[0]));
  } else {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b[0]));
  }
  D[g * 8 + 2 * t] = d[0];
  D[g * 8 + 2 * t + 1] = d[1];
  D[(g + 8) * 8 + 2 * t] = d[2];
  D[(g + 8) * 8 + 2 * t + 1] = d[3];
}

template <int K, bool BF16, int Form>
void check_mma(bool exact, uint32_t seed) {
  const Elem e = BF16 ? Elem::BF16 : Elem::F16;
  std::mt19937 rng(seed);
  std::vector<uint16_t> A(16 * K), B(K * 8);
  std::vector<float> C(16 * 8);
  for (auto& v : A) v = to_bits(exact ? exact_value(rng) : real_value(rng, 2.0f), e);
  for (auto& v : B) v = to_bits(exact ? exact_value(rng) : real_value(rng, 2.0f), e);
  for (auto& v : C) v = exact ? float(int(rng() % 513) - 256) / 64.0f : real_value(rng, 4.0f);
  Device<uint16_t> dA(A), dB(B);
  Device<float> dC(C), dD(16 * 8);
  const cudaLaunchConfig_t cfg = config(1, 32);
  CUDA_OK(cudaLaunchKernelEx(&cfg, mma_fragments<K, BF16, Form>, (const uint16_t*)dA.p, (const uint16_t*)dB.p,
                             (const float*)dC.p, dD.p));
  CUDA_OK(cudaDeviceSynchronize());
  const std::vector<float> D = dD.get();
  int bad = 0;
  std::string first;
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      double ref = C[m * 8 + n], mag = std::fabs(ref);
      for (int k = 0; k < K; ++k) {
        const double p = from_bits(A[m * K + k], e) * from_bits(B[k * 8 + n], e);
        ref += p;
        mag += std::fabs(p);
      }
      // Exact data: every partial sum is representable, so any order gives ref exactly.
      // Real data: K + 1 fp32 additions, each with a relative error below 2^-23 even when
      // the hardware truncates instead of rounding.
      const double tol = exact ? 0.0 : (K + 1) * std::ldexp(mag, -23);
      const double got = D[m * 8 + n];
      if (!(std::fabs(got - ref) <= tol)) {
        if (!bad++) first = "D[" + std::to_string(m) + "][" + std::to_string(n) + "] = " + std::to_string(got) +
                            ", expected " + std::to_string(ref);
      }
    }
  report(std::string("mma m16n8k") + std::to_string(K) + " " + elem_name(e) + (Form ? " (=f D, f C)" : " (+f D=C)") +
             (exact ? ", exact data" : ", random data"),
         bad == 0, bad ? std::to_string(bad) + " of 128 wrong, first " + first : "");
}

// ---- ldmatrix -----------------------------------------------------------------------
// 32 rows of 24 b16 (48 bytes, 16-byte aligned); matrix i row r lives in row slot[i*8+r]
// at element offset 8, so the addresses are scattered and not at row starts.
constexpr int kSlots = 32, kSlotElems = 24, kRowOffset = 8;

template <int Count, bool Trans>
__global__ void ldmatrix_kernel(const uint16_t* rows, const int* slot, uint32_t* out) {
  __shared__ __align__(16) uint16_t s[kSlots][kSlotElems];
  const int lane = int(threadIdx.x);
  for (int i = lane; i < kSlots * kSlotElems; i += 32) s[i / kSlotElems][i % kSlotElems] = rows[i];
  __syncwarp();
  // .x1 / .x2 read the addresses of lanes 0-7 / 0-15 only; the others point at a valid
  // row holding different data, so using them would show.
  const int row = lane < 8 * Count ? slot[lane] : slot[(lane * 7) % 32];
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(&s[row][kRowOffset]));
  uint32_t r[4] = {0, 0, 0, 0};
  if constexpr (Count == 1 && !Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(addr));
  else if constexpr (Count == 1 && Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(addr));
  else if constexpr (Count == 2 && !Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
  else if constexpr (Count == 2 && Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
  else if constexpr (Count == 4 && !Trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
  for (int i = 0; i < 4; ++i) out[lane * 4 + i] = r[i];
}

template <int Count, bool Trans>
void check_ldmatrix(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> rows(kSlots * kSlotElems);
  for (auto& v : rows) v = uint16_t(rng() % 0xfff0u);  // distinct enough, never the poison 0xffff
  std::vector<int> slot(32);
  for (int i = 0; i < 32; ++i) slot[i] = i;
  std::shuffle(slot.begin(), slot.end(), rng);
  Device<uint16_t> d_rows(rows);
  Device<int> d_slot(slot);
  Device<uint32_t> d_out(32 * 4);
  const cudaLaunchConfig_t cfg = config(1, 32);
  CUDA_OK(cudaLaunchKernelEx(&cfg, ldmatrix_kernel<Count, Trans>, (const uint16_t*)d_rows.p, (const int*)d_slot.p, d_out.p));
  CUDA_OK(cudaDeviceSynchronize());
  const std::vector<uint32_t> out = d_out.get();
  // M_i[r][c]: element c of row r of matrix i.
  auto M = [&](int i, int r, int c) { return uint32_t(rows[slot[i * 8 + r] * kSlotElems + kRowOffset + c]); };
  int bad = 0;
  std::string first;
  for (int l = 0; l < 32; ++l)
    for (int i = 0; i < Count; ++i) {
      const int r = l / 4, c = 2 * (l % 4);
      const uint32_t want = Trans ? M(i, c, r) | M(i, c + 1, r) << 16 : M(i, r, c) | M(i, r, c + 1) << 16;
      if (out[l * 4 + i] != want && !bad++) {
        char s[96];
        std::snprintf(s, sizeof s, "lane %d register %d = 0x%08x, expected 0x%08x", l, i, out[l * 4 + i], want);
        first = s;
      }
    }
  report(std::string("ldmatrix x") + std::to_string(Count) + (Trans ? " .trans" : ""), bad == 0,
         bad ? std::to_string(bad) + " registers wrong, first " + first : "");
}

// ---- cp.async -----------------------------------------------------------------------
// 64 threads, 16 bytes each: thread t copies (t % 5) * 4 bytes through cp.async.cg with a
// src-size operand, the rest zero-filled; then 8-byte and 4-byte .ca copies, one of them
// with src-size 4 of 8.
__global__ void cp_async_zero_fill(const unsigned char* src, unsigned char* out) {
  __shared__ __align__(16) unsigned char s[64][16];
  __shared__ __align__(16) unsigned char s8[64][8];
  __shared__ __align__(16) unsigned char s4[64][4];
  const int t = int(threadIdx.x);
  for (int i = 0; i < 16; ++i) s[t][i] = 0xab;  // what zero fill must overwrite
  const int valid = (t % 5) * 4;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(s[t]))),
               "l"(src + 16 * t), "r"(valid));
  if (t % 2)
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, 4;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(s8[t]))),
                 "l"(src + 8 * t));
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(s8[t]))),
                 "l"(src + 8 * t), "n"(8));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(s4[t]))),
               "l"(src + 4 * t));
  asm volatile("cp.async.commit_group;\n" ::);
  asm volatile("cp.async.wait_group 0;\n" ::);
  __syncthreads();
  for (int i = 0; i < 16; ++i) out[t * 28 + i] = s[63 - t][i];  // another thread's copy: visible after the barrier
  for (int i = 0; i < 8; ++i) out[t * 28 + 16 + i] = s8[t][i];
  for (int i = 0; i < 4; ++i) out[t * 28 + 24 + i] = s4[t][i];
}

void check_cp_async_zero_fill() {
  std::mt19937 rng(11);
  std::vector<unsigned char> src(64 * 16);
  for (auto& v : src) v = uint8_t(1 + rng() % 254);
  Device<unsigned char> d_src(src), d_out(64 * 28);
  const cudaLaunchConfig_t cfg = config(1, 64);
  CUDA_OK(cudaLaunchKernelEx(&cfg, cp_async_zero_fill, (const unsigned char*)d_src.p, d_out.p));
  CUDA_OK(cudaDeviceSynchronize());
  const std::vector<unsigned char> out = d_out.get();
  int bad = 0;
  for (int t = 0; t < 64; ++t) {
    const int u = 63 - t, valid = (u % 5) * 4;
    for (int i = 0; i < 16; ++i) bad += out[t * 28 + i] != (i < valid ? src[16 * u + i] : 0);
    const int valid8 = t % 2 ? 4 : 8;
    for (int i = 0; i < 8; ++i) bad += out[t * 28 + 16 + i] != (i < valid8 ? src[8 * t + i] : 0);
    for (int i = 0; i < 4; ++i) bad += out[t * 28 + 24 + i] != src[4 * t + i];
  }
  report("cp.async zero fill (cg 16 with src-size 0..16, ca 8 with src-size 4, ca 8, ca 4)", bad == 0,
         bad ? std::to_string(bad) + " bytes wrong" : "");
}

// Two groups in flight: after wait_group 1 the first has landed; after wait_group 0 both.
// `early` records the second group's destination before its wait: poison (0xffffffff) on
// the simulator; unspecified on a GPU. `barrier_only` is the classic bug: a __syncthreads
// where the wait belongs.
__global__ void cp_async_groups(const float* x, const float* y, float* out_x, float* out_y, uint32_t* early,
                                uint32_t* barrier_only) {
  __shared__ __align__(16) float sx[64], sy[64], sz[64];
  const int t = int(threadIdx.x);
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(&sx[t]))),
               "l"(x + t));
  asm volatile("cp.async.commit_group;\n" ::);
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(&sy[t]))),
               "l"(y + t));
  asm volatile("cp.async.commit_group;\n" ::);
  asm volatile("cp.async.wait_group %0;\n" ::"n"(1));
  out_x[t] = sx[t];
  early[t] = __float_as_uint(sy[t]);
  asm volatile("cp.async.wait_group 0;\n" ::);
  out_y[t] = sy[t];
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(static_cast<uint32_t>(__cvta_generic_to_shared(&sz[t]))),
               "l"(x + t));
  __syncthreads();
  barrier_only[t] = __float_as_uint(sz[63 - t]);
  __syncthreads();  // every read above happens before any thread's wait below
  asm volatile("cp.async.wait_all;\n" ::: "memory");
}

void check_cp_async_groups(bool simulator) {
  std::mt19937 rng(12);
  std::vector<float> x(64), y(64);
  for (auto& v : x) v = real_value(rng, 100.0f);
  for (auto& v : y) v = real_value(rng, 100.0f);
  Device<float> dx(x), dy(y), ox(64), oy(64);
  Device<uint32_t> early(64), barrier_only(64);
  const cudaLaunchConfig_t cfg = config(1, 64);
  CUDA_OK(cudaLaunchKernelEx(&cfg, cp_async_groups, (const float*)dx.p, (const float*)dy.p, ox.p, oy.p, early.p,
                             barrier_only.p));
  CUDA_OK(cudaDeviceSynchronize());
  report("cp.async two groups: wait_group 1 lands the first, wait_group 0 the second", ox.get() == x && oy.get() == y);
  if (simulator) {
    int poison = 0, poison_barrier = 0;
    for (uint32_t v : early.get()) poison += v == 0xffffffffu;
    for (uint32_t v : barrier_only.get()) poison_barrier += v == 0xffffffffu;
    report("cp.async data read before its group's wait is poison", poison == 64,
           std::to_string(poison) + " of 64 poisoned");
    report("cp.async data read after a barrier but without a wait is poison", poison_barrier == 64,
           std::to_string(poison_barrier) + " of 64 poisoned");
  }
}

// ---- a GEMM through cp.async + ldmatrix + mma.sync -----------------------------------
void check_gemm(Elem e, int M, int N, int K, int batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> A(size_t(batch) * M * K), B(size_t(batch) * K * N);
  for (auto& v : A) v = to_bits(real_value(rng, 1.0f), e);
  for (auto& v : B) v = to_bits(real_value(rng, 1.0f), e);
  Device<uint16_t> dA(A), dB(B);
  Device<float> dC(size_t(batch) * M * N);
  CUDA_OK(cudaMemset(dC.p, 0xff, dC.n * sizeof(float)));
  if (e == Elem::F16)
    CUDA_OK(tile_gemm::launch(reinterpret_cast<const __half*>(dA.p), reinterpret_cast<const __half*>(dB.p), dC.p, M, N, K,
                              batch));
  else
    CUDA_OK(tile_gemm::launch(reinterpret_cast<const __nv_bfloat16*>(dA.p), reinterpret_cast<const __nv_bfloat16*>(dB.p),
                              dC.p, M, N, K, batch));
  CUDA_OK(cudaDeviceSynchronize());
  const std::vector<float> C = dC.get();
  long bad = 0;
  std::string first;
  for (int z = 0; z < batch; ++z)
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        double ref = 0, mag = 0;
        for (int k = 0; k < K; ++k) {
          const double p = from_bits(A[(size_t(z) * M + m) * K + k], e) * from_bits(B[(size_t(z) * K + k) * N + n], e);
          ref += p;
          mag += std::fabs(p);
        }
        // K fp32 additions (mma chains of 16, chained through the accumulator).
        const double tol = (K + 1) * std::ldexp(mag, -23);
        const double got = C[(size_t(z) * M + m) * N + n];
        if (!(std::fabs(got - ref) <= tol) && !bad++)
          first = "C[" + std::to_string(z) + "][" + std::to_string(m) + "][" + std::to_string(n) + "] = " +
                  std::to_string(got) + ", expected " + std::to_string(ref);
      }
  char name[128];
  std::snprintf(name, sizeof name, "tile GEMM %s M=%d N=%d K=%d batch %d (cp.async + ldmatrix + mma.sync)", elem_name(e),
                M, N, K, batch);
  report(name, bad == 0, bad ? std::to_string(bad) + " wrong, first " + first : "");
}

#ifdef __CUDACC_SIM__
// ---- errors the simulator reports (undefined behaviour on a GPU) ---------------------
// Each instruction sits on one line with a constant holding that line, which the
// simulator's message must name.
constexpr uint32_t kOnes = 0x3c003c00u;  // f16x2 (1.0, 1.0)
__device__ __forceinline__ void mma_site_a(float (&d)[4]) { asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(kOnes), "r"(kOnes), "r"(kOnes), "r"(kOnes), "r"(kOnes), "r"(kOnes)); } constexpr int kMmaSiteA = __LINE__;
__device__ __forceinline__ void mma_site_b(float (&d)[4]) { asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(kOnes), "r"(kOnes), "r"(kOnes), "r"(kOnes), "r"(kOnes), "r"(kOnes)); } constexpr int kMmaSiteB = __LINE__;
__device__ __forceinline__ uint32_t ldmatrix_x1(uint32_t addr) { uint32_t r; asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r) : "r"(addr)); return r; } constexpr int kLdmatrixSite = __LINE__;
__device__ __forceinline__ void copy_4(uint32_t dst, const void* src) { asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(dst), "l"(src)); } constexpr int kCopySite = __LINE__;
__device__ __forceinline__ uint32_t shared_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); } constexpr int kCvtaSite = __LINE__;

__global__ void half_warp_mma(float* out) {
  float d[4] = {0, 0, 0, 0};
  if (threadIdx.x >= 16) return;
  mma_site_a(d);
  out[threadIdx.x] = d[0];
}

__global__ void divergent_mma(float* out) {
  float d[4] = {0, 0, 0, 0};
  if (threadIdx.x < 16)
    mma_site_a(d);
  else
    mma_site_b(d);
  out[threadIdx.x] = d[0];
}

__global__ void partial_warp_ldmatrix(uint32_t* out) {
  __shared__ __align__(16) uint16_t s[8][8];
  out[threadIdx.x] = ldmatrix_x1(shared_u32(s[threadIdx.x % 8]));
}

__global__ void misaligned_ldmatrix(uint32_t* out) {
  __shared__ __align__(16) uint16_t s[8][16];
  out[threadIdx.x] = ldmatrix_x1(shared_u32(&s[threadIdx.x % 8][threadIdx.x == 5 ? 4 : 0]));
}

__global__ void cp_async_outside_allocation(const float* src, float* out) {
  __shared__ __align__(16) float s[32];
  copy_4(shared_u32(&s[threadIdx.x]), src + 1000000);
  asm volatile("cp.async.wait_all;\n" ::);
  out[threadIdx.x] = s[threadIdx.x];
}

__global__ void cvta_of_global(float* p) { p[0] = float(shared_u32(p)); }

// Launches, expects a launch failure at the next synchronisation, and checks that the
// simulator's message holds every expected piece.
template <class Kernel, class... Args>
void expect_fault(const char* name, dim3 block, std::vector<std::string> pieces, Kernel kernel, Args... args) {
  const cudaLaunchConfig_t cfg = config(1, block);
  cudaError_t e = cudaLaunchKernelEx(&cfg, kernel, args...);
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  const std::string message = gpusim::last_error_message();
  std::string missing;
  for (const std::string& p : pieces)
    if (message.find(p) == std::string::npos) missing += " [" + p + "]";
  cudaGetLastError();
  report(name, e == cudaErrorLaunchFailure && missing.empty(),
         std::string("(") + cudaGetErrorName(e) + ": " + message + ")" + (missing.empty() ? "" : " missing:" + missing));
}

void check_errors() {
  const std::string file = "tensor_core_conformance.cu:";
  Device<float> f(64);
  Device<uint32_t> u(64);
  const std::string mma = "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32";
  expect_fault("mma from half a warp (the other lanes exited) is reported", 32,
               {"half_warp_mma", mma, file + std::to_string(kMmaSiteA), "all 32 lanes", "0x0000ffff"},
               half_warp_mma, f.p);
  expect_fault("mma in a block of 16 threads (a partial warp) is reported", 16,
               {"half_warp_mma", mma, "all 32 lanes"}, half_warp_mma, f.p);
  expect_fault("mma at two call sites of one warp is reported", 32,
               {"divergent_mma", "divergent " + mma, file + std::to_string(kMmaSiteA),
                file + std::to_string(kMmaSiteB)},
               divergent_mma, f.p);
  expect_fault("ldmatrix from a partial warp is reported", 8,
               {"partial_warp_ldmatrix", "ldmatrix.sync.aligned.m8n8.x1.shared.b16",
                file + std::to_string(kLdmatrixSite), "all 32 lanes"},
               partial_warp_ldmatrix, u.p);
  expect_fault("ldmatrix with a misaligned row address is reported", 32,
               {"misaligned_ldmatrix", file + std::to_string(kLdmatrixSite), "lane 5",
                "not 16-byte aligned"},
               misaligned_ldmatrix, u.p);
  expect_fault("cp.async from outside any allocation is reported", 32,
               {"cp_async_outside_allocation", "cp.async.ca.shared.global", file + std::to_string(kCopySite),
                "not inside one cudaMalloc allocation"},
               cp_async_outside_allocation, (const float*)f.p, f.p);
  expect_fault("__cvta_generic_to_shared of global memory is reported", 1,
               {"cvta_of_global", file + std::to_string(kCvtaSite), "is not shared memory"}, cvta_of_global,
               f.p);
}
#endif

}  // namespace

int main() {
#ifndef __CUDACC_SIM__
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  const bool simulator = false;
#else
  const bool simulator = true;
#endif
  for (int exact = 1; exact >= 0; --exact) {
    check_mma<16, false, 0>(exact, 1);
    check_mma<16, false, 1>(exact, 2);
    check_mma<16, true, 0>(exact, 3);
    check_mma<16, true, 1>(exact, 4);
    check_mma<8, false, 0>(exact, 5);
    check_mma<8, true, 0>(exact, 6);
  }
  check_ldmatrix<1, false>(21);
  check_ldmatrix<1, true>(22);
  check_ldmatrix<2, false>(23);
  check_ldmatrix<2, true>(24);
  check_ldmatrix<4, false>(25);
  check_ldmatrix<4, true>(26);
  check_cp_async_zero_fill();
  check_cp_async_groups(simulator);
  check_gemm(Elem::F16, 64, 64, 64, 1, 31);
  check_gemm(Elem::BF16, 64, 64, 64, 1, 32);
  check_gemm(Elem::F16, 77, 40, 72, 2, 33);  // edges in M, N and K; two batches
  check_gemm(Elem::BF16, 131, 136, 40, 1, 34);
  check_gemm(Elem::F16, 1, 8, 8, 1, 35);
#ifdef __CUDACC_SIM__
  check_errors();
#endif
  if (failures) {
    std::printf("%d FAILED\n", failures);
    return 1;
  }
  std::printf("ALL OK\n");
  return 0;
}
