// JPEG decoding through libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg0).
//
// Not stb_image: the stb_image 2.27 that Debian ships has had four JPEG bugs found by
// tests/fuzz/fuzz_image.cpp (two heap overflows on corrupt Huffman tables, a read of
// uninitialised tables, and an undefined shift when a corrupt scan runs out of bits);
// libjpeg-turbo is fuzzed upstream continuously and reports corrupt data instead of
// decoding past it. Internal to src/image.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "src/image/image_io.h"

namespace gp::image_detail {

// Decodes a baseline or progressive JPEG (greyscale, YCbCr, RGB, CMYK or YCCK) into
// 8-bit RGB. The header is read first and checked against `limits`; any corrupt
// data, even what libjpeg only warns about (a truncated scan, say), is an error:
//   "<name>: corrupt or unsupported JPEG file (<libjpeg's message>)".
Image decode_jpeg(std::span<const uint8_t> bytes, std::string_view name, const DecodeLimits& limits);

}  // namespace gp::image_detail
