// Kernels and a launch macro in a header, as foreign projects have them: simcc rewrites
// quoted includes found next to the including file, macro bodies included.
#pragma once

namespace foreign {
template <int N>
__global__ void fill(int* p, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = N;
}
}  // namespace foreign

// Reverses each block's slice through dynamic shared memory (extern __shared__ in a
// header, under yet another name).
__global__ void reverse_blocks(int* p);

#define LAUNCH_REVERSE(ptr, blocks, threads) \
  reverse_blocks<<<(blocks), (threads), (threads) * sizeof(int)>>>(ptr)
