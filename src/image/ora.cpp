#include "src/image/ora.h"

#include <zip.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

#include "src/common/error.h"
#include "src/image/image_io.h"
#include "src/image/resize.h"

namespace gp {
namespace {

constexpr std::string_view kMimetype = "image/openraster";
constexpr int kThumbnailSide = 256;  // the spec's maximum
constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Every entry gets the same fixed time, 1980-01-01 00:00 (the first DOS date, as
// reproducible zip tools use), so equal inputs give equal files. Set as DOS fields
// because libzip's time_t setter converts through the local time zone.
constexpr zip_uint16_t kDosTime = 0;
constexpr zip_uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // year - 1980, month, day

struct Size2 {
  uint32_t width, height;
};

// A PNG's size from its IHDR chunk, which the format puts first; nullopt if `bytes`
// does not start like a PNG. Enough to catch a caller's mix-up without decoding.
std::optional<Size2> png_size(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kPngSignature, 8) != 0 ||
      std::memcmp(bytes.data() + 12, "IHDR", 4) != 0)
    return std::nullopt;
  auto be32 = [&](size_t at) {
    return uint32_t(bytes[at]) << 24 | uint32_t(bytes[at + 1]) << 16 | uint32_t(bytes[at + 2]) << 8 | bytes[at + 3];
  };
  return Size2{be32(16), be32(20)};
}

Size2 require_png(const std::vector<uint8_t>& bytes, const std::string& what) {
  const std::optional<Size2> size = png_size(bytes);
  if (!size)
    throw Error(ErrorKind::Argument,
                "OpenRaster: " + what + " is not a PNG (" + std::to_string(bytes.size()) + " bytes)");
  return *size;
}

// Length of the well-formed UTF-8 sequence at s[i] (no overlongs, no surrogates, at most
// U+10FFFF), or 0.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? uint8_t(s[i + k]) : uint8_t(0); };
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const bool ok = cont(1) && cont(2) && !(c == 0xE0 && b(1) < 0xA0) && !(c == 0xED && b(1) >= 0xA0);
    return ok ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const bool ok = cont(1) && cont(2) && cont(3) && !(c == 0xF0 && b(1) < 0x90) && !(c == 0xF4 && b(1) >= 0x90);
    return ok ? 4 : 0;
  }
  return 0;
}

// `value` as the inside of a double-quoted XML attribute. Tab, newline and carriage
// return become character references (a parser would turn them into spaces); other
// control characters and broken UTF-8 cannot be written in XML 1.0 at all.
std::string xml_attribute(std::string_view value, const std::string& what) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default: {
        if (uint8_t(c) < 0x20)
          throw Error(ErrorKind::Argument, "OpenRaster: " + what + " holds control character " +
                                               std::to_string(int(c)) + ", which XML cannot hold");
        const size_t n = utf8_length(value, i);
        if (n == 0)
          throw Error(ErrorKind::Argument,
                      "OpenRaster: " + what + " is not valid UTF-8 (at byte " + std::to_string(i) + ")");
        out.append(value.substr(i, n));
        i += n;
        continue;
      }
    }
    ++i;
  }
  return out;
}

std::string shortest(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string layer_src(size_t i) { return "data/" + std::to_string(i) + ".png"; }

std::string stack_xml(int width, int height, const std::vector<OraLayer>& layers) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<image version=\"0.0.3\" w=\"" + std::to_string(width) + "\" h=\"" + std::to_string(height) + "\">\n";
  xml += " <stack>\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    const OraLayer& l = layers[i];
    // The name itself stays out of the messages that say it cannot be written.
    const std::string what = "layer " + std::to_string(i);
    if (!(l.opacity >= 0.0f && l.opacity <= 1.0f))
      throw Error(ErrorKind::Argument,
                  "OpenRaster: " + what + " (\"" + l.name + "\") has opacity " + shortest(l.opacity) + ", not in 0..1");
    xml += "  <layer name=\"" + xml_attribute(l.name, what + "'s name") + "\" src=\"" + layer_src(i) +
           "\" visibility=\"" + (l.visible ? "visible" : "hidden") + "\" opacity=\"" + shortest(l.opacity) +
           "\" composite-op=\"" + xml_attribute(l.composite_op, what + "'s composite-op") + "\" x=\"" +
           std::to_string(l.x) + "\" y=\"" + std::to_string(l.y) + "\"/>\n";
  }
  xml += " </stack>\n</image>\n";
  return xml;
}

[[noreturn]] void zip_failure(const std::string& doing, zip_error_t* error) {
  const bool memory = zip_error_code_zip(error) == ZIP_ER_MEMORY;
  throw Error(memory ? ErrorKind::OutOfMemory : ErrorKind::Failed,
              "OpenRaster: libzip cannot " + doing + ": " + zip_error_strerror(error));
}

// One reference to a zip source; libzip counts them (zip_source_keep adds one).
class SourceRef {
 public:
  explicit SourceRef(zip_source_t* s) : s_(s) {}
  ~SourceRef() { zip_source_free(s_); }
  SourceRef(const SourceRef&) = delete;
  SourceRef& operator=(const SourceRef&) = delete;
  zip_source_t* get() const { return s_; }

