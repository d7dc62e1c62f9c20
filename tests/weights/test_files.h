// Test helpers: a small safetensors writer (canonical form, as tools/safetensors_io.py
// writes it), raw file assembly for malformed files, float -> F16/BF16 rounding, and a
// synthetic GuidingPainter weight file of any width. No Python needed.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/common/error.h"
#include "src/weights/model_weights.h"
#include "src/weights/safetensors.h"

namespace gp::test {

using Bytes = std::vector<std::byte>;
using Metadata = std::map<std::string, std::string>;

struct RawTensor {
  std::string name;
  std::string dtype;  // header tag, written as is
  std::vector<int64_t> shape;
  Bytes data;
};

inline void append(Bytes& out, const void* p, size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  out.insert(out.end(), b, b + n);
}

inline Bytes bytes_of(std::string_view text) {
  Bytes out;
  append(out, text.data(), text.size());
  return out;
}

// u64 little-endian header size, the header text as given, then `data`.
inline Bytes assemble(std::string_view header, const Bytes& data = {}) {
  Bytes out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((n >> (8 * i)) & 0xFF));
  append(out, header.data(), header.size());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// A file with an arbitrary declared header size (the 8 length bytes) and body.
inline Bytes with_header_size(uint64_t n, std::string_view body) {
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((n >> (8 * i)) & 0xFF));
  append(out, body.data(), body.size());
  return out;
}

// The canonical form: names sorted, data contiguous in that order, header padded with
// spaces to a multiple of 8 (unless `pad` is false).
inline Bytes build_safetensors(std::vector<RawTensor> tensors, const Metadata& metadata, bool pad = true) {
  std::sort(tensors.begin(), tensors.end(), [](const RawTensor& a, const RawTensor& b) { return a.name < b.name; });
  nlohmann::json header = nlohmann::json::object();
  Bytes data;
  for (const RawTensor& t : tensors) {
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.data.size()}}};
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  if (pad) text.append((8 - text.size() % 8) % 8, ' ');
  return assemble(text, data);
}

// float -> binary16 bits, round to nearest even (overflow to infinity, NaN stays NaN).
inline uint16_t float_to_half(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero) in half: value / 2^-24 rounded to an integer.
    const float scaled = std::ldexp(std::bit_cast<float>(abs), 24);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(scaled)));
  }
  const uint32_t rounded = abs + 0xFFFu + ((abs >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
}

// float -> bfloat16 bits, round to nearest even, as tools/safetensors_io.py does.
inline uint16_t float_to_bf16(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if (std::isnan(value)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

// Encodes floats as "F32", "F16" or "BF16" (little-endian).
inline Bytes encode(const std::vector<float>& values, std::string_view dtype) {
  Bytes out;
  for (float v : values) {
    if (dtype == "F32") {
      append(out, &v, 4);
    } else {
      const uint16_t bits = dtype == "F16" ? float_to_half(v) : float_to_bf16(v);
      append(out, &bits, 2);
    }
  }
  return out;
}

inline RawTensor float_tensor(std::string name, std::vector<int64_t> shape, const std::vector<float>& values,
                              std::string dtype = "F32") {
  Bytes data = encode(values, dtype);
  return RawTensor{std::move(name), std::move(dtype), std::move(shape), std::move(data)};
}

inline int64_t count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

inline Metadata model_metadata(int width) {
  return {{"format", "guidingpainter"}, {"format_version", "1"},  {"width", std::to_string(width)},
          {"num_regions", "30"},        {"seg_in_channels", "1"}, {"col_in_channels", "35"},
          {"train_size", "256"},        {"center", "0"}};
}

// Float values of every tensor of a synthetic model: convs uniform in [-1, 1], BatchNorm
// gamma in [0.5, 1.5], beta/mean in [-0.5, 0.5], var in [0.25, 2]. Names and shapes
// are the library's expected_tensors (the fixtures check those against Python).
inline std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> synthetic_values(int width,
                                                                                                   unsigned seed) {
  ModelConfig config;
  config.width = width;
  config.num_regions = 30;
  config.seg_in_channels = 1;
  config.col_in_channels = 35;
  std::mt19937 rng(seed);
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> out;
  for (const ExpectedTensor& e : expected_tensors(config)) {
    float lo = -1, hi = 1;
    if (e.name.ends_with("running_var")) lo = 0.25f, hi = 2.0f;
    else if (e.name.find(".bn") != std::string::npos && e.name.ends_with(".weight")) lo = 0.5f, hi = 1.5f;
    else if (e.name.find(".bn") != std::string::npos) lo = -0.5f, hi = 0.5f;
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> values(static_cast<size_t>(count(e.shape)));
    for (float& v : values) v = dist(rng);
    out[e.name] = {e.shape, values};
  }
  return out;
}

inline std::vector<RawTensor> synthetic_tensors(int width, unsigned seed = 1, std::string dtype = "F32") {
  std::vector<RawTensor> out;
  for (auto& [name, sv] : synthetic_values(width, seed)) out.push_back(float_tensor(name, sv.first, sv.second, dtype));
  return out;
}

inline std::span<const std::byte> span_of(const Bytes& b) { return {b.data(), b.size()}; }

// A scratch directory unique to this process and test, removed with its contents when
// the object goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("gp_weights_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path;
}

// The message of the gp::Error that `f` throws; fails the test if it throws nothing
// (any other exception escapes and fails the test too).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const gp::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a gp::Error";
  return {};
}

inline std::string parse_error(const Bytes& bytes, std::string name = "test.safetensors") {
  return error_of([&] { SafetensorsFile::parse(span_of(bytes), name); });
}

inline std::string load_error(const Bytes& bytes, std::string name = "model.safetensors") {
  return error_of([&] { load_model_weights(SafetensorsFile::parse(span_of(bytes), name)); });
}

}  // namespace gp::test
