// The block tiles and the K split of the tensor-core 3x3 convolution (kernels/conv_mma.cu)
// and the rule that picks them per layer: plain C++, so the U-Net plan chooses what the
// launcher runs and its report (src/engine, src/cli) models the same launch.
#pragma once

#include <cstddef>

namespace gp {

// Pixels x output channels; the 4 warps' layout in brackets. Narrow layers (cout <= 32)
// take a 32-wide tile (at most half of it padding, not three quarters); layers whose 64 x 64
// grid would leave SMs idle (the U-Net's deep levels) take half-height tiles, twice the
// blocks.
enum class ConvMmaTile {
  Auto,     // conv_mma_choose_tile
  M64N64,   // 2 x 2 warps of 32 x 32
  M128N32,  // 4 x 1 warps of 32 x 32
  M32N64,   // 2 x 2 warps of 16 x 32
  // (A 128 x 16 tile for cout <= 16 spilled registers on sm_90 with the bilinear gather.)
};

struct ConvMmaTileShape {
  int m, n;
};

constexpr ConvMmaTileShape conv_mma_tile_shape(ConvMmaTile t) {
  return t == ConvMmaTile::M128N32  ? ConvMmaTileShape{128, 32}
         : t == ConvMmaTile::M32N64 ? ConvMmaTileShape{32, 64}
                                    : ConvMmaTileShape{64, 64};
}

constexpr const char* conv_mma_tile_name(ConvMmaTile t) {
  return t == ConvMmaTile::Auto      ? "auto"
         : t == ConvMmaTile::M64N64  ? "64x64"
         : t == ConvMmaTile::M128N32 ? "128x32"
                                     : "32x64";
}

// The tile Auto picks for an output of `pixels` x `cout` on a device with `sms` SMs (the
// default: an H100 / H200): 128 x 32 for cout up to 32; above, 64 x 64
// unless that gives fewer than two waves of blocks, then 32 x 64.
constexpr ConvMmaTile conv_mma_choose_tile(size_t pixels, int cout, int sms = 132) {
  if (cout <= 32) return ConvMmaTile::M128N32;
  const size_t blocks = (pixels + 63) / 64 * ((size_t(cout) + 63) / 64);
  return blocks < size_t(2 * sms) ? ConvMmaTile::M32N64 : ConvMmaTile::M64N64;
}

// K chunks of a layer with cin input channels: 9 cin rows rounded up to chunks of 32 (the
// packed weights' rows, conv_mma.cuh).
constexpr int conv_mma_k_chunks(int cin) { return (9 * cin + 31) / 32; }

// The colorizer's 35 input channels as the 16-bit path writes them out (rounded up to 8,
// kernels/colorizer_input.cuh) and packs the first layer's weights for.
constexpr int kConvMmaColorizerChannels = 40;

// Split-K: at most this many blocks share one output tile's K chunks.
constexpr int kConvMmaMaxSplits = 16;

// A layer's schedule: its block tile and how many blocks split its K (1: none).
struct ConvMmaSchedule {
  ConvMmaTile tile = ConvMmaTile::Auto;
  int splits = 1;
};

// What the launcher is given: the schedule and, for splits > 1, the split-K scratch
// (conv_mma_split_partials floats, 16-byte aligned, and conv_mma_split_counters counters
// that are zero before the first launch; every launch leaves them zero again). A bare
// tile converts to an unsplit launch.
struct ConvMmaLaunch {
  ConvMmaTile tile = ConvMmaTile::Auto;
  int splits = 1;
  float* partials = nullptr;
  unsigned* counters = nullptr;
  constexpr ConvMmaLaunch() = default;
  constexpr ConvMmaLaunch(ConvMmaTile t) : tile(t) {}  // NOLINT(google-explicit-constructor): a tile alone is a launch
  constexpr ConvMmaLaunch(ConvMmaSchedule s, float* p, unsigned* c)
      : tile(s.tile), splits(s.splits), partials(p), counters(c) {}
};

// The block tiles of an output of `pixels` x `cout` under tile t (t not Auto).
constexpr size_t conv_mma_tiles(size_t pixels, int cout, ConvMmaTile t) {
  const ConvMmaTileShape s = conv_mma_tile_shape(t);
  return (pixels + s.m - 1) / s.m * ((size_t(cout) + s.n - 1) / s.n);
}
constexpr size_t conv_mma_split_partials(size_t pixels, int cout, ConvMmaSchedule s) {
  const ConvMmaTileShape shape = conv_mma_tile_shape(s.tile);
  return s.splits > 1 ? conv_mma_tiles(pixels, cout, s.tile) * s.splits * shape.m * shape.n : 0;
}
constexpr size_t conv_mma_split_counters(size_t pixels, int cout, ConvMmaSchedule s) {
  return s.splits > 1 ? conv_mma_tiles(pixels, cout, s.tile) : 0;
}

// The schedule of a layer with `k_chunks` K chunks (9 cin rounded up to 32, over 32) on
// `sms` SMs: the tile conv_mma_choose_tile picks and, where its blocks are too few to
// hide the K loop's latency (under 4 a SM), split K in two, four or eight (a power of
// two, keeping 4 blocks a SM at most and 8 K chunks a block at least: each split costs
// its tile's fp32 partials written and read once).
constexpr ConvMmaSchedule conv_mma_choose_schedule(size_t pixels, int cout, int k_chunks, int sms = 132) {
  ConvMmaSchedule s{conv_mma_choose_tile(pixels, cout, sms), 1};
  const size_t blocks = conv_mma_tiles(pixels, cout, s.tile);
  while (s.splits < 8 && blocks * 2 * s.splits <= size_t(4 * sms) && k_chunks / (2 * s.splits) >= 8) s.splits *= 2;
  return s;
}

}  // namespace gp
