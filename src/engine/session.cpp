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

#include "src/engine/model_impl.h"
#include "src/image/image_io.h"
#include "src/image/overlay.h"
#include "src/image/resize.h"

namespace gp {

// Owns a stream of the model's device, or uses the caller's.
class SessionStream {
 public:
  SessionStream(Backend& backend, void* caller_stream) : backend_(backend) {
    if (caller_stream && backend.kind() != DeviceKind::Cuda)
      throw Error(ErrorKind::Argument, "SessionOptions::cuda_stream is set, but the model runs on " + backend.name() + ", not a GPU");
    stream_ = caller_stream ? caller_stream : backend.create_stream();
    owned_ = caller_stream == nullptr;
  }
  ~SessionStream() {
    if (owned_) backend_.destroy_stream(stream_);
  }
  SessionStream(const SessionStream&) = delete;
  SessionStream& operator=(const SessionStream&) = delete;
  Stream get() const { return stream_; }

 private:
  Backend& backend_;
  Stream stream_ = nullptr;
  bool owned_ = false;
};

// The calling thread's cancel flag on the backend for one call (the simulator stops a
// launch between blocks once it is set).
class InterruptScope {
 public:
  InterruptScope(Backend& backend, const std::atomic<bool>* flag) : backend_(flag ? &backend : nullptr) {
    if (backend_) backend_->set_interrupt(flag);
  }
  ~InterruptScope() {
    if (backend_) backend_->set_interrupt(nullptr);
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  Backend* backend_;
};

struct Session::Impl {
  std::shared_ptr<const Model> model;
  Backend* backend;
  SessionStream stream;
  Image original;       // the sketch as given
  int w = 0, h = 0;     // working size
  UNetWorkspace workspace;
  DeviceArray<float> x;            // [h][w] grey sketch in [-1, 1]
  DeviceArray<uint8_t> labels_d;   // [h][w]
  DeviceArray<float> colors_d;     // [num_regions][3]
  DeviceArray<uint8_t> active_d;   // [num_regions]
  DeviceArray<float> out_d;        // [h][w][3]
  DeviceArray<uint8_t> rgb_d;      // [h][w][3] scratch for pictures at the working size
  DeviceArray<RegionStats> stats_d;
  DeviceArray<uint8_t> colours8_d;  // [h][w][3] the colorization in 8 bits, working size
  DeviceArray<uint8_t> sketch_d;    // the sketch as given, [H][W][3]
  DeviceArray<uint8_t> image_d;     // the output picture, [H][W][3]
  PinnedArray<float> table_h;       // [num_regions][3] hint colours in [-1, 1]
  PinnedArray<uint8_t> active_h;    // [num_regions]
  PinnedArray<uint8_t> image_h;     // [H][W][3]
  std::vector<uint8_t> labels;
  std::vector<Region> regions;
  std::vector<std::optional<Colour>> hints;  // by rank - 1
  std::vector<float> output;                 // [h][w][3] of the last colorizer run
  bool output_current = false;               // false once a hint changed since then
  Image image;                               // colorize()'s picture for the current hints
  bool image_current = false;
  DeviceGraph colorize_graph;                // captured by the first colorize()
  ProgressCallback progress;
  const std::atomic<bool>* cancel = nullptr;
  // The device scratch (rgb_d, stats_d) and the stream, for const methods that use them.
  mutable std::mutex scratch_mutex;

  LaunchObserver observer(const char* stage) const { return LaunchObserver{stage, &progress, cancel}; }
  bool observed() const { return bool(progress); }

  Impl(std::shared_ptr<const Model> m, const Image& sketch, Size size, void* caller_stream)
      : model(std::move(m)),
        backend(model->impl().backend.get()),
        stream(*backend, caller_stream),
        original(sketch),
        w(size.width),
        h(size.height),
        workspace(*backend, model->config().width, size.height, size.width, model->precision()),
        x(*backend, size_t(w) * h, "sketch"),
        labels_d(*backend, size_t(w) * h, "region labels"),
        colors_d(*backend, size_t(model->config().num_regions) * 3, "hint colours"),
        active_d(*backend, size_t(model->config().num_regions), "hint flags"),
        out_d(*backend, size_t(w) * h * 3, "colorization"),
        rgb_d(*backend, size_t(w) * h * 3, "working-size picture"),
        stats_d(*backend, size_t(model->config().num_regions), "region statistics"),
        colours8_d(*backend, size_t(w) * h * 3, "8-bit colorization"),
        sketch_d(*backend, sketch.rgb.size(), "sketch"),
        image_d(*backend, sketch.rgb.size(), "output picture"),
        table_h(*backend, size_t(model->config().num_regions) * 3, "hint colours"),
        active_h(*backend, size_t(model->config().num_regions), "hint flags"),
        image_h(*backend, sketch.rgb.size(), "output picture") {}

