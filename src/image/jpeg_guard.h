// A guard in front of stb_image's JPEG decoder, for a memory-safety bug in the
// stb_image 2.27 that Debian ships (found by tests/fuzz/fuzz_image.cpp):
//
//   A DHT segment whose 16 code-length counts add up to more than 256 makes
//   stbi__build_huffman write past stbi__huffman::size[257] and the DHT loop write
//   past values[256]: a heap overflow of up to ~3.8 KB (upstream added the check
//   "n > 256 -> bad DHT header" after 2.27).
//   A scan that decodes with a Huffman table no DHT segment defined: stb's decoder
//   state is allocated uninitialised, so the table's garbage sends the symbol index
//   past values[256] (a heap read out of bounds).
//
// jpeg_hazard walks the file the way stb_image 2.27 does (marker by marker, fill
// bytes, padding between header segments, segment lengths, entropy-coded data up to
// the next marker that is not a stuffed zero or a restart marker) and looks at every
// DHT segment and every scan header stb could reach. It never stops earlier than stb would on input stb
// accepts, so every DHT stb parses is checked; on input stb would reject anyway it
// may look further, which can only refuse a file that is corrupt. Internal to src/image.
#pragma once

#include <cstdint>
#include <span>

namespace gp::image_detail {

// nullptr if stb_image may decode `bytes`, else why not (a short phrase).
const char* jpeg_hazard(std::span<const uint8_t> bytes);

}  // namespace gp::image_detail
