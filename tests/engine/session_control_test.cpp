// Progress, cancellation and threads on a Session: the progress callback sees every
// launch of both networks and can cancel; a cancel flag set from another thread stops a
// long run on the simulator within a thread block's time; a cancelled colorize leaves
// the session usable; const methods run concurrently; a moved-from Session says so.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gpusim/runtime.h"
#include "src/engine/bundled_model.h"
#include "tests/error_kind.h"
#include "tests/source_dir.h"
#include "guidingpainter/guidingpainter.hpp"

namespace gp {
namespace {

namespace fs = std::filesystem;
using test::kind_of;
const fs::path kSource = test::source_dir();

const std::string kFixture = (kSource / "tests" / "fixtures" / "w4_48x40" / "model.safetensors").string();

std::shared_ptr<const Model> fixture_model() {
  ModelOptions o;
  o.device = Device::Simulator;
  return Model::load(kFixture, o);
}

Image sample(const char* name = "1F432-sketch.png") {
  return Image::load((kSource / "examples" / "samples" / name).string());
}

struct Report {
  std::string stage;
  int done, total;
};

TEST(SessionControl, ProgressSeesEveryLaunchAndChangesNothing) {
  const auto model = fixture_model();
  SessionOptions plain;
  plain.size = 45;
  Session reference(model, sample(), plain);
  reference.set_hint(1, Rgb{200, 40, 40});
  const Image expected = reference.colorize();
  const std::vector<float> expected_raw = reference.colorize_raw();

  std::vector<Report> reports;
  SessionOptions watched = plain;
  watched.progress = [&](const char* stage, int done, int total) {
    reports.push_back({stage, done, total});
    return true;
  };
  Session s(model, sample(), watched);
  ASSERT_FALSE(reports.empty());
  const int total = reports.front().total;
  EXPECT_GT(total, 10);
  ASSERT_EQ(int(reports.size()), total);
  for (int i = 0; i < total; ++i) {
    EXPECT_EQ(reports[size_t(i)].stage, "segment");
    EXPECT_EQ(reports[size_t(i)].done, i + 1);
    EXPECT_EQ(reports[size_t(i)].total, total);
  }
  EXPECT_EQ(s.labels(), reference.labels());
  reports.clear();
  s.set_hint(1, Rgb{200, 40, 40});
  const Image picture = s.colorize();
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().stage, "colorize");
  EXPECT_EQ(reports.back().done, reports.back().total);
  EXPECT_EQ(picture.rgb, expected.rgb);
  EXPECT_EQ(s.colorize_raw(), expected_raw);
}

TEST(SessionControl, ProgressReturningFalseCancels) {
  const auto model = fixture_model();
  SessionOptions o;
  o.size = 45;
  int calls = 0;
  o.progress = [&](const char*, int done, int) {
    ++calls;
    return done < 3;
  };
  EXPECT_EQ(kind_of([&] { Session s(model, sample(), o); }), ErrorKind::Cancelled);
  EXPECT_EQ(calls, 3);

  bool allow = true;
  o.progress = [&](const char* stage, int done, int) { return allow || std::string(stage) != "colorize" || done < 2; };
  Session s(model, sample(), o);
  s.set_hint(2, Rgb{10, 200, 30});
  allow = false;
  EXPECT_EQ(kind_of([&] { s.colorize(); }), ErrorKind::Cancelled);
  EXPECT_EQ(kind_of([&] { s.colorize_raw(); }), ErrorKind::Cancelled);
  allow = true;
  SessionOptions plain;
  plain.size = 45;
  Session reference(model, sample(), plain);
  reference.set_hint(2, Rgb{10, 200, 30});
  EXPECT_EQ(s.colorize().rgb, reference.colorize().rgb) << "a cancelled colorize left the session broken";
}

TEST(SessionControl, CancelFlagStopsALongRunFromAnotherThread) {
  const auto model = fixture_model();
  std::atomic<bool> cancel{true};
  SessionOptions o;
  o.size = 45;
  o.cancel = &cancel;
  EXPECT_EQ(kind_of([&] { Session s(model, sample(), o); }), ErrorKind::Cancelled);  // set before

  cancel = false;
  o.size = 1024;  // seconds of work on the simulator
  Session s(model, sample(), [&] {
    SessionOptions small = o;
    small.size = 45;
    return small;
  }());
  // A long constructor, cancelled 100 ms in.
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { Session big(model, sample(), o); }), ErrorKind::Cancelled);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  canceller.join();
  EXPECT_LT(seconds, 2.0);

  // The small session's colorize (a graph replay without a callback), cancelled before.
  EXPECT_EQ(kind_of([&] { s.colorize(); }), ErrorKind::Cancelled);
  cancel = false;
  const Image picture = s.colorize();
  SessionOptions plain;
  plain.size = 45;
  Session reference(model, sample(), plain);
  EXPECT_EQ(picture.rgb, reference.colorize().rgb);
}

