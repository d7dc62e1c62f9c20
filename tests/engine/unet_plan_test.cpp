// The U-Net plan (src/plan/unet_plan.h) against MODEL.md's topology: 19 steps in
// order, every step reading what an earlier step wrote with the shape it was written
// in, the layer dimensions of the bilinear U-Net, and the FLOP count of a colorize step
// at 256 x 256, width 64 (82.4 GFLOP, the figure the roofline of issue 9 starts from).
#include <gtest/gtest.h>

#include <map>

#include "src/common/error.h"
#include "src/plan/unet_plan.h"

namespace gp {
namespace {

bool same(const TensorRef& a, const TensorRef& b) {
  return a.buffer == b.buffer && a.h == b.h && a.w == b.w && a.c == b.c;
}

void check_dataflow(const UNetPlan& plan) {
  std::map<Buffer, TensorRef> written;
  for (const ConvStep& s : plan.steps) {
    SCOPED_TRACE(s.name);
    if (s.in.buffer != Buffer::Input) {
      ASSERT_TRUE(written.count(s.in.buffer)) << "reads " << buffer_name(s.in.buffer) << " before it is written";
      EXPECT_TRUE(same(written[s.in.buffer], s.in));
    }
    if (s.gather == Gather::UpConcat) {
      ASSERT_TRUE(written.count(s.low.buffer));
      EXPECT_TRUE(same(written[s.low.buffer], s.low));
      EXPECT_EQ(s.cin, s.in.c + s.low.c);
      EXPECT_GE(s.in.h, 2 * s.low.h);
      EXPECT_GE(s.in.w, 2 * s.low.w);
    } else if (s.gather == Gather::MaxPool) {
      EXPECT_EQ(s.out.h, s.in.h / 2);
      EXPECT_EQ(s.out.w, s.in.w / 2);
      EXPECT_EQ(s.cin, s.in.c);
    } else {
      EXPECT_EQ(s.cin, s.in.c);
      EXPECT_EQ(s.out.h, s.in.h);
    }
    EXPECT_NE(s.out.buffer, s.in.buffer) << "a conv may not write the tensor it reads";
    EXPECT_EQ(s.cout, s.out.c);
    written[s.out.buffer] = s.out;
    EXPECT_LE(s.out.elements(), s.out.buffer == Buffer::Output ? s.out.elements() : plan.buffer_elements(s.out.buffer));
  }
  EXPECT_EQ(plan.steps.back().out.buffer, Buffer::Output);
}

TEST(UNetPlan, ColorizerMatchesTheModel) {
  const UNetPlan plan = plan_unet(UNetKind::Colorizer, 64, 256, 256);
  ASSERT_EQ(plan.steps.size(), size_t(kUNetLayers));
  check_dataflow(plan);
  // (layer, cin, cout) of MODEL.md's bilinear U-Net with w = 64.
  const int dims[19][2] = {{35, 64},   {64, 64},   {64, 128},  {128, 128},  {128, 256}, {256, 256}, {256, 512},
                           {512, 512}, {512, 512}, {512, 512}, {1024, 512}, {512, 256}, {512, 256}, {256, 128},
                           {256, 128}, {128, 64},  {128, 64},  {64, 64},    {64, 3}};
  for (int i = 0; i < kUNetLayers; ++i) {
    EXPECT_EQ(plan.steps[i].layer, i);
    EXPECT_EQ(plan.steps[i].cin, dims[i][0]) << plan.steps[i].name;
    EXPECT_EQ(plan.steps[i].cout, dims[i][1]) << plan.steps[i].name;
  }
  EXPECT_EQ(plan.steps.front().gather, Gather::Colorizer);
  EXPECT_EQ(plan.steps.back().epilogue, Epilogue::BiasTanh);
  EXPECT_EQ(plan.steps.back().ksize, 1);
  EXPECT_NEAR(plan.flops() * 1e-9, 82.39, 0.01);
}

TEST(UNetPlan, SegmentatorOnOddSizes) {
  for (const auto& [h, w] : {std::pair{17, 19}, std::pair{33, 47}, std::pair{16, 16}, std::pair{255, 130}}) {
    SCOPED_TRACE(std::to_string(h) + " x " + std::to_string(w));
    const UNetPlan plan = plan_unet(UNetKind::Segmentator, 8, h, w);
    check_dataflow(plan);
    EXPECT_EQ(plan.steps.front().cin, 1);
    EXPECT_EQ(plan.steps.back().epilogue, Epilogue::Argmax);
    EXPECT_EQ(plan.steps.back().cout, 30);
    EXPECT_EQ(plan.steps[8].out.h, h >> 4);  // down4.conv1 at the deepest level
  }
}

// The 16-bit schedule: K split only where the tensor-core conv gathers by 16-byte chunks,
// and at 256 x 256 / width 64 on the deep levels, whose tiles are too few for 132 SMs; the
// colorizer's first conv reads its input written out padded to 40 channels.
TEST(UNetPlan, SplitsKOnlyOnVectorStepsOfTheDeepLevels) {
  for (const UNetKind kind : {UNetKind::Segmentator, UNetKind::Colorizer})
    for (const int width : {4, 8, 64}) {
      const UNetPlan plan = plan_unet(kind, width, 256, 256);
      for (const ConvStep& s : plan.steps) {
        EXPECT_GE(s.mma.splits, 1) << s.name;
        EXPECT_LE(s.mma.splits, conv_mma_k_chunks(s.mma_cin)) << s.name;
        if (!mma_vector_gather(s)) {
          EXPECT_EQ(s.mma.splits, 1) << s.name << " (per element)";
        }
        EXPECT_EQ(s.mma_cin, s.gather == Gather::Colorizer ? kConvMmaColorizerChannels : s.cin) << s.name;
      }
    }
  const UNetPlan plan = plan_unet(UNetKind::Colorizer, 64, 256, 256);
  int split = 0;
  for (const ConvStep& s : plan.steps) {
    if (s.name == "down4.conv2") {
      EXPECT_GT(s.mma.splits, 1);
    }
    if (s.name == "inc.conv2") {
      EXPECT_EQ(s.mma.splits, 1);
    }
    split += s.mma.splits > 1;
  }
  EXPECT_GE(split, 4);
}

TEST(UNetPlan, RefusesTooSmallSizes) {
  EXPECT_THROW(plan_unet(UNetKind::Colorizer, 16, 15, 64), Error);
  EXPECT_THROW(plan_unet(UNetKind::Colorizer, 0, 64, 64), Error);
}

}  // namespace
}  // namespace gp
