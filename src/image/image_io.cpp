#include "src/image/image_io.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "src/common/error.h"
#include "src/image/file_io.h"
#include "src/image/jpeg_decode.h"
#include "src/image/png_guard.h"
#include "src/image/stb.h"

namespace gp {
namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool is_png(std::span<const uint8_t> b) { return b.size() >= 8 && std::memcmp(b.data(), kPngSignature, 8) == 0; }
bool is_jpeg(std::span<const uint8_t> b) { return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }

std::string png_failure(std::string_view name) {
  const char* why = stbi_failure_reason();
  return std::string(name) + ": corrupt or unsupported PNG file (" + (why ? why : "unknown error") + ")";
}

struct StbFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

// c over white with coverage a, rounded to nearest: exact in integers.
inline uint8_t over_white(unsigned c, unsigned a) { return uint8_t((c * a + 255u * (255u - a) + 127u) / 255u); }

Image decode_png(std::span<const uint8_t> bytes, std::string_view name, const DecodeLimits& limits) {
  const std::string n(name);
  if (const char* hazard = image_detail::png_hazard(bytes))
    throw Error(ErrorKind::Format, n + ": corrupt PNG file (" + hazard + ")");

  // The header first: refuse large pictures before stb allocates anything.
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &channels)) {
    const char* why = stbi_failure_reason();
    if (why && std::strcmp(why, "too large") == 0)
      throw Error(ErrorKind::Format,
                  n + ": a side exceeds the decoder's limit " + std::to_string(image_detail::kStbMaxDimension) +
                      " (the maximum dimension is " +
                      std::to_string(std::min(limits.max_dimension, image_detail::kStbMaxDimension)) + ")");
    throw Error(ErrorKind::Format, png_failure(name));
  }
  image_detail::check_decode_size(name, w, h, limits);

  int dw = 0, dh = 0, comp = 0;
  std::unique_ptr<stbi_uc, StbFree> pixels(stbi_load_from_memory(bytes.data(), int(bytes.size()), &dw, &dh, &comp, 0));
  if (!pixels) throw Error(ErrorKind::Format, png_failure(name));
  image_detail::check_decode_size(name, dw, dh, limits);  // the same header, read again; never differs
  if (dw <= 0 || dh <= 0 || comp < 1 || comp > 4) throw Error(ErrorKind::Format, png_failure(name));

  Image image;
  image.width = dw;
  image.height = dh;
  const size_t count = size_t(dw) * size_t(dh);
  image.rgb.resize(3 * count);
  const stbi_uc* src = pixels.get();
  uint8_t* dst = image.rgb.data();
  switch (comp) {
    case 1:  // grey
      for (size_t p = 0; p < count; ++p) dst[3 * p] = dst[3 * p + 1] = dst[3 * p + 2] = src[p];
      break;
    case 2:  // grey, alpha
      for (size_t p = 0; p < count; ++p)
        dst[3 * p] = dst[3 * p + 1] = dst[3 * p + 2] = over_white(src[2 * p], src[2 * p + 1]);
      break;
    case 3: std::memcpy(dst, src, 3 * count); break;
    case 4:  // RGBA
      for (size_t p = 0; p < count; ++p)
        for (int c = 0; c < 3; ++c) dst[3 * p + c] = over_white(src[4 * p + c], src[4 * p + 3]);
      break;
  }
  return image;
}

}  // namespace

void check_image(const Image& image, std::string_view name) {
  const size_t expected = size_t(std::max(image.width, 0)) * size_t(std::max(image.height, 0)) * 3;
  if (image.width <= 0 || image.height <= 0 || image.rgb.size() != expected)
    throw Error(ErrorKind::Format, std::string(name) + ": image is " + std::to_string(image.width) + " x " +
                                       std::to_string(image.height) + " but holds " + std::to_string(image.rgb.size()) +
                                       " bytes (expected " + std::to_string(expected) + ", and both sides positive)");
}

