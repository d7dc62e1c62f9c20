// OpenRaster files (src/image/ora.h) read back with libzip, as a painting program would:
// entry order, the stored mimetype at its fixed offset, stack.xml's text, the layers,
// merged image and thumbnail bytes; and RGBA PNG encoding (src/image/image_io.h).
#include <zip.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "src/image/file_io.h"
#include "src/image/ora.h"
#include "src/image/resize.h"
#include "tests/image/test_util.h"

namespace gp::test {
namespace {

// Random RGBA with every alpha value likely, including 0 under non-zero colour (straight
// alpha must keep it).
std::vector<uint8_t> random_rgba(int w, int h, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> rgba(size_t(w) * h * 4);
  for (auto& v : rgba) v = uint8_t(rng());
  return rgba;
}

// The RGBA pixels of a PNG through stb (4 channels asked for), with its size.
std::vector<uint8_t> stb_rgba(const std::vector<uint8_t>& png, int* w, int* h) {
  int comp = 0;
  stbi_uc* p = stbi_load_from_memory(png.data(), int(png.size()), w, h, &comp, 4);
  EXPECT_NE(p, nullptr) << stbi_failure_reason();
  if (!p) return {};
  std::vector<uint8_t> out(p, p + size_t(*w) * *h * 4);
  stbi_image_free(p);
  return out;
}

// An archive in memory opened with libzip, strictly (ZIP_CHECKCONS).
class ZipReader {
 public:
  // Keeps its own copy: libzip reads the buffer lazily, long after a temporary argument
  // would be gone (AddressSanitizer found that).
  explicit ZipReader(std::vector<uint8_t> bytes) : data_(std::move(bytes)) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(data_.data(), data_.size(), 0, &error);
    if (src) z_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (!z_) {
      ADD_FAILURE() << "libzip cannot open the archive: " << zip_error_strerror(&error);
      if (src) zip_source_free(src);
    }
    zip_error_fini(&error);
  }
  ~ZipReader() {
    if (z_) zip_discard(z_);
  }
  bool ok() const { return z_ != nullptr; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (zip_int64_t i = 0; i < zip_get_num_entries(z_, 0); ++i) out.push_back(zip_get_name(z_, zip_uint64_t(i), 0));
    return out;
  }
  zip_stat_t stat(const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    EXPECT_EQ(zip_stat(z_, name.c_str(), 0, &st), 0) << name;
    return st;
  }
  std::vector<uint8_t> bytes(const std::string& name) const {
    const zip_stat_t st = stat(name);
    std::vector<uint8_t> out(size_t(st.size));
    zip_file_t* f = zip_fopen(z_, name.c_str(), 0);
    EXPECT_NE(f, nullptr) << name;
    if (!f) return {};
    EXPECT_EQ(zip_fread(f, out.data(), out.size()), zip_int64_t(out.size())) << name;
    zip_fclose(f);
    return out;
  }
  std::string text(const std::string& name) const {
    const std::vector<uint8_t> b = bytes(name);
    return std::string(b.begin(), b.end());
  }

