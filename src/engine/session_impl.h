// Session::Impl: one sketch's state on the device and the host, shared by the files
// that implement gp::Session (session.cpp: segmentation, hints, colorize; session_areas.cpp:
// closed areas, point hints, flats; session_layers.cpp: OpenRaster layers).
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"
#include "src/engine/model_impl.h"
#include "src/image/image_io.h"
#include "src/image/resize.h"

namespace gp {

// Owns a stream of the model's device, or uses the caller's.
class SessionStream {
 public:
  SessionStream(Backend& backend, void* caller_stream) : backend_(backend) {
    if (caller_stream && backend.kind() != DeviceKind::Cuda)
      throw Error(ErrorKind::Argument,
                  "SessionOptions::cuda_stream is set, but the model runs on " + backend.name() + ", not a GPU");
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
  Image original;    // the sketch as given
  Image working;     // the sketch at the working size (the segmentator's input, the overlays' background)
  int w = 0, h = 0;  // working size
  UNetWorkspace workspace;
  DeviceArray<float> x;           // [h][w] grey sketch in [-1, 1]
  DeviceArray<uint8_t> labels_d;  // [h][w]
  DeviceArray<float> colors_d;    // [num_regions][3]
  DeviceArray<uint8_t> active_d;  // [num_regions]
  DeviceArray<float> out_d;       // [h][w][3]
  DeviceArray<uint8_t> rgb_d;     // [h][w][3] scratch for pictures at the working size
  DeviceArray<RegionStats> stats_d;
  DeviceArray<uint8_t> colours8_d;  // [h][w][3] the colorization in 8 bits, working size
  DeviceArray<uint8_t> sketch_d;    // the sketch as given, [H][W][3]
  DeviceArray<uint8_t> image_d;     // the output picture, [H][W][3]
  PinnedArray<float> table_h;       // [num_regions][3] hint colours in [-1, 1]
  PinnedArray<uint8_t> active_h;    // [num_regions]
  PinnedArray<uint8_t> image_h;     // [H][W][3]
  // The sketch's closed areas (session_areas.cpp), sized once their number is known.
  DeviceArray<int32_t> area_labels_d;       // [H][W], kLinePixel on lines
  DeviceArray<int8_t> area_channel_d;       // [areas] the channel of a point-hinted area, else -1
  PinnedArray<int8_t> area_channel_h;       // its staging, kept current by the point hints
  DeviceArray<uint8_t> colorizer_labels_d;  // [h][w] labels with point-hinted areas given their channel
  DeviceArray<AreaStats> area_stats_d;      // [areas]
  DeviceArray<uint8_t> area_colours_d;      // [areas][3] the flats' colours
  DeviceArray<uint8_t> plain_d;             // [H][W][3] the picture before its lines
  DeviceArray<uint8_t> flats_d;             // [H][W][4]
  std::vector<int32_t> area_labels;
  std::vector<Area> areas;
  std::vector<PointHint> points;
  std::vector<uint8_t> labels;
  std::vector<Region> regions;
  std::vector<std::optional<Colour>> hints;  // by rank - 1
  // The stages after segmentation, each cached for the hints it was made from: the
  // colorizer's output on the device (out_d), its host copy (output), the picture (image,
  // and colours8_d on the device), the flats. Every change of the hints (region or point)
  // bumps hints_version, in one place (hints_changed); a stage is current when its version
  // equals it, so one call's outputs all come from one colorizer run.
  static constexpr uint64_t kNever = ~uint64_t(0);
  uint64_t hints_version = 0;
  uint64_t out_version = kNever;
  uint64_t output_version = kNever;
  uint64_t image_version = kNever;
  uint64_t flats_version = kNever;
  std::vector<float> output;  // [h][w][3], host copy of out_d
  Image image;                // colorize()'s picture
  ImageRgba flats;            // Session::flats()'s
  void hints_changed() { ++hints_version; }
  ImageRgba compute_flats();   // session_areas.cpp; Session::flats() caches it
  DeviceGraph colorize_graph;  // captured by the first colorize()
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
                                           std::to_string(regions.size()) + " regions (ranks 1.." +
                                           std::to_string(regions.size()) + ")");
  }

