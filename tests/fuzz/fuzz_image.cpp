// libFuzzer target: the PNG/JPEG decoder (gp::decode_image: stb_image for PNG compiled
// in and instrumented, Debian's libjpeg-turbo for JPEG) on arbitrary bytes. Every
// input must either decode into a consistent image or throw gp::Error; crashes,
// sanitizer reports, leaks and other exceptions are findings. Run: scripts/fuzz.sh image 60
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "src/common/error.h"
#include "src/image/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The shipped per-side limit; fewer pixels than shipped, so a tiny file claiming a
  // huge picture costs milliseconds, not seconds, and the fuzzer keeps its pace.
  gp::DecodeLimits limits;
  limits.max_pixels = int64_t(1) << 22;
  try {
    const gp::Image image = gp::decode_image({data, size}, "fuzz", limits);
    if (image.width < 1 || image.height < 1 || image.width > limits.max_dimension ||
        image.height > limits.max_dimension || int64_t(image.width) * image.height > limits.max_pixels ||
        image.rgb.size() != size_t(image.width) * size_t(image.height) * 3)
      std::abort();
  } catch (const gp::Error&) {
  }
  return 0;
}