 private:
  std::vector<uint8_t> data_;
  zip_t* z_ = nullptr;
};

// A 9 x 7 image: a full-size top layer, a hidden half-opaque one at an offset, a third
// with a name XML must escape and a non-default composite-op.
struct Fixture {
  int w = 9, h = 7;
  std::vector<OraLayer> layers;
  std::vector<uint8_t> merged, thumb;
  Fixture() {
    layers.push_back({"lines", encode_png_rgba(9, 7, random_rgba(9, 7, 1), "lines")});
    OraLayer flats{"flats", encode_png_rgba(4, 3, random_rgba(4, 3, 2), "flats")};
    flats.visible = false;
    flats.opacity = 0.5f;
    flats.x = 2;
    flats.y = -1;
    layers.push_back(flats);
    OraLayer odd{"a<b&\"c\" \xC3\xA9t\xC3\xA9", encode_png_rgba(9, 7, random_rgba(9, 7, 3), "odd")};
    odd.composite_op = "svg:multiply";
    layers.push_back(odd);
    const Image picture = random_image(9, 7, 4);
    merged = encode_png(picture);
    thumb = thumbnail_png(picture);
  }
  std::vector<uint8_t> ora() const { return encode_ora(w, h, layers, merged, thumb); }
};

TEST(PngRgba, RoundTripIsExact) {
  for (auto [w, h] : {std::pair{1, 1}, {13, 9}, {64, 3}}) {
    const std::vector<uint8_t> rgba = random_rgba(w, h, uint64_t(w * 100 + h));
    int bw = 0, bh = 0;
    const std::vector<uint8_t> back = stb_rgba(encode_png_rgba(w, h, rgba, "layer"), &bw, &bh);
    EXPECT_EQ(bw, w);
    EXPECT_EQ(bh, h);
    EXPECT_EQ(back, rgba) << w << " x " << h;
  }
}

TEST(PngRgba, BadSizesThrowNamingTheImage) {
  const std::vector<uint8_t> rgba = random_rgba(4, 3, 5);
  EXPECT_EQ(error_of([&] { encode_png_rgba(4, 4, rgba, "flats"); }),
            "flats: RGBA image is 4 x 4 but holds 48 bytes (expected 64, and both sides positive)");
  EXPECT_NE(error_of([&] {
              encode_png_rgba(3, 4, std::vector<uint8_t>(rgba.begin(), rgba.end() - 1), "x");
            }).find("holds 47 bytes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { encode_png_rgba(0, 3, {}, "x"); }).find("0 x 3"), std::string::npos);
  EXPECT_NE(error_of([&] { encode_png_rgba(-4, -3, rgba, "x"); }).find("-4 x -3"), std::string::npos);
  ImageRgba image{4, 3, std::vector<uint8_t>(rgba.begin(), rgba.end() - 4)};
  EXPECT_NE(
      error_of([&] { image.save_png("/nonexistent/never.png"); }).find("/nonexistent/never.png: RGBA image is 4 x 3"),
      std::string::npos);
}

TEST(PngRgba, SavePngWritesTheEncoding) {
  ScratchDir dir;
  const ImageRgba image{5, 4, random_rgba(5, 4, 6)};
  image.save_png((dir / "layer.png").string());
  EXPECT_EQ(read_file(dir / "layer.png"), encode_png_rgba(5, 4, image.rgba));
}

TEST(Ora, MimetypeIsFirstStoredAndAtOffset30) {
  const std::vector<uint8_t> ora = Fixture().ora();
  ASSERT_GT(ora.size(), 54u);
  // The local file header: signature, no data descriptor (flag bit 3), method 0, name
  // length 8, extra length 0; then the name and the content, so that file(1) and
  // file managers find "mimetypeimage/openraster" at offset 30.
  const auto le16 = [&](size_t at) { return ora[at] | ora[at + 1] << 8; };
  const auto le32 = [&](size_t at) { return uint32_t(le16(at)) | uint32_t(le16(at + 2)) << 16; };
  EXPECT_EQ(le32(0), 0x04034b50u);  // "PK\3\4"
  EXPECT_EQ(le16(6) & 0x08, 0);     // sizes in the header, no data descriptor
  EXPECT_EQ(le16(8), 0);            // compression: stored
  EXPECT_EQ(le32(18), 16u);         // compressed size
  EXPECT_EQ(le32(22), 16u);         // uncompressed size
  EXPECT_EQ(le16(26), 8);           // name length
  EXPECT_EQ(le16(28), 0);           // extra field length
  EXPECT_EQ(std::string(ora.begin() + 30, ora.begin() + 54), "mimetypeimage/openraster");

  ZipReader zip(ora);
  ASSERT_TRUE(zip.ok());
  const zip_stat_t st = zip.stat("mimetype");
  EXPECT_EQ(st.index, 0u);
  EXPECT_EQ(st.comp_method, ZIP_CM_STORE);
  EXPECT_EQ(zip.text("mimetype"), "image/openraster");
}

TEST(Ora, EntriesInSpecOrder) {
  ZipReader zip(Fixture().ora());
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip.names(), (std::vector<std::string>{"mimetype", "stack.xml", "data/0.png", "data/1.png", "data/2.png",
                                                   "Thumbnails/thumbnail.png", "mergedimage.png"}));
}

TEST(Ora, StackXmlListsLayersTopFirstWithEscapedNames) {
  ZipReader zip(Fixture().ora());
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(
      zip.text("stack.xml"),
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<image version=\"0.0.3\" w=\"9\" h=\"7\">\n"
      " <stack>\n"
      "  <layer name=\"lines\" src=\"data/0.png\" visibility=\"visible\" opacity=\"1\" composite-op=\"svg:src-over\" x=\"0\" y=\"0\"/>\n"
      "  <layer name=\"flats\" src=\"data/1.png\" visibility=\"hidden\" opacity=\"0.5\" composite-op=\"svg:src-over\" x=\"2\" y=\"-1\"/>\n"
      "  <layer name=\"a&lt;b&amp;&quot;c&quot; \xC3\xA9t\xC3\xA9\" src=\"data/2.png\" visibility=\"visible\" opacity=\"1\" composite-op=\"svg:multiply\" x=\"0\" y=\"0\"/>\n"
      " </stack>\n"
      "</image>\n");
}

TEST(Ora, WhitespaceInNamesIsKeptAsCharacterReferences) {
  Fixture f;
  f.layers.resize(1);
  f.layers[0].name = "two\tlines\nhere\r";
  ZipReader zip(f.ora());
  ASSERT_TRUE(zip.ok());
  EXPECT_NE(zip.text("stack.xml").find("name=\"two&#9;lines&#10;here&#13;\""), std::string::npos);
}

TEST(Ora, LayerPngsAreStoredUnchangedAndDecodeToTheirSize) {
  const Fixture f;
  ZipReader zip(f.ora());
  ASSERT_TRUE(zip.ok());
  const int sizes[3][2] = {{9, 7}, {4, 3}, {9, 7}};
  for (int i = 0; i < 3; ++i) {
    const std::string name = "data/" + std::to_string(i) + ".png";
    const std::vector<uint8_t> png = zip.bytes(name);
    EXPECT_EQ(png, f.layers[size_t(i)].png) << name;
    EXPECT_EQ(zip.stat(name).comp_method, ZIP_CM_STORE) << name;
    int w = 0, h = 0;
    stb_rgba(png, &w, &h);
    EXPECT_EQ(w, sizes[i][0]) << name;
    EXPECT_EQ(h, sizes[i][1]) << name;
  }
  EXPECT_EQ(zip.stat("stack.xml").comp_method, ZIP_CM_DEFLATE);
}

TEST(Ora, MergedImageAndThumbnailAreTheBytesGiven) {
  const Fixture f;
  ZipReader zip(f.ora());
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip.bytes("mergedimage.png"), f.merged);
  EXPECT_EQ(zip.bytes("Thumbnails/thumbnail.png"), f.thumb);
  EXPECT_EQ(decode_image(zip.bytes("mergedimage.png")).rgb, random_image(9, 7, 4).rgb);
}

TEST(Ora, EqualInputsGiveEqualFiles) {
  // Fixed entry times: no clock or time zone in the bytes.
  const Fixture f;
  EXPECT_EQ(f.ora(), f.ora());
}

TEST(Ora, AnEmptyStackIsAValidFile) {
  Fixture f;
  f.layers.clear();
  ZipReader zip(f.ora());
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip.names(),
            (std::vector<std::string>{"mimetype", "stack.xml", "Thumbnails/thumbnail.png", "mergedimage.png"}));
  EXPECT_NE(zip.text("stack.xml").find(" <stack>\n </stack>\n"), std::string::npos);
}

