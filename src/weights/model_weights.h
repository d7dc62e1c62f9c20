// GuidingPainter weights: the metadata (ModelConfig), the validation of every tensor of
// a weight file against the width it declares, and BatchNorm folded into the convs.
//
// The file format is written by tools/reference.py (see shared/docs/MODEL.md): canonical
// names {net}.{block}.conv{1,2}.{weight,bias}, {net}.{block}.bn{1,2}.{weight,bias,
// running_mean,running_var}, {net}.outc.{weight,bias}; net in segmentator, colorizer;
// block in inc, down1..down4, up1..up4; stored as F32, F16 or BF16.
//
// Folding (in double, rounded once to float): s = gamma / sqrt(running_var + 1e-5);
// weight'[o][i][y][x] = weight[o][i][y][x] * s[o]; bias'[o] = (bias[o] - mean[o]) * s[o] + beta[o].
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../../include/guidingpainter/model_config.hpp"
#include "src/plan/unet_plan.h"
#include "src/weights/safetensors.h"

namespace gp {

// ModelConfig (the metadata of a weight file) is public: include/guidingpainter/model_config.hpp.

// The metadata of `file`, validated: format == "guidingpainter", format_version == "1",
// width, num_regions, seg_in_channels, col_in_channels and train_size present as
// decimal integers with the values above, center (if present) a finite number.
// Throws gp::Error naming the file and the key, e.g.
//   "model.safetensors: metadata 'num_regions' is 12, but this engine supports exactly 30".
ModelConfig read_model_config(const SafetensorsFile& file);

// One convolution with its BatchNorm folded in (outc: no BatchNorm).
struct ConvLayer {
  std::string name;  // e.g. "colorizer.up1.conv1", "segmentator.outc"
  int cin = 0;
  int cout = 0;
  int ksize = 0;              // 3, or 1 for outc; padding is ksize / 2
  std::vector<float> weight;  // PyTorch layout [cout][cin][ksize][ksize]
  std::vector<float> bias;    // [cout]
};

// Conv3x3 -> BN -> ReLU -> Conv3x3 -> BN -> ReLU, folded into two convs (ReLU not included).
struct DoubleConvWeights {
  ConvLayer conv1;  // in -> mid
  ConvLayer conv2;  // mid -> out
};

struct UNetWeights {
  DoubleConvWeights inc;
  std::array<DoubleConvWeights, 4> down;  // down1..down4
  std::array<DoubleConvWeights, 4> up;    // up1..up4 (input: [skip, upsampled] channels)
  ConvLayer outc;                         // 1x1, width -> classes

  // The block of that name in the U-Net's table (src/plan/unet_plan.h: "inc", "down1",
  // ..., "up4"); throws gp::Error for another name.
  DoubleConvWeights& block(std::string_view name);
  const DoubleConvWeights& block(std::string_view name) const;
  // The conv a plan step runs (ConvStep::name, as the weight file names it within the
  // net: "inc.conv1", "down3.conv2", "up1.conv1", "outc"). Throws gp::Error for a name
  // this U-Net does not have.
  const ConvLayer& conv(std::string_view step) const;
};

struct ModelWeights {
  ModelConfig config;
  UNetWeights segmentator;  // in 1 -> out num_regions
  UNetWeights colorizer;    // in col_in_channels -> out 3
};

// One tensor a weight file must hold.
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};
// Every tensor of a complete weight file for `config`, sorted by name.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

// Loads and validates a weight file, and folds BatchNorm. Checks, in order: the
// metadata (read_model_config); that the width agrees with segmentator.inc.conv1.weight;
// every expected tensor present with its exact shape and a float dtype (F32, F16, BF16);
// no unexpected tensor; every value finite and every running_var >= 0; every folded
// value finite. Throws gp::Error naming the file and the tensor, e.g.
//   "model.safetensors: tensor 'colorizer.up1.conv1.weight' has shape [256,1024,3,3],
//    but width 64 needs [512,1024,3,3]".
// The returned weights own their memory; the file can be closed afterwards.
ModelWeights load_model_weights(const std::filesystem::path& path);
ModelWeights load_model_weights(const SafetensorsFile& file);

}  // namespace gp
