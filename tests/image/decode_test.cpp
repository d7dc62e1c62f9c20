// Decoding and writing pictures: formats, channel conversions, limits, corrupt input,
// errors naming the file, atomic writes.
#include <algorithm>
#include <fstream>

#include "src/image/file_io.h"
#include "tests/image/test_util.h"

namespace gp::test {
namespace {

TEST(Decode, PngRgbRoundTripIsExact) {
  const Image image = random_image(33, 47, 1);
  const Image back = decode_image(encode_png(image));
  EXPECT_EQ(back.width, 33);
  EXPECT_EQ(back.height, 47);
  EXPECT_EQ(back.rgb, image.rgb);
}

TEST(Decode, JpegIsCloseToTheOriginal) {
  // A smooth picture: JPEG at quality 95 stays within a few levels of it.
  const int w = 40, h = 24;
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* px = rgb.data() + (size_t(y) * w + x) * 3;
      px[0] = uint8_t(40 + 4 * x);
      px[1] = uint8_t(200 - 5 * y);
      px[2] = 128;
    }
  const Image back = decode_image(jpeg_bytes(rgb, w, h, 3), "photo.jpg");
  ASSERT_EQ(back.width, w);
  ASSERT_EQ(back.height, h);
  int worst = 0;
  for (size_t i = 0; i < rgb.size(); ++i) worst = std::max(worst, std::abs(int(back.rgb[i]) - int(rgb[i])));
  EXPECT_LE(worst, 12);
}

TEST(Decode, GreyJpegBecomesRgb) {
  std::vector<uint8_t> grey(16 * 8, 200);
  const Image back = decode_image(jpeg_bytes(grey, 16, 8, 1));
  ASSERT_EQ(back.rgb.size(), 16u * 8 * 3);
  for (size_t p = 0; p < 16 * 8; ++p) {
    EXPECT_NEAR(back.rgb[3 * p], 200, 2);
    EXPECT_EQ(back.rgb[3 * p], back.rgb[3 * p + 1]);
    EXPECT_EQ(back.rgb[3 * p], back.rgb[3 * p + 2]);
  }
}

TEST(Decode, GreyPngBecomesRgb) {
  std::vector<uint8_t> grey(7 * 5);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = uint8_t(i * 7);
  const Image back = decode_image(png_bytes(grey, 7, 5, 1));
  ASSERT_EQ(back.rgb.size(), grey.size() * 3);
  for (size_t p = 0; p < grey.size(); ++p)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(back.rgb[3 * p + c], grey[p]) << p;
}

// c over white with alpha a: (c * a + 255 * (255 - a) + 127) / 255.
uint8_t over_white(int c, int a) { return uint8_t((c * a + 255 * (255 - a) + 127) / 255); }

TEST(Decode, GreyAlphaPngIsCompositedOnWhite) {
  const std::vector<uint8_t> ga = {0, 255, 0, 0, 0, 128, 100, 255, 100, 1, 255, 0};  // (grey, alpha) x 6
  const Image back = decode_image(png_bytes(ga, 3, 2, 2));
  const std::vector<uint8_t> expect = {0, 255, 127, 100, 254, 255};
  for (size_t p = 0; p < 6; ++p) {
    EXPECT_EQ(back.rgb[3 * p], expect[p]) << p;
    EXPECT_EQ(back.rgb[3 * p], over_white(ga[2 * p], ga[2 * p + 1]));
    EXPECT_EQ(back.rgb[3 * p + 1], expect[p]);
    EXPECT_EQ(back.rgb[3 * p + 2], expect[p]);
  }
}

TEST(Decode, RgbaPngIsCompositedOnWhite) {
  const int w = 9, h = 4;
  std::mt19937 rng(3);
  std::vector<uint8_t> rgba(size_t(w) * h * 4);
  for (auto& v : rgba) v = uint8_t(rng());
  rgba[3] = 0;    // fully transparent: white
  rgba[7] = 255;  // opaque: unchanged
  const Image back = decode_image(png_bytes(rgba, w, h, 4), "rgba.png");
  for (int p = 0; p < w * h; ++p)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(back.rgb[3 * p + c], over_white(rgba[4 * p + c], rgba[4 * p + 3]));
  EXPECT_EQ(back.rgb[0], 255);
  EXPECT_EQ(back.rgb[3], rgba[4]);
}

TEST(Decode, NotAnImage) {
  const std::string text = "hello, this is not a picture";
  const std::vector<uint8_t> bytes(text.begin(), text.end());
  EXPECT_EQ(error_of([&] { decode_image(bytes, "sketch.png"); }), "sketch.png: not a PNG or JPEG file");
  EXPECT_EQ(error_of([&] { decode_image({}, "empty.png"); }), "empty.png: empty file, not a PNG or JPEG file");
  // Formats stb knows but we do not accept.
  const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0, ';'};
  EXPECT_EQ(error_of([&] { decode_image(gif, "a.gif"); }), "a.gif: not a PNG or JPEG file");
  std::vector<uint8_t> bmp = {'B', 'M'};
  bmp.resize(64);
  EXPECT_EQ(error_of([&] { decode_image(bmp, "b.bmp"); }), "b.bmp: not a PNG or JPEG file");
}

