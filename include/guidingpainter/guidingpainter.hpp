// guidingpainter: interactive sketch colorization that tells the user where to give
// the next colour hint.
//
//   auto model = gp::Model::load("weights/guidingpainter-emoji.safetensors");
//   gp::Session session(model, gp::Image::load("sketch.png"));
//   for (const gp::Region& r : session.regions()) ...          // rank 1 is asked first
//   session.set_hint(1, {230, 40, 40});
//   session.colorize().save_png("out.png");
//
// Errors are thrown as gp::Error (a std::runtime_error) whose message names the file,
// the tensor or the argument and what was expected. Nothing here exits or aborts.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guidingpainter/device.hpp"
#include "guidingpainter/error.hpp"
#include "guidingpainter/model_config.hpp"
#include "guidingpainter/precision.hpp"
#include "guidingpainter/version.h"

namespace gp {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

// An RGB colour on the 0..255 scale with fractions kept (a region's mean colour).
using Colour = std::array<float, 3>;

// An 8-bit RGB picture, rows top to bottom, pixels interleaved R, G, B.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3

  // PNG or JPEG; grey and alpha become RGB (alpha over white). Throws gp::Error.
  static Image load(const std::string& path);
  // Writes a PNG as cp writes a file: an existing file in place (its links, mode and
  // owner kept; emptied and removed if writing fails), symlinks followed, a FIFO or
  // device as a stream, a new file whole or not at all (a temporary renamed into place).
  void save_png(const std::string& path) const;
};

// An 8-bit RGBA picture (straight alpha), rows top to bottom: the layers of save_layers.
struct ImageRgba {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;                     // width * height * 4
  void save_png(const std::string& path) const;  // as Image::save_png writes
};

struct ModelOptions {
  Device device = Device::Auto;  // see device.hpp (GP_DEVICE overrides Auto)
  int gpu_index = 0;             // which CUDA GPU, when on a GPU (or simulated device, on the simulator)
  // fp16 / bf16 need tensor cores (sm_80 or later, or the simulator). Unset: fp16 on a
  // GPU of sm_80 or later, fp32 elsewhere (sm_75; the simulator, where fp32 runs faster).
  std::optional<Precision> precision;
};

// The bundled default model: $GP_MODEL if set, else share/guidingpainter/ of the install
// tree (beside the lib/ or bin/ holding this library), else the source tree's weights/.
std::string bundled_model_path();

// Where the library's notes go (a line each, no newline; today one: that no GPU was
// found, so the CPU simulator runs). By default they are written to stderr; a callback
// takes them instead (from any thread; what it throws is dropped), an empty one drops
// them. A note already being delivered when the callback is replaced still goes to the
// old one.
using LogCallback = std::function<void(std::string_view note)>;
void set_log_callback(LogCallback callback);

