// The block tiles of the tensor-core 3x3 convolution (kernels/conv_mma.cu) and the rule
// that picks one per layer: plain C++, so the U-Net plan and its report (src/engine,
// src/cli) name the same tile the launcher runs.
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
  return t == ConvMmaTile::M128N32   ? ConvMmaTileShape{128, 32}
         : t == ConvMmaTile::M32N64  ? ConvMmaTileShape{32, 64}
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

}  // namespace gp
