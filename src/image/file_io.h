// Whole-file reads and whole-file writes as cp writes them, with errors naming the file.
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

// Writes `bytes` to `file` the way cp and ImageMagick do, symlinks followed:
//  - an existing regular file is truncated and written in place, so its inode, hard
//    links, mode and owner stay; if writing fails (disk full) it is emptied and, unless
//    other hard links name it, removed;
//  - a FIFO or a character or block device is written as a stream (/dev/null, a pipe);
//  - a name of one of this process's descriptors (/dev/stdout, /dev/fd/N) is written
//    to that descriptor as it is open, whatever it is open on (a pipe, `> x.png`,
//    `>> log`): the shell, not this program, chose truncation or appending;
//  - a new file is written to a temporary file in the same folder, flushed and renamed
//    into place, so it appears whole or not at all (0666 minus the umask).
// Throws gp::Error (kind Io) naming `file` and the reason.
void write_file(const std::filesystem::path& file, std::span<const uint8_t> bytes);

// Checks, before any work, that write_file(file) can be attempted: a name is given, it
// is not a folder, an existing file is writable, or the folder of a new file exists and
// is writable. Throws gp::Error (kind Io; Argument for an empty name) naming `file`.
void check_writable(const std::filesystem::path& file);

// True when `file` exists (symlinks followed) and is a FIFO, character or block device,
// or names one of this process's open descriptors (/dev/stdout, /dev/stderr, /dev/fd/N,
// /proc/self/fd/N) whatever it is open on (`-o /dev/stdout > x.png`): a stream, which
// takes any format whatever its name.
bool is_stream(const std::filesystem::path& file);

// Checks an output's name before any work: a stream takes any name, a file must end in
// `extension` (case aside) of the format written. Throws gp::Error (kind Argument)
// "<file>: this is written as PNG: name the file .png".
void check_output_name(const std::filesystem::path& file, const char* extension, const char* format);

}  // namespace gp
