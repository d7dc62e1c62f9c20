#include "src/cli/hint_spec.h"

#include <charconv>

namespace gp::cli {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

HintSpec parse_hint(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Error("--hint '" + std::string(text) + "': " + why + " (expected RANK=#RRGGBB, e.g. 1=#ff8800)");
  };
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) throw bad("no '='");
  HintSpec spec;
  const std::string_view rank = text.substr(0, eq);
  const auto [end, ec] = std::from_chars(rank.data(), rank.data() + rank.size(), spec.rank);
  if (ec != std::errc() || end != rank.data() + rank.size() || rank.empty()) throw bad("the rank is not a number");
  if (spec.rank < 1) throw bad("ranks start at 1");
  std::string_view hex = text.substr(eq + 1);
  if (hex.empty() || hex.front() != '#') throw bad("the colour starts with '#'");
  hex.remove_prefix(1);
  if (hex.size() != 6) throw bad("the colour needs six hex digits");
  int v[6];
  for (int i = 0; i < 6; ++i)
    if ((v[i] = hex_digit(hex[i])) < 0) throw bad("'" + std::string(1, hex[i]) + "' is not a hex digit");
  spec.colour = Rgb{uint8_t(v[0] * 16 + v[1]), uint8_t(v[2] * 16 + v[3]), uint8_t(v[4] * 16 + v[5])};
  return spec;
}

}  // namespace gp::cli
