// OpenRaster (.ora) files: the layered format Krita, GIMP, MyPaint and Pinta open.
//
//   std::vector<OraLayer> layers = {{"lines", encode_png_rgba(w, h, lines, "lines")}, ...};
//   write_file("out.ora", encode_ora(w, h, layers, encode_png(merged), thumbnail_png(merged)));
//
// An .ora file is a zip archive (https://www.openraster.org/baseline/file-layout-spec.html),
// entries in this order:
//   mimetype                  "image/openraster", stored, first, no extra field: the
//                             file's bytes 30.. read "mimetypeimage/openraster", which
//                             is how file managers recognise it
//   stack.xml                 version 0.0.3: <image w h><stack><layer .../>...</stack>
//   data/0.png, data/1.png..  the layers' PNGs, top first, as given
//   Thumbnails/thumbnail.png  at most 256 x 256
//   mergedimage.png           the flattened picture at full size, as given
// The archive is built in memory (libzip), so the caller writes it whole with write_file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "guidingpainter/guidingpainter.hpp"

namespace gp {

// One raster layer of the stack. `png` is any PNG (normally encode_png_rgba's), placed
// with its top-left corner at (x, y) of the image.
struct OraLayer {
  std::string name;  // UTF-8; shown in the painting program's layer list
  std::vector<uint8_t> png;
  bool visible = true;
  float opacity = 1.0f;                       // 0..1
  std::string composite_op = "svg:src-over";  // an OpenRaster composite-op name
  int x = 0, y = 0;
};

// The bytes of an OpenRaster file of a width x height image whose stack holds `layers`
// (top first), with mergedimage.png and Thumbnails/thumbnail.png holding the bytes
// given, unchanged. The layers' PNGs are stored as they are, never re-encoded.
// Throws gp::Error (kind Argument) for a non-positive size, a layer, merged image or
// thumbnail that is not a PNG, an opacity outside 0..1, a name or composite-op XML
// cannot hold (control characters); kind OutOfMemory or Failed if libzip fails.
std::vector<uint8_t> encode_ora(int width, int height, const std::vector<OraLayer>& layers,
                                const std::vector<uint8_t>& merged_png, const std::vector<uint8_t>& thumbnail_png);

// The PNG of an OpenRaster thumbnail of `merged`: as big as possible within 256 x 256
// without enlarging, aspect kept by resize.h's working_size rule (long side 256, short
// side rounded), shrunk by resize.h's area average. A picture that already fits is
// encoded unchanged. Throws gp::Error for an inconsistent image.
std::vector<uint8_t> thumbnail_png(const Image& merged);

}  // namespace gp
