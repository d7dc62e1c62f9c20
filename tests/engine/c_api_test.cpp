// The C API's whole surface: status codes that tell failures apart, options with
// defaults, the bundled model, labels / masks / raw output against the C++ API, clearing
// all hints, buffer capacities, and a session that outlives its model handle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "guidingpainter/guidingpainter.h"
#include "guidingpainter/guidingpainter.hpp"
#include "tests/source_dir.h"

namespace {

const std::string kRoot = gp::test::source_dir().string();
const std::string kModel = kRoot + "/tests/fixtures/w4_17x19/model.safetensors";
const std::string kSketch = kRoot + "/examples/samples/1F3E0-sketch.png";

std::string error() { return gp_last_error(); }

gp_model* load_sim(const char* path = kModel.c_str()) {
  gp_model_options o;
  gp_model_options_default(&o);
  o.device = "sim";
  gp_model* m = nullptr;
  EXPECT_EQ(gp_model_load_with(path, &o, &m), GP_OK) << error();
  return m;
}

// A session of `model` on the sample sketch at working size `size` (null on failure).
gp_session* open_session(gp_model* model, int size) {
  gp_session_options so;
  gp_session_options_default(&so);
  so.size = size;
  gp_session* s = nullptr;
  EXPECT_EQ(gp_session_create_from_file_with(model, kSketch.c_str(), &so, &s), GP_OK) << error();
  return s;
}

// The C defaults are the C++ ones: gp_session_options_default and the size-only
// constructors rank regions as SessionOptions{} does (min_region).
TEST(CApi, SessionDefaultsAreTheCppOnes) {
  gp_session_options so;
  gp_session_options_default(&so);
  EXPECT_EQ(so.min_region, gp::SessionOptions{}.min_region);
  EXPECT_EQ(so.size, 0);
  gp_model* m = load_sim();
  ASSERT_NE(m, nullptr);
  gp_session* by_size = nullptr;
  ASSERT_EQ(gp_session_create_from_file(m, kSketch.c_str(), 45, &by_size), GP_OK) << error();
  gp_session* by_options = open_session(m, 45);
  ASSERT_NE(by_options, nullptr);
  EXPECT_EQ(gp_session_region_count(by_size), gp_session_region_count(by_options));
  so.size = 45;
  so.min_region = 0.0;
  gp_session* every = nullptr;
  ASSERT_EQ(gp_session_create_from_file_with(m, kSketch.c_str(), &so, &every), GP_OK) << error();
  EXPECT_GE(gp_session_region_count(every), gp_session_region_count(by_size));
  so.min_region = 1.5;
  gp_session* bad = nullptr;
  EXPECT_EQ(gp_session_create_from_file_with(m, kSketch.c_str(), &so, &bad), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("min_region"), std::string::npos) << error();
  gp_session_free(every);
  gp_session_free(by_options);
  gp_session_free(by_size);
  gp_model_free(m);
}

TEST(CApi, StatusCodesTellFailuresApart) {
  gp_model* m = reinterpret_cast<gp_model*>(1);
  EXPECT_EQ(gp_model_load((kRoot + "/no/such/model.safetensors").c_str(), "sim", &m), GP_ERROR_IO);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(error().find("no/such/model.safetensors"), std::string::npos) << error();
  // A PNG is no safetensors file.
  EXPECT_EQ(gp_model_load(kSketch.c_str(), "sim", &m), GP_ERROR_FORMAT) << error();
  EXPECT_NE(error().find("1F3E0-sketch.png"), std::string::npos) << error();
  EXPECT_EQ(gp_model_load(kModel.c_str(), "tpu", &m), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("tpu"), std::string::npos) << error();
  EXPECT_EQ(gp_model_load_precision(kModel.c_str(), "sim", "fp8", &m), GP_ERROR_ARGUMENT);
  EXPECT_EQ(gp_model_load(kModel.c_str(), "sim", nullptr), GP_ERROR_ARGUMENT);

  gp_model* model = load_sim();
  ASSERT_NE(model, nullptr);
  gp_session* s = reinterpret_cast<gp_session*>(1);
  EXPECT_EQ(gp_session_create_from_file(model, (kRoot + "/no/sketch.png").c_str(), 0, &s), GP_ERROR_IO);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(gp_session_create_from_file(model, kModel.c_str(), 0, &s), GP_ERROR_FORMAT) << error();
  gp_session_options so;
  gp_session_options_default(&so);
  so.size = -3;
  EXPECT_EQ(gp_session_create_from_file_with(model, kSketch.c_str(), &so, &s), GP_ERROR_ARGUMENT) << error();
  so.size = 0;
  so.cuda_stream = reinterpret_cast<void*>(0x10);  // a stream on the simulator
  EXPECT_EQ(gp_session_create_from_file_with(model, kSketch.c_str(), &so, &s), GP_ERROR_ARGUMENT) << error();
  ASSERT_EQ(gp_session_create_from_file(model, kSketch.c_str(), 64, &s), GP_OK) << error();
  EXPECT_EQ(gp_session_set_hint(s, 99, 1, 2, 3), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("99"), std::string::npos) << error();
  EXPECT_EQ(gp_session_clear_hint(s, 0), GP_ERROR_ARGUMENT);
  gp_session_free(s);
  gp_model_free(model);

  EXPECT_STREQ(gp_status_name(GP_ERROR_IO), "GP_ERROR_IO");
  EXPECT_STREQ(gp_status_name(GP_ERROR_OUT_OF_MEMORY), "GP_ERROR_OUT_OF_MEMORY");
  EXPECT_STREQ(gp_status_name(static_cast<gp_status>(42)), "GP_STATUS_UNKNOWN");
}

TEST(CApi, CudaWithoutAGpuIsADeviceError) {
  gp_model_options o;
  gp_model_options_default(&o);
  o.device = "cuda";
  gp_model* m = nullptr;
  const gp_status s = gp_model_load_with(kModel.c_str(), &o, &m);
  if (s == GP_OK) {
    gp_model_free(m);
    o.gpu_index = 4096;  // a GPU, but not that many
    EXPECT_EQ(gp_model_load_with(kModel.c_str(), &o, &m), GP_ERROR_DEVICE) << error();
    return;
  }
  EXPECT_EQ(s, GP_ERROR_DEVICE) << error();
}

TEST(CApi, OptionsDefaultsAndTheBundledModel) {
  gp_model_options o;
  o.device = "x";
  o.gpu_index = 7;
  o.precision = "y";
  gp_model_options_default(&o);
  EXPECT_EQ(o.device, nullptr);
  EXPECT_EQ(o.gpu_index, 0);
  EXPECT_EQ(o.precision, nullptr);
  gp_session_options so;
  so.size = 5;
  gp_session_options_default(&so);
  EXPECT_EQ(so.size, 0);
  EXPECT_EQ(so.cuda_stream, nullptr);

  o.device = "sim";
  gp_model* m = nullptr;
  ASSERT_EQ(gp_model_load_with(nullptr, &o, &m), GP_OK) << error();
  EXPECT_NE(std::string(gp_model_path(m)).find("guidingpainter-emoji.safetensors"), std::string::npos)
      << gp_model_path(m);
  EXPECT_NE(std::string(gp_model_device(m)).find("gpusim"), std::string::npos) << gp_model_device(m);
  EXPECT_STREQ(gp_model_precision(m), "fp32");
  gp_model_free(m);
  EXPECT_EQ(gp_model_path(nullptr), nullptr);
  EXPECT_EQ(gp_model_device(nullptr), nullptr);
  EXPECT_STREQ(gp_version(), GP_VERSION_STRING);
}

TEST(CApi, LabelsMasksAndRawMatchTheCppApi) {
  gp::ModelOptions options;
  options.device = gp::Device::Simulator;
  auto cpp_model = gp::Model::load(kModel, options);
  gp::SessionOptions cpp_options;
  cpp_options.size = 48;
  gp::Session cpp(cpp_model, gp::Image::load(kSketch), cpp_options);

  gp_model* model = load_sim();
  gp_session* s = open_session(model, 48);
  ASSERT_NE(s, nullptr);
  gp_model_free(model);  // the session keeps the model alive
  int w = 0, h = 0;
  ASSERT_EQ(gp_session_size(s, &w, &h), GP_OK);
  ASSERT_EQ(w, cpp.width());
  ASSERT_EQ(h, cpp.height());
  const size_t pixels = size_t(w) * size_t(h);
  ASSERT_GE(gp_session_region_count(s), 2);

  std::vector<uint8_t> labels(pixels);
  ASSERT_EQ(gp_session_labels(s, labels.data(), labels.size()), GP_OK) << error();
  EXPECT_EQ(labels, cpp.labels());
  EXPECT_EQ(gp_session_labels(s, labels.data(), pixels - 1), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find(std::to_string(pixels)), std::string::npos) << error();
  EXPECT_EQ(gp_session_labels(s, nullptr, pixels), GP_ERROR_ARGUMENT);

  std::vector<uint8_t> mask(pixels);
  for (int rank = 1; rank <= gp_session_region_count(s); ++rank) {
    ASSERT_EQ(gp_session_region_mask(s, rank, mask.data(), mask.size()), GP_OK) << error();
    EXPECT_EQ(mask, cpp.region_mask(rank)) << "rank " << rank;
  }
  EXPECT_EQ(gp_session_region_mask(s, 0, mask.data(), mask.size()), GP_ERROR_ARGUMENT);

  std::vector<float> raw(3 * pixels), unhinted(3 * pixels);
  ASSERT_EQ(gp_session_colorize_raw(s, unhinted.data(), unhinted.size()), GP_OK) << error();
  EXPECT_EQ(unhinted, cpp.colorize_raw());
  EXPECT_EQ(gp_session_colorize_raw(s, raw.data(), raw.size() - 1), GP_ERROR_ARGUMENT);

  ASSERT_EQ(gp_session_set_hint(s, 1, 230, 40, 40), GP_OK);
  ASSERT_EQ(gp_session_set_hint(s, 2, 40, 200, 90), GP_OK);
  cpp.set_hint(1, gp::Rgb{230, 40, 40});
  cpp.set_hint(2, gp::Rgb{40, 200, 90});
  ASSERT_EQ(gp_session_colorize_raw(s, raw.data(), raw.size()), GP_OK) << error();
  EXPECT_EQ(raw, cpp.colorize_raw());
  EXPECT_NE(raw, unhinted);  // the hints change the picture

  gp_image picture{};
  ASSERT_EQ(gp_session_colorize(s, &picture), GP_OK) << error();
  const gp::Image cpp_picture = cpp.colorize();
  ASSERT_EQ(picture.width, cpp_picture.width);
  ASSERT_EQ(picture.height, cpp_picture.height);
  EXPECT_EQ(std::vector<uint8_t>(picture.rgb, picture.rgb + size_t(picture.width) * picture.height * 3),
            cpp_picture.rgb);
  gp_image_free(&picture);

  ASSERT_EQ(gp_session_clear_hints(s), GP_OK);
  ASSERT_EQ(gp_session_colorize_raw(s, raw.data(), raw.size()), GP_OK);
  EXPECT_EQ(raw, unhinted);
  gp_session_free(s);
}

}  // namespace

