// The U-Net as data: the one description of the network's topology (MODEL.md, the
// bilinear "milesial" U-Net) that the engine runs, and that the plan report, the
// benchmarks and the tests read. A plan is built once per network kind, base width and
// working size; UNetWorkspace runs its steps in order with one loop.
//
// Each step is one fused convolution: its gather (how the input is formed on the fly),
// the tensors it reads and writes (named buffers of the workspace), the layer whose
// weights it uses, and its epilogue.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "kernels/conv_mma_tile.h"

namespace gp {

enum class UNetKind { Segmentator, Colorizer };

// How a conv's input is formed (kernels/conv.cuh's gathers).
enum class Gather { Plain, MaxPool, UpConcat, Colorizer };
enum class Epilogue { BiasRelu, BiasTanh, Argmax };

// Buffers of one run: the network input and output (given by the caller), the encoder
// levels x1..x5, the first conv of each block, and the decoder's ping-pong pair.
enum class Buffer { Input, Skip0, Skip1, Skip2, Skip3, Skip4, Mid, UpA, UpB, Output };
constexpr int kBufferCount = 10;
const char* buffer_name(Buffer b);

// A [h][w][c] tensor in one of the buffers.
struct TensorRef {
  Buffer buffer = Buffer::Input;
  int h = 0, w = 0, c = 0;
  size_t elements() const { return size_t(h) * w * c; }
};

// The U-Net's blocks, one table: inc (two convs at full size), down1..4 (the first conv
// on the 2x2 max-pool of the level above), up1..4 (the first conv on [skip, upsampled
// lower level]); each block is two 3x3 convs, in -> mid -> out channels, at `level`
// (the size halved `level` times). The plan's steps and the weight file's tensors both
// come from it.
enum class BlockKind { In, Down, Up };
struct UNetBlock {
  const char* name;  // "inc", "down1", ..., "up4": the weight file's block names
  BlockKind kind;
  int level;
  int in, mid, out;
};
constexpr int kUNetBlocks = 9;
// The blocks of a U-Net of base width `width` reading `in_channels` channels, in the
// order they run.
std::array<UNetBlock, kUNetBlocks> unet_blocks(int in_channels, int width);

struct ConvStep {
  std::string name;  // "inc.conv1", "down3.conv2", "up1.conv1", "outc"
  int layer = 0;     // 0, 1 inc; 2 + 2k + i downk+1.convi+1; 10 + 2j + i upj+1; 18 outc
  Gather gather = Gather::Plain;
  // The gather's sources: `in` (Plain: the input; MaxPool: the tensor pooled, at twice
  // the output size; UpConcat: the skip; Colorizer: the sketch's pixels, c = 35) and,
  // for UpConcat only, `low` (upsampled x2 and concatenated after the skip).
  TensorRef in, low, out;
  int ksize = 3, cin = 0, cout = 0;
  Epilogue epilogue = Epilogue::BiasRelu;
  // The 16-bit (tensor-core) path of a 3x3 step: the channels its conv reads (the
  // colorizer's input is written out padded to kConvMmaColorizerChannels; else cin), and
  // its block tile and K split (conv_mma_choose_schedule, for 132 SMs), which the engine
  // hands to the launcher. The fp32 kernels' tile is 64 x 64, unsplit.
  int mma_cin = 0;
  ConvMmaSchedule mma{ConvMmaTile::M64N64, 1};

  double flops() const;  // 2 h w cin cout k^2 of the output
  // Bytes a kernel must move at least: sources once, weights, output, with activations
  // and weights of `element_bytes` each (bias fp32; labels 1 byte; the colorizer's
  // sketch 4 bytes and labels 1 byte per pixel).
  double bytes(int element_bytes) const;
};

// Whether a 3x3 step's 16-bit conv gathers its input by 16-byte copies or computed chunks
// (every channel count a multiple of 8, or the colorizer's input written out padded), not
// element by element (the fp32 network input, odd channel counts). Only these split K.
bool mma_vector_gather(const ConvStep& s);

// One fused conv as the plan makes it: cin from the gather's sources (in.c, plus low.c
// for UpConcat), cout from `out`, the 16-bit path's mma_cin and schedule chosen by the
// one rule of the plan. The U-Net's steps are made by it; so are single convs of the
// kernel checks and benchmarks.
ConvStep conv_step(std::string name, int layer, Gather gather, TensorRef in, TensorRef low, TensorRef out,
                   int ksize = 3, Epilogue epilogue = Epilogue::BiasRelu);

struct UNetPlan {
  UNetKind kind = UNetKind::Segmentator;
  int width = 0, h = 0, w = 0;
  std::vector<ConvStep> steps;  // in the order they run
  // Elements each buffer must hold for this plan (0: not used or given by the caller).
  size_t buffer_elements(Buffer b) const;
  double flops() const;
};

constexpr int kUNetLayers = 19;

// ConvStep::mma_cin of each layer (by ConvStep::layer): how its 16-bit weights are packed.
std::array<int, kUNetLayers> mma_cin_by_layer(const UNetPlan& plan);

// The plan of a U-Net of base width `width` at h x w (both >= 16: four 2x poolings).
// The segmentator reads the grey sketch (1 channel) and ends in the argmax head over
// `classes`; the colorizer reads the 35-channel fused input and ends in tanh (3).
// Throws gp::Error for a size or width out of range.
UNetPlan plan_unet(UNetKind kind, int width, int h, int w, int classes = 30);

}  // namespace gp
