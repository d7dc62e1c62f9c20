// The one exception type of guidingpainter: its message names the file or the thing,
// and what was expected ("model.safetensors: tensor 'x' has shape [2,3], but ...").
#pragma once

#include <stdexcept>

namespace gp {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gp
