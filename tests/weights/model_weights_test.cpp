// GuidingPainter weight files: metadata, name/shape validation, BatchNorm folding
// (checked against a folding computed here from the raw tensors), F16/BF16 storage, and
// mislabelled files.
#include "tests/weights/test_files.h"

namespace gp::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::filesystem::path> fixture_models() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(GP_FIXTURES_DIR)) {
    if (std::filesystem::exists(entry.path() / "model.safetensors")) out.push_back(entry.path() / "model.safetensors");
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Raw F32 values of a tensor, read without the library's decoder.
std::vector<float> raw_f32(const SafetensorsFile& file, const std::string& name) {
  const TensorView& t = file.at(name);
  EXPECT_EQ(t.dtype, DType::F32) << name;
  std::vector<float> out(t.bytes.size() / 4);
  std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

// Folding written independently of the library: long double, division last.
struct Folded {
  std::vector<float> weight, bias;
};
Folded fold_reference(const SafetensorsFile& file, const std::string& conv, const std::string& bn) {
  const auto w = raw_f32(file, conv + ".weight");
  const auto b = raw_f32(file, conv + ".bias");
  const auto gamma = raw_f32(file, bn + ".weight");
  const auto beta = raw_f32(file, bn + ".bias");
  const auto mean = raw_f32(file, bn + ".running_mean");
  const auto var = raw_f32(file, bn + ".running_var");
  Folded out;
  const size_t cout = b.size(), per = w.size() / cout;
  for (size_t o = 0; o < cout; ++o) {
    const long double root = std::sqrt(static_cast<long double>(var[o]) + 0.00001L);
    for (size_t k = 0; k < per; ++k)
      out.weight.push_back(static_cast<float>(w[o * per + k] * (long double)gamma[o] / root));
    out.bias.push_back(static_cast<float>((b[o] - (long double)mean[o]) * gamma[o] / root + beta[o]));
  }
  return out;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    // Both sides round a (long) double result once: at most one float ulp apart.
    const float tol = 1.2e-7f * std::fabs(want[i]) + 1e-30f;
    if (!(std::fabs(got[i] - want[i]) <= tol) && reported++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
    }
  }
}

const std::vector<std::string> kBlocks = {"inc", "down1", "down2", "down3", "down4", "up1", "up2", "up3", "up4"};

std::vector<const DoubleConvWeights*> blocks_of(const UNetWeights& u) {
  return {&u.inc, &u.down[0], &u.down[1], &u.down[2], &u.down[3], &u.up[0], &u.up[1], &u.up[2], &u.up[3]};
}

TEST(ModelWeights, FixturesLoadAndFoldLikeAnIndependentFolding) {
  const auto models = fixture_models();
  ASSERT_GE(models.size(), 3u);
  for (const auto& path : models) {
    SCOPED_TRACE(path.string());
    const SafetensorsFile file = SafetensorsFile::open(path);
    const ModelWeights weights = load_model_weights(path);
    const std::string dir = path.parent_path().filename().string();  // "w4_17x19"
    const int width = std::stoi(dir.substr(1, dir.find('_') - 1));
    EXPECT_EQ(weights.config.width, width);
    EXPECT_EQ(weights.config.num_regions, 30);
    EXPECT_EQ(weights.config.seg_in_channels, 1);
    EXPECT_EQ(weights.config.col_in_channels, 35);
    EXPECT_EQ(weights.config.train_size, std::stoi(std::string(*file.metadata_value("train_size"))));
    EXPECT_EQ(weights.config.center, 0.0f);

    // Channel plan of MODEL.md, written out here rather than taken from the library.
    const int w = width;
    const int plan[9][3] = {{0, w, w},
                            {w, 2 * w, 2 * w},
                            {2 * w, 4 * w, 4 * w},
                            {4 * w, 8 * w, 8 * w},
                            {8 * w, 8 * w, 8 * w},
                            {16 * w, 8 * w, 4 * w},
                            {8 * w, 4 * w, 2 * w},
                            {4 * w, 2 * w, w},
                            {2 * w, w, w}};
    const struct {
      const char* name;
      const UNetWeights* unet;
      int in, classes;
    } nets[] = {{"segmentator", &weights.segmentator, 1, 30}, {"colorizer", &weights.colorizer, 35, 3}};
    for (const auto& net : nets) {
      const auto blocks = blocks_of(*net.unet);
      for (size_t b = 0; b < 9; ++b) {
        const std::string prefix = std::string(net.name) + "." + kBlocks[b];
        const int in = b == 0 ? net.in : plan[b][0], mid = plan[b][1], out = plan[b][2];
        const ConvLayer& c1 = blocks[b]->conv1;
        const ConvLayer& c2 = blocks[b]->conv2;
        EXPECT_EQ(c1.name, prefix + ".conv1");
        EXPECT_EQ(c2.name, prefix + ".conv2");
        EXPECT_EQ((std::array{c1.cin, c1.cout, c1.ksize}), (std::array{in, mid, 3})) << prefix;
        EXPECT_EQ((std::array{c2.cin, c2.cout, c2.ksize}), (std::array{mid, out, 3})) << prefix;
        const Folded f1 = fold_reference(file, prefix + ".conv1", prefix + ".bn1");
        const Folded f2 = fold_reference(file, prefix + ".conv2", prefix + ".bn2");
        expect_close(c1.weight, f1.weight, c1.name + ".weight");
        expect_close(c1.bias, f1.bias, c1.name + ".bias");
        expect_close(c2.weight, f2.weight, c2.name + ".weight");
        expect_close(c2.bias, f2.bias, c2.name + ".bias");
      }
      const ConvLayer& outc = net.unet->outc;
      EXPECT_EQ(outc.name, std::string(net.name) + ".outc");
      EXPECT_EQ((std::array{outc.cin, outc.cout, outc.ksize}), (std::array{w, net.classes, 1}));
      EXPECT_EQ(outc.weight, raw_f32(file, outc.name + ".weight"));  // no BatchNorm: copied as is
      EXPECT_EQ(outc.bias, raw_f32(file, outc.name + ".bias"));
    }
  }
}

TEST(ModelWeights, FoldingOfKnownNumbers) {
  // One conv with hand-set values: weight 2, bias 1, gamma 3, beta 0.5, mean 0.25, var 4.
  auto values = synthetic_values(1, 7);
  const std::string p = "segmentator.inc.";
  values[p + "conv1.weight"].second = std::vector<float>(9, 2.0f);
  values[p + "conv1.bias"].second = {1.0f};
  values[p + "bn1.weight"].second = {3.0f};
  values[p + "bn1.bias"].second = {0.5f};
  values[p + "bn1.running_mean"].second = {0.25f};
  values[p + "bn1.running_var"].second = {4.0f};
  std::vector<RawTensor> tensors;
  for (auto& [name, sv] : values) tensors.push_back(float_tensor(name, sv.first, sv.second));
  const Bytes bytes = build_safetensors(tensors, model_metadata(1));
  const ModelWeights m = load_model_weights(SafetensorsFile::parse(span_of(bytes), "known"));
  const double s = 3.0 / std::sqrt(4.0 + 1e-5);
  ASSERT_EQ(m.segmentator.inc.conv1.weight.size(), 9u);
  for (float v : m.segmentator.inc.conv1.weight) EXPECT_EQ(v, static_cast<float>(2.0 * s));
  EXPECT_EQ(m.segmentator.inc.conv1.bias[0], static_cast<float>(0.75 * s + 0.5));
}

// Every tensor of `path` re-encoded as `dtype`, and the same values (rounded through
// that dtype) as F32: both files must fold to identical floats (conversion is exact).
void check_reduced_precision(const std::string& dtype) {
  const auto path = fixture_models().front();
  const SafetensorsFile src = SafetensorsFile::open(path);
  std::vector<RawTensor> reduced, rounded_f32;
  for (const TensorView& t : src.tensors()) {
    std::vector<float> values = raw_f32(src, t.name);
    reduced.push_back(float_tensor(t.name, t.shape, values, dtype));
    for (float& v : values) v = dtype == "F16" ? half_to_float(float_to_half(v)) : bfloat16_to_float(float_to_bf16(v));
    rounded_f32.push_back(float_tensor(t.name, t.shape, values));
  }
  Metadata metadata(src.metadata().begin(), src.metadata().end());
  const ScratchDir dir;
  const auto reduced_path = write_file(dir / ("model_" + dtype + ".safetensors"), build_safetensors(reduced, metadata));
  const auto f32_path = write_file(dir / "model_rounded_f32.safetensors", build_safetensors(rounded_f32, metadata));
  const SafetensorsFile reduced_file = SafetensorsFile::open(reduced_path);
  EXPECT_EQ(reduced_file.at("colorizer.up1.conv1.weight").dtype, *parse_dtype(dtype));
  const ModelWeights a = load_model_weights(reduced_path);
  const ModelWeights b = load_model_weights(f32_path);
  for (auto [ua, ub] : {std::pair{&a.segmentator, &b.segmentator}, std::pair{&a.colorizer, &b.colorizer}}) {
    const auto ba = blocks_of(*ua), bb = blocks_of(*ub);
    for (size_t i = 0; i < ba.size(); ++i) {
      EXPECT_EQ(ba[i]->conv1.weight, bb[i]->conv1.weight) << ba[i]->conv1.name;
      EXPECT_EQ(ba[i]->conv1.bias, bb[i]->conv1.bias) << ba[i]->conv1.name;
      EXPECT_EQ(ba[i]->conv2.weight, bb[i]->conv2.weight) << ba[i]->conv2.name;
      EXPECT_EQ(ba[i]->conv2.bias, bb[i]->conv2.bias) << ba[i]->conv2.name;
    }
    EXPECT_EQ(ua->outc.weight, ub->outc.weight);
    EXPECT_EQ(ua->outc.bias, ub->outc.bias);
  }
  // And the reduced-precision weights stay close to the F32 originals.
  const ModelWeights original = load_model_weights(path);
  const float tol = dtype == "F16" ? 2e-3f : 1.6e-2f;
  const auto& ga = a.colorizer.up[0].conv1.weight;
  const auto& go = original.colorizer.up[0].conv1.weight;
  for (size_t i = 0; i < ga.size(); ++i) ASSERT_NEAR(ga[i], go[i], tol * std::fabs(go[i]) + 1e-6f) << i;
}

TEST(ModelWeights, F16FileFoldsExactlyLikeItsValuesInF32) { check_reduced_precision("F16"); }
TEST(ModelWeights, BF16FileFoldsExactlyLikeItsValuesInF32) { check_reduced_precision("BF16"); }

TEST(ModelWeights, MixedDtypesLoad) {
  std::vector<RawTensor> tensors;
  int i = 0;
  for (auto& [name, sv] : synthetic_values(2, 3)) {
    static const char* kinds[] = {"F32", "F16", "BF16"};
    tensors.push_back(float_tensor(name, sv.first, sv.second, kinds[i++ % 3]));
  }
  const Bytes bytes = build_safetensors(tensors, model_metadata(2));
  const ModelWeights m = load_model_weights(SafetensorsFile::parse(span_of(bytes), "mixed"));
  EXPECT_EQ(m.config.width, 2);
  EXPECT_EQ(m.colorizer.inc.conv1.cin, 35);
  EXPECT_EQ(m.colorizer.outc.cout, 3);
}

TEST(ModelWeights, ExpectedTensorsMatchTheFixtures) {
  const SafetensorsFile file = SafetensorsFile::open(fixture_models().front());
  const ModelConfig config = read_model_config(file);
  const auto expected = expected_tensors(config);
  ASSERT_EQ(expected.size(), file.tensors().size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].name, file.tensors()[i].name);
    EXPECT_EQ(expected[i].shape, file.tensors()[i].shape) << expected[i].name;
  }
}

