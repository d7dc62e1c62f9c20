#include "kernels.cuh"

__global__ void reverse_blocks(int* p) {
  extern __shared__ int slice_buffer[];
  const int base = blockIdx.x * blockDim.x;
  slice_buffer[threadIdx.x] = p[base + threadIdx.x];
  __syncthreads();
  p[base + threadIdx.x] = slice_buffer[blockDim.x - 1 - threadIdx.x];
}
