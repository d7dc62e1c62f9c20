// The C API's precision choice: loads in fp16 / bf16, reports it, refuses a bad name; the
// default is fp32 on the simulator and fp16 on a GPU of sm_80 or later.
#include <gtest/gtest.h>

#include <string>

#include "guidingpainter/guidingpainter.h"
#include "tests/source_dir.h"

namespace {

const std::string kModel = (gp::test::source_dir() / "tests/fixtures/w4_17x19/model.safetensors").string();

TEST(CApiPrecision, LoadsAndReports) {
  for (const char* p : {"fp16", "bf16", "fp32"}) {
    gp_model* model = nullptr;
    ASSERT_EQ(gp_model_load_precision(kModel.c_str(), "sim", p, &model), GP_OK) << gp_last_error();
    EXPECT_STREQ(gp_model_precision(model), p);
    gp_model_free(model);
  }
  gp_model* model = nullptr;
  ASSERT_EQ(gp_model_load(kModel.c_str(), "sim", &model), GP_OK);
  EXPECT_STREQ(gp_model_precision(model), "fp32");
  gp_model_free(model);
  EXPECT_EQ(gp_model_precision(nullptr), nullptr);
}

TEST(CApiPrecision, DefaultIsFp16OnATensorCoreGpu) {
  gp_model* model = nullptr;
  if (gp_model_load_precision(kModel.c_str(), "cuda", nullptr, &model) != GP_OK)
    GTEST_SKIP() << "no CUDA GPU: " << gp_last_error();
  const std::string p = gp_model_precision(model);
  gp_model_free(model);
  // Where fp16 can be loaded (sm_80 and later) it is the default; elsewhere fp32.
  const bool tensor_cores = gp_model_load_precision(kModel.c_str(), "cuda", "fp16", &model) == GP_OK;
  gp_model_free(model);
  EXPECT_EQ(p, tensor_cores ? "fp16" : "fp32");
}

TEST(CApiPrecision, RefusesAnUnknownName) {
  gp_model* model = reinterpret_cast<gp_model*>(1);
  EXPECT_NE(gp_model_load_precision(kModel.c_str(), "sim", "fp8", &model), GP_OK);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(gp_last_error()).find("fp8"), std::string::npos) << gp_last_error();
}

}  // namespace
