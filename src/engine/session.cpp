// Session: one sketch being coloured. The constructor runs the segmentation once;
// every colorize() runs only the colorizer: one replay of a CUDA graph captured on the
// first call (the hint table's upload from pinned memory, the colorizer, the output's
// conversion to uint8 at the sketch's size with its lines, the download to pinned
// memory), then one synchronisation. No device memory is allocated after construction.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include "kernels/pixel.h"
#include "src/engine/min_region.h"
#include "src/engine/session_impl.h"
#include "src/image/image_io.h"
#include "src/image/overlay.h"
#include "src/image/resize.h"

namespace gp {

namespace {

// What a session allocates: the workspace, its arrays at the working and the original
// size and, where device memory is host memory (the simulator), the host copies too.
size_t session_bytes(const Model& model, Size size, int sketch_width, int sketch_height, bool host_is_device) {
  const size_t working = size_t(size.width) * size_t(size.height);
  const size_t original = size_t(sketch_width) * size_t(sketch_height);
  size_t bytes = UNetWorkspace::bytes(model.config().width, size.height, size.width, model.precision());
  bytes += working * (4 + 1 + 12 + 3 + 3) + original * 3 * 3;  // x, labels, out, rgb, colours8; sketch, image x 2
  if (host_is_device) bytes += working * (12 + 1 + 3) + original * 3 * 2;  // output, labels, resize; original, image
  bytes += area_pixel_bytes(*model.impl().backend, sketch_width, sketch_height, size);
  return bytes;
}

std::string gib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / double(size_t(1) << 30));
  return text;
}

// Refuses a working size whose buffers cannot fit, before allocating any of them.
void check_memory(const Model& model, Size size, const Image& sketch) {
  Backend& backend = *model.impl().backend;
  const bool sim = backend.kind() != DeviceKind::Cuda;
  const size_t need = session_bytes(model, size, sketch.width, sketch.height, sim);
  const size_t have = backend.available_memory();
  if (need > have)
    throw Error(ErrorKind::OutOfMemory,
                "a working size of " + std::to_string(size.width) + " x " + std::to_string(size.height) +
                    " needs about " + gib(need) +
                    (sim ? " of host memory (the simulator's device memory is host memory)" : " of device memory") +
                    ", but " + backend.name() + " has " + gib(have) + " available");
}

Size session_size(const Model& model, int sketch_width, int sketch_height, const SessionOptions& options) {
  const int n = options.size > 0 ? options.size : model.config().train_size;
  if (options.size < 0) throw Error(ErrorKind::Argument, "size " + std::to_string(options.size) + " is not positive");
  return working_size(sketch_width, sketch_height, n);
}

Size session_size(const Model& model, const Image& sketch, const SessionOptions& options) {
  check_image(sketch, "sketch");
  return session_size(model, sketch.width, sketch.height, options);
}

}  // namespace

SessionFootprint Session::footprint(const Model& model, int sketch_width, int sketch_height,
                                    const SessionOptions& options) {
  if (sketch_width <= 0 || sketch_height <= 0)
    throw Error(ErrorKind::Argument, "a sketch of " + std::to_string(sketch_width) + " x " +
                                         std::to_string(sketch_height) + " pixels: both sides must be positive");
  const Size size = session_size(model, sketch_width, sketch_height, options);
  SessionFootprint f;
  f.width = size.width;
  f.height = size.height;
  f.bytes = session_bytes(model, size, sketch_width, sketch_height, model.impl().backend->kind() != DeviceKind::Cuda);
  f.enlargement = std::max(double(size.width) / sketch_width, double(size.height) / sketch_height);
  return f;
}

