// libFuzzer target: arbitrary bytes through the safetensors parser, the model metadata
// validation and the weight loader. Build and run with scripts/fuzz.sh safetensors 60.
//
// Invariants checked beyond "no crash, no sanitizer report":
// - the only exception that escapes the library is gp::Error, and its message starts
//   with the display name (an uncaught exception of any other type aborts: a finding);
// - every accepted file's tensor views lie inside the input, tile its data section
//   exactly, and decode without reading outside it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/error.h"
#include "src/weights/model_weights.h"
#include "src/weights/safetensors.h"

namespace {

constexpr std::string_view kName = "<fuzz input>";

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void check_message(const gp::Error& e) {
  const std::string_view message = e.what();
  check(message.substr(0, kName.size() + 2) == std::string(kName) + ": ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::optional<gp::SafetensorsFile> file;
  try {
    file.emplace(gp::SafetensorsFile::parse(bytes, std::string(kName)));
  } catch (const gp::Error& e) {
    check_message(e);
    return 0;
  }

  const std::byte* data_begin = bytes.data() + 8 + file->header_bytes();
  const std::byte* data_end = bytes.data() + bytes.size();
  size_t covered = 0;
  unsigned checksum = 0;
  for (const gp::TensorView& t : file->tensors()) {
    check(t.bytes.size() == static_cast<size_t>(t.numel()) * gp::dtype_size(t.dtype));
    check(t.bytes.empty() || (t.bytes.data() >= data_begin && t.bytes.data() + t.bytes.size() <= data_end));
    covered += t.bytes.size();
    for (std::byte b : t.bytes) checksum += static_cast<unsigned>(b);  // ASan: reads stay inside
    check(file->find(t.name) != nullptr);
    (void)t.describe();
    try {
      const std::vector<float> values = gp::decode_to_float(*file, t);
      check(values.size() == static_cast<size_t>(t.numel()));
    } catch (const gp::Error& e) {
      check_message(e);
      check(t.dtype != gp::DType::F32 && t.dtype != gp::DType::F16 && t.dtype != gp::DType::BF16);
    }
  }
  check(covered == static_cast<size_t>(data_end - data_begin));
  (void)checksum;

  try {
    const gp::ModelConfig config = gp::read_model_config(*file);
    check(config.width >= 1 && config.width <= gp::ModelConfig::kMaxWidth);
    check(config.num_regions == gp::ModelConfig::kNumRegions);
  } catch (const gp::Error& e) {
    check_message(e);
  }
  try {
    const gp::ModelWeights weights = gp::load_model_weights(*file);
    check(weights.colorizer.outc.cout == 3);
  } catch (const gp::Error& e) {
    check_message(e);
  }
  return 0;
}