TEST(Decode, EveryPrefixOfAPngIsRejectedCleanly) {
  const auto png = png_bytes(random_image(12, 9, 4).rgb, 12, 9, 3);
  for (size_t n = 0; n < png.size(); ++n) {
    const std::vector<uint8_t> prefix(png.begin(), png.begin() + std::ptrdiff_t(n));
    try {
      const Image image = decode_image(prefix, "cut.png");
      // stb may accept a PNG cut inside its trailing chunk; then it must be whole.
      EXPECT_EQ(image.width, 12);
      EXPECT_EQ(image.rgb.size(), 12u * 9 * 3);
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cut.png: ", 0), 0u) << e.what();
    }
  }
}

TEST(Decode, EveryPrefixOfAJpegIsRejected) {
  // Even a JPEG missing only its end-of-image marker: its data may be cut anywhere.
  const auto jpg = jpeg_bytes(random_image(16, 16, 5).rgb, 16, 16, 3);
  for (size_t n = 0; n < jpg.size(); ++n) {
    const std::vector<uint8_t> prefix(jpg.begin(), jpg.begin() + std::ptrdiff_t(n));
    const std::string e = error_of([&] { decode_image(prefix, "cut.jpg"); });
    EXPECT_EQ(e.rfind("cut.jpg: ", 0), 0u) << "prefix of " << n << " bytes: '" << e << "'";
  }
}

