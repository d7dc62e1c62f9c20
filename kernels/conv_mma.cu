// 3x3 convolution on tensor cores, fp16 / bf16 with fp32 accumulation (see conv_mma.cuh).
//
// One kernel template, conv3x3_mma_kernel<T, Gather, Tile>:
//  - block: Tile::BM output pixels x Tile::BN output channels, 128 threads = 4 warps laid
//    out WARPS_M x WARPS_N, each warp a (BM / WARPS_M) x (BN / WARPS_N) tile of mma.sync
//    m16n8k16 accumulators (MI x NI of them; 32 fp32 registers for a 32 x 32 warp tile).
//  - K in chunks of 32 through a 3-stage pipeline: stage s + 2 is requested while stage s
//    is multiplied. Weights always arrive by cp.async (packed and padded: no bounds).
//    Activations arrive by cp.async (zero fill for the padding and the tile's edges) when
//    the gathered chunk of 8 channels is a plain copy of 16 bytes (a plain input, a skip
//    connection); a computed gather (2x2 max, bilinear upsample, the colorizer's one-hot)
//    is evaluated by the thread and stored to shared memory, 16 bytes at a time.
//  - Shared memory: per stage A [BM pixels][32 k] and B [BN channels][32 k], rows of four
//    16-byte chunks, chunk c of row r stored at chunk c ^ ((r / 2) % 4): the 8 rows one
//    ldmatrix matrix reads then fall in 8 different 16-byte bank groups (conflict-free),
//    and a warp's 16-byte stores fill whole 128-byte lines. 24 KB (64 x 64) to 30 KB.
//  - "Vector" inputs (every channel count a multiple of 8, so 8 consecutive k never straddle
//    a tap) gather per chunk; other inputs (cin = 1, 35, ...) gather per element.
//  - Epilogue straight from the accumulators: + bias, ReLU, rounded to T, paired stores.
//  - Every output sums the same products in the same order whatever the tile (K chunk by
//    chunk, k16 by k16), so the tiles give bit-identical results.
// Compiled for sm_80 and later; on older architectures the kernel body is a trap and the
// engine never chooses it there.
#include "kernels/conv_mma.cuh"
#include "kernels/gathers.cuh"
#include "kernels/mma_ptx.cuh"

#if defined(__CUDACC_SIM__)
#define GP_MMA_UNROLL _Pragma("GCC unroll 16")
#else
#define GP_MMA_UNROLL _Pragma("unroll")
#endif