// ----------------------------------------------------------------------------- rejections

// A synthetic width-`width` model with one change applied to its tensors / metadata.
template <class Edit> Bytes edited_model(int width, Edit edit, Metadata metadata = {}) {
  auto values = synthetic_values(width, 11);
  std::vector<RawTensor> tensors;
  for (auto& [name, sv] : values) tensors.push_back(float_tensor(name, sv.first, sv.second));
  edit(tensors);
  return build_safetensors(tensors, metadata.empty() ? model_metadata(width) : metadata);
}

RawTensor* find_tensor(std::vector<RawTensor>& tensors, const std::string& name) {
  for (RawTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  ADD_FAILURE() << "no " << name;
  return &tensors.front();
}

void set_value(std::vector<RawTensor>& tensors, const std::string& name, size_t index, float value) {
  RawTensor* t = find_tensor(tensors, name);
  std::memcpy(t->data.data() + 4 * index, &value, 4);
}

TEST(ModelWeightsRejects, TruncatedModels) {
  // Every prefix of the header and of the first and last 256 bytes of data, and every 31st in
  // between (each prefix re-parses the 19 KB header; SafetensorsRejects checks every
  // prefix of a small file).
  const Bytes full = edited_model(1, [](auto&) {});
  ASSERT_NO_THROW(load_model_weights(SafetensorsFile::parse(span_of(full), "m")));
  const SafetensorsFile parsed = SafetensorsFile::parse(span_of(full), "m");
  const size_t data_start = 8 + parsed.header_bytes();
  size_t checked = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    const bool edge = n < data_start + 256 || n + 256 >= full.size();
    if (!edge && n % 31 != 0) continue;
    const Bytes prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    ASSERT_THAT(load_error(prefix), StartsWith("model.safetensors: ")) << n;
    ++checked;
  }
  EXPECT_GT(checked, data_start);
}

