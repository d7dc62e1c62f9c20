// The generic safetensors reader: parsing, zero-copy views, dtype conversion, and every
// malformed file the reference implementation rejects (each with a message naming the
// file, the tensor and expected vs actual).
#include <limits>

#include "tests/weights/test_files.h"

namespace gp::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::filesystem::path> fixture_files(const char* file_name) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(GP_FIXTURES_DIR)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / file_name))
      out.push_back(entry.path() / file_name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A small valid file: F32 matrix, I32 vector, BF16 scalar, an empty tensor, metadata.
Bytes small_file() {
  std::vector<RawTensor> tensors = {
      float_tensor("a.weight", {2, 3}, {1, -2, 3, -4, 5.5f, 6}),
      float_tensor("b.scalar", {}, {0.5f}, "BF16"),
      float_tensor("c.empty", {0, 4}, {}),
  };
  RawTensor ints{"d.ints", "I32", {3}, {}};
  for (int32_t v : {7, -8, 9}) append(ints.data, &v, 4);
  tensors.push_back(ints);
  return build_safetensors(tensors, {{"format", "test"}, {"note", "héllo"}});
}

TEST(Safetensors, FixturesParse) {
  const auto models = fixture_files("model.safetensors");
  const auto stages = fixture_files("stages.safetensors");
  ASSERT_GE(models.size(), 3u) << "fixtures missing under " << GP_FIXTURES_DIR;
  ASSERT_EQ(models.size(), stages.size());
  for (const auto& path : models) {
    const SafetensorsFile file = SafetensorsFile::open(path);
    EXPECT_EQ(file.display_name(), path.string());
    EXPECT_EQ(file.tensors().size(), 2u * (9 * 12 + 2)) << path;
    EXPECT_EQ(file.header_bytes() % 8, 0u) << "tools/safetensors_io.py pads the header to 8 bytes";
    EXPECT_EQ(file.metadata_value("format"), "guidingpainter");
    EXPECT_EQ(file.file_bytes(), std::filesystem::file_size(path));
    for (const TensorView& t : file.tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;
  }
  for (const auto& path : stages) {
    const SafetensorsFile file = SafetensorsFile::open(path);
    const TensorView& labels = file.at("labels");
    EXPECT_EQ(labels.dtype, DType::I32);
    EXPECT_EQ(labels.shape.size(), 2u);
    EXPECT_EQ(file.at("logits").shape[0], 30);
  }
}

TEST(Safetensors, SmallFileViews) {
  const Bytes bytes = small_file();
  const SafetensorsFile file = SafetensorsFile::parse(span_of(bytes), "small.safetensors");
  ASSERT_EQ(file.tensors().size(), 4u);
  // Sorted by name.
  EXPECT_EQ(file.tensors()[0].name, "a.weight");
  EXPECT_EQ(file.tensors()[3].name, "d.ints");

  const TensorView& a = file.at("a.weight");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.numel(), 6);
  EXPECT_EQ(a.describe(), "F32 [2,3]");
  // Zero-copy: the view points into the buffer given to parse.
  EXPECT_GE(a.bytes.data(), bytes.data());
  EXPECT_LE(a.bytes.data() + a.bytes.size(), bytes.data() + bytes.size());
  EXPECT_EQ(decode_to_float(file, a), (std::vector<float>{1, -2, 3, -4, 5.5f, 6}));

  const TensorView& b = file.at("b.scalar");
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_TRUE(b.shape.empty());
  EXPECT_EQ(b.numel(), 1);
  EXPECT_EQ(decode_to_float(file, b), (std::vector<float>{0.5f}));

  const TensorView& c = file.at("c.empty");
  EXPECT_EQ(c.numel(), 0);
  EXPECT_EQ(c.bytes.size(), 0u);
  EXPECT_TRUE(decode_to_float(file, c).empty());

  const TensorView& d = file.at("d.ints");
  EXPECT_EQ(d.dtype, DType::I32);
  int32_t second;
  std::memcpy(&second, d.bytes.data() + 4, 4);
  EXPECT_EQ(second, -8);
  EXPECT_THAT(error_of([&] { decode_to_float(file, d); }),
              AllOf(StartsWith("small.safetensors: "), HasSubstr("'d.ints' has dtype I32, expected F32, F16 or BF16")));

  EXPECT_EQ(file.find("zzz"), nullptr);
  EXPECT_EQ(error_of([&] { file.at("zzz"); }), "small.safetensors: no tensor 'zzz'");
  EXPECT_EQ(file.metadata().size(), 2u);
  EXPECT_EQ(file.metadata_value("note"), "héllo");
  EXPECT_FALSE(file.metadata_value("missing"));
}

TEST(Safetensors, OpenMapsTheFileAndMovesKeepViews) {
  const ScratchDir scratch;
  const auto path = write_file(scratch / "small.safetensors", small_file());
  SafetensorsFile file = SafetensorsFile::open(path);
  const std::byte* before = file.at("a.weight").bytes.data();
  SafetensorsFile moved = std::move(file);
  EXPECT_EQ(moved.at("a.weight").bytes.data(), before);
  EXPECT_EQ(decode_to_float(moved, moved.at("a.weight"))[4], 5.5f);
  SafetensorsFile assigned = SafetensorsFile::open(path);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.at("a.weight").bytes.data(), before);
  EXPECT_EQ(assigned.display_name(), path.string());
}

