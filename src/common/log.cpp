#include "src/common/log.h"

#include <cstdio>
#include <mutex>
#include <string>

#include "guidingpainter/guidingpainter.h"
#include "guidingpainter/guidingpainter.hpp"

namespace gp {
namespace {

std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}
// Set: the callback decides (an empty one drops the notes); unset: stderr.
bool& callback_set() {
  static bool set = false;
  return set;
}
LogCallback& callback() {
  static LogCallback f;
  return f;
}

}  // namespace

void set_log_callback(LogCallback f) {
  std::lock_guard<std::mutex> lock(log_mutex());
  callback_set() = true;
  callback() = std::move(f);
}

void log_note(std::string_view note) {
  LogCallback f;
  {
    std::lock_guard<std::mutex> lock(log_mutex());
    if (!callback_set()) {
      std::fprintf(stderr, "guidingpainter: %.*s\n", int(note.size()), note.data());
      return;
    }
    f = callback();  // called outside the lock: it may set another callback
  }
  if (f) f(note);
}

}  // namespace gp

extern "C" {

void gp_log_drop(const char*, void*) {}

void gp_set_log_callback(gp_log_fn fn, void* user) {
  if (!fn) {
    std::lock_guard<std::mutex> lock(gp::log_mutex());
    gp::callback_set() = false;
    gp::callback() = nullptr;
    return;
  }
  if (fn == gp_log_drop) {
    gp::set_log_callback(nullptr);
    return;
  }
  gp::set_log_callback([fn, user](std::string_view note) {
    const std::string line(note);
    fn(line.c_str(), user);
  });
}

}  // extern "C"
