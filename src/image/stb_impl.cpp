// The one compilation of stb_image and stb_image_write in guidingpainter.
//
// We compile stb ourselves rather than link Debian's libstb.so: that library decodes
// every format stb knows (GIF, PSD, PNM, HDR, ...) with stb's default size limit,
// and it is not instrumented when we fuzz. Here the decoder accepts PNG only (JPEG
// goes to libjpeg-turbo: src/image/jpeg_decode.h says why), has no stdio (we read files ourselves, to name them in errors) and refuses
// any side above kStbMaxDimension before allocating; the configurable, smaller
// limits are checked in image_io.cpp from the header before decoding.
#include "src/image/stb.h"

#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (gp::image_detail::kStbMaxDimension)
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
