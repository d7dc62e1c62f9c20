#include "src/image/npy.h"

#include <bit>
#include <cstring>

#include "src/common/error.h"
#include "src/image/file_io.h"

namespace gp {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy writer assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6, kAlign = 64, kGrowthAxisMaxDigits = 21;

const char* descr(NpyType type) {
  switch (type) {
    case NpyType::Float32: return "<f4";
    case NpyType::Int32: return "<i4";
    case NpyType::UInt8: return "|u1";
  }
  return "?";
}
size_t element_size(NpyType type) { return type == NpyType::UInt8 ? 1 : 4; }

size_t product(const std::vector<size_t>& shape) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

// Python's repr of a tuple of ints: "()", "(5,)", "(2, 3)".
std::string shape_repr(const std::vector<size_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

template <class T> void write_typed(const std::filesystem::path& file, NpyType type, std::span<const T> data,
                                    const std::vector<size_t>& shape) {
  if (data.size() != product(shape))
    throw Error(ErrorKind::Argument,
                file.string() + ": " + std::to_string(data.size()) + " values for shape " + shape_repr(shape));
  write_file(file, npy_encode(type, data.data(), shape));
}

}  // namespace

std::vector<uint8_t> npy_encode(NpyType type, const void* data, const std::vector<size_t>& shape) {
  std::string header =
      std::string("{'descr': '") + descr(type) + "', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
  if (!shape.empty()) header.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');
  // numpy's rule: pad = 64 - (10 + len + 1) % 64, so a full 64 when already aligned.
  const size_t pad = kAlign - (kMagicLen + 4 + header.size() + 1) % kAlign;
  header.append(pad, ' ');
  header += '\n';
  if (header.size() > 65535)
    throw Error(ErrorKind::Argument, "npy: header of " + std::to_string(header.size()) + " bytes for shape " +
                                         shape_repr(shape) + " does not fit format 1.0");
  const size_t bytes = product(shape) * element_size(type);
  const size_t prefix = kMagicLen + 4;
  std::vector<uint8_t> out(prefix + header.size() + bytes);
  std::memcpy(out.data(), kMagic, kMagicLen);
  out[6] = 1;  // version 1.0
  out[7] = 0;
  out[8] = uint8_t(header.size() & 0xFF);
  out[9] = uint8_t(header.size() >> 8);
  std::memcpy(out.data() + prefix, header.data(), header.size());
  if (bytes) std::memcpy(out.data() + prefix + header.size(), data, bytes);
  return out;
}

void write_npy(const std::filesystem::path& file, std::span<const float> data, const std::vector<size_t>& shape) {
  write_typed(file, NpyType::Float32, data, shape);
}
void write_npy(const std::filesystem::path& file, std::span<const int32_t> data, const std::vector<size_t>& shape) {
  write_typed(file, NpyType::Int32, data, shape);
}
void write_npy(const std::filesystem::path& file, std::span<const uint8_t> data, const std::vector<size_t>& shape) {
  write_typed(file, NpyType::UInt8, data, shape);
}

size_t NpyArray::size() const { return product(shape); }

namespace {
template <class T> std::vector<T> typed(const NpyArray& a, NpyType want) {
  if (a.type != want)
    throw Error(ErrorKind::Format, std::string("npy: array is ") + descr(a.type) + ", not " + descr(want));
  std::vector<T> v(a.data.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), a.data.data(), v.size() * sizeof(T));
  return v;
}
}  // namespace
std::vector<float> NpyArray::floats() const { return typed<float>(*this, NpyType::Float32); }
std::vector<int32_t> NpyArray::int32s() const { return typed<int32_t>(*this, NpyType::Int32); }
std::vector<uint8_t> NpyArray::uint8s() const { return typed<uint8_t>(*this, NpyType::UInt8); }

NpyArray npy_decode(std::span<const uint8_t> bytes, std::string_view name) {
  const std::string n(name);
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::Format, n + ": not a .npy file this reader accepts (" + why + ")");
  };
  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) throw bad("no magic");
  const int major = bytes[6];
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = bytes[8] | size_t(bytes[9]) << 8;
    start = 10;
  } else if (major == 2) {
    if (bytes.size() < 12) throw bad("truncated");
    header_len = bytes[8] | size_t(bytes[9]) << 8 | size_t(bytes[10]) << 16 | size_t(bytes[11]) << 24;
    start = 12;
  } else {
    throw bad("version " + std::to_string(major));
  }
  if (bytes.size() - start < header_len) throw bad("truncated header");
  const std::string header(reinterpret_cast<const char*>(bytes.data() + start), header_len);

  NpyArray a;
  auto value_of = [&](const std::string& key) -> std::string {
    const size_t k = header.find("'" + key + "':");
    if (k == std::string::npos) throw bad("no '" + key + "'");
    size_t v = k + key.size() + 3;
    while (v < header.size() && header[v] == ' ') ++v;
    return header.substr(v);
  };
  const std::string d = value_of("descr");
  if (d.rfind("'<f4'", 0) == 0) a.type = NpyType::Float32;
  else if (d.rfind("'<i4'", 0) == 0) a.type = NpyType::Int32;
  else if (d.rfind("'|u1'", 0) == 0) a.type = NpyType::UInt8;
  else throw bad("dtype " + d.substr(0, d.find(',')));
  if (value_of("fortran_order").rfind("False", 0) != 0) throw bad("Fortran order");
  const std::string s = value_of("shape");
  if (s.empty() || s[0] != '(') throw bad("shape");
  size_t i = 1;
  while (i < s.size() && s[i] != ')') {
    if (s[i] == ' ' || s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') throw bad("shape");
    size_t dim = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (dim > (SIZE_MAX - 9) / 10) throw bad("shape");
      dim = dim * 10 + size_t(s[i++] - '0');
    }
    a.shape.push_back(dim);
  }
  if (i >= s.size()) throw bad("shape");
  size_t count = 1;
  for (size_t dim : a.shape) {
    if (dim && count > SIZE_MAX / dim) throw bad("shape too large");
    count *= dim;
  }
  const size_t data_start = start + header_len, available = bytes.size() - data_start;
  if (count > available / element_size(a.type) || count * element_size(a.type) != available)
    throw bad(std::to_string(available) + " data bytes for shape " + shape_repr(a.shape));
  a.data.assign(bytes.begin() + std::ptrdiff_t(data_start), bytes.end());
  return a;
}

NpyArray read_npy(const std::filesystem::path& file) { return npy_decode(read_file(file), file.string()); }

}  // namespace gp
