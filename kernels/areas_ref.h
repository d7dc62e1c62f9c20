// CPU reference of kernels/areas.cu (plain C++, usable without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/area_rules.h"
#include "kernels/regions_ref.h"

namespace gp::ref {

// CPU reference of label_areas: labels[H][W] and the number of areas. A flood fill
// (breadth first) started at every unlabelled paper pixel in raster order, so each
// area's id is the raster rank of its first pixel, as the kernel's contract says.
inline int32_t label_areas(const uint8_t* rgb, int width, int height, int threshold, int32_t* labels) {
  constexpr int32_t kUnvisited = -2;
  const size_t pixels = size_t(width) * size_t(height);
  for (size_t p = 0; p < pixels; ++p) labels[p] = is_line_pixel(rgb + 3 * p, threshold) ? kLinePixel : kUnvisited;
  int32_t count = 0;
  std::vector<size_t> queue;
  for (size_t start = 0; start < pixels; ++start) {
    if (labels[start] != kUnvisited) continue;
    const int32_t id = count++;
    labels[start] = id;
    queue.assign(1, start);
    for (size_t head = 0; head < queue.size(); ++head) {
      const size_t p = queue[head];
      const int x = int(p % size_t(width)), y = int(p / size_t(width));
      const auto visit = [&](size_t q) {
        if (labels[q] == kUnvisited) {
          labels[q] = id;
          queue.push_back(q);
        }
      };
      if (x > 0) visit(p - 1);
      if (x + 1 < width) visit(p + 1);
      if (y > 0) visit(p - size_t(width));
      if (y + 1 < height) visit(p + size_t(width));
    }
  }
  return count;
}

// stats[0..num_areas); rgb may be nullptr (sums stay 0). Labels outside
// 0..num_areas-1 (lines) count nowhere.
inline void area_stats(const int32_t* labels, const uint8_t* rgb, int width, int height, int num_areas,
                       AreaStats* stats) {
  label_stats(labels, rgb, width, height, num_areas, stats);
}

// majority[0..num_areas): the segmentation id (below num_regions) most pixels of the
// area sample, the lowest on a tie, 0 without votes.
inline void area_majority(const int32_t* labels, int W, int H, const uint8_t* seg, int w, int h, int num_regions,
                          int num_areas, uint8_t* majority) {
  std::vector<uint32_t> votes(size_t(num_areas) * size_t(num_regions), 0);
  for (int Y = 0; Y < H; ++Y)
    for (int X = 0; X < W; ++X) {
      const int32_t a = labels[size_t(Y) * size_t(W) + size_t(X)];
      const int r = seg[size_t(nearest_index(Y, H, h)) * size_t(w) + size_t(nearest_index(X, W, w))];
      if (a >= 0 && a < num_areas && r < num_regions) ++votes[size_t(a) * size_t(num_regions) + size_t(r)];
    }
  for (int a = 0; a < num_areas; ++a) {
    const uint32_t* v = &votes[size_t(a) * size_t(num_regions)];
    int best = 0;
    for (int r = 1; r < num_regions; ++r)
      if (v[r] > v[best]) best = r;
    majority[a] = uint8_t(best);
  }
}

// out[h][w]: the channel of the area under the nearest original pixel where it has one
// (>= 0), else base.
inline void override_labels(const uint8_t* base, int w, int h, const int32_t* labels, int W, int H,
                            const int8_t* channel, uint8_t* out) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = size_t(y) * size_t(w) + size_t(x);
      const int32_t a = labels[size_t(nearest_index(y, h, H)) * size_t(W) + size_t(nearest_index(x, w, W))];
      out[i] = a >= 0 && channel[a] >= 0 ? uint8_t(channel[a]) : base[i];
    }
}

// rgba[H][W][4]: the area's colour, opaque; transparent black on a line.
inline void paint_areas(const int32_t* labels, int width, int height, const uint8_t* colours, uint8_t* rgba) {
  const size_t pixels = size_t(width) * size_t(height);
  for (size_t p = 0; p < pixels; ++p) {
    uint8_t* o = rgba + 4 * p;
    const int32_t a = labels[p];
    for (int c = 0; c < 3; ++c) o[c] = a < 0 ? 0 : colours[3 * size_t(a) + c];
    o[3] = a < 0 ? 0 : 255;
  }
}

}  // namespace gp::ref
