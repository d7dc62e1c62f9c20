#include "src/weights/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

#include "src/common/error.h"
#include "src/common/printable.h"

namespace gp {

namespace {

using json = nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";
// Deepest JSON container a valid header has: root object (0) > tensor entry (1) > shape
// or data_offsets array (2). Refusing deeper nesting while parsing keeps hostile headers
// ("[[[[...") from building huge trees.
constexpr int kMaxContainerDepth = 2;

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr std::array<DTypeInfo, 15> kDTypes = {{
    {DType::BOOL, "BOOL", 1},
    {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},
    {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::F8_E4M3, "F8_E4M3", 1},
    {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},
    {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
    {DType::F64, "F64", 8},
}};

const DTypeInfo& dtype_info(DType dtype) { return kDTypes[static_cast<size_t>(dtype)]; }

// A JSON value quoted in an error message, cut short: a hostile header can hold
// megabytes in one value.
std::string quote_json(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

// A name from the file quoted in an error message, cut short for the same reason.
std::string quote_name(std::string_view name) {
  constexpr size_t kMax = 120;
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
  std::string out = "'";
  out += printable(name.substr(0, kMax));
  if (name.size() > kMax) out += "...";
  out += '\'';
  return out;
}

// A non-negative JSON integer that fits in 64 bits (unsigned or a non-negative signed).
std::optional<uint64_t> as_count(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return static_cast<uint64_t>(value.get<int64_t>());
  return std::nullopt;
}

// The header as JSON; throws for invalid JSON, duplicate keys and excess nesting.
json parse_header_json(std::string_view text, const std::string& file) {
  // One set of keys per open object, to refuse duplicates (nlohmann keeps the last).
  std::vector<std::set<std::string, std::less<>>> open_objects;
  std::string tensor;  // the current top-level key, to name it in messages
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth > kMaxContainerDepth) {
          throw Error(ErrorKind::Format, file + ": header nests JSON deeper than safetensors allows" +
                                             (tensor.empty() ? std::string() : " (in " + quote_name(tensor) + ")"));
        }
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (open_objects.empty()) break;
        if (!open_objects.back().insert(key).second) {
          if (depth == 1) {
            throw Error(ErrorKind::Format,
                        file + ": " +
                            (key == kMetadataKey ? std::string("__metadata__") : "tensor " + quote_name(key)) +
                            " appears twice in the header");
          }
          throw Error(ErrorKind::Format, file + ": key " + quote_name(key) + " appears twice in " +
                                             (tensor == kMetadataKey ? std::string("__metadata__")
                                                                     : "the entry of tensor " + quote_name(tensor)));
        }
        if (depth == 1) tensor = key;
        break;
      }
      default: break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Format, file + ": header is not valid JSON (" + printable(e.what()) + ")");
  }
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin;
  uint64_t end;
};