TEST(Decode, CorruptedBytesNeverCrash) {
  // Random byte flips in a PNG and a JPEG: each decode throws gp::Error or returns a
  // consistent image (under GP_SANITIZE this also checks memory safety).
  const auto png = png_bytes(random_image(10, 10, 6).rgb, 10, 10, 3);
  const auto jpg = jpeg_bytes(random_image(10, 10, 7).rgb, 10, 10, 3);
  std::mt19937 rng(8);
  int decoded = 0, rejected = 0;
  for (int i = 0; i < 600; ++i) {
    auto bytes = i % 2 ? png : jpg;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[8 + rng() % (bytes.size() - 8)] = uint8_t(rng());
    try {
      const Image image = decode_image(bytes);
      EXPECT_EQ(image.rgb.size(), size_t(image.width) * image.height * 3);
      ++decoded;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_EQ(decoded + rejected, 600);
}

TEST(Decode, TooLargeDimensionIsRejectedBeforeDecoding) {
  const std::vector<uint8_t> row(9000 * 3, 255);
  EXPECT_EQ(error_of([&] { decode_image(png_bytes(row, 9000, 1, 3), "x.png"); }),
            "x.png: 9000 x 1 exceeds the maximum dimension 8192");
  EXPECT_EQ(error_of([&] { decode_image(png_bytes(row, 1, 9000, 3), "y.png"); }),
            "y.png: 1 x 9000 exceeds the maximum dimension 8192");
  DecodeLimits limits;
  limits.max_pixels = 5000;
  const std::vector<uint8_t> square(100 * 100 * 3, 0);
  EXPECT_EQ(error_of([&] { decode_image(png_bytes(square, 100, 100, 3), "z.png", limits); }),
            "z.png: 100 x 100 = 10000 pixels exceeds the maximum 5000 pixels");
  limits = {};
  limits.max_dimension = 64;
  EXPECT_EQ(error_of([&] { decode_image(jpeg_bytes(square, 100, 100, 3), "z.jpg", limits); }),
            "z.jpg: 100 x 100 exceeds the maximum dimension 64");
}

TEST(Decode, HeaderClaimingAHugeImageIsRejected) {
  // IHDR width patched to 70000 (stb does not check chunk CRCs): beyond stb's own cap.
  auto png = png_bytes(std::vector<uint8_t>(3 * 4, 0), 2, 2, 1);
  png[16] = 0;
  png[17] = 1;
  png[18] = 0x11;
  png[19] = 0x70;  // 70000 = 0x00011170
  const std::string e = error_of([&] { decode_image(png, "huge.png"); });
  EXPECT_EQ(e.rfind("huge.png: ", 0), 0u) << e;
  // 20000 x 2: within stb's cap, beyond ours.
  png[17] = 0;
  png[18] = 0x4E;
  png[19] = 0x20;
  EXPECT_EQ(error_of([&] { decode_image(png, "wide.png"); }), "wide.png: 20000 x 2 exceeds the maximum dimension 8192");
}

// JPEGs that broke the stb_image 2.27 JPEG decoder under fuzz_image (before JPEG went
// to libjpeg-turbo): each must be refused with an error naming the file.
const std::string kCorruptJpeg = ": corrupt or unsupported JPEG file (";

// A DHT segment whose code-length counts add up to 512 codes (a JPEG allows 256):
// stb 2.27 wrote past its Huffman tables.
std::vector<uint8_t> bad_dht() {
  std::vector<uint8_t> seg = {0xFF, 0xC4, 0x00, 0x13, 0x00};  // length 19: one table, class 0, id 0
  for (int i = 0; i < 16; ++i) seg.push_back(0x20);           // 16 x 32 = 512 codes
  return seg;
}

TEST(Decode, JpegWithOversizedHuffmanTableIsRefused) {
  std::vector<uint8_t> tiny = {0xFF, 0xD8};
  const auto dht = bad_dht();
  tiny.insert(tiny.end(), dht.begin(), dht.end());
  EXPECT_EQ(error_of([&] { decode_image(tiny, "bad.jpg"); }),
            "bad.jpg" + kCorruptJpeg + "Bogus Huffman table definition)");
  // In a real file, after a comment and padding bytes.
  auto jpg = jpeg_bytes(random_image(16, 16, 13).rgb, 16, 16, 3);
  std::vector<uint8_t> prefix = {0xFF, 0xFE, 0x00, 0x04, 'h', 'i', 0x00, 0x12};
  prefix.insert(prefix.end(), dht.begin(), dht.end());
  jpg.insert(jpg.begin() + 2, prefix.begin(), prefix.end());
  EXPECT_EQ(error_of([&] { decode_image(jpg, "bad2.jpg"); }).rfind("bad2.jpg" + kCorruptJpeg, 0), 0u);
}

TEST(Decode, JpegCorruptionBetweenScansIsRefusedAndApplicationDataIsSkipped) {
  const auto dht = bad_dht();
  const auto progressive = read_file(std::filesystem::path(GP_SOURCE_DIR) / "tests/fuzz/corpus/image/progressive.jpg");
  EXPECT_EQ(decode_image(progressive).width, 24);
  // A bad DHT between two scans of a progressive JPEG, after the first scan's data.
  size_t second_sos = 0;
  for (size_t i = 0, seen = 0; i + 1 < progressive.size(); ++i)
    if (progressive[i] == 0xFF && progressive[i + 1] == 0xDA && ++seen == 2) second_sos = i;
  ASSERT_GT(second_sos, 0u);
  auto between = progressive;
  between.insert(between.begin() + std::ptrdiff_t(second_sos), dht.begin(), dht.end());
  EXPECT_EQ(error_of([&] { decode_image(between, "scan.jpg"); }),
            "scan.jpg" + kCorruptJpeg + "Bogus Huffman table definition)");
  // The same bytes inside an APP1 payload are not a DHT: the file decodes as before.
  auto app = progressive;
  std::vector<uint8_t> app1 = {0xFF, 0xE1, 0x00, uint8_t(2 + dht.size())};
  app1.insert(app1.end(), dht.begin(), dht.end());
  app.insert(app.begin() + 2, app1.begin(), app1.end());
  EXPECT_EQ(decode_image(app, "app.jpg").rgb, decode_image(progressive).rgb);
}

// A progressive JPEG whose later scan uses an AC Huffman table no DHT defined: stb
// 2.27 read its uninitialised table (fuzz_image in CI).
TEST(Decode, JpegScanWithUndefinedHuffmanTableIsRefused) {
  const auto bad = read_file(std::filesystem::path(GP_SOURCE_DIR) / "tests/image/data/undefined_huffman_table.jpg");
  EXPECT_EQ(error_of([&] { decode_image(bad, "scan.jpg"); }).rfind("scan.jpg" + kCorruptJpeg, 0), 0u);
}

// Every cut of a scan's entropy-coded data, closed with an end-of-image marker: stb 2.27
// decoded past the data it had (an undefined shift when the bit buffer ran dry, found
// by fuzz_image in CI) and filled the rest; libjpeg-turbo's warning is our error.
TEST(Decode, JpegWithTruncatedScanIsRefused) {
  for (const bool progressive : {false, true}) {
    const auto jpg = progressive
                         ? read_file(std::filesystem::path(GP_SOURCE_DIR) / "tests/fuzz/corpus/image/progressive.jpg")
                         : jpeg_bytes(random_image(24, 17, 21).rgb, 24, 17, 3);
    size_t last_sos = 0;
    for (size_t i = 0; i + 1 < jpg.size(); ++i)
      if (jpg[i] == 0xFF && jpg[i + 1] == 0xDA) last_sos = i;
    const size_t data = last_sos + 2 + ((size_t(jpg[last_sos + 2]) << 8) | jpg[last_sos + 3]);
    ASSERT_LT(data + 8, jpg.size() - 2);
    int refused = 0, cuts = 0;
    for (size_t cut = data; cut < jpg.size() - 2; cut += 3, ++cuts) {
      std::vector<uint8_t> bytes(jpg.begin(), jpg.begin() + std::ptrdiff_t(cut));
      if (bytes.back() == 0xFF) bytes.pop_back();  // a cut inside a stuffed 0xFF 0x00
      bytes.insert(bytes.end(), {0xFF, 0xD9});
      const std::string e = error_of([&] { decode_image(bytes, "cut.jpg"); });
      EXPECT_EQ(e.rfind("cut.jpg" + kCorruptJpeg, 0), 0u) << "cut at " << cut << ": " << e;
      refused += !e.empty();
    }
    EXPECT_EQ(refused, cuts) << (progressive ? "progressive" : "baseline");
  }
}

// An Adobe CMYK JPEG (inverted ink, as Photoshop and PIL store it): R = (255 - C) *
// (255 - K) / 255 and likewise for G (M) and B (Y). Made with PIL: four flat 8 x 8
// blocks of ink (C, M, Y, K) = (0,0,0,0), (255,0,0,0), (0,128,255,0), (40,80,120,100),
// Image.fromarray(a, "CMYK").save("cmyk.jpg", quality=95).
TEST(Decode, CmykJpegBecomesRgb) {
  const Image image = read_image(std::filesystem::path(GP_SOURCE_DIR) / "tests/image/data/cmyk.jpg");
  ASSERT_EQ(image.width, 16);
  ASSERT_EQ(image.height, 16);
  const int inks[4][4] = {{0, 0, 0, 0}, {255, 0, 0, 0}, {0, 128, 255, 0}, {40, 80, 120, 100}};
  for (int b = 0; b < 4; ++b) {
    const int x = 8 * (b % 2) + 3, y = 8 * (b / 2) + 4;
    for (int c = 0; c < 3; ++c) {
      const double expected = (255.0 - inks[b][c]) * (255.0 - inks[b][3]) / 255.0;
      EXPECT_NEAR(image.rgb[(size_t(y) * 16 + x) * 3 + c], expected, 3.0) << "block " << b << " channel " << c;
    }
  }
}

// A PNG whose first IDAT chunk is empty (found by fuzz_image): decoded or refused
// cleanly, never a crash (run under the sanitizers in CI).
TEST(Decode, PngWithEmptyIdatChunkDoesNotCrash) {
  const auto png = read_file(std::filesystem::path(GP_SOURCE_DIR) / "tests/image/data/empty_idat.png");
  try {
    const Image image = decode_image(png, "empty_idat.png");
    EXPECT_EQ(image.rgb.size(), size_t(image.width) * image.height * 3);
  } catch (const gp::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("empty_idat.png: ", 0), 0u) << e.what();
  }
}

TEST(Decode, SeedCorpusDecodes) {
  for (const char* name : {"palette_trns.png", "grey16.png", "progressive.jpg", "cmyk.jpg"}) {
    const Image image = read_image(std::filesystem::path(GP_SOURCE_DIR) / "tests/fuzz/corpus/image" / name);
    EXPECT_GT(image.width, 0) << name;
  }
  // grey16.png: 7 x 5, 16-bit grey x * 9000 + y * 1000, reduced to 8 bits (>> 8).
  const Image grey = read_image(std::filesystem::path(GP_SOURCE_DIR) / "tests/fuzz/corpus/image/grey16.png");
  EXPECT_EQ(grey.rgb[3 * (2 * 7 + 3)], (3 * 9000 + 2 * 1000) >> 8);
}

TEST(Decode, FileErrorsNameTheFile) {
  ScratchDir dir;
  const auto missing = dir / "missing.png";
  EXPECT_EQ(error_of([&] { read_image(missing); }), missing.string() + ": cannot open: No such file or directory");
  EXPECT_EQ(error_of([&] { read_image(dir.path()); }), dir.path().string() + ": is a directory, not a file");
  const auto text = dir / "sketch.png";
  std::ofstream(text) << "not an image";
  EXPECT_EQ(error_of([&] { Image::load(text.string()); }), text.string() + ": not a PNG or JPEG file");
  DecodeLimits limits;
  limits.max_file_bytes = 4;
  EXPECT_EQ(error_of([&] { read_image(text, limits); }), text.string() + ": 12 bytes is larger than the maximum 4");
}

TEST(Write, PngFileRoundTripAndReplace) {
  ScratchDir dir;
  const auto file = dir / "out.png";
  const Image a = random_image(17, 19, 9), b = random_image(5, 3, 10);
  write_png(file, a);
  EXPECT_EQ(read_image(file).rgb, a.rgb);
  b.save_png(file.string());  // replaces
  const Image back = Image::load(file.string());
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.rgb, b.rgb);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.png"});  // no temporary left
}