// SessionOptions::min_region: a region under max(4, ceil(min_region x pixels)) pixels gets
// no rank (src/engine/min_region.h); 0 ranks every non-empty region; the ranks keep
// their order (ascending channel), only the small ones drop out.
TEST(SessionRegions, RegionsUnderTheMinimumGetNoRank) {
  const auto model = fixture_model();
  auto regions_with = [&](double min_region) {
    SessionOptions o;
    o.size = 45;
    o.min_region = min_region;
    Session s(model, sample(), o);
    std::vector<std::pair<int, int64_t>> out;  // (channel, pixels)
    for (const Region& r : s.regions()) out.emplace_back(r.id, r.pixels);
    return std::make_pair(out, size_t(s.width()) * s.height());
  };
  const auto [all, pixels] = regions_with(0.0);
  std::vector<int64_t> counts(30, 0);
  {
    SessionOptions o;
    o.size = 45;
    o.min_region = 0.0;
    Session s(model, sample(), o);
    for (const uint8_t l : s.labels()) ++counts[l];
  }
  size_t non_empty = 0;
  for (const int64_t c : counts) non_empty += c > 0;
  EXPECT_EQ(all.size(), non_empty) << "min_region 0 ranks every non-empty region";
  for (const double fraction : {0.001, 0.02, 0.1}) {
    const int64_t min_pixels = std::max<int64_t>(4, int64_t(std::ceil(fraction * double(pixels))));
    std::vector<std::pair<int, int64_t>> expected;
    for (const auto& r : all)
      if (r.second >= min_pixels) expected.push_back(r);
    EXPECT_EQ(regions_with(fraction).first, expected) << "min_region " << fraction << " (" << min_pixels << " pixels)";
  }
  EXPECT_LT(regions_with(0.1).first.size(), all.size()) << "the fixture has regions under 10% of the picture";
  for (const double bad : {-0.01, 1.0, std::nan("")}) {
    SessionOptions o;
    o.size = 45;
    o.min_region = bad;
    EXPECT_EQ(kind_of([&] { Session s(model, sample(), o); }), ErrorKind::Argument) << bad;
  }
}

// Every output of the current hints comes from one colorizer run (the picture, the raw
// output, the flats, the layers, in any order), and a change of the hints runs it once
// more: counted by the progress reports that end a colorizer run.
TEST(SessionControl, OneColorizerRunFeedsEveryOutputOfTheSameHints) {
  const auto model = fixture_model();
  int runs = 0;
  SessionOptions o;
  o.size = 45;
  o.progress = [&](const char* stage, int done, int total) {
    runs += std::string(stage) == "colorize" && done == total;
    return true;
  };
  Session s(model, sample(), o);
  s.set_hint(1, Rgb{200, 40, 40});
  const Image picture = s.colorize();
  const std::vector<float> raw = s.colorize_raw();
  const ImageRgba flats = s.flats();
  const std::vector<uint8_t> ora = s.layers_ora();
  EXPECT_EQ(s.colorize().rgb, picture.rgb);
  EXPECT_EQ(s.flats().rgba, flats.rgba);
  EXPECT_EQ(runs, 1) << "the outputs of one set of hints ran the colorizer more than once";

  s.set_hint(2, Rgb{20, 40, 220});
  const std::vector<float> raw2 = s.colorize_raw();  // raw first this time, then the rest
  const Image picture2 = s.colorize();
  s.flats();
  s.layers_ora();
  EXPECT_EQ(runs, 2);
  EXPECT_NE(raw2, raw);

  SessionOptions plain;
  plain.size = 45;
  Session fresh(model, sample(), plain);
  fresh.set_hint(1, Rgb{200, 40, 40});
  fresh.set_hint(2, Rgb{20, 40, 220});
  EXPECT_EQ(picture2.rgb, fresh.colorize().rgb) << "the picture after a change of hints is not the current one";
  EXPECT_EQ(raw2, fresh.colorize_raw());
  EXPECT_EQ(s.flats().rgba, fresh.flats().rgba);
}

