// A foreign CUDA program with two bugs that a CPU would otherwise hide, compiled by
// scripts/simcc. On the simulator each must come back as a cudaError_t: from the launch
// itself (a host pointer passed to a kernel) and from cudaDeviceSynchronize (threads of
// one block at two different __syncthreads). The program prints each error and exits 1,
// as a CUDA program with error checks would; the test checks both lines and the code.
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

__global__ void scale(float* data, float factor, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] *= factor;
}

__global__ void divergent_barrier(int* out) {
  extern __shared__ int scratch[];
  scratch[threadIdx.x] = int(threadIdx.x);
  if (threadIdx.x < 16) {
    __syncthreads();  // the first half of the block waits here ...
  } else {
    __syncthreads();  // ... the second half here: undefined behaviour on a GPU
  }
  out[threadIdx.x] = scratch[blockDim.x - 1 - threadIdx.x];
}

static void report(const char* what, cudaError_t e) {
  std::printf("%s: %s (%d): %s\n", what, cudaGetErrorName(e), int(e), cudaGetErrorString(e));
}

int main() {
  int failures = 0;
  std::vector<float> host(64, 1.0f);

  // 1. host pointer, <<<>>> launch: the error is the launch's, via cudaGetLastError
  scale<<<1, 64>>>(host.data(), 2.0f, 64);
  cudaError_t e = cudaGetLastError();
  report("host pointer, <<<>>> + cudaGetLastError", e);
  failures += e != cudaSuccess;

  // 2. the same with cudaLaunchKernelEx: the launch returns it
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(1);
  cfg.blockDim = dim3(64);
  e = cudaLaunchKernelEx(&cfg, scale, host.data(), 2.0f, 64);
  report("host pointer, cudaLaunchKernelEx", e);
  failures += e != cudaSuccess;
  (void)cudaGetLastError();

  // 3. divergent barrier: the launch succeeds, the kernel fails while it runs
  int* d_out = nullptr;
  if (cudaMalloc(&d_out, 32 * sizeof(int)) != cudaSuccess) return 2;
  // (No cudaGetLastError between the launch and the synchronisation: the simulator runs
  // the kernel inside the launch, and its cudaGetLastError would consume the error.)
  divergent_barrier<<<2, 32, 32 * sizeof(int)>>>(d_out);
  e = cudaDeviceSynchronize();
  report("divergent barrier, cudaDeviceSynchronize", e);
  failures += e != cudaSuccess;
  cudaFree(d_out);

  std::printf("%d of 3 errors reported\n", failures);
  return failures == 3 ? 1 : 0;
}
