// .npy files: header bytes exactly as numpy 1.24 writes them, data, reading back.
#include "src/image/file_io.h"
#include "src/image/npy.h"
#include "tests/image/test_util.h"

namespace gp::test {
namespace {

// numpy.save(f, numpy.zeros(shape, dtype)) headers, from numpy 1.24.2:
//   python3 -c "import numpy, io; b = io.BytesIO(); numpy.save(b, numpy.zeros((2, 3), '<f4'));
//   print(b.getvalue()[:128])"
std::string numpy_header(const std::string& dict, size_t spaces) {
  std::string h("\x93NUMPY\x01\x00\x76\x00", 10);  // version 1.0, header length 118
  h += dict;
  h.append(spaces, ' ');
  return h + "\n";
}

std::string header_of(const std::vector<uint8_t>& file) { return std::string(file.begin(), file.begin() + 128); }

TEST(Npy, HeadersMatchNumpy) {
  const float f6[6] = {};
  EXPECT_EQ(header_of(npy_encode(NpyType::Float32, f6, {2, 3})),
            numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 58));
  const int32_t i5[5] = {};
  EXPECT_EQ(header_of(npy_encode(NpyType::Int32, i5, {5})),
            numpy_header("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", 60));
  EXPECT_EQ(header_of(npy_encode(NpyType::Float32, f6, {})),
            numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 62));
  const std::vector<float> big(size_t(3) * 171 * 256);
  EXPECT_EQ(header_of(npy_encode(NpyType::Float32, big.data(), {1, 3, 171, 256})),
            numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 171, 256), }", 48));
  const uint8_t u8[8] = {};
  EXPECT_EQ(header_of(npy_encode(NpyType::UInt8, u8, {4, 2})),
            numpy_header("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2), }", 58));
  EXPECT_EQ(header_of(npy_encode(NpyType::Int32, i5, {0, 3})),
            numpy_header("{'descr': '<i4', 'fortran_order': False, 'shape': (0, 3), }", 58));
}

TEST(Npy, DataFollowsAlignedLittleEndian) {
  const float v[2] = {1.0f, -2.5f};
  const auto file = npy_encode(NpyType::Float32, v, {2});
  ASSERT_EQ(file.size(), 128u + 8);
  const std::vector<uint8_t> data(file.begin() + 128, file.end());
  EXPECT_EQ(data, (std::vector<uint8_t>{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0}));
  // A long shape makes the header grow by whole 64-byte blocks.
  const std::vector<size_t> shape(12, 1);
  const auto wide = npy_encode(NpyType::Float32, v, shape);
  const size_t header_len = wide[8] | size_t(wide[9]) << 8;
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(wide[10 + header_len - 1], '\n');
}

TEST(Npy, WriteAndReadBack) {
  ScratchDir dir;
  const std::vector<float> f = {0.5f, -1.0f, 3.25f, 1e-8f, 7.0f, 8.0f};
  write_npy(dir / "f.npy", f, {3, 2});
  const NpyArray a = read_npy(dir / "f.npy");
  EXPECT_EQ(a.type, NpyType::Float32);
  EXPECT_EQ(a.shape, (std::vector<size_t>{3, 2}));
  EXPECT_EQ(a.floats(), f);
  EXPECT_NE(error_of([&] { a.int32s(); }), "");

  const std::vector<int32_t> ids = {0, 29, -1, 1 << 30};
  write_npy(dir / "i.npy", ids, {2, 2});
  EXPECT_EQ(read_npy(dir / "i.npy").int32s(), ids);
  const std::vector<uint8_t> labels = {1, 2, 3};
  write_npy(dir / "u.npy", labels, {3});
  EXPECT_EQ(read_npy(dir / "u.npy").uint8s(), labels);
  EXPECT_EQ(dir.entries().size(), 3u);
}

TEST(Npy, Errors) {
  ScratchDir dir;
  const std::vector<float> f(5);
  EXPECT_EQ(error_of([&] {
              write_npy(dir / "bad.npy", f, {2, 3});
            }),
            (dir / "bad.npy").string() + ": 5 values for shape (2, 3)");
  EXPECT_TRUE(dir.entries().empty());
  auto bytes = npy_encode(NpyType::Float32, f.data(), {5});
  bytes.pop_back();
  EXPECT_NE(error_of([&] { npy_decode(bytes, "cut.npy"); }).find("cut.npy: "), std::string::npos);
  for (size_t n = 0; n < 128; n += 7) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + std::ptrdiff_t(n));
    EXPECT_NE(error_of([&] { npy_decode(prefix, "p.npy"); }), "");
  }
}

}  // namespace
}  // namespace gp::test
