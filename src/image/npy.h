// NumPy .npy files (format version 1.0): little-endian float32 ('<f4'), int32
// ('<i4') and uint8 ('|u1') arrays in C order, for dumping tensors to inspect in Python.
//
// The header is byte for byte what numpy >= 1.24 writes: the dict
// "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", then numpy's spare
// spaces for growing the first axis (21 - digits of shape[0]), then spaces and a
// final '\n' so the data starts at a multiple of 64 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gp {

enum class NpyType { Float32, Int32, UInt8 };

// The whole file: header then data. data holds product(shape) elements of `type`.
// Throws gp::Error if the header would not fit version 1.0 (65535 bytes).
std::vector<uint8_t> npy_encode(NpyType type, const void* data, const std::vector<size_t>& shape);

// Written by write_file (file_io.h). Throws gp::Error naming the file, also when
// data.size() differs from the product of shape.
//   gp::write_npy("raw.npy", chw, {3, size_t(h), size_t(w)});
void write_npy(const std::filesystem::path& file, std::span<const float> data, const std::vector<size_t>& shape);
void write_npy(const std::filesystem::path& file, std::span<const int32_t> data, const std::vector<size_t>& shape);
void write_npy(const std::filesystem::path& file, std::span<const uint8_t> data, const std::vector<size_t>& shape);

// A .npy file read back: for tests and tools. Only what the writer produces is
// accepted: versions 1.0 and 2.0, the three types above, C order.
struct NpyArray {
  NpyType type = NpyType::Float32;
  std::vector<size_t> shape;
  std::vector<uint8_t> data;  // raw little-endian elements

  size_t size() const;                  // number of elements
  std::vector<float> floats() const;    // throws gp::Error unless Float32
  std::vector<int32_t> int32s() const;  // throws gp::Error unless Int32
  std::vector<uint8_t> uint8s() const;  // throws gp::Error unless UInt8
};
NpyArray npy_decode(std::span<const uint8_t> bytes, std::string_view name = "<memory>");
NpyArray read_npy(const std::filesystem::path& file);

}  // namespace gp
