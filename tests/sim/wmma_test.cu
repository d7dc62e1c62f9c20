// nvcuda::wmma 16x16x16 fragments against a CPU matmul: half and bf16 inputs with
// float accumulation (and half accumulation), A and B in row- and column-major
// memory, the accumulator loaded and stored in both layouts, fragments' num_elements
// as on hardware, and a multi-warp tiled GEMM with leading dimensions above 16.
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <mma.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_wmma {
using namespace simtest;
using namespace nvcuda;

// num_elements per lane as on sm_80/sm_90 (the CUDA headers' fragment specialisations).
static_assert(wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major>::num_elements == 16);
static_assert(wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major>::num_elements == 16);
static_assert(wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major>::num_elements == 8);
static_assert(wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major>::num_elements == 8);
static_assert(wmma::fragment<wmma::accumulator, 16, 16, 16, float>::num_elements == 8);
static_assert(wmma::fragment<wmma::accumulator, 16, 16, 16, __half>::num_elements == 8);

// D = A * B + C for one 16x16x16 tile per block (one warp). A is 16x16 in memory with
// layout LA, B likewise LB; C is loaded with c_layout and D stored with d_layout.
template <class T, class LA, class LB> __global__ void tile_mma(const T* a, const T* b, const float* c, float* d,
                                                                wmma::layout_t c_layout, wmma::layout_t d_layout) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, T, LA> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, T, LB> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::load_matrix_sync(acc, c, 16, c_layout);
  wmma::mma_sync(acc, fa, fb, acc);  // D may alias C
  wmma::store_matrix_sync(d, acc, 16, d_layout);
}

template <class L> constexpr bool is_row = std::is_same_v<L, wmma::row_major>;

// Element (r, c) of a 16x16 matrix stored with the given layout.
size_t at(bool row_major, int r, int c) { return row_major ? size_t(r) * 16 + c : size_t(c) * 16 + r; }

template <class T, class LA, class LB> void check_tile(wmma::layout_t c_layout, wmma::layout_t d_layout) {
  // Small integers and halves: every product and sum is exact in float, so the
  // result is exact whatever order the hardware (or simulator) accumulates in.
  std::vector<float> A(256), B(256), C(256);
  for (int i = 0; i < 256; ++i) {
    A[i] = float(int(mix(unsigned(i)) % 9) - 4) * 0.5f;
    B[i] = float(int(mix(unsigned(i) + 1000) % 7) - 3);
    C[i] = float(int(mix(unsigned(i) + 2000) % 101) - 50) * 0.25f;
  }
  std::vector<T> ha(256), hb(256);
  std::vector<float> hc(256);
  for (int r = 0; r < 16; ++r)
    for (int k = 0; k < 16; ++k) {
      ha[at(is_row<LA>, r, k)] = T(A[r * 16 + k]);
      hb[at(is_row<LB>, r, k)] = T(B[r * 16 + k]);
      hc[at(c_layout == wmma::mem_row_major, r, k)] = C[r * 16 + k];
    }
  DeviceBuffer<T> da(ha), db(hb);
  DeviceBuffer<float> dc(hc), dd(256);
  auto cfg = launch_config(dim3(1), dim3(32));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, tile_mma<T, LA, LB>, static_cast<const T*>(da.get()),
                                     static_cast<const T*>(db.get()), static_cast<const float*>(dc.get()), dd.get(),
                                     c_layout, d_layout));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<float> d = dd.download();
  for (int r = 0; r < 16; ++r)
    for (int col = 0; col < 16; ++col) {
      float want = C[r * 16 + col];
      for (int k = 0; k < 16; ++k) want += A[r * 16 + k] * B[k * 16 + col];
      ASSERT_EQ(d[at(d_layout == wmma::mem_row_major, r, col)], want)
          << "D(" << r << "," << col << ") A " << (is_row<LA> ? "row" : "col") << " B " << (is_row<LB> ? "row" : "col")
          << " C " << (c_layout == wmma::mem_row_major ? "row" : "col") << " D "
          << (d_layout == wmma::mem_row_major ? "row" : "col");
    }
}

template <class T> void check_all_layouts() {
  for (auto cl : {wmma::mem_row_major, wmma::mem_col_major})
    for (auto dl : {wmma::mem_row_major, wmma::mem_col_major}) {
      check_tile<T, wmma::row_major, wmma::row_major>(cl, dl);
      check_tile<T, wmma::row_major, wmma::col_major>(cl, dl);
      check_tile<T, wmma::col_major, wmma::row_major>(cl, dl);
      check_tile<T, wmma::col_major, wmma::col_major>(cl, dl);
    }
}

class Wmma : public SimTest {};

TEST_F(Wmma, HalfInputsFloatAccumulatorAllLayouts) { check_all_layouts<__half>(); }
TEST_F(Wmma, Bf16InputsFloatAccumulatorAllLayouts) { check_all_layouts<__nv_bfloat16>(); }

// Half accumulator: C and D are half.
__global__ void tile_mma_half_acc(const __half* a, const __half* b, const __half* c, __half* d) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, __half> acc;
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::load_matrix_sync(acc, c, 16, wmma::mem_row_major);
  wmma::mma_sync(acc, fa, fb, acc);
  wmma::store_matrix_sync(d, acc, 16, wmma::mem_col_major);
}

