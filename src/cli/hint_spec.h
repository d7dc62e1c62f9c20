// Parsing of the command line's colour hints: "R=#RRGGBB" (R: 1-based rank) and
// point hints "X,Y=#RRGGBB".
#pragma once

#include <string>
#include <string_view>

#include "guidingpainter/guidingpainter.hpp"

namespace gp::cli {

struct HintSpec {
  int rank = 0;
  Rgb colour;
};

// Throws gp::Error naming the text and what was expected.
HintSpec parse_hint(std::string_view text);

// "#RRGGBB" (hex digits of either case) into *colour; false with *why set otherwise.
bool parse_colour_hex(std::string_view text, Rgb* colour, std::string* why);

// "X,Y=#RRGGBB": a point hint at pixel (X, Y) of the sketch file.
struct PointHintSpec {
  int x = 0, y = 0;
  Rgb colour;
};
PointHintSpec parse_point_hint(std::string_view text);

}  // namespace gp::cli