namespace image_detail {

void check_decode_size(std::string_view name, int width, int height, const DecodeLimits& limits) {
  const int max_side = std::min(limits.max_dimension, kStbMaxDimension);
  const std::string size = std::string(name) + ": " + std::to_string(width) + " x " + std::to_string(height);
  if (width > max_side || height > max_side)
    throw Error(ErrorKind::Format, size + " exceeds the maximum dimension " + std::to_string(max_side));
  if (int64_t(width) * height > limits.max_pixels)
    throw Error(ErrorKind::Format, size + " = " + std::to_string(int64_t(width) * height) +
                                       " pixels exceeds the maximum " + std::to_string(limits.max_pixels) + " pixels");
}

}  // namespace image_detail

Image decode_image(std::span<const uint8_t> bytes, std::string_view name, const DecodeLimits& limits) {
  const std::string n(name);
  if (bytes.empty()) throw Error(ErrorKind::Format, n + ": empty file, not a PNG or JPEG file");
  const bool png = is_png(bytes);
  if (!png && !is_jpeg(bytes)) throw Error(ErrorKind::Format, n + ": not a PNG or JPEG file");
  if (bytes.size() > limits.max_file_bytes || bytes.size() > size_t(INT32_MAX))
    throw Error(ErrorKind::Format, n + ": " + std::to_string(bytes.size()) + " bytes is larger than the maximum " +
                                       std::to_string(std::min(limits.max_file_bytes, size_t(INT32_MAX))));
  if (!png) return image_detail::decode_jpeg(bytes, name, limits);
  return decode_png(bytes, name, limits);
}

Image read_image(const std::filesystem::path& file, const DecodeLimits& limits) {
  const std::vector<uint8_t> bytes = read_file(file, limits.max_file_bytes);
  return decode_image(bytes, file.string(), limits);
}

std::vector<uint8_t> encode_png(const Image& image, std::string_view name) {
  check_image(image, name);
  if (image.width > INT32_MAX / 3) throw Error(ErrorKind::Argument, std::string(name) + ": too wide to encode as PNG");
  std::vector<uint8_t> out;
  auto append = [](void* context, void* data, int size) {
    auto* v = static_cast<std::vector<uint8_t>*>(context);
    const auto* b = static_cast<const uint8_t*>(data);
    v->insert(v->end(), b, b + size);
  };
  if (!stbi_write_png_to_func(append, &out, image.width, image.height, 3, image.rgb.data(), image.width * 3))
    throw Error(ErrorKind::Failed, std::string(name) + ": PNG encoding failed");
  return out;
}

std::vector<uint8_t> encode_png_rgba(int width, int height, const std::vector<uint8_t>& rgba, std::string_view name) {
  const size_t expected = size_t(std::max(width, 0)) * size_t(std::max(height, 0)) * 4;
  if (width <= 0 || height <= 0 || rgba.size() != expected)
    throw Error(ErrorKind::Format, std::string(name) + ": RGBA image is " + std::to_string(width) + " x " +
                                       std::to_string(height) + " but holds " + std::to_string(rgba.size()) +
                                       " bytes (expected " + std::to_string(expected) + ", and both sides positive)");
  if (width > INT32_MAX / 4) throw Error(ErrorKind::Argument, std::string(name) + ": too wide to encode as PNG");
  std::vector<uint8_t> out;
  auto append = [](void* context, void* data, int size) {
    auto* v = static_cast<std::vector<uint8_t>*>(context);
    const auto* b = static_cast<const uint8_t*>(data);
    v->insert(v->end(), b, b + size);
  };
  if (!stbi_write_png_to_func(append, &out, width, height, 4, rgba.data(), width * 4))
    throw Error(ErrorKind::Failed, std::string(name) + ": PNG encoding failed");
  return out;
}

void write_png(const std::filesystem::path& file, const Image& image) {
  check_output_name(file, ".png", "PNG");
  write_file(file, encode_png(image, file.string()));
}

// The public API's members (include/guidingpainter/guidingpainter.hpp).
Image Image::load(const std::string& path) { return read_image(path); }
void Image::save_png(const std::string& path) const { write_png(path, *this); }
void ImageRgba::save_png(const std::string& path) const {
  check_output_name(path, ".png", "PNG");
  write_file(path, encode_png_rgba(width, height, rgba, path));
}

}  // namespace gp
