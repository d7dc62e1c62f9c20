// Whole-file reads and atomic whole-file writes, with errors naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace gp {

// The file's bytes. Throws gp::Error "<file>: cannot open: <reason>" or
// "<file>: larger than <max_bytes> bytes".
std::vector<uint8_t> read_file(const std::filesystem::path& file, size_t max_bytes = SIZE_MAX);

// Writes `bytes` to a new temporary file next to `file` (same directory, so the same
// file system), flushes it to disk, then renames it over `file`. On any failure the
// temporary file is removed, `file` is untouched and gp::Error names `file` and the
// reason. The new file's permissions are 0666 minus the umask, like any new file.
void write_file_atomically(const std::filesystem::path& file, std::span<const uint8_t> bytes);

}  // namespace gp
