// Parsing of the command line's colour hints: "R=#RRGGBB" (R: 1-based rank).
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

}  // namespace gp::cli
