// A Session's layers for painting programs, as OpenRaster (src/image/ora.h). Top first:
// "lines" (black with the sketch's darkness as alpha: over any colour it darkens as the
// picture's line keeping does, c * grey / 255), "flats" (hidden, else it would cover
// the shading), "colorized" (the picture before its lines), one hidden mask per ranked
// region. So the visible stack renders as mergedimage.png, the bytes of colorize().
#include <cmath>
#include <string>

#include "kernels/pixel.h"
#include "src/engine/session_impl.h"
#include "src/image/file_io.h"
#include "src/image/ora.h"

namespace gp {

namespace {

// The sketch's lines on transparency.
std::vector<uint8_t> lines_rgba(const Image& sketch) {
  const size_t pixels = size_t(sketch.width) * sketch.height;
  std::vector<uint8_t> rgba(pixels * 4, 0);
  for (size_t p = 0; p < pixels; ++p) {
    const uint8_t* px = &sketch.rgb[3 * p];
    const double grey = grey255(px);
    rgba[4 * p + 3] = uint8_t(255 - std::lround(grey));
  }
  return rgba;
}

// White where the region (a channel of the working-size labels) is, at the sketch's size.
std::vector<uint8_t> region_mask_rgba(const Session::Impl& s, int id) {
  const int W = s.original.width, H = s.original.height;
  std::vector<uint8_t> rgba(size_t(W) * H * 4, 0);
  for (int Y = 0; Y < H; ++Y) {
    const uint8_t* row = &s.labels[size_t(nearest_index(Y, H, s.h)) * s.w];
    for (int X = 0; X < W; ++X)
      if (row[nearest_index(X, W, s.w)] == id) {
        uint8_t* px = &rgba[4 * (size_t(Y) * W + X)];
        px[0] = px[1] = px[2] = px[3] = 255;
      }
  }
  return rgba;
}

OraLayer layer(std::string name, std::vector<uint8_t> png, bool visible) {
  OraLayer l;
  l.name = std::move(name);
  l.png = std::move(png);
  l.visible = visible;
  return l;
}

}  // namespace

std::vector<uint8_t> Session::layers_ora() {
  Impl& s = live(impl_);
  const int W = s.original.width, H = s.original.height;
  const Image merged = s.picture();
  const ImageRgba flat = flats();
  compose_plain(s);  // the picture before its lines, into plain_d (no colorizer run: picture() is current)
  const Image plain{W, H, s.plain_d.download(s.stream.get())};

  std::vector<OraLayer> layers;
  layers.push_back(layer("lines", encode_png_rgba(W, H, lines_rgba(s.original), "lines layer"), true));
  layers.push_back(layer("flats", encode_png_rgba(W, H, flat.rgba, "flats layer"), false));
  layers.push_back(layer("colorized", encode_png(plain, "colorized layer"), true));
  for (const Region& r : s.regions) {
    const std::string name = "region " + std::to_string(r.rank);
    layers.push_back(layer(name, encode_png_rgba(W, H, region_mask_rgba(s, r.id), name), false));
  }
  return encode_ora(W, H, layers, encode_png(merged, "merged image"), thumbnail_png(merged));
}

void Session::save_layers(const std::string& path) { write_file(path, layers_ora()); }

}  // namespace gp
