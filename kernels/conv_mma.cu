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
//    and a warp's 16-byte stores fill whole 128-byte lines. 18 KB (32 x 64) to 30 KB (128 x 32).
//  - "Vector" inputs (every channel count a multiple of 8, so 8 consecutive k never straddle
//    a tap) gather per chunk; other inputs (cin = 1, 35, ...) gather per element. Which one is
//    a template argument, so each kernel's K loop holds one path only.
//  - The K loop is issue-bound unless kept lean (tools/sass_report.py counts its SASS per
//    MMA; bench/RESULTS.md): whatever a thread can know before it (row pointers, shared
//    addresses, the K step in taps and channels) is worked out once, and no division is left
//    inside it.
//  - Epilogue straight from the accumulators: + bias, ReLU, rounded to T, paired stores.
//  - Split-K (gridDim.z = splits > 1, chosen per layer by the plan, conv_mma_tile.h): the
//    deep levels have too few tiles to keep the SMs' schedulers busy, so each tile's K
//    chunks are shared by several blocks; each stores its fp32 accumulators and the last to
//    arrive (one atomic per tile) adds them in split order and runs the epilogue.
//  - Every output sums the same products in the same order whatever the tile (K chunk by
//    chunk, k16 by k16), so the tiles give bit-identical results. A split launch adds the
//    splits' fp32 partial sums in split order: deterministic, different bits.
// Compiled for sm_80 and later; on older architectures the kernel body is a trap and the
// engine never chooses it there.
#include "kernels/conv_mma.cuh"
#include "kernels/gathers.cuh"
#include "kernels/mma_ptx.cuh"

#include <type_traits>

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

template <class T> struct alignas(16) Chunk { T v[8]; };
template <class T> struct alignas(4) Pair { T x, y; };
template <class T> __device__ __forceinline__ Chunk<T> load_chunk(const T* p) {
  return *reinterpret_cast<const Chunk<T>*>(p);
}

using gather::max2;

// ---- gathers --------------------------------------------------------------------------
// Each gather forms the conv input at (y, x, channel) of the output grid, inside the image
// (the kernel does the padding). Two ways, chosen at compile time by the launcher:
//  - vector (every channel count a multiple of 8, so a chunk of 8 k never straddles a tap
//    or a concatenation): the kernel keeps, per A row, a pointer to its pixel (pixel, once)
//    and, per K step, the offset of the tap and channel from it (tap_offset, once for all
//    rows); a chunk that copies(ci) is one cp.async from pixel + offset, any other is
//    computed by the thread (compute_chunk) and stored, 16 bytes;
//  - per element: at(y, x, ch) in fp32, rounded to T (channel counts like 1, 4, 35).

template <class T> struct PlainGather {
  static constexpr int kSources = 1;
  const T* x;
  int w, c;
  __device__ __forceinline__ const T* base() const { return x; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    return to_float(x[(size_t(y) * w + xx) * c + ch]);
  }
  __device__ __forceinline__ const T* pixel(int y, int xx) const { return x + (size_t(y) * w + xx) * c; }
  __device__ __forceinline__ int tap_offset(int dy, int dx, int ci) const { return (dy * w + dx) * c + ci; }
  __device__ __forceinline__ bool copies(int) const { return true; }
};

// 8 channels of T as four pairs: the 2x2 max runs two channels an instruction, and the
// max of values of T is one of them, so it is exact (the same bits as in fp32). Only for
// a NaN input do they differ (__hmax2 takes the other operand, max2 the second): the
// pooled tensors are ReLU outputs.
template <class T> struct PairOf;
template <> struct PairOf<__half> { using type = __half2; };
template <> struct PairOf<__nv_bfloat16> { using type = __nv_bfloat162; };
template <class T> __device__ __forceinline__ typename PairOf<T>::type pair_of(uint32_t word) {
  typename PairOf<T>::type p;
  memcpy(&p, &word, 4);
  return p;
}
template <class T> __device__ __forceinline__ uint32_t word_of(typename PairOf<T>::type p) {
  uint32_t word;
  memcpy(&word, &p, 4);
  return word;
}

