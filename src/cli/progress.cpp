#include "src/cli/progress.h"

#include <signal.h>

#include <cstdio>

namespace gp::cli {

static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler stores to g_cancel");
std::atomic<bool> g_cancel{false};
namespace {
std::atomic<int> g_signal{0};

extern "C" void on_cancel_signal(int sig) {
  if (g_cancel.load()) {  // asked twice: stop now
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  g_signal.store(sig);
  g_cancel.store(true);
}
}  // namespace

int cancel_signal() { return g_signal.load(); }

void install_cancel_signals() {
  struct sigaction action {};
  action.sa_handler = on_cancel_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

ProgressLine::ProgressLine(bool terminal) : terminal_(terminal) {
  if (terminal_) ticker_ = std::thread([this] { tick(); });
}

ProgressLine::~ProgressLine() { finish(); }

ProgressCallback ProgressLine::callback() {
  return [this](const char* stage, int done, int total) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stage_ = stage;
      done_ = done;
      total_ = total;
      draw(!terminal_);
    }
    return !g_cancel.load();
  };
}

void ProgressLine::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    stop_ = true;
    if (terminal_ && drawn_) std::fputs("\r\033[K", stderr);
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

// Under mutex_.
void ProgressLine::draw(bool newline) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (terminal_) std::fputs("\r\033[K", stderr);
  if (total_ > 0) std::fprintf(stderr, "%s %d/%d  %.1f s", stage_.c_str(), done_, total_, seconds);
  else std::fprintf(stderr, "%s  %.1f s", stage_.c_str(), seconds);
  std::fputs(newline ? "\n" : "", stderr);
  std::fflush(stderr);
  drawn_ = true;
}

// The clock keeps moving on a terminal while a long launch runs.
void ProgressLine::tick() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; })) draw(false);
}

}  // namespace gp::cli