TEST_F(Wmma, HalfAccumulator) {
  std::vector<float> A(256), B(256), C(256);
  std::vector<__half> ha(256), hb(256), hc(256);
  for (int i = 0; i < 256; ++i) {
    A[i] = float(int(mix(unsigned(i)) % 5) - 2);
    B[i] = float(int(mix(unsigned(i) + 7) % 5) - 2) * 0.5f;
    C[i] = float(int(mix(unsigned(i) + 9) % 41) - 20);
    ha[i] = __half(A[i]);
    hb[i] = __half(B[i]);
    hc[i] = __half(C[i]);
  }
  DeviceBuffer<__half> da(ha), db(hb), dc(hc), dd(256);
  auto cfg = launch_config(dim3(1), dim3(32));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, tile_mma_half_acc, static_cast<const __half*>(da.get()),
                                     static_cast<const __half*>(db.get()), static_cast<const __half*>(dc.get()),
                                     dd.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<__half> d = dd.download();
  for (int r = 0; r < 16; ++r)
    for (int col = 0; col < 16; ++col) {
      float want = C[r * 16 + col];
      for (int k = 0; k < 16; ++k) want += A[r * 16 + k] * B[k * 16 + col];  // small: exact in half
      ASSERT_EQ(float(d[size_t(col) * 16 + r]), want) << "D(" << r << "," << col << ")";
    }
}

// A tiled GEMM, M x N x K = 48 x 64 x 80, row-major A (lda = K), col-major B (ldb = K),
// row-major C/D (ldc = N); a block of 4 warps, each warp computes 16x16 tiles of D and
// walks K in steps of 16; fill_fragment starts the accumulator at `beta`.
constexpr int M = 48, N = 64, K = 80;

__global__ void gemm(const __half* a, const __half* b, float* d, float beta) {
  const int warp = int(threadIdx.x / 32), warps = int(blockDim.x / 32);
  for (int tile = int(blockIdx.x) * warps + warp; tile < (M / 16) * (N / 16); tile += int(gridDim.x) * warps) {
    const int tm = tile / (N / 16), tn = tile % (N / 16);
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, beta);
    for (int k = 0; k < K; k += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb;
      wmma::load_matrix_sync(fa, a + size_t(tm) * 16 * K + k, K);
      wmma::load_matrix_sync(fb, b + size_t(tn) * 16 * K + k, K);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    for (int e = 0; e < acc.num_elements; ++e) acc.x[e] *= 2.0f;  // elementwise on fragments
    wmma::store_matrix_sync(d + size_t(tm) * 16 * N + size_t(tn) * 16, acc, N, wmma::mem_row_major);
  }
}

TEST_F(Wmma, TiledGemmWithSeveralWarpsMatchesCpu) {
  std::vector<__half> ha(M * K), hb(K * N);
  std::vector<float> fa(M * K), fb(K * N);
  for (int i = 0; i < M * K; ++i) {
    ha[i] = __half(float(int(mix(unsigned(i)) % 2001) - 1000) / 1024.0f);
    fa[i] = float(ha[i]);
  }
  for (int i = 0; i < K * N; ++i) {  // stored column-major: element (k, n) at n * K + k
    hb[i] = __half(float(int(mix(unsigned(i) + 55555) % 2001) - 1000) / 512.0f);
    fb[i] = float(hb[i]);
  }
  DeviceBuffer<__half> da(ha), db(hb);
  DeviceBuffer<float> dd(M * N);
  auto cfg = launch_config(dim3(3), dim3(128));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, gemm, static_cast<const __half*>(da.get()),
                                     static_cast<const __half*>(db.get()), dd.get(), 0.75f));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<float> d = dd.download();
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double want = 0.75, magnitude = 0.75;
      for (int k = 0; k < K; ++k) {
        want += double(fa[m * K + k]) * double(fb[n * K + k]);
        magnitude += std::fabs(double(fa[m * K + k]) * double(fb[n * K + k]));
      }
      // float accumulation of K products: error well below K * 2^-24 * magnitude
      ASSERT_NEAR(d[m * N + n], 2.0 * want, 2.0 * K * 0x1p-24 * magnitude) << m << "," << n;
    }
}

// wmma operations are warp-wide: a warp with only 16 lanes (a block of 48 threads)
// cannot run mma_sync; that is reported, not computed with missing lanes.
__global__ void mma_in_partial_warp(const __half* a, float* d) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, a, 16);
  wmma::mma_sync(acc, fa, fb, acc);  // SITE(partial_warp_mma)
  wmma::store_matrix_sync(d + (threadIdx.x / 32) * 256, acc, 16, wmma::mem_row_major);
}

TEST_F(Wmma, PartialWarpIsAnError) {
  DeviceBuffer<__half> a(std::vector<__half>(256, __half(1.0f)));
  DeviceBuffer<float> d(512);
  auto cfg = launch_config(dim3(1), dim3(48));
  EXPECT_EQ(cudaLaunchKernelEx(&cfg, mma_in_partial_warp, static_cast<const __half*>(a.get()), d.get()), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
  EXPECT_TRUE(MessageHas({"mma_in_partial_warp", "needs all 32 lanes", site(__FILE__, "partial_warp_mma")}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  // A full warp of the same kernel runs: every element of D is 16 (ones times ones).
  auto full = launch_config(dim3(1), dim3(64));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&full, mma_in_partial_warp, static_cast<const __half*>(a.get()), d.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  EXPECT_EQ(d.download(), std::vector<float>(512, 16.0f));
}

}  // namespace sim_wmma
