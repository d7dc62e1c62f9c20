// The one exception type of the library.
#pragma once

#include <stdexcept>
#include <string>

namespace gp {

// What kind of failure an Error is, for callers that act on it. The values are the C
// API's gp_status codes (guidingpainter.h), one for one.
enum class ErrorKind {
  Argument = 1,     // a bad argument or option: a rank out of range, a bad size, an unknown name
  Failed = 2,       // none of the others
  Io = 3,           // a file cannot be opened, read or written
  Format = 4,       // a file is not a valid model (safetensors, tensor names and shapes) or image
  Device = 5,       // the CUDA device: none, not the one asked for, or a launch or copy failed
  OutOfMemory = 6,  // device, page-locked or host memory ran out
  Cancelled = 7,    // a progress callback or the session's cancel flag asked to stop
};

// The kind's name, as the Python module's gp.Error.kind and the C API's gp_status_name
// (upper-cased, after "GP_ERROR_") spell it: "argument", "failed", "io", "format",
// "device", "out_of_memory", "cancelled".
constexpr const char* error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Argument: return "argument";
    case ErrorKind::Failed: return "failed";
    case ErrorKind::Io: return "io";
    case ErrorKind::Format: return "format";
    case ErrorKind::Device: return "device";
    case ErrorKind::OutOfMemory: return "out_of_memory";
    case ErrorKind::Cancelled: return "cancelled";
  }
  return "failed";
}

// The message names the file, tensor or argument and what was expected.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace gp
