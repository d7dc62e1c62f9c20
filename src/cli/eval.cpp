#include "src/cli/eval.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "kernels/pixel.h"

namespace gp::cli {
namespace {

namespace fs = std::filesystem;

// Sorted names of DIR/sketch/*.png that have a DIR/color/ partner.
std::vector<std::string> pair_names(const fs::path& dir) {
  const fs::path sketches = dir / "sketch", colours = dir / "color";
  if (!fs::is_directory(sketches) || !fs::is_directory(colours))
    throw Error(ErrorKind::Argument, dir.string() + ": expected the folders sketch/ and color/ inside");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(sketches)) {
    if (entry.path().extension() != ".png") continue;
    const std::string name = entry.path().filename().string();
    if (!fs::exists(colours / name))
      throw Error(ErrorKind::Io, (colours / name).string() + ": missing (the sketch has no colour image)");
    names.push_back(name);
  }
  if (names.empty()) throw Error(ErrorKind::Argument, sketches.string() + ": no .png files");
  std::sort(names.begin(), names.end());
  return names;
}

// The authors' conversion of the network's output to 8 bits, for an H x W x 3 picture
// from a 3 x H x W raw output.
std::vector<uint8_t> raw_to_rgb8(const std::vector<float>& raw, int w, int h) {
  const size_t pixels = size_t(w) * h;
  std::vector<uint8_t> rgb(3 * pixels);
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = gp::rgb8_of_float(raw[c * pixels + p]);
  return rgb;
}

// Flat fill: each hinted region in its hint colour, everything else white.
std::vector<uint8_t> flat_fill(const Session& s, const std::vector<Colour>& colours,
                               const std::vector<int>& hinted_ranks) {
  std::vector<float> table(256 * 3, 1.0f);  // by region id; white (+1) unless hinted
  for (int rank : hinted_ranks) {
    const int id = s.regions()[rank - 1].id;
    for (int c = 0; c < 3; ++c) table[3 * id + c] = float(2.0 * double(colours[rank - 1][c]) / 255.0 - 1.0);
  }
  const auto& labels = s.labels();
  std::vector<uint8_t> rgb(3 * labels.size());
  for (size_t p = 0; p < labels.size(); ++p)
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = gp::rgb8_of_float(table[3 * labels[p] + c]);
  return rgb;
}

// A Fisher-Yates permutation of 1..n from a 64-bit Mersenne Twister, written out so
// the order is the same with every standard library.
std::vector<int> random_ranks(int n, std::mt19937_64& rng) {
  std::vector<int> ranks(n);
  for (int i = 0; i < n; ++i) ranks[i] = i + 1;
  for (int i = n - 1; i > 0; --i) std::swap(ranks[i], ranks[size_t(rng() % uint64_t(i + 1))]);
  return ranks;
}

}  // namespace

double psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    se += d * d;
  }
  const double mse = se / double(a.size());
  return mse == 0 ? 100.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

EvalResult run_eval(const std::shared_ptr<const Model>& model, const EvalOptions& options,
                    void (*progress)(const std::string& line)) {
  const fs::path dir(options.data_dir);
  const std::vector<std::string> names = pair_names(dir);
  EvalResult result;
  result.psnr.assign(options.hints.size(), 0.0);
  result.flat_psnr.assign(options.hints.size(), 0.0);
  std::mt19937_64 rng(options.seed);
  for (const std::string& name : names) {
    SessionOptions session_options;
    session_options.size = options.size;
    session_options.min_region = options.min_region;
    const Image sketch = Image::load((dir / "sketch" / name).string());
    const Image colour = Image::load((dir / "color" / name).string());
    if (colour.width != sketch.width || colour.height != sketch.height)
      throw Error(ErrorKind::Argument, (dir / "color" / name).string() + ": " + std::to_string(colour.width) + " x " +
                                           std::to_string(colour.height) + ", but its sketch is " +
                                           std::to_string(sketch.width) + " x " + std::to_string(sketch.height));
    Session session(model, sketch, session_options);
    const Image truth = session.to_working_size(colour);
    const std::vector<Colour> colours = session.region_mean_colours(truth);
    const int regions = int(session.regions().size());
    std::vector<int> order(regions);
    if (options.order == HintOrder::Random) {
      order = random_ranks(regions, rng);
    } else {
      for (int i = 0; i < regions; ++i) order[i] = i + 1;
    }
    std::string line = name + ": " + std::to_string(regions) + " regions, PSNR";
    // Hint counts above the region count give the same hints (all of them): the network
    // is deterministic, so the previous count's PSNR is reused, not recomputed.
    int last_count = -1;
    double last_psnr = 0;
    for (size_t k = 0; k < options.hints.size(); ++k) {
      const int count = std::min(options.hints[k], regions);
      const std::vector<int> hinted(order.begin(), order.begin() + count);
      if (count != last_count) {
        session.clear_hints();
        for (int rank : hinted) session.set_hint(rank, colours[rank - 1]);
        last_psnr = psnr(truth.rgb, raw_to_rgb8(session.colorize_raw(), session.width(), session.height()));
        last_count = count;
      }
      const double p = last_psnr;
      result.psnr[k] += p;
      result.flat_psnr[k] += psnr(truth.rgb, flat_fill(session, colours, hinted));
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.2f", p);
      line += buf;
    }
    result.mean_regions += regions;
    ++result.images;
    if (progress) {
      std::string text = "[";  // appended piecewise: GCC 12's false -Wrestrict on "[" + std::string
      text += std::to_string(result.images) + "/" + std::to_string(names.size()) + "] " + line;
      progress(text);
    }
  }
  for (size_t k = 0; k < options.hints.size(); ++k) {
    result.psnr[k] /= result.images;
    result.flat_psnr[k] /= result.images;
  }
  result.mean_regions /= result.images;
  return result;
}

}  // namespace gp::cli