TEST(ModelWeightsRejects, WrongShapeForTheWidth) {
  // The example of the style guide: a width-64 file whose up1.conv1 was written for width 32.
  const Bytes bytes = edited_model(1, [](std::vector<RawTensor>& t) {
    RawTensor* up1 = find_tensor(t, "colorizer.up1.conv1.weight");
    up1->shape = {4, 16, 3, 3};
    up1->data.resize(4 * 4 * 16 * 9);
  });
  EXPECT_EQ(
      load_error(bytes),
      "model.safetensors: tensor 'colorizer.up1.conv1.weight' has shape [4,16,3,3], but width 1 needs [8,16,3,3]");
  const Bytes transposed = edited_model(2, [](std::vector<RawTensor>& t) {
    find_tensor(t, "segmentator.down2.conv1.weight")->shape = {4, 8, 3, 3};
  });
  EXPECT_EQ(
      load_error(transposed),
      "model.safetensors: tensor 'segmentator.down2.conv1.weight' has shape [4,8,3,3], but width 2 needs [8,4,3,3]");
}

TEST(ModelWeightsRejects, WrongName) {
  const Bytes bytes = edited_model(1, [](std::vector<RawTensor>& t) {
    find_tensor(t, "colorizer.up1.conv1.weight")->name = "colorizer.up1.conv1.wieght";
  });
  EXPECT_EQ(load_error(bytes),
            "model.safetensors: missing tensor 'colorizer.up1.conv1.weight' (width 1 needs [8,16,3,3]); the file has "
            "unexpected tensor 'colorizer.up1.conv1.wieght'");
}

