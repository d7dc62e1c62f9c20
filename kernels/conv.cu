// Implicit-GEMM convolution, fp32 (see conv.cuh for what is computed).
//
// One kernel template, conv_kernel<KSIZE, Gather, Epilogue, kVec>:
//  - block: kConvTileM (64) consecutive output pixels x kConvTileN (64) output channels,
//    kConvThreads (128) threads; thread (tm, tn) owns pixels tm*4 .. tm*4+3 and channels
//    tn*4 .. tn*4+3 and 32+tn*4 .. 32+tn*4+3 (two float4 column groups, so the 8
//    threads of a pixel group read 32 consecutive floats of B and store 128 contiguous
//    bytes per pixel).
//  - K in chunks of kConvTileK (64): the block stages A (gathered, stored transposed
//    [k][pixel] so a thread reads its 4 pixels as one float4) and B (packed weights,
//    [k][cout], float4 copies) in shared memory (33 KB), __syncthreads, then each
//    thread runs a 4 x 8 outer product per k from registers; __syncthreads before the
//    next chunk.
//  - kVec: the A gather reads 4 channels at once (float4) when every channel count of
//    the input is a multiple of 4 (then a float4 of K never straddles a tap);
//    otherwise one channel per element (cin = 1, 3, 13, 35, ...).
//  - The Gather and Epilogue are template parameters: no runtime switch in the K loop.
// The simulator wants the same shape: per k, 1 float4 of A and 2 of B feed 32
// multiply-adds (g++ keeps them in 8 SSE registers), and a thread meets only 2
// barriers (fiber switches) per 64 x 32 multiply-adds. Measured alternatives: K chunks
// of 32 (more switches, ~15% slower), 8 x 8 micro-tiles with 64 threads (no clear gain
// on the simulator, 64 accumulators do not fit SSE registers; fewer warps on a GPU).
//
// Known GPU-side limits of this first fp32 version (to revisit with the tensor-core
// path, none of it measured: no GPU here): no register double-buffering of the next
// chunk's loads; the transposed A store has 8-way shared-memory bank conflicts on the
// float4 path (a warp writes 16 k-rows x 2 pixels); the 1x1 heads (cout 3 or 30)
// still use a 64-channel tile, so most of their multiply-adds hit zero padding.
#include "kernels/conv.cuh"
#include "kernels/gathers.cuh"

#include <cstdint>
#include <type_traits>

// Full unrolling of the small loops; the K loop of the micro-kernel only by 4 for g++,
// whose SLP vectorizer then keeps the 4 x 8 outer product in SSE registers (a full
// unroll makes it reassociate into scalar dot products, 2.5x slower on the simulator).
#if defined(__CUDACC_SIM__)
#define GP_CONV_UNROLL _Pragma("GCC unroll 32")
#define GP_CONV_UNROLL_K _Pragma("GCC unroll 4")
#else
#define GP_CONV_UNROLL _Pragma("unroll")
#define GP_CONV_UNROLL_K _Pragma("unroll")
#endif

namespace GP_KERNEL_NS {
namespace {

constexpr int BM = kConvTileM, BN = kConvTileN, BK = kConvTileK, NT = kConvThreads;
constexpr int TM = 4, TN = 8;         // register micro-tile: pixels x channels
constexpr int kThreadsN = BN / TN;    // 8 threads across the channels
constexpr int kAStride = BM + 4;      // A tile [BK][BM + 4]: fewer bank conflicts on the transposed store
constexpr int kLogitStride = BN + 1;  // argmax staging [BM][BN + 1]
static_assert(kThreadsN * (BM / TM) == NT, "the micro-tiles must cover the block tile");
static_assert(TN == 8 && BN == 64, "the column mapping below assumes two float4 groups 32 apart");
static_assert(BK % 4 == 0 && NT % (BK / 4) == 0 && NT % BK == 0, "A loader mapping");

constexpr size_t kConvSmemBytes = sizeof(float) * (size_t(BK) * kAStride + size_t(BK) * BN) >
                                          sizeof(float) * BM* kLogitStride
                                      ? sizeof(float) * (size_t(BK) * kAStride + size_t(BK) * BN)
                                      : sizeof(float) * BM* kLogitStride;

struct Geometry {
  int h, w;  // output (= conv input) size
  int cin, cout;
  int k_total;   // ksize^2 * cin
  int k_chunks;  // packed rows / BK
  int n_cols;    // packed row length
};

using gather::max2;
__device__ __forceinline__ float4 max4(float4 a, float4 b) {
  return make_float4(max2(a.x, b.x), max2(a.y, b.y), max2(a.z, b.z), max2(a.w, b.w));
}
__device__ __forceinline__ float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }

// ---- gathers: the conv input at (y, x, channel), inside the image ---------------------
// at(): one channel; at4(): channels c .. c+3 (c % 4 == 0, only used when kVec).

struct PlainGather {
  const float* x;
  int w, c;
  static constexpr bool kHasVec = true;
  __device__ __forceinline__ float at(int y, int xx, int ch) const { return x[(size_t(y) * w + xx) * c + ch]; }
  __device__ __forceinline__ float4 at4(int y, int xx, int ch) const {
    return load4(x + (size_t(y) * w + xx) * c + ch);
  }
};

// 16-bit activations, widened on load (the heads of the fp16 / bf16 path).
template <class T> struct Plain16Gather {
  const T* x;
  int w, c;
  static constexpr bool kHasVec = false;
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const T v = x[(size_t(y) * w + xx) * c + ch];
    if constexpr (std::is_same_v<T, __half>) return __half2float(v);
    else return __bfloat162float(v);
  }
};