TEST(Ora, BadArgumentsThrowSayingWhat) {
  const auto kind = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::Failed;
  };
  {
    Fixture f;
    EXPECT_EQ(error_of([&] { encode_ora(0, 7, f.layers, f.merged, f.thumb); }),
              "OpenRaster: image size 0 x 7 (both sides must be positive)");
    EXPECT_EQ(kind([&] { encode_ora(0, 7, f.layers, f.merged, f.thumb); }), ErrorKind::Argument);
    EXPECT_EQ(error_of([&] { encode_ora(9, 8, f.layers, f.merged, f.thumb); }),
              "OpenRaster: mergedimage.png is 9 x 7, but the image is 9 x 8");
    EXPECT_EQ(error_of([&] {
                encode_ora(9, 7, f.layers, {1, 2, 3}, f.thumb);
              }),
              "OpenRaster: mergedimage.png is not a PNG (3 bytes)");
    EXPECT_EQ(error_of([&] { encode_ora(9, 7, f.layers, f.merged, encode_png(random_image(257, 2, 7))); }),
              "OpenRaster: Thumbnails/thumbnail.png is 257 x 2, larger than the spec's 256 x 256");
  }
  {
    Fixture f;
    f.layers[1].png = {'n', 'o', 't'};
    EXPECT_EQ(error_of([&] { f.ora(); }), "OpenRaster: layer 1 (\"flats\") is not a PNG (3 bytes)");
  }
  for (float opacity : {-0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
    Fixture f;
    f.layers[0].opacity = opacity;
    EXPECT_NE(error_of([&] { f.ora(); }).find("OpenRaster: layer 0 (\"lines\") has opacity"), std::string::npos)
        << opacity;
  }
  {
    Fixture f;
    f.layers[2].name = std::string("bell\x07");
    EXPECT_EQ(error_of([&] { f.ora(); }),
              "OpenRaster: layer 2's name holds control character 7, which XML cannot hold");
    f.layers[2].name = "bad \xC3(";
    EXPECT_EQ(error_of([&] { f.ora(); }), "OpenRaster: layer 2's name is not valid UTF-8 (at byte 4)");
    f.layers[2].name = "surrogate \xED\xA0\x80";
    EXPECT_NE(error_of([&] { f.ora(); }).find("not valid UTF-8"), std::string::npos);
    f.layers[2].name = "ok";
    f.layers[2].composite_op = "svg:\x01";
    EXPECT_NE(error_of([&] { f.ora(); }).find("layer 2's composite-op holds control character 1"), std::string::npos);
  }
}

TEST(Ora, ThumbnailFitsIn256KeepingAspectWithoutEnlarging) {
  struct Case {
    int w, h, tw, th;
  };
  for (const Case c : {Case{600, 300, 256, 128}, Case{300, 1000, 77, 256}, Case{256, 256, 256, 256},
                       Case{100, 50, 100, 50}, Case{2000, 3, 256, 1}}) {
    const Image picture = random_image(c.w, c.h, uint64_t(c.w + c.h));
    const Image thumb = decode_image(thumbnail_png(picture));
    EXPECT_EQ(thumb.width, c.tw) << c.w << " x " << c.h;
    EXPECT_EQ(thumb.height, c.th) << c.w << " x " << c.h;
    if (c.w == c.tw && c.h == c.th) {
      EXPECT_EQ(thumb.rgb, picture.rgb) << "a picture that fits is kept as it is";
    }
  }
  // Shrinking is resize.h's area average.
  const Image big = random_image(512, 300, 9);
  EXPECT_EQ(decode_image(thumbnail_png(big)).rgb, resize(big, 256, 150).rgb);
}

}  // namespace
}  // namespace gp::test
