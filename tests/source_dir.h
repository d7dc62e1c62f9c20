// The repository the tests read their files from (tests/fixtures, examples/samples):
// $GP_SOURCE_DIR when it is set, else the tree they were built from. The variable lets
// test binaries built on one machine run from a copy of the repository on another
// (scripts/gpu_bundle.sh carries them to a GPU machine; its run.sh sets it).
#pragma once

#include <cstdlib>
#include <filesystem>

#ifndef GP_SOURCE_DIR
#error "GP_SOURCE_DIR (the source tree, a compile definition) is needed by tests/source_dir.h"
#endif

namespace gp::test {

inline std::filesystem::path source_dir() {
  if (const char* env = std::getenv("GP_SOURCE_DIR"); env && *env) return env;
  return GP_SOURCE_DIR;
}

}  // namespace gp::test