Entry check_entry(const std::string& file, const std::string& name, const json& entry) {
  const std::string tensor = "tensor " + quote_name(name);
  if (!entry.is_object()) {
    throw Error(
        ErrorKind::Format,
        file + ": " + tensor + " must be an object with dtype, shape and data_offsets, got " + quote_json(entry));
  }
  const bool exact_fields =
      entry.size() == 3 && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets");
  if (!exact_fields) {
    std::string fields;
    for (const auto& item : entry.items()) fields += (fields.empty() ? "" : ", ") + quote_name(item.key());
    throw Error(
        ErrorKind::Format,
        file + ": " + tensor + " must have exactly the fields dtype, shape and data_offsets, it has [" + fields + "]");
  }
  Entry out;
  out.name = name;

  const json& dtype = entry["dtype"];
  if (!dtype.is_string())
    throw Error(ErrorKind::Format, file + ": " + tensor + " has dtype " + quote_json(dtype) + ", expected a string");
  const auto parsed = parse_dtype(dtype.get_ref<const std::string&>());
  if (!parsed) throw Error(ErrorKind::Format, file + ": " + tensor + " has unknown dtype " + quote_json(dtype));
  out.dtype = *parsed;

  const json& shape = entry["shape"];
  if (!shape.is_array()) {
    throw Error(ErrorKind::Format, file + ": " + tensor + " has shape " + quote_json(shape) +
                                       ", expected an array of non-negative integers");
  }
  uint64_t numel = 1;
  bool overflow = false;
  for (const json& dim : shape) {
    const auto value = as_count(dim);
    if (!value) {
      throw Error(ErrorKind::Format, file + ": " + tensor + " has shape " + quote_json(shape) +
                                         ", expected an array of non-negative integers");
    }
    if (*value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error(ErrorKind::Format,
                  file + ": " + tensor + " has a dimension of " + std::to_string(*value) + ", too large");
    }
    out.shape.push_back(static_cast<int64_t>(*value));
    // Like the reference: the running product must not overflow, even before a 0.
    overflow = overflow || __builtin_mul_overflow(numel, *value, &numel);
  }
  uint64_t nbytes = 0;
  if (overflow || __builtin_mul_overflow(numel, dtype_size(out.dtype), &nbytes)) {
    throw Error(ErrorKind::Format,
                file + ": " + tensor + " has shape " + format_shape(out.shape) + " whose size overflows 64 bits");
  }

  const json& offsets = entry["data_offsets"];
  std::optional<uint64_t> begin, end;
  if (offsets.is_array() && offsets.size() == 2) {
    begin = as_count(offsets[0]);
    end = as_count(offsets[1]);
  }
  if (!begin || !end) {
    throw Error(ErrorKind::Format, file + ": " + tensor + " has data_offsets " + quote_json(offsets) +
                                       ", expected [begin, end] with non-negative integers");
  }
  if (*end < *begin) {
    throw Error(ErrorKind::Format, file + ": " + tensor + " has data_offsets [" + std::to_string(*begin) + ", " +
                                       std::to_string(*end) + "] that end before they begin");
  }
  if (*end - *begin != nbytes) {
    throw Error(ErrorKind::Format, file + ": " + tensor + " has data_offsets [" + std::to_string(*begin) + ", " +
                                       std::to_string(*end) + "] but " + std::string(dtype_name(out.dtype)) + " " +
                                       format_shape(out.shape) + " needs " + std::to_string(nbytes) + " bytes");
  }
  out.begin = *begin;
  out.end = *end;
  return out;
}

SafetensorsMetadata check_metadata(const std::string& file, const json& value) {
  SafetensorsMetadata metadata;
  if (value.is_null()) return metadata;  // the reference reads a null __metadata__ as none
  if (!value.is_object()) {
    throw Error(ErrorKind::Format, file + ": __metadata__ must map strings to strings, got " + quote_json(value));
  }
  for (const auto& item : value.items()) {
    if (!item.value().is_string()) {
      throw Error(ErrorKind::Format, file + ": __metadata__ must map strings to strings, but " +
                                         quote_name(item.key()) + " is " + quote_json(item.value()));
    }
    metadata.emplace(item.key(), item.value().get<std::string>());
  }
  return metadata;
}

std::string offsets_text(const Entry& entry) {
  return "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
}

}  // namespace

std::string_view dtype_name(DType dtype) { return dtype_info(dtype).name; }

size_t dtype_size(DType dtype) { return dtype_info(dtype).size; }

std::optional<DType> parse_dtype(std::string_view tag) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.name == tag) return info.dtype;
  }
  return std::nullopt;
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  const uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  uint32_t out;
  if (exponent == 0x1F) {
    out = sign | 0x7F800000u | (mantissa << 13);  // infinity, or NaN keeping its payload
  } else {
    out = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(out);
}

float bfloat16_to_float(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // cannot overflow: checked when the header was parsed
  return n;
}

std::string TensorView::describe() const { return std::string(dtype_name(dtype)) + " " + format_shape(shape); }

std::string format_shape(std::span<const int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(shape[i]);
  }
  out += ']';
  return out;
}

// ----------------------------------------------------------------------------- MappedFile