struct MaxPoolGather {
  const float* x;  // [2h or 2h+1][w_in][c]
  int w_in, c;
  static constexpr bool kHasVec = true;
  __device__ __forceinline__ const float* corner(int y, int xx, int ch) const {
    return x + (size_t(2 * y) * w_in + 2 * xx) * c + ch;
  }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const float* p = corner(y, xx, ch);
    const size_t row = size_t(w_in) * c;
    return max2(max2(p[0], p[c]), max2(p[row], p[row + c]));
  }
  __device__ __forceinline__ float4 at4(int y, int xx, int ch) const {
    const float* p = corner(y, xx, ch);
    const size_t row = size_t(w_in) * c;
    return max4(max4(load4(p), load4(p + c)), max4(load4(p + row), load4(p + row + c)));
  }
};

struct UpConcatGather {
  const float* skip;  // [h][w][cs]
  const float* low;   // [hl][wl][cl]
  int w, cs, cl, hl, wl, top, left;
  float scale_y, scale_x;  // (n - 1) / (2n - 1): align_corners=True source step (0 for n = 1)
  static constexpr bool kHasVec = true;

  // The 4 source offsets (in floats, channel 0) and weights of upsampled pixel (uy, ux).
  struct Taps {
    size_t o00, o01, o10, o11;
    float ay, ax;
  };
  __device__ __forceinline__ Taps taps(int uy, int ux) const {
    const gather::BilinearTaps t = gather::bilinear_taps(uy, ux, scale_y, scale_x, hl, wl);
    return {(size_t(t.y0) * wl + t.x0) * cl,
            (size_t(t.y0) * wl + t.x1) * cl,
            (size_t(t.y1) * wl + t.x0) * cl,
            (size_t(t.y1) * wl + t.x1) * cl,
            t.ay,
            t.ax};
  }
  __device__ __forceinline__ bool inside_up(int uy, int ux) const {
    return unsigned(uy) < unsigned(2 * hl) && unsigned(ux) < unsigned(2 * wl);
  }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    if (ch < cs) return skip[(size_t(y) * w + xx) * cs + ch];
    const int uy = y - top, ux = xx - left;
    if (!inside_up(uy, ux)) return 0.0f;
    const Taps t = taps(uy, ux);
    const float* l = low + (ch - cs);
    return gather::lerp2(t.ay, t.ax, l[t.o00], l[t.o01], l[t.o10], l[t.o11]);
  }
  __device__ __forceinline__ float4 at4(int y, int xx, int ch) const {
    if (ch < cs) return load4(skip + (size_t(y) * w + xx) * cs + ch);
    const int uy = y - top, ux = xx - left;
    if (!inside_up(uy, ux)) return make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    const Taps t = taps(uy, ux);
    const float* l = low + (ch - cs);
    const float4 v00 = load4(l + t.o00), v01 = load4(l + t.o01), v10 = load4(l + t.o10), v11 = load4(l + t.o11);
    return make_float4(
        gather::lerp2(t.ay, t.ax, v00.x, v01.x, v10.x, v11.x), gather::lerp2(t.ay, t.ax, v00.y, v01.y, v10.y, v11.y),
        gather::lerp2(t.ay, t.ax, v00.z, v01.z, v10.z, v11.z), gather::lerp2(t.ay, t.ax, v00.w, v01.w, v10.w, v11.w));
  }
};

