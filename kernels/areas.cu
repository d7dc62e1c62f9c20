// Closed areas (contracts in kernels/areas.cuh; CPU reference in kernels/areas_ref.h).
//
// label_areas is a label-equivalence union-find over pixel indices, in six launches on
// one stream and no host round trip, whatever the picture:
//   1. label_tiles: each block thresholds a 32 x 32 tile, unites 4-neighbours in shared
//      memory (union to the minimum index, atomicMin) and writes every paper pixel's
//      tile-local root as a global pixel index into `labels`, the union-find forest;
//      line pixels get kLinePixel.
//   2. merge_tile_borders: one thread per pair of paper pixels facing each other across
//      a tile border unites their trees in global memory with the same lock-free
//      atomicMin union. Whatever an area's shape (a spiral crossing a thousand tiles),
//      this is one launch: the forest, not a host loop, carries the connectivity.
//   3. flatten: every paper pixel finds its root and compresses its path to it; the
//      root is the area's smallest pixel index, i.e. its first pixel in raster order.
//      Each 4096-pixel chunk counts its roots.
//   4. scan_chunk_counts: one block turns the chunk counts into exclusive offsets and
//      writes *num_areas.
//   5. number_roots: a root's id is its chunk's offset plus its rank among the chunk's
//      roots; it is stored at the root as -2 - id (distinct from pixel indices and -1).
//   6. resolve: every pixel reads its root's entry and stores the id.
// The ids are therefore the raster order of the areas' first pixels, independent of the
// block schedule and of the order in which the unions happened.
#include "kernels/areas.cuh"
#include "kernels/label_runs.cuh"

