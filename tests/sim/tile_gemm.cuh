// A tensor-core GEMM tile written as CUDA engineers write one: global -> shared by
// cp.async (zero fill at the edges, two stages, two commit groups in flight), shared ->
// registers by ldmatrix (.trans for B), mma.sync m16n8k16 with fp32 accumulators.
//
//   C[M x N] (fp32, row-major) = A[M x K] (f16 or bf16, row-major) * B[K x N] (row-major)
//
// One block of 128 threads (2 x 2 warps, each 32 x 32) computes a 64 x 64 tile of C;
// K runs in chunks of 32. Requirements: K and N multiples of 8 (every 8-element chunk of
// a row is a 16-byte cp.async), A and B 16-byte aligned. Any M, any number of tiles.
// The same source builds with nvcc (sm_80 and later) and for the gpusim simulator
// (the conformance test tests/sim/tensor_core_conformance.cu and bench/tensor_core_bench.cu).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

namespace tile_gemm {

constexpr int kBM = 64, kBN = 64, kBK = 32, kThreads = 128;
// Rows padded by 8 elements (16 bytes): the 8 row addresses of one ldmatrix matrix then
// fall in 8 different 16-byte bank groups, and every row start stays 16-byte aligned.
constexpr int kAStride = kBK + 8, kBStride = kBN + 8;

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes from global to shared; only the first `valid_bytes` are read, the rest are zeros.
__device__ __forceinline__ void copy_16(void* smem, const void* gmem, int valid_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(smem)), "l"(gmem),
               "r"(valid_bytes));
}

template <class T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  if constexpr (std::is_same_v<T, __half>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

// One stage of the A and B tiles: chunk i of the 256 16-byte chunks of each.
template <class T>
__device__ __forceinline__ void load_stage(T (*As)[kAStride], T (*Bs)[kBStride], const T* A, const T* B, int M, int N,
                                           int K, int m0, int n0, int k0) {
  for (int i = int(threadIdx.x); i < kBM * kBK / 8; i += kThreads) {
    const int r = i / (kBK / 8), c = (i % (kBK / 8)) * 8;
    const int gm = m0 + r, gk = k0 + c;
    const int valid = gm < M && gk < K ? (K - gk < 8 ? K - gk : 8) : 0;
    copy_16(&As[r][c], valid ? A + size_t(gm) * K + gk : A, valid * 2);
  }
  for (int i = int(threadIdx.x); i < kBK * kBN / 8; i += kThreads) {
    const int r = i / (kBN / 8), c = (i % (kBN / 8)) * 8;
    const int gk = k0 + r, gn = n0 + c;
    const int valid = gk < K && gn < N ? (N - gn < 8 ? N - gn : 8) : 0;
    copy_16(&Bs[r][c], valid ? B + size_t(gk) * N + gn : B, valid * 2);
  }
}

// blockIdx.x: tile column, blockIdx.y: tile row, blockIdx.z: batch (A, B and C strided).
template <class T>
__global__ void __launch_bounds__(kThreads)
    gemm(const T* A, const T* B, float* C, int M, int N, int K, long long a_batch, long long b_batch,
         long long c_batch) {
  __shared__ __align__(16) T As[2][kBM][kAStride];
  __shared__ __align__(16) T Bs[2][kBK][kBStride];
  A += blockIdx.z * a_batch;
  B += blockIdx.z * b_batch;
  C += blockIdx.z * c_batch;
  const int m0 = int(blockIdx.y) * kBM, n0 = int(blockIdx.x) * kBN;
  const int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
  float acc[2][4][4] = {};

  const int k_tiles = (K + kBK - 1) / kBK;
  load_stage(As[0], Bs[0], A, B, M, N, K, m0, n0, 0);
  asm volatile("cp.async.commit_group;\n" ::);
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int s = kt % 2;
    if (kt + 1 < k_tiles) {
      load_stage(As[s ^ 1], Bs[s ^ 1], A, B, M, N, K, m0, n0, (kt + 1) * kBK);
      asm volatile("cp.async.commit_group;\n" ::);
      asm volatile("cp.async.wait_group 1;\n" ::);  // this stage landed, the next may be in flight
    } else {
      asm volatile("cp.async.wait_group 0;\n" ::);
    }
    __syncthreads();
    for (int kk = 0; kk < kBK; kk += 16) {
      uint32_t a[2][4], b[4][2];
      // A: matrices (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15)
      // are registers a0..a3 of the m16n8k16 A fragment; lane l gives row l % 8 of matrix l / 8.
      for (int mi = 0; mi < 2; ++mi) {
        const int row = wm + mi * 16 + lane % 8 + ((lane / 8) % 2) * 8, col = kk + (lane / 16) * 8;
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(a[mi][0]), "=r"(a[mi][1]), "=r"(a[mi][2]), "=r"(a[mi][3])
                     : "r"(shared_address(&As[s][row][col])));
      }
      // B is stored k-major (rows k, columns n), so .trans gives lane l the pair B[2t][g],
      // B[2t + 1][g]; matrices (k 0-7, n 0-7), (k 8-15, n 0-7), (k 0-7, n 8-15), (k 8-15, n 8-15)
      // are b0, b1 of two n8 tiles.
      for (int nj = 0; nj < 2; ++nj) {
        const int row = kk + lane % 8 + ((lane / 8) % 2) * 8, col = wn + nj * 16 + (lane / 16) * 8;
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(b[2 * nj][0]), "=r"(b[2 * nj][1]), "=r"(b[2 * nj + 1][0]), "=r"(b[2 * nj + 1][1])
                     : "r"(shared_address(&Bs[s][row][col])));
      }
      for (int mi = 0; mi < 2; ++mi)
        for (int ni = 0; ni < 4; ++ni) mma_16816<T>(acc[mi][ni], a[mi], b[ni]);
    }
    __syncthreads();  // the stage is overwritten by the next iteration's copies
  }
  // C fragment: c0, c1 at row g, columns 2t, 2t + 1; c2, c3 at row g + 8.
  const int g = lane / 4, t = lane % 4;
  for (int mi = 0; mi < 2; ++mi)
    for (int ni = 0; ni < 4; ++ni)
      for (int h = 0; h < 2; ++h) {
        const int row = m0 + wm + mi * 16 + g + 8 * h;
        const int col = n0 + wn + ni * 8 + 2 * t;
        if (row < M && col < N) C[size_t(row) * N + col] = acc[mi][ni][2 * h];
        if (row < M && col + 1 < N) C[size_t(row) * N + col + 1] = acc[mi][ni][2 * h + 1];
      }
}

template <class T>
cudaError_t launch(const T* A, const T* B, float* C, int M, int N, int K, int batch = 1, cudaStream_t stream = nullptr) {
  if (M <= 0 || N <= 0 || K <= 0 || K % 8 || N % 8 || batch <= 0) return cudaErrorInvalidValue;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(unsigned((N + kBN - 1) / kBN), unsigned((M + kBM - 1) / kBM), unsigned(batch));
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, gemm<T>, A, B, C, M, N, K, (long long)M * K, (long long)K * N, (long long)M * N);
}

}  // namespace tile_gemm
