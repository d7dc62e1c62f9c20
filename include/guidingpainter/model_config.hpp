// The configuration of a GuidingPainter model, from its weight file's metadata
// ("__metadata__" strings of the safetensors file).
#pragma once

namespace gp {

struct ModelConfig {
  int width = 0;            // U-Net base width w (published: 64); 1..kMaxWidth
  int num_regions = 0;      // segmentation channels Nc; this engine supports exactly 30
  int seg_in_channels = 0;  // 1: the sketch
  int col_in_channels = 0;  // 1 + 3 + 1 + num_regions: [X, C, M - center, S - center]
  int train_size = 0;       // side of the training crops: the default working size
  float center = 0.0f;      // "cent" subtracted from M and S (0 in the published setting)

  static constexpr int kNumRegions = 30;
  // Keeps every weight tensor under 2^31 elements (up1.conv1 has 8w x 16w x 9), so
  // kernels can index weights with 32-bit integers.
  static constexpr int kMaxWidth = 1024;
};

}  // namespace gp