namespace GP_KERNEL_NS {
namespace {

using gp::AreaStats;

// ---- words other threads change concurrently ----------------------------------------
// The forest is read while other threads (of this block or others) atomicMin it. On the
// GPU a volatile access keeps each read a real load (never a register copy or a stale
// L1 line); on the simulator, whose blocks run in parallel OS threads, a relaxed atomic
// (a plain move on x86) keeps the C++ program race-free.
__device__ __forceinline__ int32_t load_word(const int32_t* p) {
#if defined(__CUDACC_SIM__)
  return std::atomic_ref<int32_t>(*const_cast<int32_t*>(p)).load(std::memory_order_relaxed);
#else
  return *reinterpret_cast<const volatile int32_t*>(p);
#endif
}
__device__ __forceinline__ void store_word(int32_t* p, int32_t v) {
#if defined(__CUDACC_SIM__)
  std::atomic_ref<int32_t>(*p).store(v, std::memory_order_relaxed);
#else
  *reinterpret_cast<volatile int32_t*>(p) = v;
#endif
}

// ---- union-find with union to the minimum --------------------------------------------
// Invariant: parent[i] <= i and parent[i] lies in i's area, so a root is the smallest
// index of its tree. Unions only lower entries (atomicMin), which is what lets them run
// concurrently without locks.
__device__ __forceinline__ int32_t find_root(const int32_t* parent, int32_t i) {
  for (int32_t p = load_word(&parent[i]); p != i; p = load_word(&parent[i])) i = p;
  return i;
}

// Puts a and b in one tree. When b's root has meanwhile been linked elsewhere, the
// atomicMin may still have lowered its entry to a (moving it to a's tree), and the loop
// goes on with its old parent, whose tree then joins a's: no connection is lost.
__device__ __forceinline__ void unite(int32_t* parent, int32_t a, int32_t b) {
  for (;;) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return;
    if (a > b) {
      const int32_t t = a;
      a = b;
      b = t;
    }
    const int32_t old = atomicMin(&parent[b], a);  // links root b under the smaller a
    if (old == b) return;
    b = old;
  }
}

// ---- 1. tiles in shared memory -------------------------------------------------------
constexpr int kTileW = 32, kTileH = 32;  // the tile of one block
constexpr int kTileRows = 8;             // block 32 x 8: four rows per thread
constexpr int kRowsPerThread = kTileH / kTileRows;

__global__ void __launch_bounds__(kTileW* kTileRows)
    label_tiles_kernel(const uint8_t* __restrict__ rgb, int width, int height, int threshold, unsigned tiles_x,
                       int32_t* __restrict__ parent) {
  __shared__ int32_t local[kTileW * kTileH];  // tile-local forest, -1 for line / outside
  const int tx = int(threadIdx.x);
  // A 1-D grid of tiles, row by row: grid y (65535 at most) would limit the height.
  const int x0 = int(blockIdx.x % tiles_x) * kTileW, y0 = int(blockIdx.x / tiles_x) * kTileH;
  const int x = x0 + tx;
  unsigned paper = 0;  // bit k: row threadIdx.y + k * kTileRows is paper
  for (int k = 0; k < kRowsPerThread; ++k) {
    const int ty = int(threadIdx.y) + k * kTileRows, y = y0 + ty, l = ty * kTileW + tx;
    const bool is_paper =
        x < width && y < height && !gp::is_line_pixel(rgb + 3 * (size_t(y) * size_t(width) + size_t(x)), threshold);
    paper |= unsigned(is_paper) << k;
    local[l] = is_paper ? l : -1;
  }
  __syncthreads();

  // Unite with the left and the upper neighbour. The upper union is implied when the
  // left, upper-left and upper pixels are all paper (left-upleft and upleft-up are
  // other threads' unions), so it is skipped: half the atomics inside large areas.
  for (int k = 0; k < kRowsPerThread; ++k) {
    if (!(paper >> k & 1u)) continue;
    const int ty = int(threadIdx.y) + k * kTileRows, l = ty * kTileW + tx;
    const bool left = tx > 0 && load_word(&local[l - 1]) >= 0;
    if (left) unite(local, l, l - 1);
    if (ty > 0 && load_word(&local[l - kTileW]) >= 0 && !(left && load_word(&local[l - kTileW - 1]) >= 0))
      unite(local, l, l - kTileW);
  }
  __syncthreads();

  for (int k = 0; k < kRowsPerThread; ++k) {
    const int ty = int(threadIdx.y) + k * kTileRows, y = y0 + ty, l = ty * kTileW + tx;
    if (x >= width || y >= height) continue;
    int32_t v = gp::kLinePixel;
    if (paper >> k & 1u) {
      const int32_t r = find_root(local, l);
      // Row-major order inside the tile is raster order, so the tile's minimum stays the
      // minimum as a global index.
      v = int32_t((y0 + r / kTileW) * int64_t(width) + x0 + r % kTileW);
    }
    parent[size_t(y) * size_t(width) + size_t(x)] = v;
  }
}

// ---- 2. tile borders in global memory -------------------------------------------------
// Pair i: first the horizontal borders (pixel (x, y) with y a multiple of kTileH and the
// one above it), then the vertical ones ((x, y) with x a multiple of kTileW and its left
// neighbour). A pair is skipped when its neighbour pair along the border is paper on
// both sides and lies in the same two tiles: the tiles already join them there.
__global__ void merge_tile_borders_kernel(int32_t* __restrict__ parent, int width, int height, size_t horizontal,
                                          size_t pairs) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= pairs) return;
  const size_t w = size_t(width);
  int32_t p, q;
  if (i < horizontal) {
    const int x = int(i % w), y = int(i / w + 1) * kTileH;
    p = int32_t(size_t(y) * w + size_t(x));
    q = p - width;
    if (load_word(&parent[p]) < 0 || load_word(&parent[q]) < 0) return;
    if (x % kTileW != 0 && load_word(&parent[p - 1]) >= 0 && load_word(&parent[q - 1]) >= 0) return;
  } else {
    const size_t j = i - horizontal, h = size_t(height);
    const int y = int(j % h), x = int(j / h + 1) * kTileW;
    p = int32_t(size_t(y) * w + size_t(x));
    q = p - 1;
    if (load_word(&parent[p]) < 0 || load_word(&parent[q]) < 0) return;
    if (y % kTileH != 0 && load_word(&parent[p - width]) >= 0 && load_word(&parent[q - width]) >= 0) return;
  }
  unite(parent, p, q);
}