void erase_tensor(std::vector<RawTensor>& tensors, const std::string& name) {
  tensors.erase(tensors.begin() + (find_tensor(tensors, name) - tensors.data()));
}

TEST(ModelWeightsRejects, MissingTensor) {
  const Bytes bytes = edited_model(2, [](auto& t) { erase_tensor(t, "segmentator.up3.bn2.running_var"); });
  EXPECT_EQ(load_error(bytes),
            "model.safetensors: missing tensor 'segmentator.up3.bn2.running_var' (width 2 needs [2])");
  // A file of another model entirely.
  const Bytes other = build_safetensors({float_tensor("encoder.weight", {2}, {1, 2})}, model_metadata(4));
  EXPECT_EQ(load_error(other),
            "model.safetensors: missing tensor 'colorizer.down1.bn1.bias' (width 4 needs [8]); the file has unexpected "
            "tensor 'encoder.weight'");
}

TEST(ModelWeightsRejects, ExtraTensor) {
  const Bytes bytes =
      edited_model(1, [](auto& t) { t.push_back(float_tensor("segmentator.up1.bn1.num_batches_tracked", {}, {0})); });
  EXPECT_THAT(load_error(bytes),
              StartsWith("model.safetensors: unexpected tensor 'segmentator.up1.bn1.num_batches_tracked' (F32 []); a "
                         "width-1 GuidingPainter file has exactly these 220 tensors"));
}