TEST(Safetensors, OpenErrorsNameThePath) {
  const ScratchDir dir;
  EXPECT_THAT(error_of([&] { SafetensorsFile::open(dir / "absent.safetensors"); }),
              AllOf(HasSubstr("absent.safetensors: cannot open"), HasSubstr("No such file")));
  EXPECT_THAT(error_of([&] { SafetensorsFile::open(dir.path()); }), HasSubstr(": not a regular file"));
  const auto empty = write_file(dir / "empty.safetensors", {});
  EXPECT_EQ(error_of([&] { SafetensorsFile::open(empty); }),
            empty.string() + ": file is 0 bytes, too short for the 8-byte header size");
}

TEST(Safetensors, UnalignedDataDecodes) {
  // Header not padded: the data section starts at an odd address.
  std::vector<RawTensor> tensors = {float_tensor("h", {3}, {1.5f, -0.25f, 65504.0f}, "F16"),
                                    float_tensor("x", {2}, {3.25f, -1e-30f})};
  Bytes bytes = build_safetensors(tensors, {}, /*pad=*/false);
  const SafetensorsFile file = SafetensorsFile::parse(span_of(bytes), "odd");
  EXPECT_EQ(decode_to_float(file, file.at("h")), (std::vector<float>{1.5f, -0.25f, 65504.0f}));
  EXPECT_EQ(decode_to_float(file, file.at("x")), (std::vector<float>{3.25f, -1e-30f}));
}

TEST(Safetensors, HalfToFloatIsExactForEveryPattern) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const int sign = bits & 0x8000 ? -1 : 1;
    const int exponent = (bits >> 10) & 0x1F;
    const int mantissa = bits & 0x3FF;
    const float got = half_to_float(static_cast<uint16_t>(bits));
    if (exponent == 31) {
      if (mantissa == 0) {
        EXPECT_EQ(got, sign * std::numeric_limits<float>::infinity()) << bits;
      } else {
        EXPECT_TRUE(std::isnan(got)) << bits;
      }
      continue;
    }
    const double expected = exponent == 0 ? sign * std::ldexp(double(mantissa), -24)
                                          : sign * std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
    ASSERT_EQ(double(got), expected) << "half bits " << bits;
    EXPECT_EQ(std::signbit(got), sign < 0) << bits;
    // The test's writer rounds back to the same bits.
    ASSERT_EQ(float_to_half(got), bits);
  }
  // Rounding of the test writer: ties to even, overflow to infinity.
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie -> even (1.0)
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);
  EXPECT_EQ(float_to_half(65519.0f), 0x7BFF);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -26)), 0x0001);
}