// A picture is written as PNG, so a name promising another format is refused (the CLI's
// rule, now the library's: Python's save_png wrote PNG bytes into x.jpg).
TEST(Write, PngNeedsAPngName) {
  ScratchDir dir;
  const Image a = random_image(4, 4, 12);
  EXPECT_EQ(error_of([&] { a.save_png((dir / "x.jpg").string()); }),
            (dir / "x.jpg").string() + ": this is written as PNG: name the file .png (JPEG is read, not written)");
  EXPECT_EQ(error_of([&] { write_png(dir / "x.tiff", a); }),
            (dir / "x.tiff").string() + ": this is written as PNG: name the file .png");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Write, FailureLeavesNothingBehind) {
  ScratchDir dir;
  const Image a = random_image(4, 4, 11);
  const auto nowhere = dir / "no" / "such" / "dir.png";
  EXPECT_EQ(error_of([&] { write_png(nowhere, a); }).rfind(nowhere.string() + ": cannot write: ", 0), 0u);
  // Renaming over a non-empty directory fails after the data was written: the
  // temporary file must be removed and the directory untouched.
  std::filesystem::create_directories(dir / "taken.png" / "inside");
  EXPECT_EQ(
      error_of([&] { write_png(dir / "taken.png", a); }).rfind((dir / "taken.png").string() + ": cannot write", 0), 0u);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken.png"});
  EXPECT_TRUE(std::filesystem::is_directory(dir / "taken.png" / "inside"));
}