Session::Session(std::shared_ptr<const Model> model, const Image& sketch, const SessionOptions& options) {
  if (!model) throw Error(ErrorKind::Argument, "Session: no model");
  (void)min_region_pixels(options.min_region, 0);  // a bad fraction refused before any work
  const Size size = session_size(*model, sketch, options);
  check_memory(*model, size, sketch);
  impl_ = std::make_unique<Impl>(std::move(model), sketch, size, options.cuda_stream);
  Impl& s = *impl_;
  s.progress = options.progress;
  s.cancel = options.cancel;
  const Stream stream = s.stream.get();
  const LaunchObserver watch = s.observer("segment");
  InterruptScope interrupt(*s.backend, s.cancel);
  watch.before_launch(*s.backend, stream);
  s.sketch_d.upload(sketch.rgb, stream);
  s.working = resize(sketch, size);
  s.rgb_d.upload(s.working.rgb, stream);
  s.backend->rgb8_to_grey(s.rgb_d.get(), size_t(s.w) * s.h, s.x.get(), stream);
  s.workspace.segment(*s.backend, s.m().segmentator, s.x.get(), s.labels_d.get(), nullptr, stream, &watch);
  watch.synchronize(*s.backend, stream);
  s.labels = s.labels_d.download(stream);
  const std::vector<RegionStats> stats = s.region_stats(nullptr);
  const uint32_t min_pixels = min_region_pixels(options.min_region, size_t(s.w) * s.h);
  for (const int id : ranked_regions(stats.data(), s.num_regions())) {
    const RegionStats& r = stats[id];
    if (r.count < min_pixels) continue;
    s.regions.push_back(
        Region{int(s.regions.size()) + 1, id, int64_t(r.count), int(r.x0), int(r.y0), int(r.x1), int(r.y1)});
  }
  s.hints.assign(s.regions.size(), std::nullopt);
  find_areas(s);
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

int Session::width() const { return live(impl_).w; }
int Session::height() const { return live(impl_).h; }
int Session::sketch_width() const { return live(impl_).original.width; }
int Session::sketch_height() const { return live(impl_).original.height; }
const std::vector<Region>& Session::regions() const { return live(impl_).regions; }
const std::vector<uint8_t>& Session::labels() const { return live(impl_).labels; }

std::vector<uint8_t> Session::region_mask(int rank) const {
  const Impl& s = live(impl_);
  s.check_rank(rank);
  const int id = s.regions[rank - 1].id;
  std::vector<uint8_t> mask(s.labels.size());
  for (size_t p = 0; p < mask.size(); ++p) mask[p] = s.labels[p] == id;
  return mask;
}

void Session::set_hint(int rank, Rgb colour) {
  set_hint(rank, Colour{float(colour.r), float(colour.g), float(colour.b)});
}

void Session::set_hint(int rank, const Colour& colour) {
  Impl& s = live(impl_);
  s.check_rank(rank);
  for (float c : colour)
    if (!(c >= 0.0f && c <= 255.0f))
      throw Error(ErrorKind::Argument, "hint colour component " + std::to_string(c) + " is outside 0..255");
  s.hints[rank - 1] = colour;
  s.hints_changed();
}

void Session::clear_hint(int rank) {
  Impl& s = live(impl_);
  s.check_rank(rank);
  s.hints[rank - 1].reset();
  s.hints_changed();
}

void Session::clear_hints() {
  Impl& s = live(impl_);
  std::fill(s.hints.begin(), s.hints.end(), std::nullopt);
  s.hints_changed();
}

bool Session::hint(int rank, Colour* colour) const {
  const Impl& s = live(impl_);
  s.check_rank(rank);
  const auto& h = s.hints[rank - 1];
  if (h && colour) *colour = *h;
  return h.has_value();
}

Image Session::to_working_size(const Image& image) const {
  const Impl& s = live(impl_);
  check_image(image, "image");
  return resize(image, Size{s.w, s.h});
}

std::vector<Colour> Session::region_mean_colours(const Image& reference) const {
  Impl& s = live(impl_);
  const Image working = to_working_size(reference);
  const std::vector<RegionStats> stats = s.region_stats(&working);
  std::vector<Colour> means;
  for (const Region& r : s.regions) {
    const RegionStats& st = stats[r.id];
    Colour c;
    for (int k = 0; k < 3; ++k) c[k] = float(double(st.sum[k]) / double(st.count));
    means.push_back(c);
  }
  return means;
}

void Session::hints_from_reference(const Image& reference, int n) {
  Impl& s = live(impl_);
  if (n < 0)
    throw Error(ErrorKind::Argument, "hints_from_reference: the hint count " + std::to_string(n) + " is negative");
  const std::vector<Colour> means = region_mean_colours(reference);
  const int count = std::min<int>(n, int(means.size()));
  for (int k = 0; k < count; ++k) s.hints[k] = means[k];
  s.hints_changed();
}

std::vector<float> Session::colorize_raw() {
  Impl& s = live(impl_);
  const std::vector<float>& hwc = s.colorized();
  const size_t pixels = size_t(s.w) * s.h;
  std::vector<float> chw(hwc.size());
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c) chw[c * pixels + p] = hwc[3 * p + c];
  return chw;
}

Image Session::colorize() { return live(impl_).picture(); }

Image Session::hint_picture() const {
  const Impl& s = live(impl_);
  const Image& sketch = s.working;
  std::vector<Colour> by_id(size_t(s.num_regions()), Colour{255.0f, 255.0f, 255.0f});
  for (size_t k = 0; k < s.hints.size(); ++k)
    if (s.hints[k]) by_id[s.regions[k].id] = *s.hints[k];
  Image out = sketch;
  for (size_t p = 0; p < s.labels.size(); ++p) {
    const uint8_t* px = &sketch.rgb[3 * p];
    const double grey = grey255(px);  // lines multiply the colour
    const Colour& c = by_id[s.labels[p]];
    for (int k = 0; k < 3; ++k) out.rgb[3 * p + k] = uint8_t(std::lround(double(c[k]) * grey / 255.0));
  }
  return out;
}

Image Session::region_overlay() const {
  const Impl& s = live(impl_);
  return gp::region_overlay(s.working, s.labels, s.regions);
}

}  // namespace gp