  const Model::Impl& m() const { return model->impl(); }
  int num_regions() const { return m().config.num_regions; }

  // Region statistics of the labels, with a picture's colour sums when rgb is given.
  std::vector<RegionStats> region_stats(const Image* picture) {
    std::lock_guard<std::mutex> lock(scratch_mutex);
    if (picture) rgb_d.upload(picture->rgb, stream.get());
    backend->region_stats(labels_d.get(), picture ? rgb_d.get() : nullptr, w, h, num_regions(), stats_d.get(),
                          stream.get());
    return stats_d.download(stream.get());
  }

  void check_rank(int rank) const {
    if (rank < 1 || rank > int(regions.size()))
      throw Error(ErrorKind::Argument, "rank " + std::to_string(rank) + " is out of range: this sketch has " +
                  std::to_string(regions.size()) + " regions (ranks 1.." + std::to_string(regions.size()) + ")");
  }

  // The colorizer's output for the current hints, run only if they changed.
  const std::vector<float>& colorized() {
    if (!output_current) {
      run_colorizer();
      output = out_d.download(stream.get());
      output_current = true;
    }
    return output;
  }

  // The hint table of the current hints, by region id, into the pinned staging area.
  void fill_hint_table() {
    const int n = num_regions();
    std::fill(table_h.get(), table_h.get() + size_t(n) * 3, 0.0f);
    std::fill(active_h.get(), active_h.get() + n, uint8_t(0));
    for (size_t k = 0; k < hints.size(); ++k) {
      if (!hints[k]) continue;
      const int id = regions[k].id;
      active_h.get()[id] = 1;
      for (int c = 0; c < 3; ++c) table_h.get()[3 * id + c] = float(2.0 * double((*hints[k])[c]) / 255.0 - 1.0);
    }
  }

  // Queues the colorizer on the hint table in table_h / active_h: out_d at the working size.
  void queue_colorizer(const LaunchObserver* watch = nullptr) {
    colors_d.upload(table_h.get(), table_h.size(), stream.get());
    active_d.upload(active_h.get(), active_h.size(), stream.get());
    ColorizerInput in;
    in.sketch = x.get();
    in.labels = labels_d.get();
    in.colors = colors_d.get();
    in.active = active_d.get();
    in.h = h;
    in.w = w;
    in.center = m().config.center;
    workspace.colorize(*backend, m().colorizer, in, out_d.get(), stream.get(), watch);
  }

  void run_colorizer() {
    const LaunchObserver watch = observer("colorize");
    InterruptScope interrupt(*backend, cancel);
    fill_hint_table();
    queue_colorizer(&watch);
    watch.synchronize(*backend, stream.get());
  }

  // The picture at the sketch's size: the colorizer, uint8, resampled, lines kept.
  void queue_picture(const LaunchObserver* watch = nullptr) {
    queue_colorizer(watch);
    backend->float_to_rgb8(out_d.get(), size_t(w) * h, colours8_d.get(), stream.get());
    backend->compose_rgb8(colours8_d.get(), w, h, sketch_d.get(), original.width, original.height, true, image_d.get(),
                          stream.get());
    backend->download_async(image_h.get(), image_d.get(), image_d.size(), stream.get());
  }

  void capture_picture_graph() {
    backend->begin_capture(stream.get());
    try {
      queue_picture();
    } catch (...) {
      backend->abort_capture(stream.get());
      throw;
    }
    colorize_graph = DeviceGraph(*backend, backend->end_capture(stream.get()));
  }