// ---- 3.-6. numbering in raster order -----------------------------------------------------
constexpr unsigned kChunkThreads = 256;
constexpr unsigned kChunkPerThread = 16;
constexpr unsigned kChunk = kChunkThreads * kChunkPerThread;  // pixels of one block
constexpr unsigned kScanThreads = 1024;

// Exclusive prefix sum of v over the block (blockDim.x a multiple of 32); *total gets
// the block's sum. warp_sums: 32 words of shared memory. Once per kernel (no barrier
// guards a second use of warp_sums).
__device__ __forceinline__ unsigned block_exclusive_scan(unsigned v, unsigned* warp_sums, unsigned* total) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  unsigned inclusive = v;
  for (unsigned d = 1; d < 32; d *= 2) {
    const unsigned n = __shfl_up_sync(0xffffffffu, inclusive, d);
    if (lane >= d) inclusive += n;
  }
  if (lane == 31) warp_sums[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    unsigned s = lane < warps ? warp_sums[lane] : 0;
    for (unsigned d = 1; d < 32; d *= 2) {
      const unsigned n = __shfl_up_sync(0xffffffffu, s, d);
      if (lane >= d) s += n;
    }
    warp_sums[lane] = s;
  }
  __syncthreads();
  *total = warp_sums[warps - 1];
  return (warp > 0 ? warp_sums[warp - 1] : 0) + inclusive - v;
}

// Every paper pixel ends pointing at its root; counts[chunk] = the chunk's roots. No
// union runs any more, so a root is final and shortcutting to it is always valid while
// other threads walk the same paths. Pixels i * kChunkThreads + t of the chunk
// (coalesced: the count does not depend on the order).
__global__ void __launch_bounds__(kChunkThreads)
    flatten_kernel(int32_t* __restrict__ parent, size_t pixels, uint32_t* __restrict__ counts) {
  __shared__ unsigned roots;
  if (threadIdx.x == 0) roots = 0;
  __syncthreads();
  unsigned mine = 0;
  const size_t begin = size_t(blockIdx.x) * kChunk;
  for (unsigned k = 0; k < kChunkPerThread; ++k) {
    const size_t p = begin + size_t(k) * kChunkThreads + threadIdx.x;
    if (p >= pixels || load_word(&parent[p]) < 0) continue;
    const int32_t r = find_root(parent, int32_t(p));
    for (int32_t i = int32_t(p); i != r;) {
      const int32_t next = load_word(&parent[i]);
      if (next != r) store_word(&parent[i], r);
      i = next;
    }
    mine += unsigned(r == int32_t(p));
  }
  if (mine) atomicAdd(&roots, mine);
  __syncthreads();
  if (threadIdx.x == 0) counts[blockIdx.x] = roots;
}

// One block: counts[0..chunks) become exclusive offsets; *num_areas = their sum (below
// 2^31: one per pixel at most). Thread t scans a contiguous stretch of chunks.
__global__ void __launch_bounds__(kScanThreads)
    scan_chunk_counts_kernel(uint32_t* __restrict__ counts, unsigned chunks, int32_t* __restrict__ num_areas) {
  __shared__ unsigned warp_sums[32];
  const unsigned per = (chunks + blockDim.x - 1) / blockDim.x;
  const unsigned begin = threadIdx.x * per < chunks ? threadIdx.x * per : chunks;
  const unsigned end = begin + per < chunks ? begin + per : chunks;
  unsigned sum = 0;
  for (unsigned c = begin; c < end; ++c) sum += counts[c];
  unsigned total = 0;
  unsigned offset = block_exclusive_scan(sum, warp_sums, &total);
  for (unsigned c = begin; c < end; ++c) {
    const unsigned n = counts[c];
    counts[c] = offset;
    offset += n;
  }
  if (threadIdx.x == 0) *num_areas = int32_t(total);
}