template <class T> struct MaxPoolGather {
  static constexpr int kSources = 1;
  const T* x;  // [2h or 2h+1][w_in][c]
  int w_in, c;
  int row;  // w_in * c: the next input row (the launcher checks it fits)
  __device__ __forceinline__ const T* base() const { return x; }
  __device__ __forceinline__ const T* corner(int y, int xx, int ch) const {
    return x + (size_t(2 * y) * w_in + 2 * xx) * c + ch;
  }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const T* p = corner(y, xx, ch);
    return max2(max2(to_float(p[0]), to_float(p[c])), max2(to_float(p[row]), to_float(p[row + c])));
  }
  __device__ __forceinline__ const T* pixel(int y, int xx) const { return corner(y, xx, 0); }
  __device__ __forceinline__ int tap_offset(int dy, int dx, int ci) const { return 2 * (dy * w_in + dx) * c + ci; }
  __device__ __forceinline__ bool copies(int) const { return false; }
  __device__ __forceinline__ void compute8(const T* p, Chunk<T>& out) const {
    // 16-byte loads, whole: a load per pair of channels would be four times the instructions.
    const Bytes16 a = *reinterpret_cast<const Bytes16*>(p), b = *reinterpret_cast<const Bytes16*>(p + c),
                  d = *reinterpret_cast<const Bytes16*>(p + row), e = *reinterpret_cast<const Bytes16*>(p + row + c);
    Bytes16 o;
    GP_MMA_UNROLL
    for (int j = 0; j < 4; ++j)
      o.word[j] = word_of<T>(__hmax2(__hmax2(pair_of<T>(a.word[j]), pair_of<T>(b.word[j])),
                                     __hmax2(pair_of<T>(d.word[j]), pair_of<T>(e.word[j]))));
    memcpy(&out, &o, sizeof o);
  }
};

