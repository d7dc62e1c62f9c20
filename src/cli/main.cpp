// guidingpainter: the command-line tool.
//
// Exit codes: 0 success, 2 bad input or a failure the message explains.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "guidingpainter/device.hpp"
#include "src/backend/select.h"
#include "src/common/error.h"
#include "kernels/argmax_ref.h"

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kBundledModel = "weights/guidingpainter-emoji.safetensors";

// Device memory owned by a backend for the length of a scope.
class DeviceBytes {
 public:
  DeviceBytes(gp::Backend& b, size_t bytes, const char* what) : b_(b), p_(b.alloc(bytes, what)) {}
  ~DeviceBytes() { b_.release(p_); }
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
  template <class T> T* as() const { return static_cast<T*>(p_); }

 private:
  gp::Backend& b_;
  void* p_;
};

// Runs the first kernel families on the chosen device against the CPU references.
int selftest(gp::Backend& backend) {
  const size_t pixels = 33 * 47;
  std::mt19937 rng(7);
  std::vector<float> logits(pixels * 30);
  for (auto& v : logits) v = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
  std::vector<uint8_t> expect(pixels), got(pixels);
  gp::ref::argmax_channels(logits.data(), pixels, 30, expect.data());
  DeviceBytes d_logits(backend, logits.size() * sizeof(float), "selftest logits");
  DeviceBytes d_labels(backend, pixels, "selftest labels");
  backend.upload(d_logits.as<void>(), logits.data(), logits.size() * sizeof(float));
  backend.argmax_channels(d_logits.as<float>(), pixels, 30, d_labels.as<uint8_t>());
  backend.synchronize("selftest");
  backend.download(got.data(), d_labels.as<void>(), pixels);
  const bool ok = got == expect;
  std::printf("selftest on %s: channel argmax over 30 channels at 33 x 47: %s\n", backend.name().c_str(),
              ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}

int no_model(const std::string& model) {
  if (!std::filesystem::exists(model)) {
    std::fprintf(stderr, "guidingpainter: no model yet: %s does not exist (the bundled model is not trained yet)\n",
                 model.c_str());
  } else {
    std::fprintf(stderr, "guidingpainter: %s: the inference engine is not implemented yet\n", model.c_str());
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"guidingpainter: interactive sketch colorization that tells you where to give the next colour hint"};
  app.require_subcommand(1);
  std::string device_text = "auto";
  app.add_option("--device", device_text, "where kernels run: auto, cuda or sim (default auto; env GP_DEVICE)");
  app.set_version_flag("--version", kVersion);

  std::string model = kBundledModel, sketch, output;
  auto* selftest_cmd = app.add_subcommand("selftest", "run a kernel on the chosen device and check it against the CPU");
  auto* info_cmd = app.add_subcommand("info", "print a model's configuration");
  info_cmd->add_option("--model", model, "weights (.safetensors)");
  auto* colorize_cmd = app.add_subcommand("colorize", "colorize a sketch");
  colorize_cmd->add_option("--model", model, "weights (.safetensors)");
  colorize_cmd->add_option("--sketch", sketch, "sketch image (PNG or JPEG)")->required();
  colorize_cmd->add_option("-o", output, "output PNG")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    const gp::Device device = gp::parse_device(device_text);
    if (*selftest_cmd) {
      auto backend = gp::open_backend(device);
      return selftest(*backend);
    }
    return no_model(model);
  } catch (const gp::Error& e) {
    std::fprintf(stderr, "guidingpainter: %s\n", e.what());
    return 2;
  }
}
