// The kind of gp::Error a call throws, for tests of the library's errors.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "guidingpainter/error.hpp"

namespace gp::test {

// The kind of the gp::Error that f throws (its message into *message when given); a test
// failure and ErrorKind::Failed when f throws nothing.
inline ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no gp::Error";
  return ErrorKind::Failed;
}

}  // namespace gp::test