TEST(Safetensors, Bfloat16ToFloatIsExactForEveryPattern) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const int sign = bits & 0x8000 ? -1 : 1;
    const int exponent = (bits >> 7) & 0xFF;
    const int mantissa = bits & 0x7F;
    const float got = bfloat16_to_float(static_cast<uint16_t>(bits));
    if (exponent == 255) {
      EXPECT_TRUE(mantissa ? std::isnan(got) : std::isinf(got)) << bits;
      continue;
    }
    const double expected = exponent == 0 ? sign * std::ldexp(double(mantissa), -133)
                                          : sign * std::ldexp(1.0 + mantissa / 128.0, exponent - 127);
    ASSERT_EQ(double(got), expected) << "bf16 bits " << bits;
  }
}

TEST(Safetensors, ValidEdgeCases) {
  // No tensors, only metadata; a null __metadata__; whitespace around the JSON.
  EXPECT_EQ(SafetensorsFile::parse(span_of(assemble(R"({"__metadata__":{"a":"b"}})")), "m").metadata().size(), 1u);
  EXPECT_TRUE(SafetensorsFile::parse(span_of(assemble(R"({"__metadata__":null})")), "m").metadata().empty());
  EXPECT_TRUE(SafetensorsFile::parse(span_of(assemble(" \n{}  ")), "m").tensors().empty());
  // Two empty tensors at the same offset are not an overlap.
  const Bytes zeros = assemble(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                               R"("b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                               R"("c":{"dtype":"F16","shape":[3,0],"data_offsets":[2,2]}})",
                               Bytes(2));
  EXPECT_EQ(SafetensorsFile::parse(span_of(zeros), "z").tensors().size(), 3u);
}

// ----------------------------------------------------------------------------- rejections

TEST(SafetensorsRejects, EveryTruncatedPrefixOfAFile) {
  const Bytes full = small_file();
  const ScratchDir dir;
  ASSERT_NO_THROW(SafetensorsFile::open(write_file(dir / "full.safetensors", full)));
  for (size_t n = 0; n < full.size(); ++n) {
    const Bytes prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    const auto path = write_file(dir / "prefix.safetensors", prefix);
    const std::string message = error_of([&] { SafetensorsFile::open(path); });
    ASSERT_THAT(message, StartsWith(path.string() + ": ")) << "prefix of " << n << " bytes";
    ASSERT_EQ(parse_error(prefix, "p"), "p" + message.substr(path.string().size())) << n;
  }
  const size_t data_start = full.size() - 4 * 6 - 2 - 4 * 3;
  EXPECT_EQ(parse_error(Bytes(full.begin(), full.begin() + 5)),
            "test.safetensors: file is 5 bytes, too short for the 8-byte header size");
  EXPECT_THAT(parse_error(Bytes(full.begin(), full.begin() + 20)),
              AllOf(StartsWith("test.safetensors: header size "), HasSubstr("does not fit in a 20-byte file")));
  EXPECT_EQ(parse_error(Bytes(full.begin(), full.begin() + static_cast<ptrdiff_t>(data_start + 3))),
            "test.safetensors: tensors need 38 bytes of data but the file has 3 after the header (truncated file?)");
}

TEST(SafetensorsRejects, HeaderSizeTooLarge) {
  EXPECT_EQ(parse_error(with_header_size(100'000'001, "{}")),
            "test.safetensors: header size 100000001 exceeds the limit of 100000000 bytes");
  EXPECT_THAT(parse_error(with_header_size(std::numeric_limits<uint64_t>::max(), "{}")),
              HasSubstr("header size 18446744073709551615 exceeds the limit"));
  EXPECT_EQ(parse_error(with_header_size(1000, "{}")),
            "test.safetensors: header size 1000 does not fit in a 10-byte file (truncated file?)");
}

