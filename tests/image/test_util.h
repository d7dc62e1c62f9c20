// Shared by the image tests: a scratch directory and encoders for inputs the
// library itself never writes (grey, grey + alpha, RGBA PNGs; JPEG).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "src/common/error.h"
#include "src/image/image_io.h"
#include "src/image/stb.h"

namespace gp::test {

// A fresh directory per test, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("gp_image_") + (info ? info->test_suite_name() : "x") + "_" +
                       (info ? info->name() : "y") + "_" + std::to_string(std::random_device{}());
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // The names of the entries in the directory.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline void append_bytes(void* context, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(context);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// PNG with `channels` (1: grey, 2: grey + alpha, 3: RGB, 4: RGBA) interleaved values.
inline std::vector<uint8_t> png_bytes(const std::vector<uint8_t>& values, int w, int h, int channels) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(stbi_write_png_to_func(append_bytes, &out, w, h, channels, values.data(), w * channels));
  return out;
}

inline std::vector<uint8_t> jpeg_bytes(const std::vector<uint8_t>& values, int w, int h, int channels,
                                       int quality = 95) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(stbi_write_jpg_to_func(append_bytes, &out, w, h, channels, values.data(), quality));
  return out;
}

inline Image make_image(int w, int h, std::vector<uint8_t> rgb) {
  Image image;
  image.width = w;
  image.height = h;
  image.rgb = std::move(rgb);
  return image;
}

inline Image random_image(int w, int h, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (auto& v : rgb) v = uint8_t(rng());
  return make_image(w, h, std::move(rgb));
}

// The message of the gp::Error that f throws ("" and a test failure if none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no gp::Error thrown";
  return "";
}

}  // namespace gp::test
