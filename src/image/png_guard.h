// A guard in front of stb_image's PNG decoder, for a memory hazard in the stb_image
// 2.27 that Debian ships (found by tests/fuzz/fuzz_image.cpp in CI):
//
//   stb grows its IDAT buffer to the length a chunk header claims (doubling, up to
//   2^31 bytes) before it reads the chunk's data, so a file of a few hundred bytes
//   whose IDAT chunk claims a gigabyte makes it allocate one.
//
// png_hazard walks the chunk list the way stb does (8-byte signature, then length,
// type, data, CRC up to IEND) and refuses a file whose chunk claims more data than
// the file holds. stb would reject such a file anyway ("outofdata"), only after the
// allocation; with the guard, stb's IDAT buffer stays below twice the file size.
// Internal to src/image.
#pragma once

#include <cstdint>
#include <span>

namespace gp::image_detail {

// nullptr if stb_image may decode `bytes` (a PNG signature is assumed), else why not.
const char* png_hazard(std::span<const uint8_t> bytes);

}  // namespace gp::image_detail
