// A strict, zero-copy reader of safetensors files.
//
// File layout: u64 little-endian N, N bytes of UTF-8 JSON header, then the data section.
// Header: {name: {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}, ...,
//          "__metadata__": {str: str}}   (offsets relative to the start of the data section)
//
// Everything the reference implementation (huggingface safetensors) checks is checked
// here, plus duplicate JSON keys and unknown entry fields (as tools/safetensors_io.py
// does): a file either parses completely or throws gp::Error whose message starts with
// the file's display name and names the tensor and the expected vs actual values, e.g.
//   "model.safetensors: tensor 'x' has data_offsets [0, 12] but F32 [2,2] needs 16 bytes".
//
// Tensor bytes are never copied: a TensorView points into the memory map (open) or into
// the caller's buffer (parse). The data section need not be aligned; read elements with
// memcpy or the decode helpers below, never by casting the pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gp {

// The safetensors element types with a whole number of bytes per element.
enum class DType : uint8_t { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

// "F32", "BF16", ...
std::string_view dtype_name(DType dtype);
// Bytes per element: 1, 2, 4 or 8.
size_t dtype_size(DType dtype);
// The DType of a header tag; nullopt for a tag this reader does not know.
std::optional<DType> parse_dtype(std::string_view tag);

// IEEE binary16 and bfloat16 bit patterns to float; exact for every input (subnormals,
// signed zeros, infinities; NaNs stay NaN).
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

// One tensor of a parsed file. `bytes` points into the file's mapping (or the buffer
// given to parse) and stays valid as long as the SafetensorsFile (or that buffer) lives.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;        // row-major; [] is a scalar
  std::span<const std::byte> bytes;  // exactly numel() * dtype_size(dtype) bytes, any alignment

  int64_t numel() const;  // product of shape (1 for a scalar)
  // e.g. "F32 [64,1,3,3]"
  std::string describe() const;
};

// "[64,1,3,3]"
std::string format_shape(std::span<const int64_t> shape);

// A read-only memory mapping of a whole file. Move-only; unmaps on destruction.
class MappedFile {
 public:
  // Maps `path` read-only. Throws gp::Error naming the path if it cannot be opened, is
  // not a regular file or cannot be mapped. An empty file gives an empty span.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

using SafetensorsMetadata = std::map<std::string, std::string, std::less<>>;

// A parsed safetensors file. Immutable after construction; move-only (a move keeps
// every TensorView valid, the mapping does not move).
class SafetensorsFile {
 public:
  // A header larger than this is rejected before it is parsed (the reference limit).
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  // Maps and parses `path`; error messages start with the path as given.
  // Throws gp::Error for a file that cannot be read or is not valid safetensors.
  static SafetensorsFile open(const std::filesystem::path& path);

  // Parses a file already in memory. Does not copy or own `bytes`: the caller keeps the
  // buffer alive as long as the returned object's TensorViews are used. `display_name`
  // starts every error message (e.g. "model.safetensors" or "<fuzz input>").
  static SafetensorsFile parse(std::span<const std::byte> bytes, std::string display_name);

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile() = default;

  // The name used in error messages (the path for open).
  const std::string& display_name() const { return display_name_; }

  // Every tensor, sorted by name.
  std::span<const TensorView> tensors() const { return tensors_; }
  // The tensor called `name`, or nullptr.
  const TensorView* find(std::string_view name) const;
  // The tensor called `name`; throws gp::Error "<file>: no tensor '<name>'" if absent.
  const TensorView& at(std::string_view name) const;

  // "__metadata__" (empty when the file has none).
  const SafetensorsMetadata& metadata() const { return metadata_; }
  // One metadata value, or nullopt; the view lives as long as this object.
  std::optional<std::string_view> metadata_value(std::string_view key) const;

  // Header size N, and the whole file's size in bytes.
  uint64_t header_bytes() const { return header_bytes_; }
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  SafetensorsFile() = default;

  MappedFile mapping_;  // empty for parse()
  std::string display_name_;
  std::vector<TensorView> tensors_;
  SafetensorsMetadata metadata_;
  uint64_t header_bytes_ = 0;
  uint64_t file_bytes_ = 0;
};

// Converts an F32, F16 or BF16 tensor to float (exactly), in row-major order, into `out`
// (numel() elements). Throws gp::Error naming `file` and the tensor for any other dtype
// or a size mismatch.
void decode_to_float(const SafetensorsFile& file, const TensorView& tensor, std::span<float> out);
std::vector<float> decode_to_float(const SafetensorsFile& file, const TensorView& tensor);

}  // namespace gp