// A root's id: its chunk's offset plus the roots before it in the chunk, in raster
// order (thread t owns the contiguous pixels t * kChunkPerThread ..). Stored at the
// root as -2 - id. Each thread reads and writes its own pixels only.
__global__ void __launch_bounds__(kChunkThreads)
    number_roots_kernel(int32_t* __restrict__ parent, size_t pixels, const uint32_t* __restrict__ offsets) {
  __shared__ unsigned warp_sums[32];
  const size_t begin = size_t(blockIdx.x) * kChunk + size_t(threadIdx.x) * kChunkPerThread;
  const size_t end = begin + kChunkPerThread < pixels ? begin + kChunkPerThread : pixels;
  unsigned roots = 0;
  for (size_t p = begin; p < end; ++p) roots += unsigned(parent[p] == int32_t(p));
  unsigned total = 0;
  unsigned id = offsets[blockIdx.x] + block_exclusive_scan(roots, warp_sums, &total);
  if (roots == 0) return;
  for (size_t p = begin; p < end; ++p)
    if (parent[p] == int32_t(p)) parent[p] = -2 - int32_t(id++);
}

// Every pixel's final label. A paper pixel that is not a root points at its root, whose
// entry is -2 - id, or already id when the root's own thread got there first: both read
// the same, so the race between them is harmless. Roots are the only entries read
// by other threads, and a root's thread only ever writes its own.
__global__ void __launch_bounds__(kChunkThreads) resolve_kernel(int32_t* __restrict__ labels, size_t pixels) {
  const size_t begin = size_t(blockIdx.x) * kChunk;
  for (unsigned k = 0; k < kChunkPerThread; ++k) {
    const size_t p = begin + size_t(k) * kChunkThreads + threadIdx.x;
    if (p >= pixels) return;
    const int32_t v = load_word(&labels[p]);
    if (v == gp::kLinePixel) continue;
    if (v < gp::kLinePixel) {
      store_word(&labels[p], -2 - v);
    } else {
      const int32_t r = load_word(&labels[v]);
      store_word(&labels[p], r < gp::kLinePixel ? -2 - r : r);
    }
  }
}

constexpr size_t kMaxLabelPixels = size_t(1) << 31;  // pixel indices are int32
constexpr int kMaxVoteRegions = 64;                  // areas.cuh: num_regions 1..64

// ---- area_stats -------------------------------------------------------------------------
constexpr unsigned kStatsBlock = 256;
constexpr unsigned kStatsSegment = 16;  // pixels of one row a thread scans
constexpr unsigned kMaxStatsBlocks = 2048;

__global__ void area_stats_init_kernel(int num_areas, AreaStats* __restrict__ stats) {
  const size_t a = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (a >= size_t(num_areas)) return;
  stats[a] = AreaStats{};
}

using AreaRun = LabelRun<int32_t>;  // a run of equal labels on one row (label_runs.cuh)

template <bool kWithColour>
__device__ __forceinline__ void flush_area_run(AreaStats* stats, const AreaRun& run, unsigned y, int num_areas) {
  if (run.label < 0 || run.label >= num_areas) return;  // line pixel (or no area)
  AreaStats& s = stats[run.label];
  atomicAdd(&s.count, run.n);
  atomicMin(&s.x0, run.x0);
  atomicMax(&s.x1, run.x0 + run.n - 1);
  atomicMin(&s.y0, y);
  atomicMax(&s.y1, y);
  if constexpr (kWithColour)
    for (int c = 0; c < 3; ++c) atomicAdd(&s.sum[c], (unsigned long long)run.sum[c]);
}

