// Locating the bundled model (the public bundled_model_path() is its lenient form).
#pragma once

#include <string>
#include <vector>

namespace gp {

// $GP_MODEL, else the first place of bundled_model_path()'s search that holds the
// model. Throws gp::Error (kind Io) naming $GP_MODEL and every place looked at.
std::string find_bundled_model();

// The first of `places` that is a file. Throws gp::Error (kind Io) naming $GP_MODEL and
// every place.
std::string first_model_file(const std::vector<std::string>& places);

}  // namespace gp