 private:
  zip_source_t* s_;
};

// An archive being written; dropped unwritten (zip_discard) unless closed.
class Archive {
 public:
  explicit Archive(zip_t* z) : z_(z) {}
  ~Archive() {
    if (z_) zip_discard(z_);
  }
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;
  zip_t* get() const { return z_; }

  // Adds `name` holding `size` bytes at `data`. libzip reads them only in close(), so
  // they must live until then.
  void add(const std::string& name, const void* data, size_t size, bool compress) {
    zip_source_t* source = zip_source_buffer(z_, data, size, 0);
    if (!source) zip_failure("hold " + name, zip_get_error(z_));
    const zip_int64_t index = zip_file_add(z_, name.c_str(), source, 0);
    if (index < 0) {
      zip_source_free(source);  // not taken over on failure
      zip_failure("add " + name, zip_get_error(z_));
    }
    if (zip_set_file_compression(z_, zip_uint64_t(index), compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(z_, zip_uint64_t(index), kDosTime, kDosDate, 0) != 0)
      zip_failure("set up " + name, zip_get_error(z_));
  }
  void add(const std::string& name, const std::vector<uint8_t>& bytes, bool compress) {
    add(name, bytes.data(), bytes.size(), compress);
  }

  // Writes the archive into its source and frees it.
  void close() {
    if (zip_close(z_) != 0) zip_failure("write the archive", zip_get_error(z_));  // z_ still open: discarded
    z_ = nullptr;
  }

 private:
  zip_t* z_;
};

// The whole content of a closed source.
std::vector<uint8_t> read_source(zip_source_t* source) {
  if (zip_source_open(source) != 0) zip_failure("read the archive back", zip_source_error(source));
  std::vector<uint8_t> bytes;
  zip_stat_t st;
  zip_stat_init(&st);
  bool ok = zip_source_stat(source, &st) == 0 && (st.valid & ZIP_STAT_SIZE);
  if (ok) {
    bytes.resize(size_t(st.size));
    ok = zip_source_read(source, bytes.data(), st.size) == zip_int64_t(st.size);
  }
  zip_source_close(source);
  if (!ok) zip_failure("read the archive back", zip_source_error(source));
  return bytes;
}

}  // namespace

std::vector<uint8_t> encode_ora(int width, int height, const std::vector<OraLayer>& layers,
                                const std::vector<uint8_t>& merged_png, const std::vector<uint8_t>& thumbnail_png) {
  if (width <= 0 || height <= 0)
    throw Error(ErrorKind::Argument, "OpenRaster: image size " + std::to_string(width) + " x " +
                                         std::to_string(height) + " (both sides must be positive)");
  const Size2 merged = require_png(merged_png, "mergedimage.png");
  if (merged.width != uint32_t(width) || merged.height != uint32_t(height))
    throw Error(ErrorKind::Argument, "OpenRaster: mergedimage.png is " + std::to_string(merged.width) + " x " +
                                         std::to_string(merged.height) + ", but the image is " + std::to_string(width) +
                                         " x " + std::to_string(height));
  const Size2 thumb = require_png(thumbnail_png, "Thumbnails/thumbnail.png");
  if (thumb.width > uint32_t(kThumbnailSide) || thumb.height > uint32_t(kThumbnailSide))
    throw Error(ErrorKind::Argument, "OpenRaster: Thumbnails/thumbnail.png is " + std::to_string(thumb.width) + " x " +
                                         std::to_string(thumb.height) + ", larger than the spec's 256 x 256");
  for (size_t i = 0; i < layers.size(); ++i)
    require_png(layers[i].png, "layer " + std::to_string(i) + " (\"" + layers[i].name + "\")");
  const std::string xml = stack_xml(width, height, layers);

  // An empty in-memory source that libzip writes the archive into; our reference keeps
  // it alive past zip_close, which frees the archive's.
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* raw = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!raw) zip_failure("create a memory buffer", &error);
  zip_t* z = zip_open_from_source(raw, ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!z) {
    zip_source_free(raw);  // not taken over on failure
    zip_failure("open a memory buffer", &error);
  }
  zip_source_keep(raw);
  SourceRef buffer(raw);
  Archive archive(z);

  // Entries are written in the order added. PNGs are already deflated: stored as they are.
  archive.add("mimetype", kMimetype.data(), kMimetype.size(), false);
  archive.add("stack.xml", xml.data(), xml.size(), true);
  for (size_t i = 0; i < layers.size(); ++i) archive.add(layer_src(i), layers[i].png, false);
  archive.add("Thumbnails/thumbnail.png", thumbnail_png, false);
  archive.add("mergedimage.png", merged_png, false);
  archive.close();
  return read_source(buffer.get());
}

std::vector<uint8_t> thumbnail_png(const Image& merged) {
  check_image(merged, "thumbnail");
  if (merged.width <= kThumbnailSide && merged.height <= kThumbnailSide) return encode_png(merged, "thumbnail");
  return encode_png(resize(merged, working_size(merged.width, merged.height, kThumbnailSide)), "thumbnail");
}

}  // namespace gp