template <class T> struct UpConcatGather {
  static constexpr int kSources = 1;
  const T* skip;  // [h][w][cs]
  const T* low;   // [hl][wl][cl]
  int w, cs, cl, hl, wl, top, left;
  float scale_y, scale_x;  // (n - 1) / (2n - 1): align_corners=True source step (0 for n = 1)
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
  __device__ __forceinline__ const T* pixel(int y, int xx) const { return skip + (size_t(y) * w + xx) * cs; }
  __device__ __forceinline__ int tap_offset(int dy, int dx, int ci) const { return (dy * w + dx) * cs + ci; }
  __device__ __forceinline__ bool copies(int ci) const { return ci < cs; }
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

// [skip, up]: two tensors of h x w concatenated (the decoder's input once its upsampled
// half is written out, kernels/upsample.cuh); vector only. Per K step, the source its
// channel lies in, that source's channel count and the tap's offset in it.
template <class T> struct ConcatGather {
  static constexpr int kSources = 2;
  const T* skip;  // [h][w][cs]
  const T* up;    // [h][w][cu]
  int w, cs, cu;
  struct Step {
    const T* base;
    int stride, offset;
  };
  __device__ __forceinline__ const T* base() const { return skip; }
  __device__ __forceinline__ bool copies(int) const { return true; }
  __device__ __forceinline__ Step step(int ci, int dy, int dx) const {
    return ci < cs ? Step{skip, cs, (dy * w + dx) * cs + ci} : Step{up, cu, (dy * w + dx) * cu + (ci - cs)};
  }
};

template <class T> struct FloatPlainGather {
  static constexpr int kSources = 1;
  const float* x;
  int w, c;
  __device__ __forceinline__ const T* base() const { return nullptr; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const { return x[(size_t(y) * w + xx) * c + ch]; }
};

template <class T> struct ColorizerGather {
  static constexpr int kSources = 1;
  const float* sketch;
  const uint8_t* labels;
  const float* colors;
  const uint8_t* active;
  int w;
  float center;
  __device__ __forceinline__ const T* base() const { return nullptr; }
  __device__ __forceinline__ float at(int y, int xx, int ch) const {
    const size_t p = size_t(y) * w + xx;
    return gather::colorizer_channel(sketch[p], labels[p], colors, active, center, ch);
  }
};

// The vector gathers' computed chunk: max-pool reads its 2x2 corner through the offsets the
// kernel keeps; the upsample needs the pixel itself.
template <class T>
__device__ __forceinline__ void compute_chunk(const MaxPoolGather<T>& g, const T* at, int, int, int, Chunk<T>& out) {
  g.compute8(at, out);
}
template <class T> __device__ __forceinline__ void compute_chunk(const UpConcatGather<T>& g, const T*, int y, int x,
                                                                 int ci, Chunk<T>& out) {
  g.compute8(y, x, ci, out);
}
template <class T>
__device__ __forceinline__ void compute_chunk(const PlainGather<T>&, const T*, int, int, int, Chunk<T>&) {}

struct Geometry {
  int h, w, cin, cout;
  int k_rows;  // packed row length (9 cin rounded up to BK)
};

// Chunk `chunk` of row `row` in a stage of rows of 4 chunks (in 16-byte units).
__device__ __forceinline__ int swizzled(int row, int chunk) { return row * kChunksPerRow + (chunk ^ ((row >> 1) & 3)); }

// A coordinate so far outside the image that adding a tap offset keeps it outside: rows
// past the last pixel and k past the 9 taps get it, so one bounds test covers all three.
constexpr int kFar = -(1 << 28);

// Where a thread's k stands: tap (0..8; 9 and beyond is the packing's zero padding) and
// channel. A K step of BK moves it by a whole number of taps and channels worked out once
// (the one division, before the loop), plus at most one carry.
static_assert(BK <= 32, "KCursor::dy/dx are exact for tap < 32; with cin = 1 the last k of a BK chunk is tap BK - 1");
struct KCursor {
  int tap, ci;
  __device__ __forceinline__ void advance(int step_taps, int step_channels, int cin) {
    ci += step_channels;
    tap += step_taps;
    if (ci >= cin) {
      ci -= cin;
      ++tap;
    }
  }
  // The tap's row and column offsets -1..1 (tap / 3 by a multiply: exact for tap < 32),
  // and the row offset for the bounds test: kFar past the 9 taps, so nothing is read there.
  __device__ __forceinline__ int dy() const { return ((tap * 11) >> 5) - 1; }
  __device__ __forceinline__ int dx() const { return tap - 3 * ((tap * 11) >> 5) - 1; }
  __device__ __forceinline__ int dy_bounds() const { return tap < 9 ? dy() : kFar; }
};

// Split-K (gridDim.z > 1): block z multiplies K chunks [z k_chunks / splits, (z + 1)
// k_chunks / splits) and stores its accumulators to `partials`; the block that counts
// itself last for its tile (an atomic per tile, then reset to 0 for the next launch) sums
// the splits' accumulators in split order and runs the epilogue. No block waits for
// another, and the sum's order does not depend on which block comes last: deterministic.
struct SplitK {
  float* partials;     // [tiles][splits][MI * NI][NT] float4: BM x BN floats per tile and split
  unsigned* counters;  // [tiles], zero between launches
};

template <class T, class Gather, class Tile, bool kVec, bool kSplit> __global__ void __launch_bounds__(NT)
    conv3x3_mma_kernel(Gather g, const T* __restrict__ packed, const float* __restrict__ bias, T* __restrict__ out,
                       Geometry geo, SplitK split_k) {
#ifdef GP_CONV_MMA_UNSUPPORTED
  __trap();
#else
  constexpr int BM = Tile::BM, BN = Tile::BN, MI = Tile::MI, NI = Tile::NI, A_ROWS = Tile::A_PER_THREAD;
  constexpr int B_ROWS = (Tile::B_CHUNKS + NT - 1) / NT;
  __shared__ Bytes16 As[STAGES][BM * kChunksPerRow];
  __shared__ Bytes16 Bs[STAGES][BN * kChunksPerRow];
  const int tid = int(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const int wm = (warp / Tile::WARPS_N) * Tile::WM, wn = (warp % Tile::WARPS_N) * Tile::WN;
  const int pixels = geo.h * geo.w;
  const int m0 = int(blockIdx.x) * BM, n0 = int(blockIdx.y) * BN;

  // What stays fixed for the whole K loop, worked out once: this thread's chunk column,
  // its A rows (pixels: coordinates and, for vector gathers, pointers), its B rows' weights,
  // and the shared-memory addresses it writes and reads (offsets in a stage).
  const int my_chunk = tid % kChunksPerRow;
  int row_y[A_ROWS], row_x[A_ROWS];
  [[maybe_unused]] const T* row_at[A_ROWS];
  [[maybe_unused]] int row_p[A_ROWS];  // two-source gathers: the pixel's index
  uint32_t a_store[A_ROWS];
  GP_MMA_UNROLL
  for (int i = 0; i < A_ROWS; ++i) {
    const int row = tid / kChunksPerRow + i * (NT / kChunksPerRow);
    const int p = m0 + row;
    const bool valid = p < pixels;
    row_y[i] = valid ? p / geo.w : kFar;
    row_x[i] = valid ? p % geo.w : 0;
    if constexpr (kVec && Gather::kSources == 1) row_at[i] = valid ? g.pixel(row_y[i], row_x[i]) : g.base();
    if constexpr (Gather::kSources == 2) row_p[i] = valid ? p : 0;
    a_store[i] = 16 * swizzled(row, my_chunk);
  }
  const T* b_row[B_ROWS];
  uint32_t b_store[B_ROWS];
  GP_MMA_UNROLL
  for (int j = 0; j < B_ROWS; ++j) {
    const int row = (tid + j * NT) / kChunksPerRow;
    b_row[j] = packed + size_t(n0 + row) * geo.k_rows + 8 * my_chunk;  // + this split's first k below
    b_store[j] = 16 * swizzled(row, my_chunk);
  }
  // The ldmatrix rows of this lane, for k16 step 0. The swizzle depends on (row / 2) % 4,
  // which a step of 16 rows keeps, so the warp tile's other m16 / n16 rows lie a fixed
  // 1024 bytes on; k16 step 1 is chunk 2 further, bit 1 of the chunk: XOR 32 bytes.
  // A: lanes 0-15 address rows 0-15 at chunk 0, lanes 16-31 the same rows at chunk 1:
  // matrices (rows 0-7, k 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) = a0..a3.
  // B stored [n][k] is the mma's column-major B: matrices (n 0-7, k 0-7), (n 0-7, k 8-15),
  // (n 8-15, k 0-7), (n 8-15, k 8-15) = b0, b1 of two n8 tiles.
  constexpr uint32_t kRows16 = 16 * kChunksPerRow * 16;
  uint32_t a_read[BK / 16], b_read[BK / 16];
  a_read[0] = 16 * swizzled(wm + lane % 16, lane / 16);
  b_read[0] = 16 * swizzled(wn + (lane / 16) * 8 + lane % 8, (lane / 8) % 2);
  static_assert(BK / 16 == 2, "two k16 steps a chunk");
  a_read[1] = a_read[0] ^ 32;
  b_read[1] = b_read[0] ^ 32;
  const uint32_t a_smem = ptx::shared_address(&As[0][0]), b_smem = ptx::shared_address(&Bs[0][0]);
  constexpr uint32_t A_STAGE = sizeof(As[0]), B_STAGE = sizeof(Bs[0]);
  // kSplit is a template argument so that an unsplit kernel keeps no trace of it (its
  // registers and K loop as before: tools/sass_report.py).
  const int k_chunks_all = geo.k_rows / BK, split = kSplit ? int(blockIdx.z) : 0, splits = kSplit ? int(gridDim.z) : 1;
  const int chunk_begin = split * k_chunks_all / splits, k_chunks = (split + 1) * k_chunks_all / splits - chunk_begin;
  const int k_first = chunk_begin * BK + 8 * my_chunk;
  KCursor at{k_first / geo.cin, k_first % geo.cin};
  const int step_taps = BK / geo.cin, step_channels = BK % geo.cin;
  GP_MMA_UNROLL
  for (int j = 0; j < B_ROWS; ++j) b_row[j] += chunk_begin * BK;
  int b_k = 0;  // this step's k offset from the split's first, in the packed weights

  auto load_stage = [&](int slot) {
    // B: weights of output channels n0 + row at this step's k (always inside the padding).
    GP_MMA_UNROLL
    for (int j = 0; j < B_ROWS; ++j) {
      if (Tile::B_CHUNKS % NT != 0 && tid + j * NT >= Tile::B_CHUNKS) break;
      ptx::copy_16_or_zero(b_smem + slot * B_STAGE + b_store[j], b_row[j] + b_k, true);
    }
    b_k += BK;
    // A: the gathered input of each row's pixel at this step's 8 k.
    if constexpr (Gather::kSources == 2) {
      // Every chunk a copy from the source its channel lies in.
      const int dy = at.dy_bounds(), dx = at.dx();
      const typename Gather::Step st = g.step(at.ci, at.dy(), dx);
      GP_MMA_UNROLL
      for (int i = 0; i < A_ROWS; ++i) {
        const int y = row_y[i] + dy, x = row_x[i] + dx;
        const bool inside = unsigned(y) < unsigned(geo.h) && unsigned(x) < unsigned(geo.w);
        const T* src = inside ? st.base + (size_t(row_p[i]) * st.stride + st.offset) : g.base();
        ptx::copy_16_or_zero(a_smem + slot * A_STAGE + a_store[i], src, inside);
      }
    } else if constexpr (kVec) {
      const int dy = at.dy_bounds(), dx = at.dx();
      const bool copy = g.copies(at.ci);
      const int offset = g.tap_offset(at.dy(), dx, at.ci);
      // The source is formed only where it is read (a copy, or max-pool's corner), so that
      // no pointer past its tensor is made; the zero fill takes the pixel itself.
      constexpr bool kReadsAtPixel = !std::is_same_v<Gather, UpConcatGather<T>>;
      GP_MMA_UNROLL
      for (int i = 0; i < A_ROWS; ++i) {
        const uint32_t dst = a_smem + slot * A_STAGE + a_store[i];
        const int y = row_y[i] + dy, x = row_x[i] + dx;
        const bool inside = unsigned(y) < unsigned(geo.h) && unsigned(x) < unsigned(geo.w);
        const T* src = row_at[i] + (inside && (copy || kReadsAtPixel) ? offset : 0);
        if (copy || !inside) {
          ptx::copy_16_or_zero(dst, src, inside);
        } else {
          Chunk<T> c;
          compute_chunk(g, src, y, x, at.ci, c);
          *reinterpret_cast<Chunk<T>*>(reinterpret_cast<char*>(&As[0][0]) + (dst - a_smem)) = c;
        }
      }
    } else {
      // Row by row, so that one chunk is live at a time (the per-element gathers are long).
      GP_MMA_UNROLL
      for (int i = 0; i < A_ROWS; ++i) {
        Chunk<T> c;
        KCursor e = at;
        GP_MMA_UNROLL
        for (int j = 0; j < 8; ++j) {
          const int y = row_y[i] + e.dy_bounds(), x = row_x[i] + e.dx();
          const bool inside = unsigned(y) < unsigned(geo.h) && unsigned(x) < unsigned(geo.w);
          c.v[j] = from_float<T>(inside ? g.at(y, x, e.ci) : 0.0f);
          if (++e.ci == geo.cin) {
            e.ci = 0;
            ++e.tap;
          }
        }
        *reinterpret_cast<Chunk<T>*>(reinterpret_cast<char*>(&As[slot][0]) + a_store[i]) = c;
      }
    }
    at.advance(step_taps, step_channels, geo.cin);
  };

  float acc[MI][NI][4];
  GP_MMA_UNROLL
  for (int mi = 0; mi < MI; ++mi) GP_MMA_UNROLL
  for (int ni = 0; ni < NI; ++ni) GP_MMA_UNROLL
  for (int e = 0; e < 4; ++e) acc[mi][ni][e] = 0.0f;

  GP_MMA_UNROLL
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < k_chunks) load_stage(s);
    ptx::commit_group();
  }
  int read_slot = 0, write_slot = STAGES - 1;  // kt % STAGES and (kt + STAGES - 1) % STAGES, without the modulo
  for (int kt = 0; kt < k_chunks; ++kt) {
    ptx::wait_group<STAGES - 2>();  // stage kt has landed (this thread's copies) ...
    __syncthreads();                // ... and everyone's; stage kt - 1 is free again
    if (kt + STAGES - 1 < k_chunks) load_stage(write_slot);
    ptx::commit_group();  // an empty group at the end keeps the count uniform
    const int slot = read_slot;
    read_slot = read_slot == STAGES - 1 ? 0 : read_slot + 1;
    write_slot = write_slot == STAGES - 1 ? 0 : write_slot + 1;
    GP_MMA_UNROLL
    for (int kk = 0; kk < BK / 16; ++kk) {
      uint32_t a[MI][4];
      GP_MMA_UNROLL
      for (int mi = 0; mi < MI; ++mi) ptx::ldmatrix_x4(a[mi], a_smem + slot * A_STAGE + a_read[kk] + mi * kRows16);
      uint32_t b[NI / 2][4];
      GP_MMA_UNROLL
      for (int nj = 0; nj < NI / 2; ++nj) ptx::ldmatrix_x4(b[nj], b_smem + slot * B_STAGE + b_read[kk] + nj * kRows16);
      GP_MMA_UNROLL
      for (int mi = 0; mi < MI; ++mi) GP_MMA_UNROLL
      for (int ni = 0; ni < NI; ++ni)
        ptx::mma_16816<T>(acc[mi][ni], a[mi], b[ni / 2][(ni % 2) * 2], b[ni / 2][(ni % 2) * 2 + 1]);
    }
  }

  if constexpr (kSplit) {
    const size_t tile = size_t(blockIdx.y) * gridDim.x + blockIdx.x;
    float4* const part = reinterpret_cast<float4*>(split_k.partials) + tile * splits * (MI * NI * NT) + tid;
    GP_MMA_UNROLL
    for (int mi = 0; mi < MI; ++mi) GP_MMA_UNROLL
    for (int ni = 0; ni < NI; ++ni)
      part[(split * MI * NI + mi * NI + ni) * NT] =
          make_float4(acc[mi][ni][0], acc[mi][ni][1], acc[mi][ni][2], acc[mi][ni][3]);
    __shared__ int last_split;
    __threadfence();  // this block's partials visible before it is counted
    __syncthreads();
    if (tid == 0) {
      const bool last = atomicAdd(split_k.counters + tile, 1u) == unsigned(splits - 1);
      if (last) atomicExch(split_k.counters + tile, 0u);  // every split has counted: ready for the next launch
      last_split = last;
    }
    __syncthreads();
    if (!last_split) return;
    __threadfence();
    GP_MMA_UNROLL
    for (int mi = 0; mi < MI; ++mi) GP_MMA_UNROLL
    for (int ni = 0; ni < NI; ++ni) {
      float4 sum = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      for (int z = 0; z < splits; ++z) {
        const float4 v = z == split ? make_float4(acc[mi][ni][0], acc[mi][ni][1], acc[mi][ni][2], acc[mi][ni][3])
                                    : __ldcg(part + (z * MI * NI + mi * NI + ni) * NT);
        sum.x += v.x;
        sum.y += v.y;
        sum.z += v.z;
        sum.w += v.w;
      }
      acc[mi][ni][0] = sum.x;
      acc[mi][ni][1] = sum.y;
      acc[mi][ni][2] = sum.z;
      acc[mi][ni][3] = sum.w;
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
    for (int mi = 0; mi < MI; ++mi) GP_MMA_UNROLL
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

template <class T, class Gather, class Tile, bool kVec, bool kSplit>
cudaError_t launch_tile(const Gather& g, const Geometry& geo, const ConvMmaWeights<T>& wt, T* out,
                        const ConvMmaLaunch& lc, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(ceil_div(size_t(geo.h) * geo.w, Tile::BM), unsigned(ceil_div(size_t(geo.cout), Tile::BN)),
                        unsigned(lc.splits));
  config.blockDim = dim3(NT);
  config.stream = stream;
  const SplitK split_k{lc.partials, lc.counters};
  return cudaLaunchKernelEx(&config, conv3x3_mma_kernel<T, Gather, Tile, kVec, kSplit>, g, wt.packed, wt.bias, out, geo,
                            split_k);
}

// Split K is built for the vector gathers the engine runs (plain, max-pool, concat); the
// per-element gathers and the fused up-concat never have enough K chunks and too few tiles
// at once in the U-Net, and each variant is a kernel more to compile.
template <class T, class Gather, bool kVec> constexpr bool kSplittable =
    kVec && !std::is_same_v<Gather, UpConcatGather<T>>;

template <class T, class Gather, class Tile, bool kVec>
cudaError_t launch_tile(const Gather& g, const Geometry& geo, const ConvMmaWeights<T>& wt, T* out,
                        const ConvMmaLaunch& lc, cudaStream_t stream) {
  if (lc.splits == 1) return launch_tile<T, Gather, Tile, kVec, false>(g, geo, wt, out, lc, stream);
  if constexpr (kSplittable<T, Gather, kVec>)
    return launch_tile<T, Gather, Tile, kVec, true>(g, geo, wt, out, lc, stream);
  return cudaErrorInvalidValue;
}

// kVec: the vector gather (every channel count a multiple of 8), else per element.
template <class T, bool kVec, class Gather> cudaError_t launch(const Gather& g, int h, int w, int cin,
                                                               const ConvMmaWeights<T>& wt, T* out, cudaStream_t stream,
                                                               ConvMmaLaunch lc) {
  if (h < 0 || w < 0 || wt.cin != cin || wt.cout < 1 || !wt.packed || !wt.bias || !aligned16(wt.packed))
    return cudaErrorInvalidValue;
  if (size_t(h) * w == 0) return cudaSuccess;
  if (!out || size_t(h) * w > size_t(INT32_MAX) / 2) return cudaErrorInvalidValue;
  // The vector gathers' tap offsets are ints: (dy w + dx) c within a quarter of the range.
  if (kVec && size_t(w) * cin > size_t(INT32_MAX) / 4) return cudaErrorInvalidValue;
  const Geometry geo{h, w, cin, wt.cout, int(conv_mma_packed_rows(cin))};
  if (lc.tile == ConvMmaTile::Auto) lc.tile = conv_mma_choose_tile(size_t(h) * w, wt.cout);
  if (lc.splits < 1 || lc.splits > kConvMmaMaxSplits || lc.splits > geo.k_rows / BK) return cudaErrorInvalidValue;
  if (lc.splits > 1 && (!lc.partials || !lc.counters || !aligned16(lc.partials))) return cudaErrorInvalidValue;
  switch (lc.tile) {
    case ConvMmaTile::M128N32: return launch_tile<T, Gather, Tile128x32, kVec>(g, geo, wt, out, lc, stream);
    case ConvMmaTile::M32N64: return launch_tile<T, Gather, Tile32x64, kVec>(g, geo, wt, out, lc, stream);
    case ConvMmaTile::M64N64: return launch_tile<T, Gather, Tile64x64, kVec>(g, geo, wt, out, lc, stream);
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

template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvPlainT<T>& in, const ConvMmaWeights<T>& wt, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch lc) {
  if (in.c < 1 || !in.x || !aligned16(in.x)) return cudaErrorInvalidValue;
  const PlainGather<T> g{in.x, in.w, in.c};
  return in.c % 8 == 0 ? launch<T, true>(g, in.h, in.w, in.c, wt, out, stream, lc)
                       : launch<T, false>(g, in.h, in.w, in.c, wt, out, stream, lc);
}

template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvMaxPoolT<T>& in, const ConvMmaWeights<T>& wt, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch lc) {
  if (in.c < 1 || in.h_in < 0 || in.w_in < 0 || !in.x || !aligned16(in.x)) return cudaErrorInvalidValue;
  if (size_t(in.w_in) * in.c > size_t(INT32_MAX) / 4) return cudaErrorInvalidValue;
  const MaxPoolGather<T> g{in.x, in.w_in, in.c, in.w_in * in.c};
  return in.c % 8 == 0 ? launch<T, true>(g, in.h_in / 2, in.w_in / 2, in.c, wt, out, stream, lc)
                       : launch<T, false>(g, in.h_in / 2, in.w_in / 2, in.c, wt, out, stream, lc);
}

template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvUpConcatT<T>& in, const ConvMmaWeights<T>& wt, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch lc) {
  if (in.c_skip < 1 || in.c_low < 1 || in.h_low < 1 || in.w_low < 1 || 2 * in.h_low > in.h || 2 * in.w_low > in.w ||
      !in.skip || !in.low || !aligned16(in.skip) || !aligned16(in.low))
    return cudaErrorInvalidValue;
  const UpConcatGather<T> g{in.skip,
                            in.low,
                            in.w,
                            in.c_skip,
                            in.c_low,
                            in.h_low,
                            in.w_low,
                            (in.h - 2 * in.h_low) / 2,
                            (in.w - 2 * in.w_low) / 2,
                            gather::up_step(in.h_low),
                            gather::up_step(in.w_low)};
  const int cin = in.c_skip + in.c_low;
  return in.c_skip % 8 == 0 && in.c_low % 8 == 0 ? launch<T, true>(g, in.h, in.w, cin, wt, out, stream, lc)
                                                 : launch<T, false>(g, in.h, in.w, cin, wt, out, stream, lc);
}

template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvConcatT<T>& in, const ConvMmaWeights<T>& wt, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch lc) {
  if (in.c_skip < 8 || in.c_up < 8 || in.c_skip % 8 != 0 || in.c_up % 8 != 0 || !in.skip || !in.up ||
      !aligned16(in.skip) || !aligned16(in.up))
    return cudaErrorInvalidValue;
  const ConcatGather<T> g{in.skip, in.up, in.w, in.c_skip, in.c_up};
  return launch<T, true>(g, in.h, in.w, in.c_skip + in.c_up, wt, out, stream, lc);
}

template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvPlainFloatMma& in, const ConvMmaWeights<T>& wt, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch lc) {
  if (in.c < 1 || !in.x) return cudaErrorInvalidValue;
  return launch<T, false>(FloatPlainGather<T>{in.x, in.w, in.c}, in.h, in.w, in.c, wt, out, stream, lc);
}

template <class T> cudaError_t conv3x3_mma_bias_relu(const ConvColorizerMma& in, const ConvMmaWeights<T>& wt, T* out,
                                                     cudaStream_t stream, ConvMmaLaunch lc) {
  if (!in.sketch || !in.labels || !in.colors || !in.active) return cudaErrorInvalidValue;
  const ColorizerGather<T> g{in.sketch, in.labels, in.colors, in.active, in.w, in.center};
  return launch<T, false>(g, in.h, in.w, gp::kColorizerChannels, wt, out, stream, lc);
}

#define GP_CONV_MMA_INSTANTIATE(T)                                                                                    \
  template std::vector<T> conv_mma_pack_weights<T>(const float*, int, int);                                           \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvPlainT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t,     \
                                                ConvMmaLaunch);                                                       \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvMaxPoolT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t,   \
                                                ConvMmaLaunch);                                                       \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvUpConcatT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t,  \
                                                ConvMmaLaunch);                                                       \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvConcatT<T>&, const ConvMmaWeights<T>&, T*, cudaStream_t,    \
                                                ConvMmaLaunch);                                                       \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvPlainFloatMma&, const ConvMmaWeights<T>&, T*, cudaStream_t, \
                                                ConvMmaLaunch);                                                       \
  template cudaError_t conv3x3_mma_bias_relu<T>(const ConvColorizerMma&, const ConvMmaWeights<T>&, T*, cudaStream_t,  \
                                                ConvMmaLaunch);
GP_CONV_MMA_INSTANTIATE(__half)
GP_CONV_MMA_INSTANTIATE(__nv_bfloat16)

}  // namespace GP_KERNEL_NS