struct ColorizerGather {
  const float* sketch;
  const uint8_t* labels;
  const float* colors;
  const uint8_t* active;
  int w;
  float center;
  static constexpr bool kHasVec = false;  // 35 channels
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const size_t p = size_t(y) * w + xx;
    return gather::colorizer_channel(sketch[p], labels[p], colors, active, center, ch);
  }
};

// ---- epilogues -----------------------------------------------------------------------
// store(): every thread of the block calls it once after the K loop (it may use the
// shared memory and __syncthreads). Channel of accumulator column j: see column().

__device__ __forceinline__ int column(int tn, int j) { return j < 4 ? tn * 4 + j : BN / 2 + tn * 4 + (j - 4); }

struct ReluOp {
  __device__ __forceinline__ float operator()(float v) const { return v > 0.0f ? v : 0.0f; }
};
struct TanhOp {
  __device__ __forceinline__ float operator()(float v) const { return tanhf(v); }
};

template <class Op> struct BiasActivationStore {
  float* out;  // [pixels][cout]
  __device__ __forceinline__ void store(const float (&acc)[TM][TN], const Geometry& g, const float* __restrict__ bias,
                                        int p0, int n0, int tm, int tn, float*) const {
    const Op op;
    const int pixels = g.h * g.w;
    float b[TN];
    GP_CONV_UNROLL
    for (int j = 0; j < TN; ++j) {
      const int co = n0 + column(tn, j);
      b[j] = co < g.cout ? bias[co] : 0.0f;
    }
    GP_CONV_UNROLL
    for (int i = 0; i < TM; ++i) {
      const int p = p0 + tm * TM + i;
      if (p >= pixels) break;
      float* row = out + size_t(p) * g.cout;
      GP_CONV_UNROLL
      for (int half = 0; half < 2; ++half) {
        const int co = n0 + column(tn, 4 * half);
        const float* a = acc[i] + 4 * half;
        const float* bb = b + 4 * half;
        if (co + 3 < g.cout && g.cout % 4 == 0) {
          *reinterpret_cast<float4*>(row + co) =
              make_float4(op(a[0] + bb[0]), op(a[1] + bb[1]), op(a[2] + bb[2]), op(a[3] + bb[3]));
        } else {
          for (int j = 0; j < 4 && co + j < g.cout; ++j) row[co + j] = op(a[j] + bb[j]);
        }
      }
    }
  }
};

// Needs the whole channel range in one block (cout <= BN, gridDim.y == 1, n0 == 0).
struct ArgmaxStore {
  uint8_t* labels;  // [pixels]
  float* logits;    // [pixels][cout] or null
  __device__ __forceinline__ void store(const float (&acc)[TM][TN], const Geometry& g, const float* __restrict__ bias,
                                        int p0, int, int tm, int tn, float* smem) const {
    float* tile = smem;  // [BM][kLogitStride]; the K loop ended with a barrier, so the smem is free
    GP_CONV_UNROLL
    for (int j = 0; j < TN; ++j) {
      const int co = column(tn, j);
      if (co >= g.cout) continue;
      const float b = bias[co];
      GP_CONV_UNROLL
      for (int i = 0; i < TM; ++i) tile[(tm * TM + i) * kLogitStride + co] = acc[i][j] + b;
    }
    __syncthreads();
    const int pixels = g.h * g.w;
    const int rows = pixels - p0 < BM ? pixels - p0 : BM;
    const int tid = threadIdx.x;
    if (tid < rows) {
      const float* v = tile + tid * kLogitStride;
      int best = 0;
      float best_value = v[0];
      for (int c = 1; c < g.cout; ++c)
        if (v[c] > best_value) {  // strict: ties keep the lower index
          best_value = v[c];
          best = c;
        }
      labels[p0 + tid] = uint8_t(best);
    }
    if (logits) {
      float* dst = logits + size_t(p0) * g.cout;  // the block's rows are contiguous: coalesced copy
      for (int i = tid; i < rows * g.cout; i += NT) dst[i] = tile[(i / g.cout) * kLogitStride + i % g.cout];
    }
  }
};

// ---- the kernel ----------------------------------------------------------------------