// Weights loaded once onto a device; immutable and shareable by threads.
class Model {
 public:
  static std::shared_ptr<const Model> load(const std::string& path, const ModelOptions& options = {});
  // The bundled model (bundled_model_path()).
  static std::shared_ptr<const Model> load(const ModelOptions& options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const;
  const std::string& path() const;
  std::string device_name() const;  // e.g. "gpusim (CPU SIMT simulator, sm_90 limits)"
  Precision precision() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A ranked non-empty region: `id` is its segmentation channel, `rank` its 1-based
// order among the non-empty channels (rank 1 = lowest channel = asked first).
struct Region {
  int rank = 0;
  int id = 0;
  int64_t pixels = 0;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // bounding box at the working size, inclusive
};

// A closed area of the sketch: a 4-connected set of non-line pixels (grey >= 128) at the
// sketch's original size. Ids are 0.. in raster order of each area's first pixel.
struct Area {
  int id = 0;
  int64_t pixels = 0;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // bounding box in sketch pixels, inclusive
  int region_id = 0;                   // its majority segmentation channel
};

// A colour given to the closed area under a point of the sketch (sketch pixels).
struct PointHint {
  int x = 0, y = 0;
  Rgb colour;
  int area = 0;     // the Area's id
  int channel = 0;  // the segmentation channel the area was given
};

// Called between the networks' kernel launches: stage "segment" (in the Session's
// constructor) or "colorize" (colorize(), colorize_raw()), launches done and their total.
// Returning false cancels. On the calling thread.
using ProgressCallback = std::function<bool(const char* stage, int done, int total)>;

struct SessionOptions {
  int size = 0;  // long side of the working size; 0: the model's train_size
  // Regions too small to see are not ranked (no rank, so no hint; the colorizer fills them
  // unhinted): a region is ranked when it has at least max(4, ceil(min_region x the
  // working size's pixels)) pixels. 0: every non-empty region is ranked. In [0, 1).
  double min_region = 0.001;
  void* cuda_stream = nullptr;  // a cudaStream_t to run on (GPU only); null: the session's own
  // With a callback, each step runs launch by launch (a synchronisation after each)
  // instead of as one graph replay, so that it can be reported.
  ProgressCallback progress;
  // Set it (from another thread, or a signal handler: a lock-free store) to cancel the
  // running constructor or colorize: checked between launches, and by the simulator
  // between thread blocks. A cancelled call throws gp::Error of kind Cancelled; the
  // session stays usable after a cancelled colorize. Must outlive the session.
  const std::atomic<bool>* cancel = nullptr;
};

// What a session would take, known before it is made: its working size and about how
// many bytes it allocates (device memory; on the simulator, host memory). The
// constructor refuses a session whose bytes are not available.
struct SessionFootprint {
  int width = 0, height = 0;  // the working size
  size_t bytes = 0;
  double enlargement = 1;  // working size over the sketch's size (the larger ratio of the two sides)
};

// One sketch being coloured. Segmentation runs once, in the constructor; each
// colorize() runs only the colorizer. Buffers are allocated once per session.
// Threads: const methods may run concurrently with each other; a non-const method needs
// the session to itself. A moved-from Session throws gp::Error (kind Argument) when used.
class Session {
 public:
  Session(std::shared_ptr<const Model> model, const Image& sketch, const SessionOptions& options = {});
  // The footprint of a session of a sketch of this size with these options (only
  // options.size matters), for a warning before a long run. Throws gp::Error (kind
  // Argument) for a size that is not positive.
  static SessionFootprint footprint(const Model& model, int sketch_width, int sketch_height,
                                    const SessionOptions& options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  int width() const;  // working size the networks run at
  int height() const;
  int sketch_width() const;  // the sketch's size as given (colorize()'s picture, areas, points)
  int sketch_height() const;
  const std::vector<Region>& regions() const;
  // Region ids (segmentation channel 0..29) per pixel at the working size, row-major.
  const std::vector<uint8_t>& labels() const;
  // 1 where the pixel belongs to the region of that rank, else 0 (working size).
  std::vector<uint8_t> region_mask(int rank) const;

  // Hints by rank (1-based). Throws gp::Error for a rank out of range.
  void set_hint(int rank, Rgb colour);
  void set_hint(int rank, const Colour& colour);
  void clear_hint(int rank);
  void clear_hints();
  // The first n ranked regions get the mean colour of `reference` over the region
  // (reference brought to the working size like the sketch).
  void hints_from_reference(const Image& reference, int n);
  // Mean colour of `reference` (brought to the working size) over each ranked region;
  // element k belongs to rank k + 1.
  std::vector<Colour> region_mean_colours(const Image& reference) const;
  // Hint colour of a rank, if it has one.
  bool hint(int rank, Colour* colour) const;
  // `image` brought to the working size by the sketch's rule (area average when
  // shrinking, bilinear when enlarging, untouched when it already has that size).
  Image to_working_size(const Image& image) const;

  // The sketch's closed areas; area_labels() is [height][width] of the sketch file, the
  // area id per pixel, -1 (kLinePixel) on line pixels.
  const std::vector<Area>& areas() const;
  const std::vector<int32_t>& area_labels() const;
  // The area id under a sketch pixel, -1 on a line. Throws gp::Error outside the sketch.
  int area_at(int x, int y) const;

  // Point hints, in pixels of the sketch as given: the closed area under (x, y) becomes
  // its own region with that colour (it takes a segmentation channel no ranked region
  // uses, so it can split what the model merged). A second point in the same area
  // replaces its colour. Throws gp::Error naming the point when it is outside the sketch
  // or on a line pixel, or when every channel is taken (a point with the colour of an
  // earlier point then shares that point's channel).
  void set_point_hint(int x, int y, Rgb colour);
  // Removes the point hint of the area under (x, y); false if it had none.
  bool clear_point_hint(int x, int y);
  void clear_point_hints();
  const std::vector<PointHint>& point_hints() const;

  // Every closed area one flat colour at the sketch's size: a point-hinted area its
  // point's colour, an area whose majority region has a hint exactly that hint colour,
  // any other area the mean of the colorized picture (before its lines) over the area.
  // Line pixels are transparent. Runs the colorizer if the hints changed.
  ImageRgba flats();
  // The layers for painting programs, as an OpenRaster (.ora) file: "lines" (the
  // sketch's lines on transparency, top), "flats" (hidden), "colorized" (the network's
  // picture without the lines), one hidden mask per ranked region ("region 1", ...);
  // its mergedimage.png holds the bytes colorize().save_png writes.
  std::vector<uint8_t> layers_ora();
  void save_layers(const std::string& path);  // written as Image::save_png writes

  // The colorized picture at the sketch's original size, line art kept crisp.
  Image colorize();
  // The colorizer's tanh output at the working size: 3 x height x width, in [-1, 1].
  std::vector<float> colorize_raw();
  // The region picture: regions in distinct colours with their rank numbers.
  Image region_overlay() const;
  // The hints as the user gave them: each hinted region in its hint colour, the rest
  // white, the sketch's lines on top (working size).
  Image hint_picture() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gp