// Areas are many (up to half the pixels), so there is no per-block histogram: runs go
// straight to global atomics, one set per run of equal labels instead of per pixel.
template <bool kWithColour> __global__ void __launch_bounds__(kStatsBlock)
    area_stats_kernel(const int32_t* __restrict__ labels, const uint8_t* __restrict__ rgb, unsigned width,
                      unsigned segments_per_row, size_t segments, int num_areas, AreaStats* __restrict__ stats) {
  for (size_t s = size_t(blockIdx.x) * blockDim.x + threadIdx.x; s < segments; s += size_t(gridDim.x) * blockDim.x) {
    const unsigned y = unsigned(s / segments_per_row);
    const unsigned begin = unsigned(s % segments_per_row) * kStatsSegment;
    const unsigned end = begin + kStatsSegment < width ? begin + kStatsSegment : width;
    for_each_label_run<kWithColour, int32_t>(labels, rgb, size_t(y) * width, begin, end, [&](const AreaRun& run) {
      flush_area_run<kWithColour>(stats, run, y, num_areas);
    });
  }
}

// ---- area_majority ----------------------------------------------------------------------
// votes[a * num_regions + s]: area a's pixels that sample segmentation id s. Runs of
// equal (area, id) along a row segment are counted in registers.
__global__ void __launch_bounds__(kStatsBlock)
    area_votes_kernel(const int32_t* __restrict__ labels, int W, int H, const uint8_t* __restrict__ seg, int w, int h,
                      int num_regions, int num_areas, unsigned segments_per_row, size_t segments,
                      uint32_t* __restrict__ votes) {
  for (size_t s = size_t(blockIdx.x) * blockDim.x + threadIdx.x; s < segments; s += size_t(gridDim.x) * blockDim.x) {
    const int Y = int(s / segments_per_row);
    const int begin = int(s % segments_per_row) * int(kStatsSegment);
    const int end = begin + int(kStatsSegment) < W ? begin + int(kStatsSegment) : W;
    const int32_t* row = labels + size_t(Y) * size_t(W);
    const uint8_t* seg_row = seg + size_t(gp::nearest_index(Y, H, h)) * size_t(w);
    int32_t area = -1;
    unsigned id = 0, n = 0;
    for (int X = begin; X < end; ++X) {
      const int32_t a = row[X];
      const unsigned r = seg_row[gp::nearest_index(X, W, w)];
      if (a != area || r != id) {
        if (n && area >= 0 && area < num_areas && id < unsigned(num_regions))
          atomicAdd(&votes[size_t(area) * unsigned(num_regions) + id], n);
        area = a;
        id = r;
        n = 0;
      }
      ++n;
    }
    if (n && area >= 0 && area < num_areas && id < unsigned(num_regions))
      atomicAdd(&votes[size_t(area) * unsigned(num_regions) + id], n);
  }
}

// The most voted id of each area, the lowest on a tie, 0 without votes.
__global__ void area_majority_kernel(const uint32_t* __restrict__ votes, int num_regions, int num_areas,
                                     uint8_t* __restrict__ majority) {
  const size_t a = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (a >= size_t(num_areas)) return;
  const uint32_t* v = votes + a * unsigned(num_regions);
  int best = 0;
  for (int r = 1; r < num_regions; ++r)
    if (v[r] > v[best]) best = r;
  majority[a] = uint8_t(best);
}

// ---- override_labels, paint_areas ---------------------------------------------------
__global__ void override_labels_kernel(const uint8_t* __restrict__ base, int w, int h,
                                       const int32_t* __restrict__ labels, int W, int H,
                                       const int8_t* __restrict__ channel, uint8_t* __restrict__ out) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= size_t(w) * size_t(h)) return;
  const int x = int(i % unsigned(w)), y = int(i / unsigned(w));
  const int32_t a = labels[size_t(gp::nearest_index(y, h, H)) * size_t(W) + size_t(gp::nearest_index(x, w, W))];
  const int c = a >= 0 ? int(channel[a]) : -1;
  out[i] = c >= 0 ? uint8_t(c) : base[i];
}

