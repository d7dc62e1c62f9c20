// 8 threads x 4 Sessions each on one Model, 50 colorize steps per Session with the hints
// changing every step: every picture equals the single-threaded one. (The stress test of
// issue 11; CI also runs it under ThreadSanitizer, with GP_STRESS_STEPS=4 for its time.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"
#include "tests/source_dir.h"

namespace gp {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = test::source_dir();
constexpr int kThreads = 8, kSessionsPerThread = 4;

// 50, or GP_STRESS_STEPS (a sanitizer build runs ten times slower).
int steps() {
  const char* env = std::getenv("GP_STRESS_STEPS");
  const int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : 50;
}

const char* const kSketches[kSessionsPerThread] = {"1F432-sketch.png", "1F3E0-sketch.png", "1F388-sketch.png",
                                                   "1F432-sketch.png"};

uint64_t fnv(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

// Session j's steps: each step changes one hint (set or cleared) and colorizes.
std::vector<uint64_t> run_steps(const std::shared_ptr<const Model>& model, const Image& sketch, int j) {
  SessionOptions o;
  o.size = 17 + 2 * j;  // four small working sizes, none a multiple of a tile
  Session s(model, sketch, o);
  const int n = int(s.regions().size());
  std::vector<uint64_t> hashes;
  const int n_steps = steps();
  for (int step = 0; step < n_steps; ++step) {
    const int rank = 1 + (step * 7 + j) % n;
    if (step % 5 == 4) s.clear_hint(rank);
    else s.set_hint(rank, Rgb{uint8_t(step * 37 + j), uint8_t(255 - step * 11), uint8_t(step * 5 * (j + 1))});
    hashes.push_back(fnv(s.colorize().rgb));
  }
  return hashes;
}

TEST(SessionStress, EightThreadsTimesFourSessionsEqualOneThread) {
  ModelOptions mo;
  mo.device = Device::Simulator;
  const auto model = Model::load((kSource / "tests" / "fixtures" / "w4_48x40" / "model.safetensors").string(), mo);
  std::vector<Image> sketches;
  for (const char* name : kSketches)
    sketches.push_back(Image::load((kSource / "examples" / "samples" / name).string()));
  std::vector<std::vector<uint64_t>> expected;
  for (int j = 0; j < kSessionsPerThread; ++j) expected.push_back(run_steps(model, sketches[size_t(j)], j));

  std::atomic<int> mismatches{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        // The thread's four sessions, in an order of its own.
        for (int j = 0; j < kSessionsPerThread; ++j) {
          const int jj = (j + t) % kSessionsPerThread;
          if (run_steps(model, sketches[size_t(jj)], jj) != expected[size_t(jj)]) ++mismatches;
        }
      } catch (const std::exception& e) {
        errors[size_t(t)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace gp
