// stb_image and stb_image_write declarations, as compiled in stb_impl.cpp (PNG only,
// no stdio). Internal to src/image.
#pragma once

namespace gp::image_detail {
// stb's own hard limit per side (STBI_MAX_DIMENSIONS); DecodeLimits cannot exceed it.
inline constexpr int kStbMaxDimension = 1 << 16;
}  // namespace gp::image_detail

#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>

#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>