namespace GP_KERNEL_NS {
namespace {

struct alignas(16) Bytes16 {
  uint32_t word[4];
};

constexpr int BK = kConvMmaTileK, STAGES = kConvMmaStages;
constexpr int NT = kConvMmaThreads;
constexpr int kChunksPerRow = BK / 8;  // 16-byte chunks of 8 elements
static_assert(kChunksPerRow == 4, "rows of four 16-byte chunks (the swizzle below)");

template <int BM_, int BN_, int WARPS_M_> struct TileT {
  static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = NT / 32 / WARPS_M_;
  static constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N;  // the warp tile
  static constexpr int MI = WM / 16, NI = WN / 8;             // its m16 x n8 accumulators
  static constexpr int A_PER_THREAD = BM * kChunksPerRow / NT;
  static constexpr int B_CHUNKS = BN * kChunksPerRow;
  static_assert(WARPS_M * WARPS_N * 32 == NT && WM % 16 == 0 && WN % 16 == 0, "whole ldmatrix x4 per warp");
  static_assert(BM * kChunksPerRow % NT == 0 && BN <= kConvMmaTileN, "A chunks split evenly; B inside the packing");
};
using Tile64x64 = TileT<64, 64, 2>;
using Tile128x32 = TileT<128, 32, 4>;
using Tile32x64 = TileT<32, 64, 2>;
template <class Tile> constexpr bool same_shape(ConvMmaTile t) {
  return conv_mma_tile_shape(t).m == Tile::BM && conv_mma_tile_shape(t).n == Tile::BN;
}
static_assert(same_shape<Tile64x64>(ConvMmaTile::M64N64) && same_shape<Tile128x32>(ConvMmaTile::M128N32) &&
                  same_shape<Tile32x64>(ConvMmaTile::M32N64),
              "kernels/conv_mma_tile.h names these tiles");

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#define GP_CONV_MMA_UNSUPPORTED 1
#endif

using gather::from_float;
using gather::to_float;

template <class T> struct alignas(16) Chunk {
  T v[8];
};
template <class T> struct alignas(4) Pair {
  T x, y;
};
template <class T> __device__ __forceinline__ Chunk<T> load_chunk(const T* p) { return *reinterpret_cast<const Chunk<T>*>(p); }

using gather::max2;

// ---- gathers --------------------------------------------------------------------------
// at(): one channel of the conv input inside the image, in fp32. With `vec`:
// plain_source() gives the 16 bytes of channels ci .. ci+7 when they are a copy (else
// null), compute8() evaluates them otherwise.

template <class T> struct PlainGather {
  const T* x;
  int w, c;
  bool vec;
  __device__ __forceinline__ const T* base() const { return x; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const { return to_float(x[(size_t(y) * w + xx) * c + ch]); }
  __device__ __forceinline__ const T* plain_source(int y, int xx, int ch) const { return x + (size_t(y) * w + xx) * c + ch; }
  __device__ __forceinline__ void compute8(int, int, int, Chunk<T>&) const {}
};

template <class T> struct MaxPoolGather {
  const T* x;  // [2h or 2h+1][w_in][c]
  int w_in, c;
  bool vec;
  __device__ __forceinline__ const T* base() const { return x; }
  __device__ __forceinline__ const T* corner(int y, int xx, int ch) const {
    return x + (size_t(2 * y) * w_in + 2 * xx) * c + ch;
  }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const T* p = corner(y, xx, ch);
    const size_t row = size_t(w_in) * c;
    return max2(max2(to_float(p[0]), to_float(p[c])), max2(to_float(p[row]), to_float(p[row + c])));
  }
  __device__ __forceinline__ const T* plain_source(int, int, int) const { return nullptr; }
  // The max of values of T is one of them: exact, no rounding.
  __device__ __forceinline__ void compute8(int y, int xx, int ch, Chunk<T>& out) const {
    const T* p = corner(y, xx, ch);
    const size_t row = size_t(w_in) * c;
    const Chunk<T> a = load_chunk(p), b = load_chunk(p + c), d = load_chunk(p + row), e = load_chunk(p + row + c);
GP_MMA_UNROLL
    for (int j = 0; j < 8; ++j)
      out.v[j] = from_float<T>(max2(max2(to_float(a.v[j]), to_float(b.v[j])), max2(to_float(d.v[j]), to_float(e.v[j]))));
  }
};

template <class T> struct UpConcatGather {
  const T* skip;  // [h][w][cs]
  const T* low;   // [hl][wl][cl]
  int w, cs, cl, hl, wl, top, left;
  float scale_y, scale_x;  // (n - 1) / (2n - 1): align_corners=True source step (0 for n = 1)
  bool vec;
  struct Taps {
    size_t o00, o01, o10, o11;
    float ay, ax;
  };
  __device__ __forceinline__ Taps taps(int uy, int ux) const {
    const gather::BilinearTaps t = gather::bilinear_taps(uy, ux, scale_y, scale_x, hl, wl);
    return {(size_t(t.y0) * wl + t.x0) * cl, (size_t(t.y0) * wl + t.x1) * cl, (size_t(t.y1) * wl + t.x0) * cl,
            (size_t(t.y1) * wl + t.x1) * cl, t.ay, t.ax};
  }
  __device__ __forceinline__ bool inside_up(int uy, int ux) const {
    return unsigned(uy) < unsigned(2 * hl) && unsigned(ux) < unsigned(2 * wl);
  }
  __device__ __forceinline__ static float lerp2(const Taps& t, float v00, float v01, float v10, float v11) {
    return gather::lerp2(t.ay, t.ax, v00, v01, v10, v11);
  }
  __device__ __forceinline__ const T* base() const { return skip; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    if (ch < cs) return to_float(skip[(size_t(y) * w + xx) * cs + ch]);
    const int uy = y - top, ux = xx - left;
    if (!inside_up(uy, ux)) return 0.0f;
    const Taps t = taps(uy, ux);
    const T* l = low + (ch - cs);
    return lerp2(t, to_float(l[t.o00]), to_float(l[t.o01]), to_float(l[t.o10]), to_float(l[t.o11]));
  }
  __device__ __forceinline__ const T* plain_source(int y, int xx, int ch) const {
    return ch < cs ? skip + (size_t(y) * w + xx) * cs + ch : nullptr;
  }
  __device__ __forceinline__ void compute8(int y, int xx, int ch, Chunk<T>& out) const {
    const int uy = y - top, ux = xx - left;
    if (!inside_up(uy, ux)) {
GP_MMA_UNROLL
      for (int j = 0; j < 8; ++j) out.v[j] = from_float<T>(0.0f);
      return;
    }
    const Taps t = taps(uy, ux);
    const T* l = low + (ch - cs);
    const Chunk<T> a = load_chunk(l + t.o00), b = load_chunk(l + t.o01), d = load_chunk(l + t.o10),
                   e = load_chunk(l + t.o11);
GP_MMA_UNROLL
    for (int j = 0; j < 8; ++j)
      out.v[j] = from_float<T>(lerp2(t, to_float(a.v[j]), to_float(b.v[j]), to_float(d.v[j]), to_float(e.v[j])));
  }
};

template <class T> struct FloatPlainGather {
  const float* x;
  int w, c;
  bool vec;  // always false: read and rounded per element
  __device__ __forceinline__ const T* base() const { return nullptr; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const { return x[(size_t(y) * w + xx) * c + ch]; }
  __device__ __forceinline__ const T* plain_source(int, int, int) const { return nullptr; }
  __device__ __forceinline__ void compute8(int, int, int, Chunk<T>&) const {}
};

template <class T> struct ColorizerGather {
  const float* sketch;
  const uint8_t* labels;
  const float* colors;
  const uint8_t* active;
  int w;
  float center;
  bool vec;  // always false: 35 channels
  __device__ __forceinline__ const T* base() const { return nullptr; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const size_t p = size_t(y) * w + xx;
    return gather::colorizer_channel(sketch[p], labels[p], colors, active, center, ch);
  }
  __device__ __forceinline__ const T* plain_source(int, int, int) const { return nullptr; }
  __device__ __forceinline__ void compute8(int, int, int, Chunk<T>&) const {}
};

struct Geometry {
  int h, w, cin, cout;
  int k_total;  // 9 * cin
  int k_rows;   // packed row length (k_total rounded up to BK)
};

// Chunk `chunk` of row `row` in a stage of 64 rows x 4 chunks (in 16-byte units).
__device__ __forceinline__ int swizzled(int row, int chunk) { return row * kChunksPerRow + (chunk ^ ((row >> 1) & 3)); }

template <class T, class Gather, class Tile>
__global__ void __launch_bounds__(NT)
    conv3x3_mma_kernel(Gather g, const T* __restrict__ packed, const float* __restrict__ bias, T* __restrict__ out,
                       Geometry geo) {
#ifdef GP_CONV_MMA_UNSUPPORTED
  __trap();
#else
  constexpr int BM = Tile::BM, BN = Tile::BN, MI = Tile::MI, NI = Tile::NI, A_ROWS = Tile::A_PER_THREAD;
  __shared__ Bytes16 As[STAGES][BM * kChunksPerRow];
  __shared__ Bytes16 Bs[STAGES][BN * kChunksPerRow];
  const int tid = int(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const int wm = (warp / Tile::WARPS_N) * Tile::WM, wn = (warp % Tile::WARPS_N) * Tile::WN;
  const int pixels = geo.h * geo.w;
  const int m0 = int(blockIdx.x) * BM, n0 = int(blockIdx.y) * BN;

  // This thread's A rows (pixels) and its chunk column, fixed for the whole K loop.
  const int my_chunk = tid % kChunksPerRow;
  int row_y[A_ROWS], row_x[A_ROWS];
  bool row_valid[A_ROWS];
GP_MMA_UNROLL
  for (int i = 0; i < A_ROWS; ++i) {
    const int p = m0 + tid / kChunksPerRow + i * (NT / kChunksPerRow);
    row_valid[i] = p < pixels;
    row_y[i] = row_valid[i] ? p / geo.w : 0;
    row_x[i] = row_valid[i] ? p % geo.w : 0;
  }

  auto load_stage = [&](int slot, int k0) {
    // B: weights of output channel n0 + row, k0 + 8 * chunk .. + 7 (always inside the padding).
GP_MMA_UNROLL
    for (int j = 0; j < (Tile::B_CHUNKS + NT - 1) / NT; ++j) {
      const int i = tid + j * NT;  // a trip count fixed at compile time keeps this out of registers
      if (Tile::B_CHUNKS % NT != 0 && i >= Tile::B_CHUNKS) break;
      const int row = i / kChunksPerRow;
      ptx::copy_16_or_zero(&Bs[slot][swizzled(row, my_chunk)], packed + size_t(n0 + row) * geo.k_rows + k0 + 8 * my_chunk, true);
    }
GP_MMA_UNROLL
    for (int i = 0; i < A_ROWS; ++i) {
      const int row = tid / kChunksPerRow + i * (NT / kChunksPerRow);
      // A: the gathered input of pixel m0 + row at k0 + 8 * chunk .. + 7.
      Bytes16* dst = &As[slot][swizzled(row, my_chunk)];
      const int k = k0 + 8 * my_chunk;
      if (g.vec) {
        const int tap = k / geo.cin, ci = k - tap * geo.cin;
        const int y = row_y[i] + tap / 3 - 1, x = row_x[i] + tap % 3 - 1;
        const bool inside = row_valid[i] && k < geo.k_total && unsigned(y) < unsigned(geo.h) && unsigned(x) < unsigned(geo.w);
        const T* src = inside ? g.plain_source(y, x, ci) : nullptr;
        if (!inside || src) {
          ptx::copy_16_or_zero(dst, inside ? src : g.base(), inside);
        } else {
          Chunk<T> c;
          g.compute8(y, x, ci, c);
          *reinterpret_cast<Chunk<T>*>(dst) = c;
        }
      } else {
        Chunk<T> c;
GP_MMA_UNROLL
        for (int j = 0; j < 8; ++j) {
          const int kk = k + j;
          const int tap = kk / geo.cin, ci = kk - tap * geo.cin;
          const int y = row_y[i] + tap / 3 - 1, x = row_x[i] + tap % 3 - 1;
          const bool inside = row_valid[i] && kk < geo.k_total && unsigned(y) < unsigned(geo.h) && unsigned(x) < unsigned(geo.w);
          c.v[j] = from_float<T>(inside ? g.at(y, x, ci) : 0.0f);
        }
        *reinterpret_cast<Chunk<T>*>(dst) = c;
      }
    }
  };

  float acc[MI][NI][4];
GP_MMA_UNROLL
  for (int mi = 0; mi < MI; ++mi)
GP_MMA_UNROLL
    for (int ni = 0; ni < NI; ++ni)
GP_MMA_UNROLL
      for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0.0f;

  const int k_chunks = geo.k_rows / BK;
GP_MMA_UNROLL
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < k_chunks) load_stage(s, s * BK);
    ptx::commit_group();
  }
  for (int kt = 0; kt < k_chunks; ++kt) {
    ptx::wait_group<STAGES - 2>();  // stage kt has landed (this thread's copies) ...
    __syncthreads();                // ... and everyone's; stage kt - 1 is free again
    const int ahead = kt + STAGES - 1;
    if (ahead < k_chunks) load_stage(ahead % STAGES, ahead * BK);
    ptx::commit_group();  // an empty group at the end keeps the count uniform
    const int slot = kt % STAGES;
GP_MMA_UNROLL
    for (int kk = 0; kk < BK / 16; ++kk) {
      // A: lanes 0-15 address rows 0-15 at k chunk 2kk, lanes 16-31 the same rows at 2kk + 1:
      // matrices (rows 0-7, k 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) = a0..a3.
      uint32_t a[MI][4];
GP_MMA_UNROLL
      for (int mi = 0; mi < MI; ++mi)
        ptx::ldmatrix_x4(a[mi], &As[slot][swizzled(wm + mi * 16 + lane % 16, 2 * kk + lane / 16)]);
      // B stored [n][k] is the mma's column-major B: matrices (n 0-7, k 0-7), (n 0-7, k 8-15),
      // (n 8-15, k 0-7), (n 8-15, k 8-15) = b0, b1 of two n8 tiles.
      uint32_t b[NI / 2][4];
GP_MMA_UNROLL
      for (int nj = 0; nj < NI / 2; ++nj)
        ptx::ldmatrix_x4(b[nj], &Bs[slot][swizzled(wn + nj * 16 + (lane / 16) * 8 + lane % 8, 2 * kk + (lane / 8) % 2)]);
GP_MMA_UNROLL
      for (int mi = 0; mi < MI; ++mi)
GP_MMA_UNROLL
        for (int ni = 0; ni < NI; ++ni)
          ptx::mma_16816<T>(acc[mi][ni], a[mi], b[ni / 2][(ni % 2) * 2], b[ni / 2][(ni % 2) * 2 + 1]);
    }
  }

  // Accumulator e of tile (mi, ni): row lane / 4 (+ 8 for e >= 2), column 2 (lane % 4) + e % 2.
  const bool pairs = geo.cout % 2 == 0;
GP_MMA_UNROLL
  for (int ni = 0; ni < NI; ++ni) {
    const int co = n0 + wn + ni * 8 + (lane % 4) * 2;
    if (co >= geo.cout) continue;
    const bool second = co + 1 < geo.cout;
    const float b0 = bias[co], b1 = second ? bias[co + 1] : 0.0f;
GP_MMA_UNROLL
    for (int mi = 0; mi < MI; ++mi)
GP_MMA_UNROLL
      for (int half = 0; half < 2; ++half) {
        const int p = m0 + wm + mi * 16 + lane / 4 + half * 8;
        if (p >= pixels) continue;
        const float v0 = max2(acc[mi][ni][2 * half] + b0, 0.0f), v1 = max2(acc[mi][ni][2 * half + 1] + b1, 0.0f);
        T* o = out + size_t(p) * geo.cout + co;
        if (pairs && second) {
          *reinterpret_cast<Pair<T>*>(o) = Pair<T>{from_float<T>(v0), from_float<T>(v1)};
        } else {
          o[0] = from_float<T>(v0);
          if (second) o[1] = from_float<T>(v1);
        }
      }
  }
#endif
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <class T, class Gather, class Tile>
cudaError_t launch_tile(const Gather& g, const Geometry& geo, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(ceil_div(size_t(geo.h) * geo.w, Tile::BM), unsigned(ceil_div(size_t(geo.cout), Tile::BN)));
  config.blockDim = dim3(NT);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, conv3x3_mma_kernel<T, Gather, Tile>, g, wt.packed, wt.bias, out, geo);
}

template <class T, class Gather>
cudaError_t launch(const Gather& g, int h, int w, int cin, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                   ConvMmaTile tile) {
  if (h < 0 || w < 0 || wt.cin != cin || wt.cout < 1 || !wt.packed || !wt.bias || !aligned16(wt.packed))
    return cudaErrorInvalidValue;
  if (size_t(h) * w == 0) return cudaSuccess;
  if (!out || size_t(h) * w > size_t(INT32_MAX) / 2) return cudaErrorInvalidValue;
  const Geometry geo{h, w, cin, wt.cout, 9 * cin, int(conv_mma_packed_rows(cin))};
  if (tile == ConvMmaTile::Auto) tile = conv_mma_choose_tile(size_t(h) * w, wt.cout);
  switch (tile) {
    case ConvMmaTile::M128N32: return launch_tile<T, Gather, Tile128x32>(g, geo, wt, out, stream);
    case ConvMmaTile::M32N64: return launch_tile<T, Gather, Tile32x64>(g, geo, wt, out, stream);
    case ConvMmaTile::M64N64: return launch_tile<T, Gather, Tile64x64>(g, geo, wt, out, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

template <class T> std::vector<T> conv_mma_pack_weights(const float* torch_weight, int cout, int cin) {
  const size_t rows = conv_mma_packed_rows(cin), cols = conv_mma_packed_cols(cout);
  std::vector<T> packed(rows * cols, T(0.0f));
  for (int co = 0; co < cout; ++co)
    for (int ci = 0; ci < cin; ++ci)
      for (int tap = 0; tap < 9; ++tap)
        packed[size_t(co) * rows + size_t(tap) * cin + ci] = T(torch_weight[(size_t(co) * cin + ci) * 9 + tap]);
  return packed;
}

template <class T>
cudaError_t conv3x3_mma_bias_relu(const ConvPlainT<T>& in, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                                  ConvMmaTile tile) {
  if (in.c < 1 || !in.x || !aligned16(in.x)) return cudaErrorInvalidValue;
  return launch<T>(PlainGather<T>{in.x, in.w, in.c, in.c % 8 == 0}, in.h, in.w, in.c, wt, out, stream, tile);
}

template <class T>
cudaError_t conv3x3_mma_bias_relu(const ConvMaxPoolT<T>& in, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                                  ConvMmaTile tile) {
  if (in.c < 1 || in.h_in < 0 || in.w_in < 0 || !in.x || !aligned16(in.x)) return cudaErrorInvalidValue;
  return launch<T>(MaxPoolGather<T>{in.x, in.w_in, in.c, in.c % 8 == 0}, in.h_in / 2, in.w_in / 2, in.c, wt, out, stream, tile);
}

template <class T>
cudaError_t conv3x3_mma_bias_relu(const ConvUpConcatT<T>& in, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                                  ConvMmaTile tile) {
  if (in.c_skip < 1 || in.c_low < 1 || in.h_low < 1 || in.w_low < 1 || 2 * in.h_low > in.h || 2 * in.w_low > in.w ||
      !in.skip || !in.low || !aligned16(in.skip) || !aligned16(in.low))
    return cudaErrorInvalidValue;
  const UpConcatGather<T> g{in.skip, in.low, in.w, in.c_skip, in.c_low, in.h_low, in.w_low,
                            (in.h - 2 * in.h_low) / 2, (in.w - 2 * in.w_low) / 2, gather::up_step(in.h_low), gather::up_step(in.w_low),
                            in.c_skip % 8 == 0 && in.c_low % 8 == 0};
  return launch<T>(g, in.h, in.w, in.c_skip + in.c_low, wt, out, stream, tile);
}

template <class T>
cudaError_t conv3x3_mma_bias_relu(const ConvPlainFloatMma& in, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                                  ConvMmaTile tile) {
  if (in.c < 1 || !in.x) return cudaErrorInvalidValue;
  return launch<T>(FloatPlainGather<T>{in.x, in.w, in.c, false}, in.h, in.w, in.c, wt, out, stream, tile);
}

template <class T>
cudaError_t conv3x3_mma_bias_relu(const ConvColorizerMma& in, const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                                  ConvMmaTile tile) {
  if (!in.sketch || !in.labels || !in.colors || !in.active) return cudaErrorInvalidValue;
  const ColorizerGather<T> g{in.sketch, in.labels, in.colors, in.active, in.w, in.center, false};
  return launch<T>(g, in.h, in.w, gp::ref::kColorizerChannels, wt, out, stream, tile);
}

#define GP_CONV_MMA_INSTANTIATE(T)                                                                                   \
  template std::vector<T> conv_mma_pack_weights<T>(const float*, int, int);                                          \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvPlainT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t, ConvMmaTile);   \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvMaxPoolT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t, ConvMmaTile); \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvUpConcatT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t, ConvMmaTile); \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvPlainFloatMma&, const ConvMmaWeights<T>&, T*, cudaStream_t, ConvMmaTile); \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvColorizerMma&, const ConvMmaWeights<T>&, T*, cudaStream_t, ConvMmaTile);
GP_CONV_MMA_INSTANTIATE(__half)
GP_CONV_MMA_INSTANTIATE(__nv_bfloat16)

}  // namespace GP_KERNEL_NS
