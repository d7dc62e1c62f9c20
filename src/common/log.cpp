#include "src/common/log.h"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "guidingpainter/guidingpainter.h"
#include "guidingpainter/guidingpainter.hpp"

namespace gp {
namespace {

// Never destroyed: a note may come while the process exits.
struct LogState {
  std::mutex mutex;
  bool set = false;                             // set: the callback decides (none: dropped); unset: stderr
  std::shared_ptr<const LogCallback> callback;  // shared, so a note in flight keeps its own
};
LogState& state() {
  static LogState* s = new LogState;
  return *s;
}

void set(bool is_set, LogCallback f) {
  auto callback = f ? std::make_shared<const LogCallback>(std::move(f)) : nullptr;
  LogState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.set = is_set;
  s.callback = std::move(callback);
}

}  // namespace

void set_log_callback(LogCallback f) { set(true, std::move(f)); }

void log_note(std::string_view note) {
  std::shared_ptr<const LogCallback> f;
  {
    LogState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.set) {
      std::fprintf(stderr, "guidingpainter: %.*s\n", int(note.size()), note.data());
      return;
    }
    f = s.callback;  // called outside the lock: it may set another callback
  }
  if (!f) return;
  try {
    (*f)(note);
  } catch (...) {
    // A note is never worth a failed call.
  }
}

}  // namespace gp

extern "C" {

void gp_log_drop(const char*, void*) {}

void gp_set_log_callback(gp_log_fn fn, void* user) {
  if (!fn) return gp::set(false, nullptr);
  if (fn == gp_log_drop) return gp::set(true, nullptr);
  gp::set(true, [fn, user](std::string_view note) {
    const std::string line(note);
    fn(line.c_str(), user);
  });
}

}  // extern "C"