TEST(SafetensorsRejects, HeaderNotJson) {
  EXPECT_THAT(parse_error(assemble("not json")),
              AllOf(StartsWith("test.safetensors: header is not valid JSON ("), HasSubstr("syntax error")));
  EXPECT_THAT(parse_error(assemble("{} trailing")), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(parse_error(assemble("")), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(parse_error(assemble("{\"__metadata__\":{\"a\":\"\xff\xfe\"}}")),
              AllOf(HasSubstr("header is not valid JSON"), HasSubstr("UTF-8")));
  EXPECT_EQ(parse_error(assemble("[1,2]")), "test.safetensors: header must be a JSON object, got array");
  EXPECT_EQ(parse_error(assemble("42")), "test.safetensors: header must be a JSON object, got number");
  EXPECT_EQ(parse_error(assemble(std::string(100000, '[') + std::string(100000, ']'))),
            "test.safetensors: header nests JSON deeper than safetensors allows");
  EXPECT_EQ(parse_error(assemble(R"({"t":{"dtype":"F32","shape":[[0]],"data_offsets":[0,0]}})")),
            "test.safetensors: header nests JSON deeper than safetensors allows (in 't')");
}

TEST(SafetensorsRejects, OverlappingOffsets) {
  const Bytes bytes = assemble(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                               R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                               Bytes(24));
  EXPECT_EQ(parse_error(bytes),
            "test.safetensors: tensor 'b' with data_offsets [8, 24] overlaps tensor 'a' with data_offsets [0, 16]");
  // The same range twice.
  const Bytes twice = assemble(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                               R"("b":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}})",
                               Bytes(16));
  EXPECT_THAT(parse_error(twice), HasSubstr("tensor 'b' with data_offsets [0, 16] overlaps tensor 'a'"));
}

TEST(SafetensorsRejects, HoleBetweenTensors) {
  const Bytes bytes = assemble(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                               R"("b":{"dtype":"F32","shape":[4],"data_offsets":[20,36]}})",
                               Bytes(36));
  EXPECT_EQ(
      parse_error(bytes),
      "test.safetensors: hole of 4 bytes before tensor 'b' (data_offsets [20, 36]; the data before it ends at 16)");
  const Bytes late = assemble(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", Bytes(6));
  EXPECT_THAT(parse_error(late), HasSubstr("hole of 2 bytes before tensor 'a'"));
}

TEST(SafetensorsRejects, OffsetsNotMatchingDtypeTimesShape) {
  const Bytes bytes = assemble(R"({"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", Bytes(12));
  EXPECT_EQ(parse_error(bytes, "model.safetensors"),
            "model.safetensors: tensor 'x' has data_offsets [0, 12] but F32 [2,2] needs 16 bytes");
  const Bytes bf16 = assemble(R"({"y":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}})", Bytes(4));
  EXPECT_THAT(parse_error(bf16), HasSubstr("tensor 'y' has data_offsets [0, 4] but BF16 [3] needs 6 bytes"));
  const Bytes backwards = assemble(R"({"z":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", Bytes(4));
  EXPECT_THAT(parse_error(backwards), HasSubstr("tensor 'z' has data_offsets [4, 0] that end before they begin"));
}

TEST(SafetensorsRejects, FileLongerThanDeclared) {
  Bytes bytes = small_file();
  bytes.resize(bytes.size() + 5);
  EXPECT_EQ(parse_error(bytes),
            "test.safetensors: file has 5 bytes after the last tensor (data section is 43 bytes, tensors cover 38)");
}

TEST(SafetensorsRejects, UnknownOrInvalidDtype) {
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}})", Bytes(2))),
            "test.safetensors: tensor 'w' has unknown dtype \"F12\"");
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", Bytes(4))),
            "test.safetensors: tensor 'w' has unknown dtype \"f32\"");
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", Bytes(4))),
            "test.safetensors: tensor 'w' has dtype 4, expected a string");
}

