// One colorize() is one CUDA graph replay and one host synchronisation, with no device
// allocation (counted by the simulator, gpusim::stats), and its picture is the host
// path's, bit for bit: the colorizer's raw output turned into uint8, resampled to the
// sketch's size and composed with its lines by gp::compose_output (tests/image/compose_reference.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "gpusim/runtime.h"
#include "guidingpainter/guidingpainter.hpp"
#include "tests/image/compose_reference.h"
#include "tests/source_dir.h"

namespace gp {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = test::source_dir();

std::shared_ptr<const Model> fixture_model(Precision precision = Precision::Fp32) {
  ModelOptions o;
  o.device = Device::Simulator;
  o.precision = precision;
  return Model::load((kSource / "tests" / "fixtures" / "w4_48x40" / "model.safetensors").string(), o);
}

// The sketch at an odd size that the working size (40) enlarges back from.
Image sketch() {
  const Image full = Image::load((kSource / "examples" / "samples" / "1F432-sketch.png").string());
  return resize(full, 83, 61);
}

Image host_picture(Session& s, const Image& original) {
  return compose_output(s.colorize_raw(), s.width(), s.height(), Layout::CHW, original, Compose::KeepLines);
}

void expect_same(const Image& a, const Image& b, const std::string& what) {
  ASSERT_EQ(a.width, b.width) << what;
  ASSERT_EQ(a.height, b.height) << what;
  size_t differ = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) differ += a.rgb[i] != b.rgb[i];
  EXPECT_EQ(differ, 0u) << what << ": bytes that differ from the host path";
}

class SessionGraph : public ::testing::TestWithParam<Precision> {};

TEST_P(SessionGraph, EachColorizeIsOneReplayAndOneSyncWithoutAllocations) {
  const Image original = sketch();
  SessionOptions options;
  options.size = 40;
  Session session(fixture_model(GetParam()), original, options);
  ASSERT_GE(session.regions().size(), 3u);

  const Image first = session.colorize();  // captures the graph, then replays it
  expect_same(first, host_picture(session, original), "no hints");

  const Rgb colours[3] = {{255, 128, 0}, {20, 200, 90}, {90, 30, 240}};
  for (int step = 0; step < 3; ++step) {
    session.set_hint(step + 1, colours[step]);
    const gpusim::Stats before = gpusim::stats();
    const Image picture = session.colorize();
    const gpusim::Stats d = gpusim::stats() - before;
    EXPECT_EQ(d.graph_launches, 1u) << "step " << step;
    EXPECT_EQ(d.host_synchronizations, 1u) << "step " << step;
    EXPECT_EQ(d.device_allocations, 0u) << "step " << step;
    EXPECT_EQ(d.device_frees, 0u) << "step " << step;
    EXPECT_EQ(d.kernel_launches, 0u) << "step " << step << ": launched outside the graph";
    EXPECT_EQ(d.memcpy_calls, 0u) << "step " << step << ": copied outside the graph";
    EXPECT_EQ(picture.width, original.width);
    EXPECT_EQ(picture.height, original.height);
    expect_same(picture, host_picture(session, original), "after hint " + std::to_string(step + 1));
  }

  // Unchanged hints: no work at all.
  const gpusim::Stats before = gpusim::stats();
  session.colorize();
  const gpusim::Stats d = gpusim::stats() - before;
  EXPECT_EQ(d.graph_launches, 0u);
  EXPECT_EQ(d.host_synchronizations, 0u);

  // Clearing a hint replays the same graph with the new table.
  session.clear_hints();
  expect_same(session.colorize(), first, "hints cleared");
}

INSTANTIATE_TEST_SUITE_P(Precisions, SessionGraph, ::testing::Values(Precision::Fp32, Precision::Fp16),
                         [](const auto& i) { return std::string(precision_name(i.param)); });

TEST(SessionGraph, SessionsReplayTheirOwnGraphs) {
  const auto model = fixture_model();
  const Image original = sketch();
  SessionOptions options;
  options.size = 40;
  Session a(model, original, options), b(model, resize(original, 50, 37), options);
  a.set_hint(1, Rgb{250, 10, 10});
  b.set_hint(2, Rgb{10, 10, 250});
  const Image pa = a.colorize(), pb = b.colorize();
  EXPECT_EQ(pb.width, 50);
  a.set_hint(2, Rgb{0, 255, 0});
  expect_same(a.colorize(), host_picture(a, original), "a after b");
  expect_same(b.colorize(), pb, "b unchanged");
}

}  // namespace
}  // namespace gp
