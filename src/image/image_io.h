// Reading and writing pictures: PNG and JPEG in, PNG out, as gp::Image (8-bit RGB,
// rows top to bottom, pixels interleaved R, G, B; include/guidingpainter).
//
//   gp::Image sketch = gp::read_image("sketch.png");          // or gp::Image::load
//   gp::write_png("out.png", picture);                         // or picture.save_png
//
// Every error is a gp::Error whose message starts with the file's name (or the
// name given for a memory buffer) and says what is wrong:
//   "sketch.png: not a PNG or JPEG file"
//   "x.png: 9000 x 20 exceeds the maximum dimension 8192"
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"

namespace gp {

// What the decoder accepts. Checked from the file's header before any pixel memory
// is allocated. max_dimension cannot exceed 65536 (stb's own hard limit for PNG; a
// JPEG's header cannot exceed 65535).
struct DecodeLimits {
  int max_dimension = 8192;                 // per side
  int64_t max_pixels = int64_t(1) << 25;    // width * height (32 Mi pixels, 96 MiB as RGB)
  size_t max_file_bytes = size_t(1) << 28;  // 256 MiB of encoded data
};

namespace image_detail {
// Throws decode_image's "<name>: W x H exceeds the maximum ..." errors for a header's
// size. Internal to src/image.
void check_decode_size(std::string_view name, int width, int height, const DecodeLimits& limits);
}  // namespace image_detail

// Decodes a PNG or JPEG held in memory. Grey becomes R = G = B; an alpha channel is
// composited over white: c' = (c * a + 255 * (255 - a) + 127) / 255 (integers).
// 16-bit PNGs are reduced to 8 bits. JPEG EXIF orientation is ignored; a JPEG with
// corrupt or missing data is an error (never a partly invented picture). `name`
// starts every error message. Throws gp::Error.
Image decode_image(std::span<const uint8_t> bytes, std::string_view name = "<memory>", const DecodeLimits& limits = {});

// Reads and decodes a PNG or JPEG file. Throws gp::Error naming the file.
Image read_image(const std::filesystem::path& file, const DecodeLimits& limits = {});

// The PNG encoding of an image (8-bit RGB). Throws gp::Error (naming `name`) if the
// image's buffer does not hold width * height * 3 bytes or a side is not positive.
std::vector<uint8_t> encode_png(const Image& image, std::string_view name = "<image>");

// The PNG encoding of 8-bit RGBA pixels (straight alpha, rows top to bottom, R, G, B, A
// interleaved), as the layers of an OpenRaster file need. Throws gp::Error (naming
// `name`) if `rgba` does not hold width * height * 4 bytes or a side is not positive.
std::vector<uint8_t> encode_png_rgba(int width, int height, const std::vector<uint8_t>& rgba,
                                     std::string_view name = "<image>");

// Writes a PNG: encoded in memory first, then written as file_io.h's write_file writes
// (an existing file in place, a stream as a stream, a new file through a temporary file
// renamed into place). Throws gp::Error naming the file.
void write_png(const std::filesystem::path& file, const Image& image);

// Checks image.rgb.size() == width * height * 3 with positive sides; throws gp::Error
// "<name>: image is W x H but holds N bytes (expected M)" otherwise.
void check_image(const Image& image, std::string_view name);

}  // namespace gp