TEST(SafetensorsRejects, DuplicateKeys) {
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                 R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                 Bytes(2))),
            "test.safetensors: tensor 'w' appears twice in the header");
  EXPECT_EQ(parse_error(assemble(R"({"__metadata__":{},"__metadata__":{}})")),
            "test.safetensors: __metadata__ appears twice in the header");
  EXPECT_EQ(parse_error(assemble(R"({"__metadata__":{"a":"1","a":"2"}})")),
            "test.safetensors: key 'a' appears twice in __metadata__");
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", Bytes(1))),
            "test.safetensors: key 'dtype' appears twice in the entry of tensor 'w'");
}

TEST(SafetensorsRejects, EntryFields) {
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":"U8","shape":[1]}})")),
            "test.safetensors: tensor 'w' must have exactly the fields dtype, shape and data_offsets, it has "
            "['dtype', 'shape']");
  EXPECT_THAT(parse_error(assemble(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", Bytes(1))),
              HasSubstr("tensor 'w' must have exactly the fields dtype, shape and data_offsets"));
  EXPECT_EQ(parse_error(assemble(R"({"w":[1,2]})")),
            "test.safetensors: tensor 'w' must be an object with dtype, shape and data_offsets, got [1,2]");
}

TEST(SafetensorsRejects, InvalidShapes) {
  const char* bad[] = {"[-1]", "[1.5]", "[2.0]", "\"[1]\"", "{}", "[true]", "null", "[1e3]"};
  for (const char* shape : bad) {
    const std::string header = std::string(R"({"w":{"dtype":"U8","shape":)") + shape + R"(,"data_offsets":[0,1]}})";
    EXPECT_THAT(parse_error(assemble(header, Bytes(1))),
                AllOf(HasSubstr("tensor 'w' has shape "), HasSubstr("expected an array of non-negative integers")))
        << shape;
  }
  EXPECT_EQ(parse_error(assemble(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,0]}})")),
            "test.safetensors: tensor 'w' has shape [4294967296,4294967296,2] whose size overflows 64 bits");
  EXPECT_THAT(parse_error(assemble(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})")),
              HasSubstr("whose size overflows 64 bits"));
  EXPECT_THAT(parse_error(assemble(R"({"w":{"dtype":"U8","shape":[18446744073709551615,0],"data_offsets":[0,0]}})")),
              HasSubstr("has a dimension of 18446744073709551615, too large"));
}

TEST(SafetensorsRejects, InvalidDataOffsets) {
  const char* bad[] = {"[0]", "[0,1,2]", "[-1,0]", "[0,\"1\"]", "{}", "[0.0,1]", "[0,18446744073709551616]"};
  for (const char* offsets : bad) {
    const std::string header = std::string(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":)") + offsets + "}}";
    EXPECT_THAT(parse_error(assemble(header, Bytes(1))),
                AllOf(HasSubstr("tensor 'w' has data_offsets "), HasSubstr("expected [begin, end]")))
        << offsets;
  }
}

TEST(SafetensorsRejects, MetadataNotStringToString) {
  EXPECT_EQ(parse_error(assemble(R"({"__metadata__":{"width":4}})")),
            "test.safetensors: __metadata__ must map strings to strings, but 'width' is 4");
  EXPECT_EQ(parse_error(assemble(R"({"__metadata__":["a"]})")),
            "test.safetensors: __metadata__ must map strings to strings, got [\"a\"]");
  EXPECT_EQ(parse_error(assemble(R"({"__metadata__":"x"})")),
            "test.safetensors: __metadata__ must map strings to strings, got \"x\"");
}

TEST(SafetensorsRejects, LongValuesAreCutInMessages) {
  const std::string name(5000, 'n');
  const std::string message = parse_error(
      assemble(R"({")" + name + R"(":{"dtype":")" + std::string(5000, 'D') + R"(","shape":[],"data_offsets":[0,1]}})",
               Bytes(1)));
  EXPECT_THAT(message, HasSubstr("has unknown dtype"));
  EXPECT_LT(message.size(), 400u);
}

}  // namespace
}  // namespace gp::test
