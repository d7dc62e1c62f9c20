#include "src/image/jpeg_decode.h"

#include <turbojpeg.h>

#include <memory>
#include <string>
#include <vector>

#include "src/common/error.h"

namespace gp::image_detail {
namespace {

struct TjDestroy {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDestroy>;

// A warning from libjpeg (premature end of data, a corrupt Huffman code, ...) means
// part of the picture was invented: stop there rather than hand back a guess. A
// progressive file with an unreasonable number of scans costs unbounded time
// ("Two Issues with the JPEG Standard"); libjpeg-turbo refuses it past 500 scans.
constexpr int kFlags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;

// Adobe CMYK JPEGs store inverted ink (255 = none), so each channel over K is
// c * k / 255, rounded to nearest: exact in integers.
inline uint8_t cmyk_channel(unsigned c, unsigned k) { return uint8_t((c * k + 127u) / 255u); }

}  // namespace

Image decode_jpeg(std::span<const uint8_t> bytes, std::string_view name, const DecodeLimits& limits) {
  TjHandle handle(tjInitDecompress());
  if (!handle)
    throw Error(ErrorKind::Failed,
                std::string(name) + ": cannot start the JPEG decoder (" + tjGetErrorStr2(nullptr) + ")");
  auto failure = [&] {
    return Error(ErrorKind::Format,
                 std::string(name) + ": corrupt or unsupported JPEG file (" + tjGetErrorStr2(handle.get()) + ")");
  };

  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &width, &height,
                          &subsampling, &colorspace) != 0)
    throw failure();
  check_decode_size(name, width, height, limits);

  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int channels = cmyk ? 4 : 3;
  std::vector<uint8_t> pixels(size_t(width) * size_t(height) * size_t(channels));
  if (tjDecompress2(handle.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), pixels.data(), width,
                    width * channels, height, cmyk ? TJPF_CMYK : TJPF_RGB, kFlags) != 0)
    throw failure();

  Image image;
  image.width = width;
  image.height = height;
  if (!cmyk) {
    image.rgb = std::move(pixels);
    return image;
  }
  const size_t count = size_t(width) * size_t(height);
  image.rgb.resize(3 * count);
  for (size_t p = 0; p < count; ++p)
    for (int c = 0; c < 3; ++c) image.rgb[3 * p + c] = cmyk_channel(pixels[4 * p + c], pixels[4 * p + 3]);
  return image;
}

}  // namespace gp::image_detail
