// The model's fixed shape (shared/docs/MODEL.md): one spelling for the kernels, the
// plan, the engine and the tests. Plain C++, usable without CUDA.
#pragma once

namespace gp {

// The segmentator's output channels: the regions a sketch is split into.
constexpr int kNumRegions = 30;
// The colorizer's input: [X, C (3), M - center, one-hot(labels) - center (kNumRegions)].
constexpr int kColorizerChannels = 1 + 3 + 1 + kNumRegions;
// Region ids the region and hint kernels accept (labels at or above a call's count fall
// in no region): room beyond kNumRegions for a model with more regions.
constexpr int kMaxRegions = 64;

}  // namespace gp