  // The colorizer's output for the current hints: run only if out_d is not current.
  const std::vector<float>& colorized() {
    if (output_version != hints_version) {
      if (out_version != hints_version) {
        run_colorizer();
        out_version = hints_version;
      }
      output = out_d.download(stream.get());
      output_version = hints_version;
    }
    return output;
  }

  // The hint table of the current hints, by region id, into the pinned staging area.
  void fill_hint_table() {
    const int n = num_regions();
    std::fill(table_h.get(), table_h.get() + size_t(n) * 3, 0.0f);
    std::fill(active_h.get(), active_h.get() + n, uint8_t(0));
    const auto put = [&](int channel, double r, double g, double b) {  // 0..255 -> [-1, 1]
      active_h.get()[channel] = 1;
      const double rgb[3] = {r, g, b};
      for (int c = 0; c < 3; ++c) table_h.get()[3 * channel + c] = float(2.0 * rgb[c] / 255.0 - 1.0);
    };
    for (size_t k = 0; k < hints.size(); ++k)
      if (hints[k]) put(regions[k].id, (*hints[k])[0], (*hints[k])[1], (*hints[k])[2]);
    for (const PointHint& p : points) put(p.channel, p.colour.r, p.colour.g, p.colour.b);
  }

  // Queues the colorizer on the hint table in table_h / active_h: out_d at the working size.
  void queue_colorizer(const LaunchObserver* watch = nullptr) {
    colors_d.upload(table_h.get(), table_h.size(), stream.get());
    active_d.upload(active_h.get(), active_h.size(), stream.get());
    ColorizerInput in;
    in.sketch = x.get();
    in.labels = labels_d.get();
    if (!areas.empty()) {  // an all-line sketch has none
      area_channel_d.upload(area_channel_h.get(), area_channel_h.size(), stream.get());
      backend->override_labels(labels_d.get(), w, h, area_labels_d.get(), original.width, original.height,
                               area_channel_d.get(), colorizer_labels_d.get(), stream.get());
      in.labels = colorizer_labels_d.get();
    }
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
    queue_composition();
  }
  // The picture from the colorizer's output in out_d.
  void queue_composition() {
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

  // The picture for the current hints: one graph replay (colorizer and composition), or
  // the composition alone when the colorizer's output is already current.
  const Image& picture() {
    if (image_version != hints_version) {
      const LaunchObserver watch = observer("colorize");
      InterruptScope interrupt(*backend, cancel);
      watch.before_launch(*backend, stream.get());
      if (out_version == hints_version) {
        queue_composition();
      } else {
        fill_hint_table();
        if (observed()) {
          queue_picture(&watch);  // launch by launch, to report each
        } else {
          if (!colorize_graph) capture_picture_graph();
          backend->launch_graph(colorize_graph.get(), stream.get());
        }
      }
      watch.synchronize(*backend, stream.get());
      image.width = original.width;
      image.height = original.height;
      image.rgb.assign(image_h.get(), image_h.get() + image_h.size());
      out_version = image_version = hints_version;
    }
    return image;
  }
};

// The session's state, or a clear error for a moved-from Session.
inline Session::Impl& live(const std::unique_ptr<Session::Impl>& impl) {
  if (!impl) throw Error(ErrorKind::Argument, "Session: used after it was moved from");
  return *impl;
}

// session_areas.cpp: the closed areas, labelled in the constructor after segmentation;
// the bytes they need per sketch pixel (for the memory estimate); the picture before
// its lines at the sketch's size, into plain_d, for the current hints.
void find_areas(Session::Impl& s);
size_t area_pixel_bytes(const Backend& backend, int W, int H, Size working);
void compose_plain(Session::Impl& s);

}  // namespace gp