TEST(Write, InconsistentImageIsRejected) {
  Image bad = random_image(4, 4, 12);
  bad.rgb.pop_back();
  EXPECT_EQ(error_of([&] { encode_png(bad, "bad.png"); }),
            "bad.png: image is 4 x 4 but holds 47 bytes (expected 48, and both sides positive)");
  Image empty;
  EXPECT_NE(error_of([&] { encode_png(empty, "empty.png"); }), "");
}

TEST(Write, FileWriterKeepsBytes) {
  ScratchDir dir;
  const std::vector<uint8_t> bytes = {0, 1, 2, 255, 10, 13};
  write_file(dir / "data.bin", bytes);
  EXPECT_EQ(read_file(dir / "data.bin"), bytes);
  write_file(dir / "data.bin", {});
  EXPECT_TRUE(read_file(dir / "data.bin").empty());
}

// stb_image 2.27 grows its IDAT buffer to the length a chunk claims before reading the
// data: a tiny PNG claiming a ~1 GB IDAT made it allocate 2 GB (found by fuzz_image in
// CI). src/image/png_guard.cpp refuses a chunk longer than the rest of the file.
TEST(Decode, PngChunkClaimingMoreThanTheFileIsRefused) {
  auto png = png_bytes(random_image(5, 4, 21).rgb, 5, 4, 3);
  ASSERT_EQ(decode_image(png, "ok.png").width, 5);
  size_t idat = 0;
  for (size_t i = 8; i + 8 <= png.size();
       i += 12 + ((size_t(png[i]) << 24) | (png[i + 1] << 16) | (png[i + 2] << 8) | png[i + 3]))
    if (std::equal(png.begin() + long(i) + 4, png.begin() + long(i) + 8, "IDAT")) idat = i;
  ASSERT_GT(idat, 0u);
  auto claims = [&](uint32_t length) {
    auto bad = png;
    for (int b = 0; b < 4; ++b) bad[idat + size_t(b)] = uint8_t(length >> (24 - 8 * b));
    return bad;
  };
  const std::string why = "big.png: corrupt PNG file (a chunk claims more data than the file holds)";
  EXPECT_EQ(error_of([&] { decode_image(claims(0x3FFFFFF0u), "big.png"); }), why);
  EXPECT_EQ(error_of([&] { decode_image(claims(0xFFFFFFFFu), "big.png"); }), why);
  EXPECT_EQ(error_of([&] { decode_image(claims(uint32_t(png.size() - idat - 8 + 1)), "big.png"); }), why);
}

}  // namespace
}  // namespace gp::test