TEST(ModelWeightsRejects, MetadataWidthInconsistentWithShapes) {
  const Bytes bytes = edited_model(
      1, [](auto&) {}, model_metadata(2));
  EXPECT_EQ(load_error(bytes),
            "model.safetensors: metadata 'width' is 2, but tensor 'segmentator.inc.conv1.weight' has shape [1,1,3,3] "
            "(width 1)");
  // When the first conv is itself broken, the shape check names it.
  const Bytes broken = edited_model(
      1,
      [](auto& t) {
        find_tensor(t, "segmentator.inc.conv1.weight")->shape = {1, 9};
      },
      model_metadata(2));
  EXPECT_EQ(load_error(broken),
            "model.safetensors: tensor 'colorizer.down1.bn1.bias' has shape [2], but width 2 needs [4]");
}

TEST(ModelWeightsRejects, NonFiniteWeights) {
  const float inf = std::numeric_limits<float>::infinity();
  const Bytes nan = edited_model(1, [](auto& t) { set_value(t, "colorizer.down3.conv2.weight", 40, std::nanf("")); });
  EXPECT_EQ(load_error(nan),
            "model.safetensors: tensor 'colorizer.down3.conv2.weight' has a non-finite value (nan) at [0,4,1,1]");
  const Bytes pinf = edited_model(1, [&](auto& t) { set_value(t, "segmentator.outc.bias", 29, inf); });
  EXPECT_EQ(load_error(pinf), "model.safetensors: tensor 'segmentator.outc.bias' has a non-finite value (inf) at [29]");
  const Bytes ninf = edited_model(1, [&](auto& t) { set_value(t, "colorizer.up2.bn1.running_var", 1, -inf); });
  EXPECT_EQ(load_error(ninf),
            "model.safetensors: tensor 'colorizer.up2.bn1.running_var' has a non-finite value (-inf) at [1]");
  // An F16 infinity (0x7C00) is non-finite too.
  auto values = synthetic_values(1, 2);
  values["colorizer.inc.bn2.bias"].second[0] = 70000.0f;  // rounds to +inf in F16
  std::vector<RawTensor> tensors;
  for (auto& [name, sv] : values) tensors.push_back(float_tensor(name, sv.first, sv.second, "F16"));
  EXPECT_EQ(load_error(build_safetensors(tensors, model_metadata(1)), "half.safetensors"),
            "half.safetensors: tensor 'colorizer.inc.bn2.bias' has a non-finite value (inf) at [0]");
}

TEST(ModelWeightsRejects, NegativeVarianceAndFoldingOverflow) {
  const Bytes negative = edited_model(1, [](auto& t) { set_value(t, "segmentator.down1.bn2.running_var", 1, -0.5f); });
  EXPECT_EQ(
      load_error(negative),
      "model.safetensors: tensor 'segmentator.down1.bn2.running_var' has -0.500000 at [1], a variance must be >= 0");
  const Bytes overflow = edited_model(1, [](auto& t) {
    set_value(t, "colorizer.inc.conv1.weight", 0, 1.0f);
    set_value(t, "colorizer.inc.bn1.weight", 0, 3e38f);
    set_value(t, "colorizer.inc.bn1.running_var", 0, 0.0f);
  });
  EXPECT_THAT(load_error(overflow),
              AllOf(StartsWith("model.safetensors: folding BatchNorm into 'colorizer.inc.conv1' gives weight["),
                    HasSubstr("beyond float range")));
}

