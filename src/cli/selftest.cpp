#include "src/cli/selftest.h"

#include <cstdio>
#include <random>
#include <vector>

#include "kernels/argmax_ref.h"
#include "src/backend/select.h"
#include "src/engine/device_array.h"

namespace gp {

int cli_selftest(Device device) {
  auto backend = open_backend(device);
  const size_t pixels = 33 * 47;
  std::mt19937 rng(7);
  std::vector<float> logits(pixels * 30);
  for (auto& v : logits) v = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
  std::vector<uint8_t> expect(pixels);
  gp::ref::argmax_channels(logits.data(), pixels, 30, expect.data());
  DeviceArray<float> d_logits(*backend, logits, "selftest logits");
  DeviceArray<uint8_t> d_labels(*backend, pixels, "selftest labels");
  backend->argmax_channels(d_logits.get(), pixels, 30, d_labels.get());
  backend->synchronize("selftest");
  const bool ok = d_labels.download() == expect;
  std::printf("selftest on %s: channel argmax over 30 channels at 33 x 47: %s\n", backend->name().c_str(),
              ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}

}  // namespace gp
