// `guidingpainter eval`: PSNR of the colorization against ground truth as a function
// of the number of hints, with a simulated user who gives each chosen region its
// mean ground-truth colour (the paper's protocol), beside a flat-fill baseline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"

namespace gp::cli {

enum class HintOrder { Priority, Random };

struct EvalOptions {
  std::string data_dir;  // DIR/sketch/*.png and DIR/color/*.png with matching names
  int size = 0;          // working size (0: the model's)
  double min_region = SessionOptions{}.min_region;
  std::vector<int> hints;  // hint counts K
  HintOrder order = HintOrder::Priority;
  uint64_t seed = 0;
};

struct EvalResult {
  int images = 0;
  std::vector<double> psnr, flat_psnr;  // per hint count, averaged over images
  double mean_regions = 0;              // non-empty regions per image
};

// PSNR in dB between two equally sized uint8 buffers: 10 log10(255^2 / MSE), 100 if equal.
double psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b);

// Runs the protocol; `progress` gets one line per image. Throws gp::Error.
EvalResult run_eval(const std::shared_ptr<const Model>& model, const EvalOptions& options,
                    void (*progress)(const std::string& line));

}  // namespace gp::cli
