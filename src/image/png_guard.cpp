#include "src/image/png_guard.h"

#include <cstddef>

namespace gp::image_detail {

const char* png_hazard(std::span<const uint8_t> bytes) {
  constexpr size_t kSignature = 8;
  constexpr uint32_t kIEND = 0x49454E44;  // "IEND"
  auto be32 = [&](size_t at) {
    return (uint32_t(bytes[at]) << 24) | (uint32_t(bytes[at + 1]) << 16) | (uint32_t(bytes[at + 2]) << 8) |
           uint32_t(bytes[at + 3]);
  };
  size_t pos = kSignature;
  while (pos + 8 <= bytes.size()) {
    const uint32_t length = be32(pos);
    const uint32_t type = be32(pos + 4);
    pos += 8;
    if (length > bytes.size() - pos) return "a chunk claims more data than the file holds";
    if (type == kIEND) return nullptr;  // stb stops here, without reading the CRC
    pos += size_t(length) + 4;          // data and CRC
  }
  return nullptr;  // no IEND: stb runs out of data and refuses the file itself
}

}  // namespace gp::image_detail
