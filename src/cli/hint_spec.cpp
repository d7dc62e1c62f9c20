#include "src/cli/hint_spec.h"

#include <charconv>
#include <cstdio>

namespace gp::cli {
namespace {

bool parse_int(std::string_view text, int* v) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

bool parse_colour_hex(std::string_view hex, Rgb* colour, std::string* why) {
  const auto hex_digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.empty() || hex.front() != '#') return *why = "the colour starts with '#'", false;
  hex.remove_prefix(1);
  if (hex.size() != 6) return *why = "the colour needs six hex digits", false;
  int v[6];
  for (int i = 0; i < 6; ++i)
    if ((v[i] = hex_digit(hex[size_t(i)])) < 0) {
      char text[32];  // formatted, not "'" + std::string: GCC 12's false -Wrestrict on short literals
      std::snprintf(text, sizeof text, "'%c' is not a hex digit", hex[size_t(i)]);
      *why = text;
      return false;
    }
  *colour = Rgb{uint8_t(v[0] * 16 + v[1]), uint8_t(v[2] * 16 + v[3]), uint8_t(v[4] * 16 + v[5])};
  return true;
}

PointHintSpec parse_point_hint(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Error(ErrorKind::Argument, "--hint-at '" + std::string(text) + "': " + why +
                                          " (expected X,Y=#RRGGBB in sketch pixels, e.g. 80,210=#7a3b10)");
  };
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) throw bad("no '='");
  const std::string_view point = text.substr(0, eq);
  const size_t comma = point.find(',');
  if (comma == std::string_view::npos) throw bad("no ',' between X and Y");
  PointHintSpec spec;
  if (!parse_int(point.substr(0, comma), &spec.x) || !parse_int(point.substr(comma + 1), &spec.y))
    throw bad("X and Y are whole numbers");
  if (spec.x < 0 || spec.y < 0) throw bad("pixels start at 0");
  std::string why;
  if (!parse_colour_hex(text.substr(eq + 1), &spec.colour, &why)) throw bad(why);
  return spec;
}

HintSpec parse_hint(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Error(ErrorKind::Argument,
                 "--hint '" + std::string(text) + "': " + why + " (expected RANK=#RRGGBB, e.g. 1=#ff8800)");
  };
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) throw bad("no '='");
  HintSpec spec;
  const std::string_view rank = text.substr(0, eq);
  const auto [end, ec] = std::from_chars(rank.data(), rank.data() + rank.size(), spec.rank);
  if (ec != std::errc() || end != rank.data() + rank.size() || rank.empty()) throw bad("the rank is not a number");
  if (spec.rank < 1) throw bad("ranks start at 1");
  std::string why;
  if (!parse_colour_hex(text.substr(eq + 1), &spec.colour, &why)) throw bad(why);
  return spec;
}

}  // namespace gp::cli
