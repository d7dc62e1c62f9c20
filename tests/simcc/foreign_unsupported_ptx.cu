// Inline PTX the simulator does not execute must not compile for it: the error names the
// instruction and the line (here: a named barrier, line 6).
__global__ void uses_bar(int* out) {
  out[threadIdx.x] = 1;
  // the next line is the one the error must name
  asm volatile("bar.sync 1, 64;");
}

int main() { return 0; }