// Handles are looked up before use: a freed, twice-freed or made-up one is a status.
TEST(CApiHandles, FreedDoubleFreedAndForeignHandlesAreReported) {
  gp_model* model = load_sim();
  ASSERT_NE(model, nullptr);
  gp_session* s = nullptr;
  ASSERT_EQ(gp_session_create_from_file(model, kSketch.c_str(), 32, &s), GP_OK) << error();
  gp_session* other = nullptr;
  ASSERT_EQ(gp_session_create_from_file(model, kSketch.c_str(), 32, &other), GP_OK) << error();
  EXPECT_EQ(gp_session_free(s), GP_OK);

  // The freed session, used again.
  EXPECT_EQ(gp_session_set_hint(s, 1, 1, 2, 3), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("gp_session_set_hint: session"), std::string::npos) << error();
  EXPECT_NE(error().find("not a live gp_session"), std::string::npos) << error();
  gp_image out{};
  EXPECT_EQ(gp_session_colorize(s, &out), GP_ERROR_ARGUMENT);
  EXPECT_EQ(out.rgb, nullptr);
  int w = -1, h = -1;
  EXPECT_EQ(gp_session_size(s, &w, &h), GP_ERROR_ARGUMENT);
  EXPECT_EQ(w, -1);
  EXPECT_EQ(gp_session_region_count(s), 0);
  EXPECT_EQ(gp_session_free(s), GP_ERROR_ARGUMENT);  // twice
  EXPECT_NE(error().find("gp_session_free"), std::string::npos) << error();

  // Pointers that never were handles, including one to real memory.
  int not_a_handle = 7;
  auto* fake_session = reinterpret_cast<gp_session*>(&not_a_handle);
  auto* fake_model = reinterpret_cast<gp_model*>(&not_a_handle);
  EXPECT_EQ(gp_session_clear_hints(fake_session), GP_ERROR_ARGUMENT);
  EXPECT_EQ(gp_session_free(fake_session), GP_ERROR_ARGUMENT);
  EXPECT_EQ(gp_session_free(reinterpret_cast<gp_session*>(0x1234)), GP_ERROR_ARGUMENT);
  EXPECT_EQ(gp_model_free(fake_model), GP_ERROR_ARGUMENT);
  EXPECT_EQ(gp_model_config(fake_model, nullptr, nullptr, nullptr), GP_ERROR_ARGUMENT);
  EXPECT_EQ(gp_model_path(fake_model), nullptr);
  // A session is not a model, nor the other way round.
  EXPECT_EQ(gp_model_free(reinterpret_cast<gp_model*>(other)), GP_ERROR_ARGUMENT);
  gp_session* s2 = nullptr;
  EXPECT_EQ(gp_session_create_from_file(reinterpret_cast<gp_model*>(other), kSketch.c_str(), 32, &s2),
            GP_ERROR_ARGUMENT);
  EXPECT_EQ(s2, nullptr);

  // The live ones still work; the model freed twice is reported the second time.
  EXPECT_EQ(gp_session_set_hint(other, 1, 1, 2, 3), GP_OK) << error();
  EXPECT_EQ(gp_model_free(model), GP_OK);
  EXPECT_EQ(gp_model_free(model), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("not a live gp_model"), std::string::npos) << error();
  EXPECT_EQ(gp_session_colorize(other, &out), GP_OK) << error();  // the session keeps its model
  gp_image_free(&out);
  EXPECT_EQ(gp_session_free(other), GP_OK);
  EXPECT_EQ(gp_session_free(nullptr), GP_OK);
  EXPECT_EQ(gp_model_free(nullptr), GP_OK);
}

