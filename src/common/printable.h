// Text from a file (tensor names, metadata, a JSON parser's excerpt) made safe to print:
// control bytes and bytes outside ASCII become \xNN, so a corrupt file never writes raw
// bytes to a terminal or a log.
#pragma once

#include <string>
#include <string_view>

namespace gp {

inline std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace gp