__global__ void paint_areas_kernel(const int32_t* __restrict__ labels, size_t pixels,
                                   const uint8_t* __restrict__ colours, uint8_t* __restrict__ rgba) {
  const size_t p = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= pixels) return;
  const int32_t a = labels[p];
  uint8_t* o = rgba + 4 * p;
  if (a < 0) {
    o[0] = o[1] = o[2] = o[3] = 0;
    return;
  }
  const uint8_t* c = colours + 3 * size_t(a);
  o[0] = c[0];
  o[1] = c[1];
  o[2] = c[2];
  o[3] = 255;
}

constexpr unsigned kPixelBlock = 256;

// A grid-stride launch over row segments, capped at kMaxStatsBlocks blocks.
cudaLaunchConfig_t segment_config(size_t segments, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  const unsigned blocks = ceil_div(segments, kStatsBlock);
  config.gridDim = dim3(blocks < kMaxStatsBlocks ? blocks : kMaxStatsBlocks);
  config.blockDim = dim3(kStatsBlock);
  config.stream = stream;
  return config;
}

}  // namespace

size_t label_areas_scratch_bytes(int width, int height) {
  if (width < 0 || height < 0) return 0;
  const size_t pixels = size_t(width) * size_t(height);
  return size_t(ceil_div(pixels, kChunk)) * sizeof(uint32_t);
}

cudaError_t label_areas(const uint8_t* rgb, int width, int height, int threshold, int32_t* labels, int32_t* num_areas,
                        void* scratch, cudaStream_t stream) {
  if (width < 0 || height < 0 || threshold < 0 || threshold > 256) return cudaErrorInvalidValue;
  const size_t pixels = size_t(width) * size_t(height);
  if (pixels >= kMaxLabelPixels) return cudaErrorInvalidValue;
  if (pixels == 0) return cudaMemsetAsync(num_areas, 0, sizeof(int32_t), stream);

  const unsigned tiles_x = ceil_div(size_t(width), kTileW), tiles_y = ceil_div(size_t(height), kTileH);
  const unsigned chunks = ceil_div(pixels, kChunk);
  uint32_t* counts = static_cast<uint32_t*>(scratch);
  cudaLaunchConfig_t config{};
  config.stream = stream;

  config.gridDim = dim3(tiles_x * tiles_y);  // below 2^27 (pixels < 2^31, a tile holds >= 32)
  config.blockDim = dim3(kTileW, kTileRows);
  if (cudaError_t e = cudaLaunchKernelEx(&config, label_tiles_kernel, rgb, width, height, threshold, tiles_x, labels))
    return e;

  const size_t horizontal = size_t(tiles_y - 1) * size_t(width);
  const size_t pairs = horizontal + size_t(tiles_x - 1) * size_t(height);
  if (cudaError_t e =
          launch_1d(merge_tile_borders_kernel, pairs, kPixelBlock, stream, labels, width, height, horizontal, pairs))
    return e;

  config.gridDim = dim3(chunks);
  config.blockDim = dim3(kChunkThreads);
  if (cudaError_t e = cudaLaunchKernelEx(&config, flatten_kernel, labels, pixels, counts)) return e;
  config.gridDim = dim3(1);
  config.blockDim = dim3(kScanThreads);
  if (cudaError_t e = cudaLaunchKernelEx(&config, scan_chunk_counts_kernel, counts, chunks, num_areas)) return e;
  config.gridDim = dim3(chunks);
  config.blockDim = dim3(kChunkThreads);
  if (cudaError_t e =
          cudaLaunchKernelEx(&config, number_roots_kernel, labels, pixels, static_cast<const uint32_t*>(counts)))
    return e;
  return cudaLaunchKernelEx(&config, resolve_kernel, labels, pixels);
}