TEST(SessionControl, ConstMethodsRunConcurrently) {
  const auto model = fixture_model();
  SessionOptions o;
  o.size = 45;
  const Session s(model, sample(), o);
  const Image colours = sample("1F432-color.png");
  const std::vector<Colour> expected = s.region_mean_colours(colours);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (s.region_mean_colours(colours) != expected) ++mismatches;
        if (s.region_overlay().rgb.empty()) ++mismatches;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(SessionControl, MovedFromSessionSaysSo) {
  const auto model = fixture_model();
  SessionOptions o;
  o.size = 45;
  Session a(model, sample(), o);
  Session b(std::move(a));
  EXPECT_GT(b.width(), 0);
  EXPECT_EQ(kind_of([&] { (void)a.width(); }), ErrorKind::Argument);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(kind_of([&] { a.set_hint(1, Rgb{1, 2, 3}); }), ErrorKind::Argument);
  EXPECT_EQ(kind_of([&] { a.colorize(); }), ErrorKind::Argument);
}

// The picture of `on_thread`'s session, made and used on a fresh thread (whose current
// device is 0), equals `reference`'s: every Backend call makes its model's device current.
void expect_fresh_thread_matches(const std::shared_ptr<const Model>& reference,
                                 const std::shared_ptr<const Model>& on_thread) {
  SessionOptions o;
  o.size = 45;
  const auto picture = [&](const std::shared_ptr<const Model>& model) {
    Session s(model, sample(), o);
    s.set_hint(1, Rgb{200, 40, 40});
    return s.colorize();
  };
  const Image expected = picture(reference);
  Image got;
  std::string error;
  std::thread([&] {
    try {
      got = picture(on_thread);
    } catch (const Error& e) {
      error = e.what();
    }
  }).join();
  ASSERT_EQ(error, "");
  EXPECT_EQ(got.rgb, expected.rgb);
}

// On two simulated devices (gpusim::set_device_count): without the Backend's device guard
// the session's buffers land on device 0 and its first launch fails, naming the weights
// as memory of device 1.
TEST(SessionControl, SessionOnAnotherThreadRunsOnItsModelsSimulatedDevice) {
  gpusim::set_device_count(2);
  ModelOptions on0, on1;
  on0.device = on1.device = Device::Simulator;
  on1.gpu_index = 1;
  const auto m0 = Model::load(kFixture, on0);
  const auto m1 = Model::load(kFixture, on1);
  EXPECT_NE(m1->device_name().find("device 1"), std::string::npos) << m1->device_name();
  expect_fresh_thread_matches(m0, m1);
  gpusim::set_device_count(1);
}

// The same with two GPUs: a model on GPU 1.
TEST(SessionControl, SessionOnAnotherThreadRunsOnItsModelsGpu) {
  ModelOptions on0, on1;
  on0.device = on1.device = Device::Cuda;
  on1.gpu_index = 1;
  std::shared_ptr<const Model> m0, m1;
  try {
    m0 = Model::load(kFixture, on0);
    m1 = Model::load(kFixture, on1);
  } catch (const Error& e) {
    GTEST_SKIP() << "needs two CUDA GPUs: " << e.what();
  }
  expect_fresh_thread_matches(m0, m1);
}

// A program that cannot find the bundled model (a static one whose source tree is gone)
// says where it looked and that $GP_MODEL names one.
TEST(BundledModel, NotFoundNamesGpModelAndEveryPlace) {
  std::string message;
  EXPECT_EQ(kind_of(
                [&] {
                  first_model_file({"/nowhere/a.safetensors", "/nowhere/b.safetensors", "/nowhere/a.safetensors"});
                },
                &message),
            ErrorKind::Io);
  EXPECT_EQ(message,
            "the bundled model was not found: $GP_MODEL is not set and none of /nowhere/a.safetensors, "
            "/nowhere/b.safetensors exists; set GP_MODEL to a model file (.safetensors), or name one");
  EXPECT_EQ(first_model_file({"/nowhere/a.safetensors", kFixture}), kFixture);
}

// The footprint a session would have, before it is made: what the CLI and serve warn with.
TEST(SessionFootprint, KnownBeforeTheSession) {
  const auto model = fixture_model();
  SessionOptions o;
  o.size = 64;
  const SessionFootprint f = Session::footprint(*model, 16, 20, o);
  EXPECT_EQ(f.height, 64);
  EXPECT_EQ(f.width, 51);
  EXPECT_DOUBLE_EQ(f.enlargement, 3.2);
  EXPECT_GT(f.bytes, size_t(51 * 64 * 20));
  o.size = 32;
  EXPECT_DOUBLE_EQ(Session::footprint(*model, 48, 64, o).enlargement, 0.5);
  EXPECT_EQ(kind_of([&] { Session::footprint(*model, 0, 20, o); }), ErrorKind::Argument);
}

}  // namespace
}  // namespace gp