template <int KSIZE, class Gather, class Epilogue, bool kVec> __global__ void __launch_bounds__(NT)
    conv_kernel(Gather gather, Geometry g, const float* __restrict__ weights, const float* __restrict__ bias,
                Epilogue epilogue) {
  float* const As = reinterpret_cast<float*>(dynamic_smem);  // [BK][kAStride], A transposed: [k][pixel]
  float* const Bs = As + BK * kAStride;                      // [BK][BN]
  const int tid = threadIdx.x;
  const int tm = tid / kThreadsN, tn = tid % kThreadsN;
  const int pixels = g.h * g.w;
  const int p0 = int(blockIdx.x) * BM, n0 = int(blockIdx.y) * BN;

  // A loader: thread -> (k offset a_k, first tile row a_row); it fills rows a_row,
  // a_row + kRowStep, ... of the chunk. Its pixel's (y, x) advance by kRowStep pixels.
  constexpr int kLanesK = kVec ? BK / 4 : BK;
  constexpr int kRowStep = NT / kLanesK;
  constexpr int kRowPasses = BM / kRowStep;
  const int a_k = (tid % kLanesK) * (kVec ? 4 : 1);
  const int a_row = tid / kLanesK;
  const int a_p = p0 + a_row;
  const int a_y = a_p / g.w, a_x = a_p - a_y * g.w;
  const int step_y = kRowStep / g.w, step_x = kRowStep - step_y * g.w;

  float acc[TM][TN];
  GP_CONV_UNROLL
  for (int i = 0; i < TM; ++i) GP_CONV_UNROLL
  for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  for (int chunk = 0; chunk < g.k_chunks; ++chunk) {
    const int k0 = chunk * BK;
    {  // A: gather rows a_row + n * kRowStep, K columns a_k (.. a_k + 3)
      const int k = k0 + a_k;
      const bool k_ok = k < g.k_total;
      int tap = 0, ci = k;
      if constexpr (KSIZE != 1) {
        tap = k / g.cin;
        ci = k - tap * g.cin;
      }
      const int oy = tap / KSIZE - KSIZE / 2, ox = tap % KSIZE - KSIZE / 2;
      int p = a_p, y = a_y, x = a_x;
      for (int pass = 0; pass < kRowPasses; ++pass) {
        const int sy = y + oy, sx = x + ox;
        const bool ok = k_ok && p < pixels && unsigned(sy) < unsigned(g.h) && unsigned(sx) < unsigned(g.w);
        float* dst = As + a_k * kAStride + a_row + pass * kRowStep;
        if constexpr (kVec) {
          const float4 v = ok ? gather.at4(sy, sx, ci) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
          dst[0] = v.x;
          dst[kAStride] = v.y;
          dst[2 * kAStride] = v.z;
          dst[3 * kAStride] = v.w;
        } else {
          *dst = ok ? gather.at(sy, sx, ci) : 0.0f;
        }
        p += kRowStep;
        y += step_y;
        x += step_x;
        if (x >= g.w) {
          x -= g.w;
          ++y;
        }
      }
    }
    // B: the chunk's BK rows x BN columns of the packed weights (zero-padded: no checks).
    const float* wsrc = weights + size_t(k0) * g.n_cols + n0;
    GP_CONV_UNROLL
    for (int i = tid; i < BK * BN / 4; i += NT) {
      const int row = i / (BN / 4), c4 = i % (BN / 4);
      *reinterpret_cast<float4*>(Bs + row * BN + c4 * 4) = load4(wsrc + size_t(row) * g.n_cols + c4 * 4);
    }
    __syncthreads();

    const float* a_col = As + tm * TM;
    const float* b_col = Bs + tn * 4;
    GP_CONV_UNROLL_K
    for (int kk = 0; kk < BK; ++kk) {
      const float4 a4 = load4(a_col + kk * kAStride);
      const float4 b4lo = load4(b_col + kk * BN), b4hi = load4(b_col + kk * BN + BN / 2);
      const float a[TM] = {a4.x, a4.y, a4.z, a4.w};
      const float b[TN] = {b4lo.x, b4lo.y, b4lo.z, b4lo.w, b4hi.x, b4hi.y, b4hi.z, b4hi.w};
      GP_CONV_UNROLL
      for (int i = 0; i < TM; ++i) GP_CONV_UNROLL
      for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  epilogue.store(acc, g, bias, p0, n0, tm, tn, As);
}

// ---- launch --------------------------------------------------------------------------

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <int KSIZE, class Gather, class Epilogue>
cudaError_t launch_conv(const Gather& gather, bool vec, int h, int w, const ConvWeights& wt, const Epilogue& epilogue,
                        cudaStream_t stream) {
  Geometry g{};
  g.h = h;
  g.w = w;
  g.cin = wt.cin;
  g.cout = wt.cout;
  g.k_total = KSIZE * KSIZE * wt.cin;
  g.k_chunks = int(conv_packed_rows(wt.cin, KSIZE) / BK);
  g.n_cols = int(conv_packed_cols(wt.cout));
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(ceil_div(size_t(h) * w, BM), ceil_div(size_t(wt.cout), BN));
  config.blockDim = dim3(NT);
  config.dynamicSmemBytes = kConvSmemBytes;
  config.stream = stream;
  if constexpr (Gather::kHasVec) {
    if (vec)
      return cudaLaunchKernelEx(&config, conv_kernel<KSIZE, Gather, Epilogue, true>, gather, g, wt.packed, wt.bias,
                                epilogue);
  }
  return cudaLaunchKernelEx(&config, conv_kernel<KSIZE, Gather, Epilogue, false>, gather, g, wt.packed, wt.bias,
                            epilogue);
}

// Shape checks shared by every launcher; `cin` is the gather's channel count.
bool weights_fit(const ConvWeights& wt, int ksize, int cin) {
  return wt.ksize == ksize && wt.cin == cin && cin >= 1 && wt.cout >= 1 && wt.packed != nullptr && wt.bias != nullptr;
}

// Each input kind: validate, build its gather, then launch with the given epilogue.
template <int KSIZE, class Epilogue>
cudaError_t dispatch(const ConvPlain& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  if (in.h < 0 || in.w < 0 || !weights_fit(wt, KSIZE, in.c)) return cudaErrorInvalidValue;
  if (in.h == 0 || in.w == 0) return cudaSuccess;
  const PlainGather gather{in.x, in.w, in.c};
  const bool vec = in.c % 4 == 0 && aligned16(in.x);
  return launch_conv<KSIZE>(gather, vec, in.h, in.w, wt, ep, stream);
}

template <int KSIZE, class Epilogue, class In>
cudaError_t dispatch16(const In& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  if (in.h < 0 || in.w < 0 || !in.x || !weights_fit(wt, KSIZE, in.c)) return cudaErrorInvalidValue;
  if (in.h == 0 || in.w == 0) return cudaSuccess;
  using T = std::remove_cv_t<std::remove_pointer_t<decltype(in.x)>>;
  return launch_conv<KSIZE>(Plain16Gather<T>{in.x, in.w, in.c}, false, in.h, in.w, wt, ep, stream);
}
template <int KSIZE, class Epilogue>
cudaError_t dispatch(const ConvPlainF16& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  return dispatch16<KSIZE>(in, wt, ep, stream);
}
template <int KSIZE, class Epilogue>
cudaError_t dispatch(const ConvPlainBF16& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  return dispatch16<KSIZE>(in, wt, ep, stream);
}

template <int KSIZE, class Epilogue>
cudaError_t dispatch(const ConvMaxPool& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  if (in.h_in < 0 || in.w_in < 0 || !weights_fit(wt, KSIZE, in.c)) return cudaErrorInvalidValue;
  const int h = in.h_in / 2, w = in.w_in / 2;
  if (h == 0 || w == 0) return cudaSuccess;
  const MaxPoolGather gather{in.x, in.w_in, in.c};
  const bool vec = in.c % 4 == 0 && aligned16(in.x);
  return launch_conv<KSIZE>(gather, vec, h, w, wt, ep, stream);
}

template <int KSIZE, class Epilogue>
cudaError_t dispatch(const ConvUpConcat& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  if (in.h < 0 || in.w < 0 || in.c_skip < 1 || in.c_low < 1 || !weights_fit(wt, KSIZE, in.c_skip + in.c_low))
    return cudaErrorInvalidValue;
  if (in.h == 0 || in.w == 0) return cudaSuccess;
  if (in.h_low < 1 || in.w_low < 1 || 2 * in.h_low > in.h || 2 * in.w_low > in.w) return cudaErrorInvalidValue;
  UpConcatGather gather{};
  gather.skip = in.skip;
  gather.low = in.low;
  gather.w = in.w;
  gather.cs = in.c_skip;
  gather.cl = in.c_low;
  gather.hl = in.h_low;
  gather.wl = in.w_low;
  gather.top = (in.h - 2 * in.h_low) / 2;
  gather.left = (in.w - 2 * in.w_low) / 2;
  // As PyTorch: the scale is computed once (in float), the source is scale * dst.
  gather.scale_y = gather::up_step(in.h_low);
  gather.scale_x = gather::up_step(in.w_low);
  const bool vec = in.c_skip % 4 == 0 && in.c_low % 4 == 0 && aligned16(in.skip) && aligned16(in.low);
  return launch_conv<KSIZE>(gather, vec, in.h, in.w, wt, ep, stream);
}

template <int KSIZE, class Epilogue>
cudaError_t dispatch(const ConvColorizer& in, const ConvWeights& wt, const Epilogue& ep, cudaStream_t stream) {
  if (in.h < 0 || in.w < 0 || !weights_fit(wt, KSIZE, gp::kColorizerChannels)) return cudaErrorInvalidValue;
  if (in.h == 0 || in.w == 0) return cudaSuccess;
  const ColorizerGather gather{in.sketch, in.labels, in.colors, in.active, in.w, in.center};
  return launch_conv<KSIZE>(gather, false, in.h, in.w, wt, ep, stream);
}

template <class Input> cudaError_t relu3x3(const Input& in, const ConvWeights& wt, float* out, cudaStream_t stream) {
  return dispatch<3>(in, wt, BiasActivationStore<ReluOp>{out}, stream);
}
template <class Input> cudaError_t tanh1x1(const Input& in, const ConvWeights& wt, float* out, cudaStream_t stream) {
  return dispatch<1>(in, wt, BiasActivationStore<TanhOp>{out}, stream);
}
template <class Input>
cudaError_t argmax1x1(const Input& in, const ConvWeights& wt, uint8_t* labels, float* logits, cudaStream_t stream) {
  if (wt.cout > kConvArgmaxMaxChannels) return cudaErrorInvalidValue;
  return dispatch<1>(in, wt, ArgmaxStore{labels, logits}, stream);
}

}  // namespace

cudaError_t conv1x1_bias_tanh(const ConvPlainF16& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return tanh1x1(in, w, out, s);
}
cudaError_t conv1x1_bias_tanh(const ConvPlainBF16& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return tanh1x1(in, w, out, s);
}
cudaError_t conv1x1_argmax(const ConvPlainF16& in, const ConvWeights& w, uint8_t* labels, float* logits,
                           cudaStream_t s) {
  return argmax1x1(in, w, labels, logits, s);
}
cudaError_t conv1x1_argmax(const ConvPlainBF16& in, const ConvWeights& w, uint8_t* labels, float* logits,
                           cudaStream_t s) {
  return argmax1x1(in, w, labels, logits, s);
}

cudaError_t conv3x3_bias_relu(const ConvPlain& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return relu3x3(in, w, out, s);
}
cudaError_t conv3x3_bias_relu(const ConvMaxPool& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return relu3x3(in, w, out, s);
}
cudaError_t conv3x3_bias_relu(const ConvUpConcat& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return relu3x3(in, w, out, s);
}
cudaError_t conv3x3_bias_relu(const ConvColorizer& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return relu3x3(in, w, out, s);
}

cudaError_t conv1x1_bias_tanh(const ConvPlain& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return tanh1x1(in, w, out, s);
}
cudaError_t conv1x1_bias_tanh(const ConvMaxPool& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return tanh1x1(in, w, out, s);
}
cudaError_t conv1x1_bias_tanh(const ConvUpConcat& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return tanh1x1(in, w, out, s);
}
cudaError_t conv1x1_bias_tanh(const ConvColorizer& in, const ConvWeights& w, float* out, cudaStream_t s) {
  return tanh1x1(in, w, out, s);
}

cudaError_t conv1x1_argmax(const ConvPlain& in, const ConvWeights& w, uint8_t* labels, float* logits, cudaStream_t s) {
  return argmax1x1(in, w, labels, logits, s);
}
cudaError_t conv1x1_argmax(const ConvMaxPool& in, const ConvWeights& w, uint8_t* labels, float* logits,
                           cudaStream_t s) {
  return argmax1x1(in, w, labels, logits, s);
}
cudaError_t conv1x1_argmax(const ConvUpConcat& in, const ConvWeights& w, uint8_t* labels, float* logits,
                           cudaStream_t s) {
  return argmax1x1(in, w, labels, logits, s);
}
cudaError_t conv1x1_argmax(const ConvColorizer& in, const ConvWeights& w, uint8_t* labels, float* logits,
                           cudaStream_t s) {
  return argmax1x1(in, w, labels, logits, s);
}

}  // namespace GP_KERNEL_NS