TEST(ModelWeightsRejects, IntegerDtype) {
  const Bytes bytes = edited_model(1, [](auto& t) { find_tensor(t, "colorizer.outc.bias")->dtype = "I32"; });
  EXPECT_EQ(load_error(bytes),
            "model.safetensors: tensor 'colorizer.outc.bias' has dtype I32, but weights must be F32, F16 or BF16");
}

TEST(ModelWeightsRejects, BadMetadata) {
  struct Case {
    std::string key;
    std::optional<std::string> value;  // nullopt: key removed
    std::string message;
  };
  const std::vector<Case> cases = {
      {"format", std::nullopt,
       "metadata 'format' is missing, expected 'guidingpainter' (is this a GuidingPainter weight file written by "
       "tools/reference.py?)"},
      {"format", "pytorch", "metadata 'format' is 'pytorch', expected 'guidingpainter'"},
      {"format_version", "2", "unsupported format_version '2', expected '1'"},
      {"format_version", std::nullopt, "metadata has no 'format_version'"},
      {"num_regions", "12", "metadata 'num_regions' is 12, but this engine supports exactly 30"},
      {"num_regions", "thirty", "metadata 'num_regions' is 'thirty', expected an integer in 1..2147483647"},
      {"seg_in_channels", "3", "metadata 'seg_in_channels' is 3, expected 1 (the grey sketch)"},
      {"col_in_channels", "34",
       "metadata 'col_in_channels' is 34, expected 35 (sketch 1 + hint colours 3 + hint mask 1 + num_regions 30)"},
      {"width", "abc", "metadata 'width' is 'abc', expected an integer in 1..1024"},
      {"width", "0", "metadata 'width' is '0', expected an integer in 1..1024"},
      {"width", "-1", "metadata 'width' is '-1', expected an integer in 1..1024"},
      {"width", "1.0", "metadata 'width' is '1.0', expected an integer in 1..1024"},
      {"width", " 1", "metadata 'width' is ' 1', expected an integer in 1..1024"},
      {"width", "2048", "metadata 'width' is '2048', expected an integer in 1..1024"},
      {"width", "99999999999999999999", "metadata 'width' is '99999999999999999999', expected an integer in 1..1024"},
      {"width", std::nullopt, "metadata has no 'width'"},
      {"train_size", std::nullopt, "metadata has no 'train_size'"},
      {"train_size", "0", "metadata 'train_size' is '0', expected an integer in 1..2147483647"},
      {"center", "nan", "metadata 'center' is 'nan', expected a finite number"},
      {"center", "1e99", "metadata 'center' is '1e99', expected a finite number"},
      {"center", "", "metadata 'center' is '', expected a finite number"},
  };
  for (const Case& c : cases) {
    Metadata metadata = model_metadata(1);
    if (c.value) {
      metadata[c.key] = *c.value;
    } else {
      metadata.erase(c.key);
    }
    const Bytes bytes = build_safetensors(synthetic_tensors(1), metadata);
    EXPECT_THAT(load_error(bytes), AllOf(StartsWith("model.safetensors: "), HasSubstr(c.message)))
        << c.key << " = " << c.value.value_or("(absent)");
  }
}

TEST(ModelWeights, CenterIsOptionalAndParsed) {
  Metadata metadata = model_metadata(1);
  metadata.erase("center");
  const Bytes absent = build_safetensors(synthetic_tensors(1), metadata);
  EXPECT_EQ(load_model_weights(SafetensorsFile::parse(span_of(absent), "a")).config.center, 0.0f);
  metadata["center"] = "0.5";
  const Bytes half = build_safetensors(synthetic_tensors(1), metadata);
  EXPECT_EQ(read_model_config(SafetensorsFile::parse(span_of(half), "h")).center, 0.5f);
}

}  // namespace
}  // namespace gp::test