struct ProgressLog {
  int calls = 0;
  int cancel_at = 0;  // 0: never
  std::string last_stage;
};

int log_progress(const char* stage, int done, int total, void* user) {
  auto* log = static_cast<ProgressLog*>(user);
  ++log->calls;
  log->last_stage = stage;
  EXPECT_GE(done, 1);
  EXPECT_LE(done, total);
  return log->cancel_at == 0 || log->calls < log->cancel_at;
}

TEST(CApiProgress, ReportsLaunchesAndCancels) {
  gp_model* model = load_sim();
  ASSERT_NE(model, nullptr);
  gp_session_options so;
  gp_session_options_default(&so);
  EXPECT_EQ(so.progress, nullptr);
  EXPECT_EQ(so.progress_user, nullptr);
  so.size = 32;
  ProgressLog log;
  so.progress = log_progress;
  so.progress_user = &log;
  gp_session* s = nullptr;
  ASSERT_EQ(gp_session_create_from_file_with(model, kSketch.c_str(), &so, &s), GP_OK) << error();
  EXPECT_GT(log.calls, 10);
  EXPECT_EQ(log.last_stage, "segment");
  gp_image out{};
  log.calls = 0;
  log.cancel_at = 2;
  EXPECT_EQ(gp_session_colorize(s, &out), GP_ERROR_CANCELLED) << error();
  EXPECT_EQ(out.rgb, nullptr);
  EXPECT_NE(error().find("cancelled"), std::string::npos) << error();
  log.cancel_at = 0;
  EXPECT_EQ(gp_session_colorize(s, &out), GP_OK) << error();
  EXPECT_EQ(log.last_stage, "colorize");
  gp_image_free(&out);
  EXPECT_EQ(gp_session_free(s), GP_OK);
  log.calls = 0;
  log.cancel_at = 1;
  EXPECT_EQ(gp_session_create_from_file_with(model, kSketch.c_str(), &so, &s), GP_ERROR_CANCELLED);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(gp_model_free(model), GP_OK);
}

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::vector<uint8_t> bytes;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    for (int c; (c = std::fgetc(f)) != EOF;) bytes.push_back(uint8_t(c));
    std::fclose(f);
  }
  return bytes;
}

}  // namespace

