// The library's notes go to the log callback (C++ and C), not to stderr, once one is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "guidingpainter/guidingpainter.h"
#include "guidingpainter/guidingpainter.hpp"
#include "src/backend/backend.h"
#include "src/backend/select.h"

namespace gp {
namespace {

// Opens the automatic device with GP_DEVICE unset (restored after), which on a machine
// without a GPU logs the simulator note; returns whether there was no GPU.
bool open_auto_device() {
  const char* env = std::getenv("GP_DEVICE");
  const std::string saved = env ? env : "";
  ::unsetenv("GP_DEVICE");
  const auto backend = open_backend(Device::Auto);
  if (env) ::setenv("GP_DEVICE", saved.c_str(), 1);
  return backend->kind() == DeviceKind::Simulator;
}

TEST(Log, CallbackTakesTheNotes) {
  std::vector<std::string> notes;
  set_log_callback([&](std::string_view note) { notes.emplace_back(note); });
  const bool simulated = open_auto_device();
  set_log_callback(nullptr);  // drops them
  EXPECT_EQ(open_auto_device(), simulated);
  gp_set_log_callback(nullptr, nullptr);  // stderr again
  if (!simulated) GTEST_SKIP() << "a GPU is present: the simulator note is never logged";
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("no CUDA GPU found"), std::string::npos) << notes[0];
  EXPECT_EQ(notes[0].find('\n'), std::string::npos) << "a note is one line without its newline";
}

void collect(const char* note, void* user) { static_cast<std::vector<std::string>*>(user)->emplace_back(note); }

TEST(Log, CApiCallbackTakesTheNotes) {
  std::vector<std::string> notes;
  gp_set_log_callback(collect, &notes);
  const bool simulated = open_auto_device();
  gp_set_log_callback(GP_LOG_DROP, nullptr);
  open_auto_device();
  gp_set_log_callback(nullptr, nullptr);
  if (!simulated) GTEST_SKIP() << "a GPU is present: the simulator note is never logged";
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("CPU simulator"), std::string::npos) << notes[0];
}

TEST(Errors, KindNamesAndStatusNamesAreOneTable) {
  EXPECT_STREQ(error_kind_name(ErrorKind::OutOfMemory), "out_of_memory");
  EXPECT_STREQ(gp_status_name(GP_ERROR_OUT_OF_MEMORY), "GP_ERROR_OUT_OF_MEMORY");
  EXPECT_STREQ(gp_status_name(GP_ERROR_ARGUMENT), "GP_ERROR_ARGUMENT");
  EXPECT_STREQ(gp_status_name(GP_OK), "GP_OK");
  EXPECT_STREQ(gp_status_name(gp_status(42)), "GP_STATUS_UNKNOWN");
  for (int s = GP_ERROR_ARGUMENT; s <= GP_ERROR_CANCELLED; ++s) {
    std::string upper = error_kind_name(ErrorKind(s));
    for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(std::string(gp_status_name(gp_status(s))), "GP_ERROR_" + upper);
  }
}

}  // namespace
}  // namespace gp
