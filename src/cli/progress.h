// The command line's progress and Ctrl-C: a progress line on stderr while the networks
// run (redrawn in place on a terminal, with the time so far; one line per report with
// --progress when stderr is not a terminal), and SIGINT / SIGTERM turned into a
// cancel flag the engine checks between launches (the simulator between thread blocks).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "guidingpainter/guidingpainter.hpp"

namespace gp::cli {

// Set by SIGINT or SIGTERM once install_cancel_signals() ran; a second signal ends the
// process the default way.
extern std::atomic<bool> g_cancel;
// The signal that set g_cancel (0: none).
int cancel_signal();
void install_cancel_signals();

class ProgressLine {
 public:
  // terminal: redraw one line in place (and tick the clock); otherwise one line per report.
  explicit ProgressLine(bool terminal);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // A SessionOptions::progress callback: reports, and returns false once cancelled.
  ProgressCallback callback();
  // Clears the line (terminal) before the command's own output.
  void finish();

 private:
  void draw(bool newline);
  void tick();

  const bool terminal_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string stage_ = "starting";
  int done_ = 0, total_ = 0;
  bool stop_ = false, drawn_ = false;
  std::thread ticker_;
};

}  // namespace gp::cli