MappedFile MappedFile::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorKind::Io, name + ": cannot open (" + std::generic_category().message(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(ErrorKind::Io, name + ": cannot stat (" + std::generic_category().message(err) + ")");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorKind::Io, name + ": not a regular file");
  }
  MappedFile out;
  if (st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (p == MAP_FAILED)
      throw Error(ErrorKind::Io, name + ": cannot map (" + std::generic_category().message(err) + ")");
    out.data_ = static_cast<const std::byte*>(p);
    out.size_ = static_cast<size_t>(st.st_size);
  } else {
    ::close(fd);
  }
  return out;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
}

// ----------------------------------------------------------------------------- SafetensorsFile

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  MappedFile mapping = MappedFile::open(path);
  const std::span<const std::byte> bytes = mapping.bytes();
  SafetensorsFile file = parse(bytes, path.string());
  file.mapping_ = std::move(mapping);  // the views keep pointing at the same pages
  return file;
}

namespace {

// True when the bytes after the 8-byte size start a JSON object, as a safetensors header
// does, or could (nothing after the size: a file cut short).
bool json_object_follows(std::span<const std::byte> bytes) {
  if (bytes.size() <= 8) return true;
  for (size_t i = 8; i < bytes.size(); ++i) {
    const char c = static_cast<char>(bytes[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

// What a file's first bytes look like: a known kind, its text, or its bytes in hex.
std::string describe_start(std::span<const std::byte> bytes) {
  auto starts = [&](std::string_view magic) {
    return bytes.size() >= magic.size() && std::memcmp(bytes.data(), magic.data(), magic.size()) == 0;
  };
  if (starts("PK\x03\x04"))
    return "\"PK\", a ZIP archive: a PyTorch .pt checkpoint? tools/convert_checkpoint.py converts one";
  if (starts("\x80\x02") || starts("\x80\x03") || starts("\x80\x04") || starts("\x80\x05"))
    return "a Python pickle: an old PyTorch checkpoint? tools/convert_checkpoint.py converts one";
  if (starts("\x89PNG")) return "\"\\x89PNG\", a PNG picture";
  if (starts("\xff\xd8\xff")) return "\xff\xd8\xff, a JPEG picture";
  const size_t n = std::min<size_t>(bytes.size(), 16);
  bool text = true;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    text = text && ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r');
  }
  std::string out;
  if (text) {
    out = "the text \"";
    for (size_t i = 0; i < n; ++i) {
      const char c = static_cast<char>(bytes[i]);
      out += c == '\n'   ? std::string("\\n")
             : c == '\t' ? std::string("\\t")
             : c == '\r' ? std::string("\\r")
                         : std::string(1, c);
    }
    return out + (bytes.size() > n ? "...\"" : "\"");
  }
  static const char* hex = "0123456789abcdef";
  out = "the bytes";
  for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += ' ';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> bytes, std::string display_name) {
  const std::string& file = display_name;
  const uint64_t size = bytes.size();
  if (size < 8) {
    throw Error(ErrorKind::Format,
                file + ": file is " + std::to_string(size) + " bytes, too short for the 8-byte header size");
  }
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  // A header size that cannot be right, and no JSON object after it: some other file
  // (a README, a picture, a PyTorch checkpoint), named as such rather than by its
  // impossible "header size".
  if ((header_size > kMaxHeaderBytes || header_size > size - 8) && !json_object_follows(bytes))
    throw Error(ErrorKind::Format, file + ": not a safetensors file (it begins with " + describe_start(bytes) + ")");
  if (header_size > kMaxHeaderBytes) {
    throw Error(ErrorKind::Format, file + ": header size " + std::to_string(header_size) + " exceeds the limit of " +
                                       std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_size > size - 8) {
    throw Error(ErrorKind::Format, file + ": header size " + std::to_string(header_size) + " does not fit in a " +
                                       std::to_string(size) + "-byte file (truncated file?)");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, static_cast<size_t>(header_size));
  const json header = parse_header_json(text, file);
  if (!header.is_object()) {
    throw Error(ErrorKind::Format, file + ": header must be a JSON object, got " + std::string(header.type_name()));
  }

  SafetensorsFile out;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& item : header.items()) {
    if (item.key() == kMetadataKey) {
      out.metadata_ = check_metadata(file, item.value());
    } else {
      entries.push_back(check_entry(file, item.key(), item.value()));
    }
  }

  // Data must tile [0, data size) exactly, in offset order, as the reference demands.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const uint64_t data_size = size - 8 - header_size;
  uint64_t position = 0;
  const Entry* previous = nullptr;
  for (const Entry& entry : entries) {
    if (entry.begin > position) {
      throw Error(ErrorKind::Format, file + ": hole of " + std::to_string(entry.begin - position) +
                                         " bytes before tensor " + quote_name(entry.name) + " (data_offsets " +
                                         offsets_text(entry) + "; the data before it ends at " +
                                         std::to_string(position) + ")");
    }
    if (entry.begin < position) {
      throw Error(ErrorKind::Format, file + ": tensor " + quote_name(entry.name) + " with data_offsets " +
                                         offsets_text(entry) + " overlaps tensor " + quote_name(previous->name) +
                                         " with data_offsets " + offsets_text(*previous));
    }
    position = entry.end;
    previous = &entry;
  }
  if (position > data_size) {
    throw Error(ErrorKind::Format, file + ": tensors need " + std::to_string(position) +
                                       " bytes of data but the file has " + std::to_string(data_size) +
                                       " after the header (truncated file?)");
  }
  if (position < data_size) {
    throw Error(ErrorKind::Format, file + ": file has " + std::to_string(data_size - position) +
                                       " bytes after the last tensor (data section is " + std::to_string(data_size) +
                                       " bytes, tensors cover " + std::to_string(position) + ")");
  }

  const std::byte* data = bytes.data() + 8 + header_size;
  out.tensors_.reserve(entries.size());
  for (Entry& entry : entries) {
    out.tensors_.push_back(TensorView{std::move(entry.name), entry.dtype, std::move(entry.shape),
                                      std::span<const std::byte>(data + entry.begin, entry.end - entry.begin)});
  }
  std::sort(out.tensors_.begin(), out.tensors_.end(),
            [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
  out.display_name_ = std::move(display_name);
  out.header_bytes_ = header_size;
  out.file_bytes_ = size;
  return out;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorView& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorView& SafetensorsFile::at(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  throw Error(ErrorKind::Format, display_name_ + ": no tensor " + quote_name(name));
}

std::optional<std::string_view> SafetensorsFile::metadata_value(std::string_view key) const {
  const auto it = metadata_.find(key);
  if (it == metadata_.end()) return std::nullopt;
  return std::string_view(it->second);
}

// ----------------------------------------------------------------------------- decoding

void decode_to_float(const SafetensorsFile& file, const TensorView& tensor, std::span<float> out) {
  static_assert(std::endian::native == std::endian::little, "tensor data is little-endian");
  if (tensor.dtype != DType::F32 && tensor.dtype != DType::F16 && tensor.dtype != DType::BF16) {
    throw Error(ErrorKind::Format, file.display_name() + ": tensor " + quote_name(tensor.name) + " has dtype " +
                                       std::string(dtype_name(tensor.dtype)) + ", expected F32, F16 or BF16");
  }
  const size_t n = static_cast<size_t>(tensor.numel());
  if (out.size() != n) {
    throw Error(ErrorKind::Format, file.display_name() + ": decoding tensor " + quote_name(tensor.name) + " (" +
                                       tensor.describe() + ") into " + std::to_string(out.size()) + " floats");
  }
  const std::byte* src = tensor.bytes.data();
  if (tensor.dtype == DType::F32) {
    if (n) std::memcpy(out.data(), src, n * sizeof(float));
    return;
  }
  const bool half = tensor.dtype == DType::F16;
  for (size_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, src + 2 * i, 2);
    out[i] = half ? half_to_float(bits) : bfloat16_to_float(bits);
  }
}

std::vector<float> decode_to_float(const SafetensorsFile& file, const TensorView& tensor) {
  std::vector<float> out(static_cast<size_t>(tensor.numel()));
  decode_to_float(file, tensor, out);
  return out;
}

}  // namespace gp
