// Must NOT compile: checks that simcc's rewritten copy keeps the user's file name and
// line numbers (the #line directive and line-preserving rewrites), so the compiler's
// error names this file at the line of the bad statement below.
#include <cuda_runtime.h>

extern __shared__ double
    spread_over_lines[];  // a multi-line declaration before the error

__global__ void k(float* p) {
  p[threadIdx.x] = spread_over_lines[0];
}

int main() {
  float* d = nullptr;
  k<<<1,
      32>>>(
      d);
  undeclared_identifier = 1;  // line 18: the error must name this line
  return 0;
}