cudaError_t area_stats(const int32_t* labels, const uint8_t* rgb, int width, int height, int num_areas,
                       gp::AreaStats* stats, cudaStream_t stream) {
  if (width < 0 || height < 0 || num_areas < 0) return cudaErrorInvalidValue;
  const size_t pixels = size_t(width) * size_t(height);
  if (pixels > size_t(UINT32_MAX)) return cudaErrorInvalidValue;  // counts are 32-bit
  if (num_areas == 0) return cudaSuccess;
  if (cudaError_t e = launch_1d(area_stats_init_kernel, size_t(num_areas), kPixelBlock, stream, num_areas, stats))
    return e;
  if (pixels == 0) return cudaSuccess;
  const unsigned segments_per_row = ceil_div(size_t(width), kStatsSegment);
  const size_t segments = size_t(segments_per_row) * size_t(height);
  const cudaLaunchConfig_t config = segment_config(segments, stream);
  if (rgb)
    return cudaLaunchKernelEx(&config, area_stats_kernel<true>, labels, rgb, unsigned(width), segments_per_row,
                              segments, num_areas, stats);
  return cudaLaunchKernelEx(&config, area_stats_kernel<false>, labels, rgb, unsigned(width), segments_per_row, segments,
                            num_areas, stats);
}

cudaError_t area_majority(const int32_t* labels, int W, int H, const uint8_t* seg, int w, int h, int num_regions,
                          int num_areas, uint32_t* votes, uint8_t* majority, cudaStream_t stream) {
  if (W < 0 || H < 0 || w < 0 || h < 0 || num_areas < 0 || num_regions < 1 || num_regions > kMaxVoteRegions)
    return cudaErrorInvalidValue;
  const size_t pixels = size_t(W) * size_t(H);
  if (pixels > size_t(UINT32_MAX)) return cudaErrorInvalidValue;               // votes are 32-bit
  if (pixels > 0 && size_t(w) * size_t(h) == 0) return cudaErrorInvalidValue;  // nothing to sample
  if (num_areas == 0) return cudaSuccess;
  if (cudaError_t e = cudaMemsetAsync(votes, 0, size_t(num_areas) * size_t(num_regions) * sizeof(uint32_t), stream))
    return e;
  if (pixels > 0) {
    const unsigned segments_per_row = ceil_div(size_t(W), kStatsSegment);
    const size_t segments = size_t(segments_per_row) * size_t(H);
    const cudaLaunchConfig_t config = segment_config(segments, stream);
    if (cudaError_t e = cudaLaunchKernelEx(&config, area_votes_kernel, labels, W, H, seg, w, h, num_regions, num_areas,
                                           segments_per_row, segments, votes))
      return e;
  }
  return launch_1d(area_majority_kernel, size_t(num_areas), kPixelBlock, stream, static_cast<const uint32_t*>(votes),
                   num_regions, num_areas, majority);
}

cudaError_t override_labels(const uint8_t* base, int w, int h, const int32_t* labels, int W, int H,
                            const int8_t* channel, uint8_t* out, cudaStream_t stream) {
  if (w < 0 || h < 0 || W < 0 || H < 0) return cudaErrorInvalidValue;
  const size_t pixels = size_t(w) * size_t(h);
  if (pixels > 0 && size_t(W) * size_t(H) == 0) return cudaErrorInvalidValue;  // nothing to sample
  return launch_1d(override_labels_kernel, pixels, kPixelBlock, stream, base, w, h, labels, W, H, channel, out);
}

cudaError_t paint_areas(const int32_t* labels, int width, int height, const uint8_t* colours, uint8_t* rgba,
                        cudaStream_t stream) {
  if (width < 0 || height < 0) return cudaErrorInvalidValue;
  const size_t pixels = size_t(width) * size_t(height);
  return launch_1d(paint_areas_kernel, pixels, kPixelBlock, stream, labels, pixels, colours, rgba);
}

}  // namespace GP_KERNEL_NS
