// A "foreign" CUDA program, written the way CUDA samples are (<<<>>> launches,
// extern __shared__ arrays under their own names), that scripts/simcc must compile
// unchanged for the simulator. It prints one line per check and exits 0 only if all
// pass. Nothing here is specific to gpusim.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(call)                                                                        \
  do {                                                                                     \
    cudaError_t err_ = (call);                                                             \
    if (err_ != cudaSuccess) {                                                             \
      std::printf("CUDA error %s (%s) at %s:%d\n", cudaGetErrorName(err_),                  \
                  cudaGetErrorString(err_), __FILE__, __LINE__);                           \
      std::exit(1);                                                                        \
    }                                                                                      \
  } while (0)

// File-scope dynamic shared memory, as in the CUDA reduction samples.
extern __shared__ float sdata[];

__global__ void vector_add(const float* a, const float* b, float* c, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// Block reduction: grid-stride load, tree in shared memory down to one warp, then
// warp shuffles. Needs blockDim.x * sizeof(float) bytes of dynamic shared memory.
__global__ void reduce_sum(const float* __restrict__ in, float* __restrict__ block_sums, int n) {
  const unsigned tid = threadIdx.x;
  float v = 0.0f;
  for (int i = blockIdx.x * blockDim.x + tid; i < n; i += blockDim.x * gridDim.x) v += in[i];
  sdata[tid] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s >= 32; s >>= 1) {
    if (tid < s) sdata[tid] += sdata[tid + s];
    __syncthreads();
  }
  if (tid < 32) {
    v = sdata[tid];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (tid == 0) block_sums[blockIdx.x] = v;
  }
}

// A templated kernel with its own extern __shared__ array of a vector type, declared
// inside the kernel; the launch names a template-id with two arguments.
template <typename T, int Scale>
__global__ void pair_reverse(const int2* in, T* out, int n) {
  extern __shared__ int2 pairs[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) pairs[threadIdx.x] = in[i];
  __syncthreads();
  const int j = blockDim.x - 1 - threadIdx.x;
  const int src = blockIdx.x * blockDim.x + j;
  if (i < n && src < n) out[i] = T(Scale) * T(pairs[j].x - pairs[j].y);
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

int main() {
  bool ok = true;
  const int n = 1 << 16;
  std::vector<float> ha(n), hb(n), hc(n);
  for (int i = 0; i < n; ++i) {
    ha[i] = float(i % 17) * 0.5f;
    hb[i] = float(i % 5) - 2.0f;
  }
  float *da, *db, *dc;
  CHECK(cudaMalloc(&da, n * sizeof(float)));
  CHECK(cudaMalloc((void**)&db, n * sizeof(float)));
  CHECK(cudaMalloc(&dc, n * sizeof(float)));
  CHECK(cudaMemcpy(da, ha.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(db, hb.data(), n * sizeof(float), cudaMemcpyHostToDevice));

  // 1. vector add with <<<grid, block>>>
  vector_add<<<ceil_div(n, 256), 256>>>(da, db, dc, n);
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaMemcpy(hc.data(), dc, n * sizeof(float), cudaMemcpyDeviceToHost));
  int bad = 0;
  for (int i = 0; i < n; ++i) bad += hc[i] != ha[i] + hb[i];
  std::printf("vector_add <<<>>>: %d mismatches %s\n", bad, bad ? "FAIL" : "OK");
  ok = ok && bad == 0;

  // 2. reduction with <<<grid, block, smem, stream>>>, arguments spread over lines
  //    and nested parentheses in the configuration
  double expect = 0;
  for (int i = 0; i < n; ++i) expect += double(hc[i]);
  const int threads = 256, blocks = 40;
  float* dsums;
  CHECK(cudaMalloc(&dsums, blocks * sizeof(float)));
  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream));
  reduce_sum<<<dim3(ceil_div(blocks * threads, (threads))), dim3(threads, 1, 1),
               threads * sizeof(float), stream>>>(static_cast<const float*>(dc),
                                                    dsums,
                                                    n);
  CHECK(cudaGetLastError());
  CHECK(cudaStreamSynchronize(stream));
  std::vector<float> hs(blocks);
  CHECK(cudaMemcpy(hs.data(), dsums, blocks * sizeof(float), cudaMemcpyDeviceToHost));
  double got = 0;
  for (float s : hs) got += s;
  const bool red1 = std::fabs(got - expect) <= 1e-6 * std::fabs(expect) + 1e-3;
  std::printf("reduce_sum <<<>>>: sum=%.1f expected=%.1f %s\n", got, expect, red1 ? "OK" : "FAIL");
  ok = ok && red1;

  // 3. the same reduction with cudaLaunchKernelEx
  CHECK(cudaMemset(dsums, 0, blocks * sizeof(float)));
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(blocks);
  cfg.blockDim = dim3(threads);
  cfg.dynamicSmemBytes = threads * sizeof(float);
  cfg.stream = nullptr;
  CHECK(cudaLaunchKernelEx(&cfg, reduce_sum, static_cast<const float*>(dc), dsums, n));
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaMemcpy(hs.data(), dsums, blocks * sizeof(float), cudaMemcpyDeviceToHost));
  got = 0;
  for (float s : hs) got += s;
  const bool red2 = std::fabs(got - expect) <= 1e-6 * std::fabs(expect) + 1e-3;
  std::printf("reduce_sum cudaLaunchKernelEx: sum=%.1f expected=%.1f %s\n", got, expect, red2 ? "OK" : "FAIL");
  ok = ok && red2;

  // 4. template kernel, int2 shared array declared in the kernel
  const int m = 1000;
  std::vector<int2> hp(m);
  for (int i = 0; i < m; ++i) hp[i] = make_int2(3 * i, i);
  int2* dp;
  long long* dout;
  CHECK(cudaMalloc(&dp, m * sizeof(int2)));
  CHECK(cudaMalloc(&dout, m * sizeof(long long)));
  CHECK(cudaMemset(dout, 0, m * sizeof(long long)));
  CHECK(cudaMemcpy(dp, hp.data(), m * sizeof(int2), cudaMemcpyHostToDevice));
  pair_reverse<long long, 3><<<m / 100, 100, 100 * sizeof(int2)>>>(dp, dout, m);
  CHECK(cudaDeviceSynchronize());
  std::vector<long long> hout(m);
  CHECK(cudaMemcpy(hout.data(), dout, m * sizeof(long long), cudaMemcpyDeviceToHost));
  bad = 0;
  for (int i = 0; i < m; ++i) {
    const int src = (i / 100) * 100 + (99 - i % 100);
    bad += hout[i] != 3LL * (hp[src].x - hp[src].y);
  }
  std::printf("pair_reverse<long long, 3> <<<>>>: %d mismatches %s\n", bad, bad ? "FAIL" : "OK");
  ok = ok && bad == 0;

  CHECK(cudaStreamDestroy(stream));
  CHECK(cudaFree(da));
  CHECK(cudaFree(db));
  CHECK(cudaFree(dc));
  CHECK(cudaFree(dsums));
  CHECK(cudaFree(dp));
  CHECK(cudaFree(dout));
  std::printf("%s\n", ok ? "ALL OK" : "SOME CHECKS FAILED");
  return ok ? 0 : 1;
}
