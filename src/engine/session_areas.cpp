// A Session's closed areas (kernels/areas.cuh): labelled on the device once, in the
// constructor; point hints, which give an area a segmentation channel of its own so the
// colorizer sees it as a hinted region; and the flats, one colour per area.
#include <algorithm>
#include <cmath>
#include <string>

#include "src/engine/session_impl.h"

namespace gp {

namespace {

std::string point_name(int x, int y) { return "(" + std::to_string(x) + ", " + std::to_string(y) + ")"; }

uint8_t round_u8(double v) { return uint8_t(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

size_t area_pixel_bytes(const Backend& backend, int W, int H, Size working) {
  const size_t pixels = size_t(W) * size_t(H);
  // labels 4, plain 3, flats 4 (and the labels' host copy 4); the labelling's scratch
  // (freed again); the colorizer's labels at the working size.
  return pixels * (4 + 3 + 4 + 4) + backend.label_areas_scratch_bytes(W, H) +
         size_t(working.width) * size_t(working.height);
}

void find_areas(Session::Impl& s) {
  Backend& backend = *s.backend;
  const Stream stream = s.stream.get();
  const int W = s.original.width, H = s.original.height, R = s.num_regions();
  s.area_labels_d = DeviceArray<int32_t>(backend, size_t(W) * H, "closed areas");
  int32_t count = 0;
  {
    DeviceArray<uint8_t> scratch(backend, backend.label_areas_scratch_bytes(W, H), "closed-area scratch");
    DeviceArray<int32_t> count_d(backend, 1, "closed-area count");
    backend.label_areas(s.sketch_d.get(), W, H, kDefaultLineThreshold, s.area_labels_d.get(), count_d.get(),
                        scratch.get(), stream);
    count = count_d.download(stream)[0];
  }
  const size_t n = size_t(count);
  // What the areas need grows with their number (a checkerboard has W * H / 2 of them).
  const size_t need = n * (sizeof(AreaStats) * 2 + 3 + 1 + size_t(R) * 4 + sizeof(Area));
  if (need > backend.available_memory())
    throw Error(ErrorKind::OutOfMemory, "the sketch has " + std::to_string(n) +
                                            " closed areas, whose statistics need more memory than " + backend.name() +
                                            " has available");
  s.area_stats_d = DeviceArray<AreaStats>(backend, n, "closed-area statistics");
  s.area_channel_d = DeviceArray<int8_t>(backend, n, "point-hint channels");
  s.area_channel_h = PinnedArray<int8_t>(backend, n, "point-hint channels");
  s.area_colours_d = DeviceArray<uint8_t>(backend, n * 3, "flat colours");
  s.colorizer_labels_d = DeviceArray<uint8_t>(backend, size_t(s.w) * s.h, "colorizer labels");
  s.plain_d = DeviceArray<uint8_t>(backend, size_t(W) * H * 3, "picture without lines");
  s.flats_d = DeviceArray<uint8_t>(backend, size_t(W) * H * 4, "flats");
  std::fill(s.area_channel_h.get(), s.area_channel_h.get() + n, int8_t(-1));

  std::vector<uint8_t> majority;
  if (n > 0) {
    DeviceArray<uint32_t> votes(backend, n * size_t(R), "closed-area votes");
    DeviceArray<uint8_t> majority_d(backend, n, "closed-area regions");
    backend.area_stats(s.area_labels_d.get(), nullptr, W, H, count, s.area_stats_d.get(), stream);
    backend.area_majority(s.area_labels_d.get(), W, H, s.labels_d.get(), s.w, s.h, R, count, votes.get(),
                          majority_d.get(), stream);
    majority = majority_d.download(stream);
  }
  const std::vector<AreaStats> stats = s.area_stats_d.download(stream);
  s.area_labels = s.area_labels_d.download(stream);
  s.areas.reserve(n);
  for (size_t a = 0; a < n; ++a) {
    const AreaStats& st = stats[a];
    s.areas.push_back(
        Area{int(a), int64_t(st.count), int(st.x0), int(st.y0), int(st.x1), int(st.y1), int(majority[a])});
  }
}

// The area under a sketch pixel, -1 on a line; throws for a point outside the sketch.
int area_under(const Session::Impl& s, int x, int y, const char* what) {
  if (x < 0 || y < 0 || x >= s.original.width || y >= s.original.height)
    throw Error(ErrorKind::Argument, std::string(what) + point_name(x, y) + " is outside the sketch (" +
                                         std::to_string(s.original.width) + " x " + std::to_string(s.original.height) +
                                         " pixels)");
  return s.area_labels[size_t(y) * s.original.width + x];
}

const std::vector<Area>& Session::areas() const { return live(impl_).areas; }
const std::vector<int32_t>& Session::area_labels() const { return live(impl_).area_labels; }
int Session::area_at(int x, int y) const { return area_under(live(impl_), x, y, "point "); }
const std::vector<PointHint>& Session::point_hints() const { return live(impl_).points; }

void Session::set_point_hint(int x, int y, Rgb colour) {
  Impl& s = live(impl_);
  const int area = area_under(s, x, y, "point hint ");
  if (area < 0)
    throw Error(ErrorKind::Argument,
                "point hint " + point_name(x, y) + " is on a line of the sketch: give a point inside a closed area");
  auto same_area = std::find_if(s.points.begin(), s.points.end(), [&](const PointHint& p) { return p.area == area; });
  if (same_area != s.points.end()) {
    same_area->colour = colour;
    same_area->x = x;
    same_area->y = y;
  } else {
    // The lowest channel neither a ranked region nor another point uses; when every one
    // is taken, the channel of a point with this colour (the colorizer sees no difference).
    std::vector<bool> used(size_t(s.num_regions()), false);
    for (const Region& r : s.regions) used[r.id] = true;
    for (const PointHint& p : s.points) used[p.channel] = true;
    int channel = int(std::find(used.begin(), used.end(), false) - used.begin());
    if (channel == s.num_regions()) {
      auto twin =
          std::find_if(s.points.begin(), s.points.end(), [&](const PointHint& p) { return p.colour == colour; });
      if (twin == s.points.end())
        throw Error(ErrorKind::Argument, "point hint " + point_name(x, y) + ": all " + std::to_string(s.num_regions()) +
                                             " segmentation channels are taken (by the ranked regions and " +
                                             std::to_string(s.points.size()) +
                                             " point hints); clear a point hint or reuse one of their colours");
      channel = twin->channel;
    }
    s.points.push_back(PointHint{x, y, colour, area, channel});
    s.area_channel_h.get()[area] = int8_t(channel);
  }
  s.hints_changed();
}

bool Session::clear_point_hint(int x, int y) {
  Impl& s = live(impl_);
  const int area = area_under(s, x, y, "point ");
  auto it = std::find_if(s.points.begin(), s.points.end(), [&](const PointHint& p) { return p.area == area; });
  if (area < 0 || it == s.points.end()) return false;
  s.points.erase(it);
  s.area_channel_h.get()[area] = -1;
  s.hints_changed();
  return true;
}

void Session::clear_point_hints() {
  Impl& s = live(impl_);
  for (const PointHint& p : s.points) s.area_channel_h.get()[p.area] = -1;
  s.points.clear();
  s.hints_changed();
}

// The colorized picture before its lines, at the sketch's size, in plain_d (for the
// current hints: colours8_d is what the last picture() computed).
void compose_plain(Session::Impl& s) {
  s.picture();
  s.backend->compose_rgb8(s.colours8_d.get(), s.w, s.h, nullptr, s.original.width, s.original.height, false,
                          s.plain_d.get(), s.stream.get());
}

ImageRgba Session::flats() {
  Impl& s = live(impl_);
  if (s.flats_version != s.hints_version) {
    s.flats = s.compute_flats();
    s.flats_version = s.hints_version;
  }
  return s.flats;
}

ImageRgba Session::Impl::compute_flats() {
  Session::Impl& s = *this;
  const int W = s.original.width, H = s.original.height;
  ImageRgba out{W, H, {}};
  if (s.areas.empty()) {  // all line: nothing but transparency
    out.rgba.assign(size_t(W) * H * 4, 0);
    return out;
  }
  compose_plain(s);
  const Stream stream = s.stream.get();
  const int n = int(s.areas.size());
  s.backend->area_stats(s.area_labels_d.get(), s.plain_d.get(), W, H, n, s.area_stats_d.get(), stream);
  const std::vector<AreaStats> stats = s.area_stats_d.download(stream);

  std::vector<const Colour*> hint_of_region(size_t(s.num_regions()), nullptr);
  for (size_t k = 0; k < s.hints.size(); ++k)
    if (s.hints[k]) hint_of_region[s.regions[k].id] = &*s.hints[k];
  std::vector<uint8_t> colours(size_t(n) * 3);
  for (int a = 0; a < n; ++a) {
    uint8_t* c = &colours[3 * size_t(a)];
    if (const Colour* hint = hint_of_region[s.areas[a].region_id]) {
      for (int k = 0; k < 3; ++k) c[k] = round_u8((*hint)[k]);
    } else {
      for (int k = 0; k < 3; ++k) c[k] = round_u8(double(stats[a].sum[k]) / double(stats[a].count));
    }
  }
  for (const PointHint& p : s.points) {  // a point outranks its area's region
    uint8_t* c = &colours[3 * size_t(p.area)];
    c[0] = p.colour.r, c[1] = p.colour.g, c[2] = p.colour.b;
  }
  s.area_colours_d.upload(colours, stream);
  s.backend->paint_areas(s.area_labels_d.get(), W, H, s.area_colours_d.get(), s.flats_d.get(), stream);
  out.rgba = s.flats_d.download(stream);
  return out;
}

}  // namespace gp
