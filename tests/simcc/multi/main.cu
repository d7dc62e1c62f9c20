// Two translation units and a header: kernels.cu defines reverse_blocks, this file
// launches it through a macro from kernels.cuh and a qualified template kernel with a
// parenthesised template argument.
#include <cuda_runtime.h>

#include <cstdio>

#include "kernels.cuh"

int main() {
  const int blocks = 4, threads = 64, n = blocks * threads;
  int* d = nullptr;
  if (cudaMalloc(&d, n * sizeof(int)) != cudaSuccess) return 2;
  ::foreign::fill<(3 > 2 ? 5 : 1)> <<< dim3(blocks), dim3(threads) >>> (d, n);
  int h[n];
  cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
  int bad = 0;
  for (int i = 0; i < n; ++i) bad += h[i] != 5;
  std::printf("foreign::fill<5>: %d mismatches %s\n", bad, bad ? "FAIL" : "OK");
  for (int i = 0; i < n; ++i) h[i] = i;
  cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
  LAUNCH_REVERSE(d, blocks, threads);
  if (cudaDeviceSynchronize() != cudaSuccess) return 3;
  cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
  for (int i = 0; i < n; ++i) bad += h[i] != (i / threads) * threads + (threads - 1 - i % threads);
  std::printf("multi-file reverse: %d mismatches %s\n", bad, bad ? "FAIL" : "OK");
  return bad ? 1 : 0;
}
