// The one exception type of the library.
#pragma once

#include <stdexcept>
#include <string>

namespace gp {

// What kind of failure an Error is, for callers that act on it (the C API's gp_status
// codes are these, one for one).
enum class ErrorKind {
  Failed,       // none of the below
  Argument,     // a bad argument or option: a rank out of range, a bad size, an unknown name
  Io,           // a file cannot be opened, read or written
  Format,       // a file is not a valid model (safetensors, tensor names and shapes) or image
  Device,       // the CUDA device: none, not the one asked for, or a launch or copy failed
  OutOfMemory,  // device, page-locked or host memory ran out
  Cancelled,    // a progress callback asked to stop
};

// The message names the file, tensor or argument and what was expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, ErrorKind kind = ErrorKind::Failed)
      : std::runtime_error(what), kind_(kind) {}
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace gp