  const Image& picture() {
    if (!image_current) {
      const LaunchObserver watch = observer("colorize");
      InterruptScope interrupt(*backend, cancel);
      watch.before_launch(*backend, stream.get());
      fill_hint_table();
      if (observed()) {
        queue_picture(&watch);  // launch by launch, to report each
      } else {
        if (!colorize_graph) capture_picture_graph();
        backend->launch_graph(colorize_graph.get(), stream.get());
      }
      watch.synchronize(*backend, stream.get());
      image.width = original.width;
      image.height = original.height;
      image.rgb.assign(image_h.get(), image_h.get() + image_h.size());
      image_current = true;
    }
    return image;
  }
};

namespace {

// What a session allocates: the workspace, its arrays at the working and the original
// size and, where device memory is host memory (the simulator), the host copies too.
size_t session_bytes(const Model& model, Size size, const Image& sketch, bool host_is_device) {
  const size_t working = size_t(size.width) * size_t(size.height);
  const size_t original = size_t(sketch.width) * size_t(sketch.height);
  size_t bytes = UNetWorkspace::bytes(model.config().width, size.height, size.width, model.precision());
  bytes += working * (4 + 1 + 12 + 3 + 3) + original * 3 * 3;  // x, labels, out, rgb, colours8; sketch, image x 2
  if (host_is_device) bytes += working * (12 + 1 + 3) + original * 3 * 2;  // output, labels, resize; original, image
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
  const size_t need = session_bytes(model, size, sketch, sim);
  const size_t have = backend.available_memory();
  if (need > have)
    throw Error(ErrorKind::OutOfMemory,
                "a working size of " + std::to_string(size.width) + " x " + std::to_string(size.height) + " needs about " +
                    gib(need) + (sim ? " of host memory (the simulator's device memory is host memory)" : " of device memory") +
                    ", but " + backend.name() + " has " + gib(have) + " available");
}

Size session_size(const Model& model, const Image& sketch, const SessionOptions& options) {
  check_image(sketch, "sketch");
  const int n = options.size > 0 ? options.size : model.config().train_size;
  if (options.size < 0) throw Error(ErrorKind::Argument, "size " + std::to_string(options.size) + " is not positive");
  return working_size(sketch.width, sketch.height, n);
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, const Image& sketch, const SessionOptions& options) {
  if (!model) throw Error(ErrorKind::Argument, "Session: no model");
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
  const Image working = resize(sketch, size);
  s.rgb_d.upload(working.rgb, stream);
  s.backend->rgb8_to_grey(s.rgb_d.get(), size_t(s.w) * s.h, s.x.get(), stream);
  s.workspace.segment(*s.backend, s.m().segmentator, s.x.get(), s.labels_d.get(), nullptr, stream, &watch);
  watch.synchronize(*s.backend, stream);
  s.labels = s.labels_d.download(stream);
  const std::vector<RegionStats> stats = s.region_stats(nullptr);
  for (const int id : ranked_regions(stats.data(), s.num_regions())) {
    const RegionStats& r = stats[id];
    s.regions.push_back(Region{int(s.regions.size()) + 1, id, int64_t(r.count), int(r.x0), int(r.y0), int(r.x1), int(r.y1)});
  }
  s.hints.assign(s.regions.size(), std::nullopt);
}

namespace {

// The session's state, or a clear error for a moved-from Session.
Session::Impl& live(const std::unique_ptr<Session::Impl>& impl) {
  if (!impl) throw Error(ErrorKind::Argument, "Session: used after it was moved from");
  return *impl;
}

}  // namespace

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

int Session::width() const { return live(impl_).w; }
int Session::height() const { return live(impl_).h; }
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

void Session::set_hint(int rank, Rgb colour) { set_hint(rank, Colour{float(colour.r), float(colour.g), float(colour.b)}); }

void Session::set_hint(int rank, const Colour& colour) {
  Impl& s = live(impl_);
  s.check_rank(rank);
  for (float c : colour)
    if (!(c >= 0.0f && c <= 255.0f)) throw Error(ErrorKind::Argument, "hint colour component " + std::to_string(c) + " is outside 0..255");
  s.hints[rank - 1] = colour;
  s.output_current = s.image_current = false;
}

void Session::clear_hint(int rank) {
  Impl& s = live(impl_);
  s.check_rank(rank);
  s.hints[rank - 1].reset();
  s.output_current = s.image_current = false;
}

void Session::clear_hints() {
  Impl& s = live(impl_);
  std::fill(s.hints.begin(), s.hints.end(), std::nullopt);
  s.output_current = s.image_current = false;
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
  if (n < 0) throw Error(ErrorKind::Argument, "hints_from_reference: the hint count " + std::to_string(n) + " is negative");
  const std::vector<Colour> means = region_mean_colours(reference);
  const int count = std::min<int>(n, int(means.size()));
  for (int k = 0; k < count; ++k) s.hints[k] = means[k];
  s.output_current = s.image_current = false;
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
  const Image sketch = resize(s.original, Size{s.w, s.h});
  std::vector<Colour> by_id(size_t(s.num_regions()), Colour{255.0f, 255.0f, 255.0f});
  for (size_t k = 0; k < s.hints.size(); ++k)
    if (s.hints[k]) by_id[s.regions[k].id] = *s.hints[k];
  Image out = sketch;
  for (size_t p = 0; p < s.labels.size(); ++p) {
    const uint8_t* px = &sketch.rgb[3 * p];
    const double grey = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];  // lines multiply the colour
    const Colour& c = by_id[s.labels[p]];
    for (int k = 0; k < 3; ++k) out.rgb[3 * p + k] = uint8_t(std::lround(double(c[k]) * grey / 255.0));
  }
  return out;
}

Image Session::region_overlay() const {
  const Impl& s = live(impl_);
  return gp::region_overlay(resize(s.original, Size{s.w, s.h}), s.labels, s.regions);
}

}  // namespace gp