// Point hints and layers through the C API equal the C++ API's; a point on a line or
// outside the sketch is GP_ERROR_ARGUMENT naming it.
TEST(CApi, PointHintsAndLayersMatchTheCppApi) {
  constexpr int kDoorX = 80, kDoorY = 210, kLineX = 13, kLineY = 56;  // the house's door, its roof's outline
  gp::ModelOptions options;
  options.device = gp::Device::Simulator;
  gp::SessionOptions cpp_options;
  cpp_options.size = 48;
  gp::Session cpp(gp::Model::load(kModel, options), gp::Image::load(kSketch), cpp_options);
  cpp.set_point_hint(kDoorX, kDoorY, gp::Rgb{0x7a, 0x3b, 0x10});

  gp_model* model = load_sim();
  gp_session* s = open_session(model, 48);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(gp_session_set_point_hint(s, kLineX, kLineY, 1, 2, 3), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("(13, 56)"), std::string::npos) << error();
  EXPECT_EQ(gp_session_set_point_hint(s, 256, 0, 1, 2, 3), GP_ERROR_ARGUMENT);
  EXPECT_NE(error().find("outside"), std::string::npos) << error();
  ASSERT_EQ(gp_session_set_point_hint(s, kDoorX, kDoorY, 0x7a, 0x3b, 0x10), GP_OK) << error();

  gp_image picture{};
  ASSERT_EQ(gp_session_colorize(s, &picture), GP_OK) << error();
  const gp::Image expected = cpp.colorize();
  ASSERT_EQ(size_t(picture.width) * size_t(picture.height) * 3, expected.rgb.size());
  EXPECT_TRUE(std::equal(expected.rgb.begin(), expected.rgb.end(), picture.rgb));
  gp_image_free(&picture);

  const std::string path = testing::TempDir() + "gp_c_api_layers.ora";
  ASSERT_EQ(gp_session_save_layers(s, path.c_str()), GP_OK) << error();
  EXPECT_EQ(read_bytes(path), cpp.layers_ora());
  std::remove(path.c_str());
  EXPECT_EQ(gp_session_save_layers(s, nullptr), GP_ERROR_ARGUMENT);

  int had = -1;
  ASSERT_EQ(gp_session_clear_point_hint(s, kDoorX + 1, kDoorY, &had), GP_OK) << error();  // same area
  EXPECT_EQ(had, 1);
  ASSERT_EQ(gp_session_clear_point_hint(s, kDoorX, kDoorY, &had), GP_OK) << error();
  EXPECT_EQ(had, 0);
  EXPECT_EQ(gp_session_clear_point_hints(s), GP_OK);
  gp_session_free(s);
  gp_model_free(model);
}
